"""BuildKit through the docker CLI (`--progress=plain`), parsed into the same step records.

docker-py cannot drive BuildKit (docker/docker-py#2230), so this builder runs the CLI: the
Debian 20.10 client with DOCKER_BUILDKIT=1 works against the lab's engine (no buildx needed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import BenchError
from bench.models import BuildOutcome, BuildStep

_VERTEX = re.compile(r"^#(\d+) (.*)$")
_STEP_NAME = re.compile(r"^\[(?:(\S+) )?(\d+)/(\d+)\] (.+)$")
_DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")
_IMAGE = re.compile(r"writing image (sha256:[0-9a-f]{64})")
_LOG_TAIL_LINES = 30


@dataclass
class _Vertex:
    name: str
    cached: bool = False
    seconds: float = 0.0
    error: str | None = None
    order: int = 0


@dataclass
class ProgressParser:
    """Feed `--progress=plain` lines; ask for steps, image id, error and log tail."""

    vertices: dict[int, _Vertex] = field(default_factory=dict)
    image_id: str | None = None
    error: str | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_LOG_TAIL_LINES))

    def feed(self, line: str) -> str | None:
        """Returns the instruction of a step that just started, for progress display."""
        line = line.rstrip("\n")
        if line.strip():
            self.tail.append(line)
        if line.startswith("error:") or line.startswith("ERROR:"):
            self.error = line.split(":", 1)[1].strip()
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
        elif image := _IMAGE.search(text):
            self.image_id = image.group(1)
        return None

    def steps(self) -> tuple[BuildStep, ...]:
        steps: list[BuildStep] = []
        for vertex in sorted(self.vertices.values(), key=lambda v: v.order):
            match = _STEP_NAME.match(vertex.name)
            if not match:
                continue  # [internal] loads, exporting: build work, but not Dockerfile steps
            instruction = match.group(4)
            # FROM with the base present does no work, as in the classic builder's records.
            cached = vertex.cached or instruction.upper().startswith("FROM ")
            steps.append(BuildStep(len(steps) + 1, instruction, vertex.seconds, cached))
        return tuple(steps)


def parse(lines: Iterable[str]) -> ProgressParser:
    parser = ProgressParser()
    for line in lines:
        parser.feed(line)
    return parser


def find_cli() -> str | None:
    """A docker client that can build with BuildKit: Debian's (20.10), else the one on PATH."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


class BuildKitBuilder:
    """Same interface as Engine.build; `docker build` with DOCKER_BUILDKIT=1."""

    name = "buildkit"

    def __init__(self, docker_host: str, cli: str | None = None) -> None:
        found = cli or find_cli()
        if found is None:
            raise BenchError(
                "BuildKit needs the docker CLI, which is not installed "
                "(`apt-get install docker.io`)"
            )
        self.cli = found
        self.docker_host = docker_host

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
    ) -> list[str]:
        command = [self.cli, "build", "--progress=plain", "-f", str(dockerfile), "-t", tag]
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
        command = self.command(
            context_dir,
            dockerfile,
            tag,
            nocache=nocache,
            buildargs=buildargs or {},
            labels=labels or {},
            network_mode=network_mode,
        )
        env = {**os.environ, "DOCKER_HOST": self.docker_host, "DOCKER_BUILDKIT": "1"}
        parser = ProgressParser()
        started = time.perf_counter()
        with subprocess.Popen(
            command,
            env=env,
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
        ok = returncode == 0 and parser.error is None
        return BuildOutcome(
            ok=ok,
            duration_seconds=duration,
            steps=parser.steps(),
            image_id=parser.image_id if ok else None,
            error=None if ok else (parser.error or f"docker build exited with {returncode}"),
            log_tail=tuple(parser.tail),
        )
