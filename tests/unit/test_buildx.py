"""BuildKit's rawjson progress, recorded from the lab's Engine 26 through its buildx 0.13.1
(buildx-rawjson.Dockerfile: a cold build, a no-op rebuild, an edit of app.py; and
buildx-rawjson-failing.Dockerfile), and which CLI path the builder takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.engine import buildx
from bench.engine.buildkit import BuildKitBuilder, RawJsonParser, find_buildx, parse_rawjson
from bench.errors import BenchError
from bench.lab import engine26
from bench.lab.paths import LabPaths

RECORDED = Path(__file__).parent / "recorded"
MANIFEST = "sha256:961f6a0fc40a1e87f392c259e55e8d266f1a77829820d3329b7699b4d22e1332"
EDITED_MANIFEST = "sha256:9b3348c7e52587e4e462df0cbe6295b9459889a65f23326573fdb03e7cbb75d8"
STEPS = [
    "WORKDIR /app",
    "COPY requirements.txt ./",
    'RUN echo "installing from $(cat requirements.txt)" && sleep 1 && mkdir -p /opt/deps',
    "COPY app.py ./",
    "RUN python3 -c 'print(\"built\")' > /app/built.txt",
]


def _lines(name: str) -> list[str]:
    return (RECORDED / f"buildx-rawjson-{name}.txt").read_text().splitlines(keepends=True)


def _parsed(name: str) -> RawJsonParser:
    return parse_rawjson(_lines(name))


# The recorded streams ------------------------------------------------------------------------


def test_cold_build_has_every_filesystem_step_in_order_and_none_cached() -> None:
    parsed = _parsed("cold")
    steps = parsed.steps()
    assert [s.index for s in steps] == [1, 2, 3, 4, 5, 6]
    assert steps[0].instruction.startswith("FROM docker.io/library/python:3.11-slim@sha256:")
    # ENV and CMD change only metadata: BuildKit has no vertex for them, as in plain output.
    assert [s.instruction for s in steps[1:]] == STEPS
    assert steps[0].cached  # the base is there: no work, as the plain parser counts it
    assert not any(s.cached for s in steps[1:])
    assert parsed.error is None
    # The engine's image id on the containerd store: the manifest's digest, not the config's.
    assert parsed.image_id == MANIFEST


def test_durations_are_completed_minus_started_of_each_vertex() -> None:
    steps = _parsed("cold").steps()
    # [4/6] RUN ... sleep 1: started 09:18:12.079..., completed 09:18:13.237...
    assert steps[3].duration_seconds == pytest.approx(1.158, abs=0.001)
    # [2/6] WORKDIR: 09:18:11.332... to 09:18:12.036...
    assert steps[1].duration_seconds == pytest.approx(0.704, abs=0.001)
    # FROM: the last of its three intervals counts, as the plain printer's DONE line.
    assert steps[0].duration_seconds == pytest.approx(0.047, abs=0.001)


def test_noop_rebuild_has_every_step_cached_and_the_same_image() -> None:
    parsed = _parsed("noop")
    steps = parsed.steps()
    assert [s.instruction for s in steps[1:]] == STEPS
    assert all(s.cached for s in steps)
    assert all(s.duration_seconds < 0.01 for s in steps[1:])
    assert parsed.image_id == MANIFEST


def test_edit_reruns_the_copy_and_what_follows() -> None:
    parsed = _parsed("edit")
    rerun = [s.instruction for s in parsed.steps() if not s.cached]
    assert rerun == STEPS[3:]
    assert parsed.image_id == EDITED_MANIFEST


def test_failing_run_gives_the_vertex_error_the_log_and_no_image() -> None:
    parsed = _parsed("failing-run")
    assert parsed.error == (
        'process "/bin/sh -c echo about to fail && false" did not complete successfully: '
        "exit code: 1"
    )
    assert parsed.image_id is None
    steps = parsed.steps()
    # The step after the failing one never started: not a step, as in the plain output.
    assert [s.instruction for s in steps[1:]] == [
        "WORKDIR /app",
        "COPY app.py ./",
        "RUN echo about to fail && false",
    ]
    assert not steps[-1].cached
    tail = list(parsed.tail)
    assert "about to fail" in tail  # the RUN's own output, from the base64 log records
    assert tail[-1].startswith("ERROR: failed to solve: process")  # buildx's text summary


def test_feed_names_each_step_once_when_it_starts() -> None:
    parser = RawJsonParser()
    started = [s for line in _lines("cold") if (s := parser.feed(line))]
    assert started[1:] == STEPS
    assert started[0].startswith("FROM ")


def test_compact_one_line_statuses_parse_the_same() -> None:
    # Later buildx versions may write each status on one line; the records are the same.
    indented = _parsed("edit")
    text = "".join(_lines("edit"))
    decoder, position, compact = json.JSONDecoder(), 0, []
    while (start := text.find("{", position)) >= 0:
        status, position = decoder.raw_decode(text, start)
        compact.append(json.dumps(status) + "\n")
    parsed = parse_rawjson(compact)
    assert parsed.steps() == indented.steps()
    assert parsed.image_id == indented.image_id


def _vertex(name: str, **fields: object) -> str:
    record = {"digest": f"sha256:{abs(hash(name)):064x}"[:71], "name": name, **fields}
    return json.dumps({"vertexes": [record]}) + "\n"


def test_a_canceled_vertex_is_not_the_error_and_an_unstarted_one_is_no_step() -> None:
    at, done = "2026-11-30T09:00:00.5Z", "2026-11-30T09:00:02.75Z"
    parsed = parse_rawjson(
        [
            _vertex("[a 1/2] RUN sleep 5", started=at),
            _vertex("[b 1/2] RUN false", started=at),
            _vertex("[b 2/2] RUN never"),
            _vertex("[b 1/2] RUN false", started=at, completed=done, error="exit code: 1"),
            _vertex("[a 1/2] RUN sleep 5", started=at, completed=done, error="context canceled"),
            "not json: a line of text\n",
        ]
    )
    assert parsed.error == "exit code: 1"
    assert [(s.instruction, s.duration_seconds) for s in parsed.steps()] == [
        ("RUN sleep 5", 2.25),
        ("RUN false", 2.25),
    ]
    assert "#1 CANCELED" in parsed.tail and "not json: a line of text" in parsed.tail


def test_a_broken_object_is_kept_as_text() -> None:
    parsed = parse_rawjson(["{\n", '  "vertexes": [oops\n', "}\n", "ERROR: it broke\n"])
    assert parsed.steps() == ()
    assert parsed.error == "it broke"
    assert '  "vertexes": [oops' in parsed.tail


# Which path: buildx or plain -----------------------------------------------------------------


def _fake_cli(tmp_path: Path, buildx_version: str | None, *, needs_config: bool = False) -> str:
    """A docker CLI stand-in: `buildx version` answers (from DOCKER_CONFIG's plugin dir when
    needs_config), `--version` names a 20.10 client, `buildx build` replays a recording."""
    if buildx_version is None:
        buildx = "exit 1"
    elif needs_config:
        buildx = (
            f'[ -x "$DOCKER_CONFIG/cli-plugins/docker-buildx" ] || exit 1; echo "{buildx_version}"'
        )
    else:
        buildx = f'echo "{buildx_version}"'
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$DOCKER_CONFIG" > "$(dirname "$0")/seen-config"\n'
        'if [ "$1" = "--version" ]; then echo "Docker version 20.10.24+dfsg1, build 297e128"; '
        "exit 0; fi\n"
        f'if [ "$1 $2" = "buildx version" ]; then {buildx}; exit; fi\n'
        f'if [ "$1 $2" = "buildx build" ]; then cat "{RECORDED}/buildx-rawjson-cold.txt" >&2; '
        "exit 0; fi\n"
        "exit 2\n"
    )
    script.chmod(0o755)
    return str(script)


def test_buildx_is_used_when_the_cli_finds_it(tmp_path: Path) -> None:
    cli = _fake_cli(tmp_path, "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3")
    builder = BuildKitBuilder("unix:///x.sock", cli=cli)
    assert builder.frontend == "buildx"
    assert builder.buildkit_version() == "github.com/docker/buildx 0.13.1+ds1"
    assert "rawjson" in builder.describe()
    command = builder.command(
        tmp_path,
        tmp_path / "Dockerfile",
        "t:1",
        nocache=True,
        buildargs={"A": "1"},
        labels={"L": "v"},
        network_mode="host",
        iidfile=tmp_path / "iid",
    )
    assert command == [
        cli,
        "buildx",
        "build",
        "--builder",
        "default",
        "--progress=rawjson",
        "--provenance=false",
        "--iidfile",
        str(tmp_path / "iid"),
        "-f",
        str(tmp_path / "Dockerfile"),
        "-t",
        "t:1",
        "--no-cache",
        "--network",
        "host",
        "--build-arg",
        "A=1",
        "--label",
        "L=v",
        str(tmp_path),
    ]


def test_a_build_through_buildx_gives_the_parsed_steps(tmp_path: Path) -> None:
    cli = _fake_cli(tmp_path, "github.com/docker/buildx v0.14.0 abcdef")
    builder = BuildKitBuilder("unix:///x.sock", cli=cli)
    started: list[str] = []
    outcome = builder.build(
        tmp_path, tmp_path / "Dockerfile", "t:1", nocache=True, on_step=started.append
    )
    assert outcome.ok, outcome.error
    assert outcome.image_id == MANIFEST
    assert outcome.steps == _parsed("cold").steps()
    assert started[1:] == STEPS


@pytest.mark.parametrize(
    "answer",
    [None, "github.com/docker/buildx 0.12.1 abc", "something else 1.0"],
    ids=["no plugin", "before rawjson", "not buildx"],
)
def test_plain_docker_build_is_the_fallback(tmp_path: Path, answer: str | None) -> None:
    builder = BuildKitBuilder("unix:///x.sock", cli=_fake_cli(tmp_path, answer))
    assert builder.frontend == "plain"
    assert builder.buildkit_version() == "Docker version 20.10.24+dfsg1, build 297e128"
    command = builder.command(
        tmp_path,
        tmp_path / "Dockerfile",
        "t:1",
        nocache=False,
        buildargs={},
        labels={},
        network_mode=None,
        iidfile=tmp_path / "iid",
    )
    assert command[1:3] == ["build", "--progress=plain"]
    assert "--iidfile" not in command


def test_a_cli_that_cannot_run_means_no_buildx(tmp_path: Path) -> None:
    assert find_buildx(str(tmp_path / "missing"), {}) is None


# DOCKER_CONFIG -------------------------------------------------------------------------------


def test_the_lab_config_is_where_buildx_is_found_and_builds_run(tmp_path: Path) -> None:
    cli = _fake_cli(tmp_path, "github.com/docker/buildx 0.13.1+ds1", needs_config=True)
    config = tmp_path / "docker-cli"
    (config / "cli-plugins").mkdir(parents=True)
    (config / "cli-plugins" / "docker-buildx").write_text("")
    (config / "cli-plugins" / "docker-buildx").chmod(0o755)
    builder = BuildKitBuilder("unix:///x.sock", cli=cli, docker_config=config)
    assert builder.frontend == "buildx"
    assert builder.env()["DOCKER_CONFIG"] == str(config)
    builder.build(tmp_path, tmp_path / "Dockerfile", "t:1", nocache=False)
    assert (tmp_path / "seen-config").read_text().strip() == str(config)


def test_without_the_lab_config_the_users_own_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _fake_cli(tmp_path, "github.com/docker/buildx 0.13.1+ds1", needs_config=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "users-own"))
    builder = BuildKitBuilder("unix:///x.sock", cli=cli)
    assert builder.env()["DOCKER_CONFIG"] == str(tmp_path / "users-own")
    assert builder.frontend == "plain"  # their config has no buildx
    monkeypatch.delenv("DOCKER_CONFIG")
    assert "DOCKER_CONFIG" not in BuildKitBuilder("unix:///x.sock", cli=cli).env()


def _lab(tmp_path: Path) -> LabPaths:
    paths = LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")
    plugin = paths.engine26_root / engine26.BUILDX_IN_ROOT.lstrip("/")
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    return paths


def test_lab_links_engine26s_buildx_into_a_config_of_its_own(tmp_path: Path) -> None:
    paths = _lab(tmp_path)
    assert engine26.cli_config(paths) is None
    assert engine26.ensure_cli_config(paths) == paths.docker_cli_config
    link = paths.docker_cli_config / "cli-plugins" / "docker-buildx"
    assert link.is_symlink()
    assert link.readlink() == paths.engine26_root / engine26.BUILDX_IN_ROOT.lstrip("/")
    assert engine26.ensure_cli_config(paths) == paths.docker_cli_config  # again: no change
    assert engine26.cli_config(paths) == paths.docker_cli_config
    assert paths.docker_cli_config.is_relative_to(paths.lab_dir)
    (paths.docker_cli_config / "buildx").mkdir()  # what buildx itself keeps there
    assert engine26.remove_cli_config(paths)
    assert not paths.docker_cli_config.exists()
    assert not engine26.remove_cli_config(paths)
    assert engine26.cli_config(paths) is None


def test_no_config_without_buildx_in_the_root(tmp_path: Path) -> None:
    paths = LabPaths(lab_dir=tmp_path / "lab", cache_dir=tmp_path / "cache")
    assert engine26.ensure_cli_config(paths) is None
    assert not paths.docker_cli_config.exists()


# --buildx-builder NAME -----------------------------------------------------------------------

INSPECT_REMOTE = """Name:          rb
Driver:        remote
Last Activity: 2026-11-30 15:00:00 +0000 UTC

