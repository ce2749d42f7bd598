"""BuildKit through the docker CLI, parsed into the same step records as the classic builder's.

docker-py cannot drive BuildKit (docker/docker-py#2230), so this builder runs the CLI. With
a buildx plugin (0.13 or later) it runs `docker buildx build --progress=rawjson` and reads
BuildKit's own status records: each vertex's start and completion times, cached flag and
error. Without one it falls back to `docker build --progress=plain` with DOCKER_BUILDKIT=1
(the Debian 20.10 client works against both lab engines) and parses the text.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from bench.engine import buildx
from bench.errors import BenchError
from bench.models import BuildOutcome, BuildStep

# How a build reaches BuildKit: buildx's JSON status stream, or the plain text fallback.
Frontend = Literal["buildx", "plain"]

_VERTEX = re.compile(r"^#(\d+) (.*)$")
_STEP_NAME = re.compile(r"^\[(?:(\S+) )?(\d+)/(\d+)\] (.+)$")
_DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")
# The exporter names the image it made: "writing image" on a graph-driver engine; on the
# containerd store the engine's image id is the manifest's digest (the index's, when there
# are attestations), announced as "exporting manifest [list]".
_IMAGE = re.compile(
    r"(writing image|exporting manifest list|exporting manifest) (sha256:[0-9a-f]{64})"
)
_IMAGE_RANK = {"writing image": 0, "exporting manifest list": 1, "exporting manifest": 2}
_BUILDX_VERSION = re.compile(r"^(github\.com/docker/buildx) v?((\d+)\.(\d+)\S*)")
# --progress=rawjson came with buildx 0.13; an older plugin is no use here.
_RAWJSON_SINCE = (0, 13)
_LOG_TAIL_LINES = 30
_PROBE_TIMEOUT_SECONDS = 30


@dataclass
class _Vertex:
    name: str
    cached: bool = False
    seconds: float = 0.0
    error: str | None = None
    order: int = 0


def _steps(vertices: Iterable[_Vertex]) -> tuple[BuildStep, ...]:
    """Dockerfile steps in the order they started, whichever progress format said so."""
    steps: list[BuildStep] = []
    for vertex in sorted(vertices, key=lambda v: v.order):
        match = _STEP_NAME.match(vertex.name)
        if not match:
            continue  # [internal] loads, exporting: build work, but not Dockerfile steps
        instruction = match.group(4)
        # FROM with the base present does no work, as in the classic builder's records.
        cached = vertex.cached or instruction.upper().startswith("FROM ")
        steps.append(BuildStep(len(steps) + 1, instruction, vertex.seconds, cached))
    return tuple(steps)


@dataclass
class _ImageId:
    """The best image id the exporter announced so far (see _IMAGE)."""

    value: str | None = None
    rank: int = len(_IMAGE_RANK)

    def see(self, text: str) -> None:
        for match in _IMAGE.finditer(text):
            rank = _IMAGE_RANK[match.group(1)]
            if rank <= self.rank:
                self.value, self.rank = match.group(2), rank


def _error_line(line: str) -> str | None:
    if line.startswith("error:") or line.startswith("ERROR:"):
        return line.split(":", 1)[1].strip()
    return None


@dataclass
class ProgressParser:
    """Feed `--progress=plain` lines; ask for steps, image id, error and log tail."""

    vertices: dict[int, _Vertex] = field(default_factory=dict)
    error: str | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_LOG_TAIL_LINES))
    _image: _ImageId = field(default_factory=_ImageId)

    @property
    def image_id(self) -> str | None:
        """The id of the image the build made, as the engine names it."""
        return self._image.value

    def feed(self, line: str) -> str | None:
        """Returns the instruction of a step that just started, for progress display."""
        line = line.rstrip("\n")
        if line.strip():
            self.tail.append(line)
        if (error := _error_line(line)) is not None:
            self.error = error
            return None
        match = _VERTEX.match(line)
        if not match:
            return None
        number, text = int(match.group(1)), match.group(2).strip()
        vertex = self.vertices.get(number)
        if vertex is None:
            self.vertices[number] = _Vertex(name=text, order=len(self.vertices))
            step = _STEP_NAME.match(text)
            return step.group(4) if step else None
        if text == "CACHED":
            vertex.cached = True
        elif done := _DONE.match(text):
            vertex.seconds = float(done.group(1))
        elif text.startswith("ERROR"):
            vertex.error = text.partition(":")[2].strip() or text
            self.error = self.error or vertex.error
        else:
            self._image.see(text)
        return None

    def steps(self) -> tuple[BuildStep, ...]:
        """The Dockerfile steps seen so far, as BuildStep records."""
        return _steps(self.vertices.values())


def parse(lines: Iterable[str]) -> ProgressParser:
    """A plain progress log, parsed."""
    parser = ProgressParser()
    for line in lines:
        parser.feed(line)
    return parser


def _timestamp_seconds(value: object) -> float | None:
    """An RFC 3339 time from BuildKit (nanoseconds, "Z") as seconds since the epoch."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()  # 3.11 keeps microseconds
    except ValueError:
        return None


