"""BuildKit's plain progress, recorded from the lab (Engine 20.10, Debian docker 20.10 client)."""

from __future__ import annotations

from pathlib import Path

from bench.engine.buildkit import BuildKitBuilder, parse

RECORDED = Path(__file__).parent / "recorded"


def _lines(name: str) -> list[str]:
    return (RECORDED / name).read_text().splitlines()


def test_cold_multistage_build_has_every_step_of_both_stages() -> None:
    parsed = parse(_lines("buildkit-multistage-cold.txt"))
    steps = parsed.steps()
    instructions = [s.instruction for s in steps]
    assert "RUN pip install --no-cache-dir -r requirements.txt" in instructions
    assert "COPY --from=builder /opt/venv /opt/venv" in instructions
    assert sum(1 for i in instructions if i.startswith("FROM ")) == 2
    pip = next(s for s in steps if "pip install" in s.instruction)
    assert not pip.cached and pip.duration_seconds > 1
    assert parsed.image_id is not None and parsed.image_id.startswith("sha256:")
    assert parsed.error is None


def test_edit_rebuild_reruns_only_the_code_copy() -> None:
    steps = parse(_lines("buildkit-multistage-edit.txt")).steps()
    rerun = [s.instruction for s in steps if not s.cached]
    assert rerun == ["COPY --chown=10001:10001 main.py ./"]
    assert all(s.cached for s in steps if "pip install" in s.instruction)


def test_failing_run_gives_the_error_and_the_log() -> None:
    parsed = parse(_lines("buildkit-failing-run.txt"))
    assert parsed.error is not None and "exit code: 1" in parsed.error
    assert any("about to fail" in line for line in parsed.tail)
    assert parsed.image_id is None
    failed = parsed.steps()[-1]
    assert failed.instruction == "RUN echo about to fail && false"


def test_on_the_containerd_store_the_image_is_the_manifests_digest() -> None:
    # Engine 26 (containerd store) has no "writing image" line; its image id is the manifest.
    manifest = "sha256:" + "9" * 64
    parsed = parse(
        [
            "#11 exporting to image",
            "#11 exporting layers done",
            f"#11 exporting manifest {manifest} done",
            f"#11 exporting config sha256:{'c' * 64} done",
            "#11 naming to docker.io/library/t:1 done",
            "#11 DONE 0.0s",
        ]
    )
    assert parsed.image_id == manifest


def test_command_line_matches_the_sdk_builds_arguments(tmp_path: Path) -> None:
    cli = tmp_path / "docker"  # a client without buildx: the plain path
    cli.write_text("#!/bin/sh\nexit 1\n")
    cli.chmod(0o755)
    builder = BuildKitBuilder("unix:///x.sock", cli=str(cli))
    assert builder.frontend == "plain"
    command = builder.command(
        tmp_path,
        tmp_path / "Dockerfile",
        "t:1",
        nocache=True,
        buildargs={"B": "2", "A": "1"},
        labels={"L": "v"},
        network_mode="host",
    )
    assert command == [
        str(cli),
        "build",
        "--progress=plain",
        "-f",
        str(tmp_path / "Dockerfile"),
        "-t",
        "t:1",
        "--no-cache",
        "--network",
        "host",
        "--build-arg",
        "A=1",
        "--build-arg",
        "B=2",
        "--label",
        "L=v",
        str(tmp_path),
    ]