Nodes:
Name:             rb0
Endpoint:         tcp://buildkitd.example:1234
Status:           running
BuildKit version: v0.16.0
"""

INSPECT_CONTEXT = """Name:   lab26
Driver: docker

Nodes:
Name:     lab26
Endpoint: lab26
Status:   running
"""


def _named_cli(tmp_path: Path, inspect: str, context_host: str = "") -> str:
    """A CLI with buildx 0.13 that answers `buildx inspect` and `context inspect`."""
    (tmp_path / "inspect.txt").write_text(inspect)
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "buildx version" ]; then echo "github.com/docker/buildx 0.13.1"; exit; fi\n'
        'if [ "$1 $2 $3" = "buildx inspect rb" ] || [ "$1 $2 $3" = "buildx inspect lab26" ]; '
        f'then cat "{tmp_path}/inspect.txt"; exit 0; fi\n'
        'if [ "$1 $2" = "buildx inspect" ]; then echo "ERROR: no builder \\"$3\\" found" >&2; '
        "exit 1; fi\n"
        f'if [ "$1 $2" = "context inspect" ]; then echo "{context_host}"; exit 0; fi\n'
        "exit 2\n"
    )
    script.chmod(0o755)
    return str(script)


def _plain_command(builder: BuildKitBuilder, context: Path) -> list[str]:
    """A cold build's command with no arguments, labels or network."""
    return builder.command(
        context,
        context / "Dockerfile",
        "t:1",
        nocache=True,
        buildargs={},
        labels={},
        network_mode=None,
    )


