"""Results files: exact round trips, atomic saves, clear errors for bad files, redaction.

The format golden (golden/results-v8.json) pins the JSON shape of schema 8: if it changes,
bump SCHEMA_VERSION in bench/storage.py. Regenerate with `UPDATE_GOLDEN=1 pytest tests/unit`.
golden/results-v1.json to results-v6.json are files as earlier versions wrote them: never
regenerated, they must keep loading.
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import redaction, storage
from bench.dependencies import NO_OVERRIDE, DependencyOverride
from bench.errors import BenchError
from bench.models import RunResult, WheelCheck
from tests.unit.sample_results import sample_run

GOLDEN = Path(__file__).parent / "golden" / "results-v9.json"
GOLDEN_V8 = Path(__file__).parent / "golden" / "results-v8.json"
GOLDEN_V7 = Path(__file__).parent / "golden" / "results-v7.json"
GOLDEN_V6 = Path(__file__).parent / "golden" / "results-v6.json"
GOLDEN_V5 = Path(__file__).parent / "golden" / "results-v5.json"
GOLDEN_V4 = Path(__file__).parent / "golden" / "results-v4.json"
GOLDEN_V3 = Path(__file__).parent / "golden" / "results-v3.json"
GOLDEN_V2 = Path(__file__).parent / "golden" / "results-v2.json"
GOLDEN_V1 = Path(__file__).parent / "golden" / "results-v1.json"


def _small_run() -> RunResult:
    """slim (all record types) and broken (the failure paths): enough to pin the format."""
    run = sample_run()
    return replace(run, variants=tuple(v for v in run.variants if v.name in ("slim", "broken")))


def _old_run() -> RunResult:
    """_small_run as the stored schema 1-6 files hold it: made before the wheel check."""
    run = _small_run()
    options = tuple(item for item in run.provenance.options if item[0] != "wheel_index")
    return replace(
        run,
        provenance=replace(run.provenance, options=options),
        variants=tuple(replace(v, wheel_check=None) for v in run.variants),
    )


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def _error(path: Path) -> str:
    with pytest.raises(BenchError) as caught:
        storage.load(path)
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


# Round trip and format -----------------------------------------------------------------------


def test_round_trip_gives_an_equal_run(tmp_path: Path) -> None:
    run = sample_run()
    path = tmp_path / f"{run.run_id}.json"
    storage.save(run, path)
    loaded = storage.load(path)
    assert loaded == run
    # Tuples stay tuples (lists would compare unequal and break hashing of frozen records).
    assert isinstance(loaded.variants[0].samples[1].steps, tuple)
    assert isinstance(loaded.provenance.bases[0], tuple)


def test_from_dict_inverts_to_dict() -> None:
    run = sample_run()
    assert storage.from_dict(storage.to_dict(run), Path("x.json")) == run


def test_top_level_keys() -> None:
    data = storage.to_dict(sample_run())
    assert list(data) == [
        "schema_version",
        "run_id",
        "provenance",
        "variants",
        "complete",
        "finished_utc",
        "harness_seconds",
    ]
    assert data["schema_version"] == storage.SCHEMA_VERSION == 9


def test_format_matches_golden() -> None:
    text = json.dumps(storage.to_dict(_small_run()), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), "JSON format changed: bump the schema"


def test_stored_schema_9_file_still_loads() -> None:
    assert storage.load(GOLDEN) == _small_run()


def test_stored_schema_8_file_loads_with_analyses_read_from_save() -> None:
    assert json.loads(GOLDEN_V8.read_text())["schema_version"] == 8
    loaded = storage.load(GOLDEN_V8)
    assert loaded == _small_run()
    assert {v.image.analysis.source for v in loaded.variants if v.image and v.image.analysis} == {
        "save"
    }


def test_an_analysis_read_from_storage_round_trips(tmp_path: Path) -> None:
    run = _small_run()
    variants = tuple(
        replace(v, image=replace(v.image, analysis=replace(v.image.analysis, source="storage")))
        if v.image and v.image.analysis
        else v
        for v in run.variants
    )
    stored = replace(run, variants=variants)
    path = tmp_path / "results.json"
    storage.save(stored, path)
    assert storage.load(path) == stored


def _before_wheel_checks(run: RunResult) -> RunResult:
    """The run as schema 7 and older stored it: no variant had a wheel check."""
    return replace(run, variants=tuple(replace(v, wheel_check=None) for v in run.variants))


def test_stored_schema_7_file_loads_without_wheel_checks() -> None:
    assert json.loads(GOLDEN_V7.read_text())["schema_version"] == 7
    assert storage.load(GOLDEN_V7) == _old_run()


def test_stored_schema_6_file_loads_without_wheel_checks() -> None:
    assert json.loads(GOLDEN_V6.read_text())["schema_version"] == 6
    loaded = storage.load(GOLDEN_V6)
    assert loaded == _old_run()
    assert all(v.wheel_check is None for v in loaded.variants)


def test_a_schema_7_file_loads_without_wheel_checks(tmp_path: Path) -> None:
    # Schema 7 is the version before the wheel check: today's shape without `wheel_check`.
    data = storage.to_dict(_small_run())
    data["schema_version"] = 7
    for variant in data["variants"]:
        del variant["wheel_check"]
    loaded = storage.load(_write_json(tmp_path / "v7.json", data))
    assert loaded == _before_wheel_checks(_small_run())


def test_a_schema_8_variant_needs_its_wheel_check_key(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    del data["variants"][0]["wheel_check"]
    path = _write_json(tmp_path / "x.json", data)
    assert "variants[0]: missing wheel_check" in _error(path)


def test_stored_schema_6_file_loads_without_a_dependency_override() -> None:
    # Before schema 7 the manifest could not correct the rule: the rule alone decided.
    assert json.loads(GOLDEN_V6.read_text())["schema_version"] == 6
    loaded = storage.load(GOLDEN_V6)
    assert loaded == _old_run()
    assert all(v.dependency_override == NO_OVERRIDE for v in loaded.variants)


def test_a_dependency_override_round_trips(tmp_path: Path) -> None:
    run = _small_run()
    override = DependencyOverride(installs=("make deps",), not_installs=("--no-deps .",))
    run = replace(run, variants=(replace(run.variants[0], dependency_override=override),))
    path = tmp_path / "x.json"
    storage.save(run, path)
    assert storage.load(path).variants[0].dependency_override == override


def _before_checked(run: RunResult) -> RunResult:
    """The run as schema 1-4 stored it: every smoke test asked /health and /predict."""
    old = "http GET :8000/health, POST :8000/predict -> the label"
    return replace(
        run,
        variants=tuple(
            replace(v, smoke=replace(v.smoke, checked=old)) if v.smoke else v for v in run.variants
        ),
    )


def test_stored_schema_4_file_loads_with_the_old_smoke_check() -> None:
    assert json.loads(GOLDEN_V4.read_text())["schema_version"] == 4
    assert storage.load(GOLDEN_V4) == _before_checked(_old_run())


def test_stored_schema_5_file_loads_without_a_buildkit_client() -> None:
    # Before schema 6 the BuildKit client was not recorded: null, whatever the builder.
    assert json.loads(GOLDEN_V5.read_text())["schema_version"] == 5
    loaded = storage.load(GOLDEN_V5)
    assert loaded == _old_run()
    assert loaded.provenance.engine.buildkit_version is None


def test_a_schema_6_engine_needs_its_buildkit_version_key(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    data["provenance"]["engine"].pop("buildkit_version")
    path = _write_json(tmp_path / "x.json", data)
    assert "provenance.engine: missing buildkit_version" in _error(path)


def test_a_buildkit_client_round_trips(tmp_path: Path) -> None:
    run = _small_run()
    engine = replace(
        run.provenance.engine,
        builder="buildkit",
        buildkit_version="github.com/docker/buildx 0.13.1+ds1",
    )
    run = replace(run, provenance=replace(run.provenance, engine=engine))
    path = tmp_path / "x.json"
    storage.save(run, path)
    assert storage.load(path) == run


def _without_listening(run: RunResult) -> RunResult:
    return replace(
        _before_checked(run),
        variants=tuple(
            replace(v, smoke=replace(v.smoke, listening=(), reached_by=None)) if v.smoke else v
            for v in _before_checked(run).variants
        ),
    )


def test_a_schema_4_smoke_result_needs_its_listening_key(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    smoke = next(v["smoke"] for v in data["variants"] if v["smoke"])
    smoke.pop("listening")
    path = _write_json(tmp_path / "x.json", data)
    assert "smoke: missing listening" in _error(path)


def test_an_unknown_smoke_strategy_is_refused(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    next(v["smoke"] for v in data["variants"] if v["smoke"])["reached_by"] = "exec"
    path = _write_json(tmp_path / "x.json", data)
    assert "reached_by: expected one of 'netns', 'published-port', got text 'exec'" in _error(path)


def test_stored_schema_3_file_loads_as_from_a_graph_driver_engine() -> None:
    # Before schema 4 every result came from a graph-driver engine, whose Size is unpacked.
    assert json.loads(GOLDEN_V3.read_text())["schema_version"] == 3
    loaded = storage.load(GOLDEN_V3)
    assert loaded == _without_listening(_old_run())
    assert loaded.provenance.engine.image_store == "graphdriver"
    images = [v.image for v in loaded.variants if v.image is not None]
    assert images and all(
        i.engine_size_bytes == i.size_bytes and i.engine_size_kind == "unpacked" for i in images
    )


def test_stored_schema_2_file_loads_without_harness_phases() -> None:
    assert json.loads(GOLDEN_V2.read_text())["schema_version"] == 2
    assert storage.load(GOLDEN_V2) == replace(_without_listening(_old_run()), harness_seconds=())


def _without_analysis(run: RunResult) -> RunResult:
    return replace(
        run,
        variants=tuple(
            replace(v, image=replace(v.image, analysis=None)) if v.image else v
            for v in run.variants
        ),
    )


def test_stored_schema_1_file_still_loads_without_analysis() -> None:
    assert json.loads(GOLDEN_V1.read_text())["schema_version"] == 1
    loaded = storage.load(GOLDEN_V1)
    assert loaded == replace(_without_analysis(_without_listening(_old_run())), harness_seconds=())
    assert all(v.image is None or v.image.analysis is None for v in loaded.variants)


def test_a_schema_2_image_needs_its_analysis_key(tmp_path: Path) -> None:
    # Only schema-1 files may lack it: in a schema-2 file a missing key is damage.
    data = storage.to_dict(_small_run())
    data["variants"][0]["image"].pop("analysis")
    path = _write_json(tmp_path / "x.json", data)
    assert "variants[0].image: missing analysis" in _error(path)


def test_analysis_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    data["variants"][0]["image"]["analysis"]["groups"][0]["size_bytes"] += 1
    path = _write_json(tmp_path / "x.json", data)
    assert "size groups do not add up to the image size" in _error(path)


def test_saved_file_is_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    storage.save(sample_run(), path)
    assert path.stat().st_mode & 0o777 == 0o644


# Atomic save ---------------------------------------------------------------------------------


def _previous(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "run.json"
    storage.save(_small_run(), path)
    return path, path.read_text()


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "run.json")


def test_save_replaces_the_previous_file(tmp_path: Path) -> None:
    path, _ = _previous(tmp_path)
    storage.save(sample_run(), path)
    assert storage.load(path) == sample_run()
    assert _leftovers(tmp_path) == []


def test_failed_rename_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # We run as root, so chmod cannot make the directory read-only: fail the rename instead.
    path, before = _previous(tmp_path)

    def read_only(*args: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(BenchError, match=re.escape(f"{path}: cannot write: Read-only file system")):
        storage.save(sample_run(), path)
    assert path.read_text() == before
    assert _leftovers(tmp_path) == []


def test_disk_full_midway_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = _previous(tmp_path)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(
        BenchError, match=re.escape(f"{path}: cannot write: No space left on device")
    ):
        storage.save(sample_run(), path)
    assert path.read_text() == before
    assert _leftovers(tmp_path) == []


def test_interrupt_midway_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = _previous(tmp_path)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        storage.save(sample_run(), path)
    assert path.read_text() == before
    assert _leftovers(tmp_path) == []


def test_target_that_cannot_be_replaced_fails_for_real(tmp_path: Path) -> None:
    # A directory in the way makes the rename fail even for root.
    path = tmp_path / "run.json"
    path.mkdir()
    with pytest.raises(BenchError, match=re.escape(f"{path}: cannot write: Is a directory")):
        storage.save(sample_run(), path)
    assert path.is_dir()
    assert list(tmp_path.iterdir()) == [path]


def test_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "run.json"
    with pytest.raises(
        BenchError, match=re.escape(f"{path}: cannot write: No such file or directory")
    ):
        storage.save(sample_run(), path)


# Bad files -----------------------------------------------------------------------------------


def test_corrupt_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    storage.save(sample_run(), path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # as if killed mid-write without atomic saves
    assert "corrupt results file (invalid JSON at line" in _error(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    newer = storage.SCHEMA_VERSION + 1
    data = storage.to_dict(sample_run()) | {"schema_version": newer}
    path = _write_json(tmp_path / "x.json", data)
    assert _error(path) == (
        f"{path}: written by a newer dockerfile-bench (schema {newer}, "
        f"this one reads {storage.SCHEMA_VERSION})"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("run_id"), "invalid results file: missing run_id"),
        (lambda d: d["variants"][0].pop("smoke"), "variants[0]: missing smoke"),
        (lambda d: d["variants"][0].update(extra=1), "variants[0]: unexpected extra"),
        (
            lambda d: d["variants"][1]["samples"][1].update(duration_seconds="fast"),
            "variants[1].samples[1].duration_seconds: expected a number, got text 'fast'",
        ),
        (
            lambda d: d["provenance"]["engine"].update(cpus=True),
            "provenance.engine.cpus: expected an integer, got true",
        ),
        (lambda d: d.update(complete="yes"), "complete: expected bool, got text 'yes'"),
        (lambda d: d.update(variants={}), "variants: expected a list, got an object"),
        (
            lambda d: d["provenance"].update(bases=[["python:3.11"]]),
            "provenance.bases[0]: expected a list of 2 items, got 1",
        ),
        (
            lambda d: d["variants"][0].update(status="great"),
            "variants[0].status: expected one of 'ok', 'failed', 'skipped', got text 'great'",
        ),
        (lambda d: d.pop("schema_version"), "no integer schema_version"),
        (lambda d: d.update(schema_version="1"), "no integer schema_version"),
        (lambda d: d.update(schema_version=0), "unknown schema_version 0"),
    ],
)
def test_invalid_content_names_the_file_and_the_place(
    tmp_path: Path, change: Any, expected: str
) -> None:
    data = storage.to_dict(sample_run())
    change(data)
    path = _write_json(tmp_path / "x.json", data)
    assert expected in _error(path)


def test_not_an_object(tmp_path: Path) -> None:
    path = _write_json(tmp_path / "x.json", [1, 2])
    assert "not a JSON object" in _error(path)


def test_not_text(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff\xfe\x00binary")
    assert "not UTF-8" in _error(path)


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "gone.json").endswith("no such results file")


# Finding the latest --------------------------------------------------------------------------


def test_latest_results_is_the_newest_run_id(tmp_path: Path) -> None:
    for name in ("20261124T101502Z-3fa9c1", "20261125T080000Z-000001", "20261123T235959Z-ffffff"):
        (tmp_path / f"{name}.json").write_text("{}")
    (tmp_path / ".20261130T000000Z-aaaaaa.json.abc.tmp").write_text("")  # a save in progress
    (tmp_path / "notes.txt").write_text("")
    assert storage.latest_results(tmp_path).name == "20261125T080000Z-000001.json"


@pytest.mark.parametrize("exists", [True, False])
def test_latest_results_none(tmp_path: Path, exists: bool) -> None:
    directory = tmp_path / "results"
    if exists:
        directory.mkdir()
    with pytest.raises(BenchError, match=f"no results in {directory}"):
        storage.latest_results(directory)


# Redaction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:pass@host/simple", "https://***@host/simple"),
        (
            "git clone https://ghp_abc@github.com/o/r.git",
            "git clone https://***@github.com/o/r.git",
        ),
        (
            "PIP_INDEX_URL=https://u:p%40ss@pypi.corp/simple",
            "PIP_INDEX_URL=https://***@pypi.corp/simple",
        ),
        ("GITHUB_TOKEN=abc123 DEBUG=1", "GITHUB_TOKEN=*** DEBUG=1"),
        ("db_password='s3 cret' user=bob", "db_password=*** user=bob"),
        ('AWS_SECRET_ACCESS_KEY="x/y+z"', "AWS_SECRET_ACCESS_KEY=***"),
        ("A=1,NPM_TOKEN=t0k,B=2", "A=1,NPM_TOKEN=***,B=2"),
        ("--api-key=zzz", "--api-key=***"),
        ("url=https://x.org/?api_key=abc&page=2", "url=https://x.org/?api_key=***&page=2"),
        (
            "PIP_NO_INDEX=1 PIP_FIND_LINKS=http://127.0.0.1:8765/",
            "PIP_NO_INDEX=1 PIP_FIND_LINKS=http://127.0.0.1:8765/",
        ),
        ("mail me@example.org, see http://host/a@b", "mail me@example.org, see http://host/a@b"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redaction.redact(text) == expected


def test_redact_value() -> None:
    assert redaction.redact_value("HF_TOKEN", "hf_abc") == "***"
    assert redaction.redact_value("PIP_INDEX_URL", "https://u:p@h/simple") == "https://***@h/simple"
    assert redaction.redact_value("PIP_NO_INDEX", "1") == "1"


def test_save_does_not_redact(tmp_path: Path) -> None:
    # Redaction is the runner's job, before records exist: storage writes what it is given.
    run = sample_run()
    options = (("build_args", "API_TOKEN=visible"),)
    run = replace(run, provenance=replace(run.provenance, options=options))
    path = tmp_path / "run.json"
    storage.save(run, path)
    assert "API_TOKEN=visible" in path.read_text()


def test_a_skipped_check_and_unchecked_lines_round_trip(tmp_path: Path) -> None:
    run = _small_run()
    slim = run.variants[0]
    assert slim.wheel_check is not None
    check = replace(slim.wheel_check, unchecked=(("-e .", "editable (-e): not from the index"),))
    skipped = WheelCheck("http://i/", "debian:latest", skipped_reason="names no Python version")
    run = replace(
        run,
        variants=(replace(slim, wheel_check=check), replace(run.variants[1], wheel_check=skipped)),
    )
    path = tmp_path / "x.json"
    storage.save(run, path)
    assert storage.load(path) == run


def test_an_unknown_wheel_verdict_is_refused(tmp_path: Path) -> None:
    data = storage.to_dict(_small_run())
    data["variants"][0]["wheel_check"]["packages"][0]["verdict"] = "maybe"
    path = _write_json(tmp_path / "x.json", data)
    assert "verdict: expected one of 'wheel', 'sdist', 'incompatible', 'absent'" in _error(path)
