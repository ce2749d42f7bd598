"""A run's session with a fake engine and workbench: saves as it goes, and on an interrupt,
a lost engine or a crashed analysis keeps what it has and removes only what it made."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import manifest, storage
from bench.errors import EXIT_SIGINT, EXIT_SIGTERM, BenchError
from bench.lab.paths import LabPaths
from bench.models import BuildOutcome, EngineInfo, ImageAnalysis, RunResult
from bench.run import session
from bench.run.connection import Connection
from bench.run.measure import RunOptions
from bench.run.progress import SilentProgress
from bench.wheels.check import WheelChecker
from tests.unit.fakes import FakeWorkbench
from tests.unit.wheel_index import INDEX_URL, FakeIndex, sample_files


class FakeEngine:
    """What the session asks of the engine, each call recorded; `gone` fails them all."""

    docker_host = "unix:///fake.sock"

    def __init__(self) -> None:
        self.gone = False
        self.calls: list[str] = []

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.gone:
            raise BenchError("lost the Docker engine")

    def info(self) -> EngineInfo:
        return EngineInfo("fake", "1", "1.41", "overlay2", "linux", 2)

    def image_labels(self, reference: str) -> dict[str, str]:
        return {}

    def containers_with_label(self, selector: str) -> list[str]:
        self._call("containers")
        return ["container"]

    def remove_container(self, container_id: str) -> None:
        self._call(f"remove {container_id}")

    def images_with_label(self, selector: str) -> list[str]:
        self._call("images")
        return ["labelled"]

    def remove_image(self, reference: str) -> bool:
        self._call(f"remove {reference}")
        return True

    def abandoned_images(self) -> tuple[str, ...]:
        return ("abandoned",)

    def close(self) -> None:
        self.calls.append("close")


class Bench(FakeWorkbench):
    """The fake workbench, with a hook into the cached builds (edit and noop)."""

    def __init__(self, on_cached_build: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.on_cached_build = on_cached_build

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome:
        if not nocache and self.on_cached_build is not None:
            self.on_cached_build()
        return super().build(context_dir, dockerfile, tag, nocache=nocache, on_step=on_step)

    def close(self) -> None:
        pass

    def release_pins(self) -> None:
        pass

    def unlabelled_images(self) -> list[str]:
        return ["unlabelled"]


class Run:
    """One session.run with fakes; every save is kept as it was made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bench: Bench) -> None:
        self.engine = FakeEngine()
        self.bench = bench
        self.saves: list[RunResult] = []
        self.out = tmp_path / "out"
        paths = LabPaths(tmp_path / "lab", tmp_path / "cache")
        fake = Connection(self.engine, "online", paths)  # type: ignore[arg-type]
        monkeypatch.setattr(session, "connect", lambda engine=None: fake)
        monkeypatch.setattr(session, "DockerWorkbench", lambda *args, **kwargs: bench)
        real_save = storage.save

        def save(result: RunResult, path: Path) -> None:
            self.saves.append(result)
            self.engine.calls.append("save complete" if result.complete else "save")
            real_save(result, path)

        monkeypatch.setattr(storage, "save", save)

    def __call__(self, *names: str, shard: str | None = None) -> tuple[RunResult, Path, int]:
        loaded = manifest.load()
        request = session.RunRequest(
            loaded, loaded.select(list(names)), RunOptions(repeat=1), self.out, shard=shard
        )
        return session.run(request, SilentProgress())

    def scratch_left(self) -> list[Path]:
        run_id = self.saves[0].run_id
        return list(Path(tempfile.gettempdir()).glob(f"dockerfile-bench-{run_id}-*"))


def test_a_run_saves_as_it_goes_and_removes_what_it_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = Run(monkeypatch, tmp_path, Bench())
    result, path, code = run("slim")
    assert code == 0 and result.variants[0].status == "ok"
    assert storage.load(path) == result == run.saves[-1]
    assert run.saves[0].variants == () and not run.saves[0].complete
    # Complete before the cleanup (kept if it fails), and again with the cleanup's time.
    assert run.engine.calls[-10:] == [
        "save",
        "save complete",
        "containers",
        "remove container",
        "images",
        "remove labelled",
        "remove unlabelled",
        "remove abandoned",
        "save complete",
        "close",
    ]
    assert run.scratch_left() == []