def test_inspect_gives_the_driver_and_first_endpoint() -> None:
    named = buildx.parse_inspect("rb", INSPECT_REMOTE)
    assert named == buildx.NamedBuilder("rb", "remote", "tcp://buildkitd.example:1234")
    assert named.loads
    assert named.describe() == "rb (remote driver)"


def test_a_builder_of_its_own_loads_into_the_measured_engine(tmp_path: Path) -> None:
    builder = BuildKitBuilder(
        "unix:///x.sock", cli=_named_cli(tmp_path, INSPECT_REMOTE), named_builder="rb"
    )
    command = _plain_command(builder, tmp_path)
    assert command[3:5] == ["--builder", "rb"]
    assert "--load" in command
    assert "--load on builder rb (remote driver)" in builder.describe()


def test_a_docker_driver_builder_must_build_in_the_measured_engine(tmp_path: Path) -> None:
    cli = _named_cli(tmp_path, INSPECT_CONTEXT, context_host="unix:///lab26.sock")
    builder = BuildKitBuilder("unix:///lab26.sock", cli=cli, named_builder="lab26")
    command = _plain_command(builder, tmp_path)
    assert command[3:5] == ["--builder", "lab26"]
    assert "--load" not in command  # the engine's own BuildKit: the image is already there
    with pytest.raises(BenchError) as raised:
        BuildKitBuilder("unix:///other.sock", cli=cli, named_builder="lab26")
    assert raised.value.message == (
        "buildx builder 'lab26' is the docker driver of unix:///lab26.sock: it builds in that "
        "engine, not in unix:///other.sock; measure that engine (--engine unix:///lab26.sock)"
    )


def test_an_unknown_builder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BenchError) as raised:
        BuildKitBuilder("unix:///x.sock", cli=_named_cli(tmp_path, ""), named_builder="nope")
    assert raised.value.message.startswith("buildx builder 'nope': no builder \"nope\" found")


def test_a_named_builder_needs_buildx(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="needs the docker CLI's buildx plugin"):
        BuildKitBuilder("unix:///x.sock", cli=_fake_cli(tmp_path, None), named_builder="rb")