def _canceled(error: str) -> bool:
    # A vertex stopped because another one failed: BuildKit's plain printer says CANCELED
    # and does not count it as an error, nor does this parser.
    return error.endswith("context canceled")


@dataclass
class RawJsonParser:
    """Feed `--progress=rawjson` lines; ask for steps, image id, error and log tail.

    buildx writes one JSON SolveStatus per update (`vertexes`, `statuses`, `logs`,
    `warnings`), indented over many lines, and then plain text for a failed build's
    summary. A vertex counts once it has started, in the order vertexes first started,
    which is the order (and numbering) of the plain printer.
    """

    vertices: dict[str, _Vertex] = field(default_factory=dict)
    error: str | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_LOG_TAIL_LINES))
    _image: _ImageId = field(default_factory=_ImageId)
    _pending: list[str] = field(default_factory=list)
    _completed: dict[str, object] = field(default_factory=dict)

    @property
    def image_id(self) -> str | None:
        """The id of the image the build made, as the engine names it."""
        return self._image.value

    def feed(self, line: str) -> str | None:
        """Returns the instruction of a step that just started, for progress display."""
        line = line.rstrip("\n")
        if not self._pending and not line.startswith("{"):
            self._text(line)
            return None
        self._pending.append(line)
        # An indented object ends with "}" in the first column; a compact one on its line.
        single = len(self._pending) == 1 and line.rstrip().endswith("}")
        if not (single or line.startswith("}")):
            return None
        lines, self._pending = self._pending, []
        try:
            status = json.loads("\n".join(lines))
        except json.JSONDecodeError:
            for text in lines:  # not a status after all: text, like the rest
                self._text(text)
            return None
        return self._status(status) if isinstance(status, dict) else None

    def steps(self) -> tuple[BuildStep, ...]:
        """The Dockerfile steps seen so far, as BuildStep records."""
        return _steps(self.vertices.values())

    def _text(self, line: str) -> None:
        if line.strip():
            self.tail.append(line)
        if (error := _error_line(line)) is not None:
            self.error = self.error or error

    def _status(self, status: dict[str, Any]) -> str | None:
        started_step: str | None = None
        for record in status.get("vertexes") or ():
            if isinstance(record, dict):
                started_step = self._vertex(record) or started_step
        for record in status.get("statuses") or ():
            if isinstance(record, dict):
                self._image.see(str(record.get("id", "")))
        for record in status.get("logs") or ():
            if isinstance(record, dict):
                self._log(record)
        return started_step

    def _vertex(self, record: dict[str, Any]) -> str | None:
        digest, name = str(record.get("digest", "")), str(record.get("name", ""))
        started = _timestamp_seconds(record.get("started"))
        if started is None:
            return None  # announced, not started: the plain printer does not show it yet
        vertex = self.vertices.get(digest)
        new = vertex is None
        if vertex is None:
            vertex = self.vertices[digest] = _Vertex(name=name, order=len(self.vertices))
            self.tail.append(f"#{vertex.order + 1} {name}")
        vertex.cached = vertex.cached or bool(record.get("cached"))
        completed = _timestamp_seconds(record.get("completed"))
        if completed is not None and self._completed.get(digest) != record.get("completed"):
            # The last interval counts, as the plain printer's DONE line does.
            self._completed[digest] = record.get("completed")
            vertex.seconds = max(0.0, completed - started)
            self._finished(vertex, str(record.get("error") or ""))
        step = _STEP_NAME.match(name)
        return step.group(4) if new and step else None

    def _finished(self, vertex: _Vertex, error: str) -> None:
        label = f"#{vertex.order + 1}"
        if error and _canceled(error):
            self.tail.append(f"{label} CANCELED")
        elif error:
            vertex.error = error
            self.error = self.error or error
            self.tail.append(f"{label} ERROR: {error}")
        elif vertex.cached:
            self.tail.append(f"{label} CACHED")
        else:
            self.tail.append(f"{label} DONE {vertex.seconds:.1f}s")

    def _log(self, record: dict[str, Any]) -> None:
        try:
            data = base64.b64decode(str(record.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            return
        for text in data.decode("utf-8", errors="replace").splitlines():
            if text.strip():
                self.tail.append(text)


def parse_rawjson(lines: Iterable[str]) -> RawJsonParser:
    """A rawjson progress stream, parsed."""
    parser = RawJsonParser()
    for line in lines:
        parser.feed(line)
    return parser


def find_cli() -> str | None:
    """A docker client that can build with BuildKit: Debian's (20.10), else the one on PATH."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def find_buildx(cli: str, env: Mapping[str, str]) -> str | None:
    """The version line of the buildx plugin `cli` finds (like `github.com/docker/buildx
    0.13.1+ds1`), or None when it has none, or one too old for --progress=rawjson."""
    try:
        result = subprocess.run(
            [cli, "buildx", "version"],
            env=dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _BUILDX_VERSION.match(result.stdout.strip()) if result.returncode == 0 else None
    if match is None or (int(match.group(3)), int(match.group(4))) < _RAWJSON_SINCE:
        return None
    return f"{match.group(1)} {match.group(2)}"


def _cli_version(cli: str) -> str | None:
    try:
        result = subprocess.run(
            [cli, "--version"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = result.stdout.strip().splitlines()[:1]
    return line[0] if result.returncode == 0 and line else None


class BuildKitBuilder:
    """Same interface as Engine.build; BuildKit through `docker buildx build` or, without
    buildx, `docker build` with DOCKER_BUILDKIT=1."""

    name = "buildkit"

    def __init__(
        self,
        docker_host: str,
        cli: str | None = None,
        docker_config: Path | None = None,
        named_builder: str | None = None,
    ) -> None:
        found = cli or find_cli()
        if found is None:
            raise BenchError(
                "BuildKit needs the docker CLI, which is not installed "
                "(`apt-get install docker.io`)"
            )
        self.cli = found
        self.docker_host = docker_host
        # The lab's own CLI config (its buildx plugin); None: the user's, as the CLI finds it.
        self.docker_config = docker_config
        self.buildx_version = find_buildx(found, self.env())
        self.frontend: Frontend = "plain" if self.buildx_version is None else "buildx"
        self._client_version: str | None = None
        # `--buildx-builder NAME`; None: the engine's own BuildKit (buildx's `default`).
        self.named: buildx.NamedBuilder | None = None
        if named_builder is not None:
            if self.frontend != "buildx":
                raise BenchError(
                    f"--buildx-builder {named_builder}: needs the docker CLI's buildx plugin "
                    "(0.13 or later), which it does not find"
                )
            self.named = buildx.inspect(self.cli, self.env(), named_builder)
            buildx.check_target(self.cli, self.env(), self.named, docker_host)

    def env(self) -> dict[str, str]:
        """The CLI's environment: our engine, BuildKit on, and the lab's config if any."""
        env = {**os.environ, "DOCKER_HOST": self.docker_host, "DOCKER_BUILDKIT": "1"}
        if self.docker_config is not None:
            env["DOCKER_CONFIG"] = str(self.docker_config)
        return env

    def describe(self) -> str:
        """How builds reach BuildKit, in words (for progress lines and reports)."""
        if self.frontend == "buildx":
            on = "" if self.named is None else f" on builder {self.named.describe()}"
            load = " --load" if self.named is not None and self.named.loads else ""
            return f"docker buildx build --progress=rawjson{load}{on} ({self.buildx_version})"
        return "docker build --progress=plain (DOCKER_BUILDKIT=1)"

    def buildkit_version(self) -> str | None:
        """The BuildKit client that drives the builds, with its version: buildx's version
        line, or the docker CLI's (`Docker version 20.10.24+dfsg1, ...`) on the plain path."""
        if self.buildx_version is not None:
            return self.buildx_version
        if self._client_version is None:
            self._client_version = _cli_version(self.cli)
        return self._client_version

    def command(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        buildargs: Mapping[str, str],
        labels: Mapping[str, str],
        network_mode: str | None,
        iidfile: Path | None = None,
    ) -> list[str]:
        """The CLI's argument list for one build."""
        if self.frontend == "buildx":
            command = [
                self.cli,
                "buildx",
                "build",
                # `default`: the docker driver on DOCKER_HOST, the engine's own BuildKit,
                # which also loads the image, whatever builder the user made default.
                "--builder",
                "default" if self.named is None else self.named.name,
                "--progress=rawjson",
                # The same image `docker build` makes: no attestation manifests, which
                # buildx adds on the containerd store and which would change the image id.
                "--provenance=false",
            ]
            if self.named is not None and self.named.loads:
                # A BuildKit of its own keeps what it builds: the measured engine gets the
                # image (for its size, smoke test and layers) only through --load.
                command.append("--load")
            if iidfile is not None:
                command += ["--iidfile", str(iidfile)]
        else:
            command = [self.cli, "build", "--progress=plain"]
        command += ["-f", str(dockerfile), "-t", tag]
        if nocache:
            command.append("--no-cache")
        if network_mode:
            command += ["--network", network_mode]
        for key, value in sorted(buildargs.items()):
            command += ["--build-arg", f"{key}={value}"]
        for key, value in sorted(labels.items()):
            command += ["--label", f"{key}={value}"]
        return [*command, str(context_dir)]

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        buildargs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        network_mode: str | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome:
        """Build and tag the image; the outcome with its steps, as Engine.build gives it."""
        with tempfile.TemporaryDirectory(prefix="bench-buildkit-") as scratch:
            iidfile = Path(scratch) / "iid"
            command = self.command(
                context_dir,
                dockerfile,
                tag,
                nocache=nocache,
                buildargs=buildargs or {},
                labels=labels or {},
                network_mode=network_mode,
                iidfile=iidfile,
            )
            parser: ProgressParser | RawJsonParser = (
                RawJsonParser() if self.frontend == "buildx" else ProgressParser()
            )
            started = time.perf_counter()
            with subprocess.Popen(
                command,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            ) as process:
                assert process.stdout is not None
                for line in process.stdout:
                    instruction = parser.feed(line)
                    if instruction and on_step:
                        on_step(instruction)
                returncode = process.wait()
            duration = time.perf_counter() - started
            # The exporter's id first: on the containerd store buildx 0.13's iidfile holds
            # the config digest, not the manifest digest the engine names the image by.
            image_id = parser.image_id or _read_iidfile(iidfile)
        ok = returncode == 0 and parser.error is None
        command_name = "docker buildx build" if self.frontend == "buildx" else "docker build"
        return BuildOutcome(
            ok=ok,
            duration_seconds=duration,
            steps=parser.steps(),
            image_id=image_id if ok else None,
            error=None if ok else (parser.error or f"{command_name} exited with {returncode}"),
            log_tail=tuple(parser.tail),
        )


def _read_iidfile(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text if text.startswith("sha256:") else None
