"""Turn the classic builder's JSON stream into per-step records (no Docker needed)."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

from bench.models import BuildStep

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_COMMITTED = re.compile(r"^---> ([0-9a-f]{12,64})$")
_RUNNING = re.compile(r"^---> Running in ([0-9a-f]{12,64})$")
# The classic builder colours a RUN step's stderr with ANSI escapes.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_TAIL_LINES = 30


class StepTracker:
    """Feed it stream events with the time they arrived; it knows each step's duration.

    A step starts when its `Step N/M :` line arrives and ends when the next one does (or the
    build ends). The classic builder prints ` ---> Using cache` for a cache hit, and
    ` ---> ID` for the image a step ends with.

    `stage_images` are the images that ended the earlier stages of a multi-stage build, when
    this build committed them (the step ran, no cache hit). Nothing reaches them: not the
    tag, not the labels (given to the final image only), not a child (the final stage only
    copies files out of them), so deleting the final image leaves them behind.
    """

    def __init__(self, started_at: float) -> None:
        self._started_at = started_at
        self._pending = ""
        self._steps: list[BuildStep] = []
        self._current: tuple[int, str, float] | None = None
        self._current_cached = False
        self._seen_from = False
        self.image_id: str | None = None
        self.stage_images: list[str] = []
        # Every image a step of this build committed (cache hits are not this build's).
        self.committed_images: list[str] = []
        # The image the last step ended with, if this build committed it.
        self.last_committed: str | None = None
        # The container of the step running now (RUN, and steps that commit a container).
        self.running_container: str | None = None
        self.error: str | None = None
        self._tail: deque[str] = deque(maxlen=_LOG_TAIL_LINES)

    @property
    def current_instruction(self) -> str | None:
        return self._current[1] if self._current else None

    def feed(self, event: Mapping[str, object], now: float) -> None:
        stream = event.get("stream")
        if isinstance(stream, str):
            self._pending += stream
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._line(line.rstrip("\r"), now)
        aux = event.get("aux")
        if isinstance(aux, Mapping) and isinstance(aux.get("ID"), str):
            self.image_id = str(aux["ID"])
        error = event.get("error")
        if isinstance(error, str):
            self.error = error.strip()
            self._tail.extend(error.strip().splitlines())

    def _line(self, line: str, now: float) -> None:
        line = _ANSI.sub("", line)
        if line.strip():
            self._tail.append(line)
        match = _STEP.match(line)
        if match:
            self._close(now)
            instruction = match.group(3).strip()
            self._current = (int(match.group(1)), instruction, now)
            keyword = instruction.split(None, 1)[0].upper() if instruction else ""
            if keyword == "FROM":
                self._seen_from = True
                if self.last_committed is not None:
                    self.stage_images.append(self.last_committed)
                self.last_committed = None
            # FROM (base present) and the ARGs before the first FROM do no work and have no
            # cache entry: counting them as re-run would make every no-op look like a rebuild.
            self._current_cached = keyword == "FROM" or (keyword == "ARG" and not self._seen_from)
        elif line.strip() == "---> Using cache":
            self._current_cached = True
        elif running := _RUNNING.match(line.strip()):
            self.running_container = running.group(1)
        elif committed := _COMMITTED.match(line.strip()):
            self.last_committed = None if self._current_cached else committed.group(1)
            if self.last_committed is not None:
                self.committed_images.append(self.last_committed)
            self.running_container = None

    def _close(self, now: float) -> None:
        if self._current is None:
            return
        index, instruction, started = self._current
        self._steps.append(
            BuildStep(
                index=index,
                instruction=instruction,
                duration_seconds=max(0.0, now - started),
                cached=self._current_cached,
            )
        )
        self._current = None

    def finish(self, now: float) -> tuple[BuildStep, ...]:
        if self._pending:
            self._line(self._pending, now)
            self._pending = ""
        self._close(now)
        return tuple(self._steps)

    def unreachable_images(self, ok: bool, every_step: bool = False) -> tuple[str, ...]:
        """Images this build committed that neither its tag nor its labels reach: the ends
        of earlier stages and, when the build failed, where it stopped. With `every_step`
        (the containerd image store, where a step's image is no parent that deleting the
        final image prunes) every step's image but the final one."""
        if every_step:
            final = self.image_id if ok else None
            return tuple(
                image
                for image in self.committed_images
                if final is None or image.removeprefix("sha256:") not in final
            )
        stopped = [self.last_committed] if not ok and self.last_committed is not None else []
        return (*self.stage_images, *stopped)

    @property
    def log_tail(self) -> tuple[str, ...]:
        return tuple(self._tail)


# A line that says what went wrong: compilers, pip, apt, the shell.
_TELLING = re.compile(
    r"fatal error|\berror\b|\bE: |not found|no such file|permission denied|cannot |could not "
    r"|no matching distribution|unable to locate",
    re.IGNORECASE,
)
# Lines that only say that something failed, around the line that says what: the engine's
# "returned a non-zero code", pip's subprocess wrappers, BuildKit's summary.
_GENERIC = re.compile(
    "|".join(
        (
            r"returned a non-zero code",
            r"did not complete successfully",
            r"exit code: \d+",
            r"^error: (subprocess-exited-with-error|metadata-generation-failed|failed to solve)",
            r"failed building wheel",
            r"could not build wheels",
            r"failed to build",
            r"this error originates",
            r"^note: ",
            r"^[\u00d7\u2570\u2502]",  # pip's boxed summary: the multiplication sign, corners
            r"end of output",
            r"see above for output",
            r"^error$",
        )
    ),
    re.IGNORECASE,
)
TELLING_LINE_CHARS = 160


def telling_line(log_tail: tuple[str, ...] | list[str]) -> str | None:
    """The first line of a failed build's log tail that says what went wrong (a compiler's
    `fatal error: Python.h: No such file or directory`, `Error: pg_config executable not
    found.`), rather than that a command failed; None when no line does."""
    for raw in log_tail:
        line = _ANSI.sub("", raw).strip()
        if line and _TELLING.search(line) and not _GENERIC.search(line):
            return line[:TELLING_LINE_CHARS]
    return None