def test_a_sharded_run_records_its_shard_and_others_do_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A report over the shards' results files then says which shard measured what.
    sharded, _, _ = Run(monkeypatch, tmp_path, Bench())("slim", shard="2/3")
    assert dict(sharded.provenance.options)["shard"] == "2/3"
    whole, _, _ = Run(monkeypatch, tmp_path, Bench())("slim")
    assert "shard" not in dict(whole.provenance.options)


def _ctrl_c() -> None:
    raise KeyboardInterrupt


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize(("interrupt", "code"), [(_ctrl_c, EXIT_SIGINT), (_sigterm, EXIT_SIGTERM)])
def test_an_interrupt_keeps_the_row_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    interrupt: Callable[[], None],
    code: int,
) -> None:
    run = Run(monkeypatch, tmp_path, Bench(on_cached_build=interrupt))
    with pytest.raises(BenchError) as stopped:
        run("slim", "naive")
    path = run.out / f"{run.saves[0].run_id}.json"
    assert stopped.value.exit_code == code
    assert stopped.value.message == f"interrupted; results so far are in {path}"
    saved = storage.load(path)
    assert [(v.name, v.status, v.reason) for v in saved.variants] == [
        ("slim", "failed", "interrupted")
    ]
    assert saved.variants[0].samples  # what was measured before the interrupt is kept
    assert "remove abandoned" in run.engine.calls and "close" not in run.engine.calls
    assert run.scratch_left() == []


def test_a_lost_engine_stops_the_run_and_warns_what_is_left(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def engine_gone() -> None:
        run.engine.gone = True
        raise BenchError("lost the Docker engine")

    run = Run(monkeypatch, tmp_path, Bench(on_cached_build=engine_gone))
    with pytest.raises(BenchError) as stopped:
        run("slim", "naive")
    run_id = run.saves[0].run_id
    path = run.out / f"{run_id}.json"
    assert stopped.value.message == f"lost the Docker engine; results so far are in {path}"
    assert [(v.name, v.status, v.reason) for v in storage.load(path).variants] == [
        ("slim", "failed", "lost the Docker engine")
    ]
    assert f"could not clean up run {run_id}" in capsys.readouterr().err
    assert run.scratch_left() == []


def test_a_crashed_analysis_fails_only_its_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class CrashingAnalysis(Bench):
        def analyse_image(
            self,
            reference: str,
            base: str | None,
            *,
            compressed: bool,
            next_image: str | None = None,
        ) -> ImageAnalysis | None:
            if len(self.analysed) == 0:
                self.analysed.append((reference, base, compressed))
                raise KeyError("layer.tar")
            return super().analyse_image(
                reference, base, compressed=compressed, next_image=next_image
            )

    run = Run(monkeypatch, tmp_path, CrashingAnalysis())
    result, _, code = run("slim", "naive")
    assert code == 1
    assert [(v.name, v.status, v.reason) for v in result.variants] == [
        ("slim", "failed", "layer analysis: internal error: KeyError: 'layer.tar'"),
        ("naive", "ok", None),
    ]
    assert result.variants[1].image is not None
    assert result.variants[1].image.compressed_bytes is not None


def test_a_run_records_each_variants_wheel_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = Run(monkeypatch, tmp_path, Bench())
    index = FakeIndex(sample_files())
    monkeypatch.setattr(session, "WheelChecker", lambda url: WheelChecker(url, index))
    loaded = manifest.load()
    request = session.RunRequest(
        loaded,
        loaded.select(["slim", "alpine"]),
        RunOptions(repeat=1),
        run.out,
        wheel_check=True,
        wheel_index=INDEX_URL,
    )
    result, path, _ = session.run(request, SilentProgress())
    checks = {v.name: v.wheel_check for v in storage.load(path).variants}
    slim, alpine = checks["slim"], checks["alpine"]
    assert slim is not None and slim.platform == "manylinux" and slim.without_wheel == ()
    assert alpine is not None and alpine.platform == "musllinux"
    assert [p.name for p in alpine.without_wheel] == ["scikit-learn"]
    assert dict(result.provenance.options)["wheel_index"] == INDEX_URL
    assert "wheel check" in dict(result.harness_seconds)
    assert len(index.asked) == 19  # both variants share one requirements file


def test_without_the_wheel_check_nothing_is_asked_or_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = Run(monkeypatch, tmp_path, Bench())
    result, _, _ = run("slim")
    assert result.variants[0].wheel_check is None
    assert "wheel_index" not in dict(result.provenance.options)
    assert "wheel check" not in dict(result.harness_seconds)
