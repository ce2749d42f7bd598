"""The real Workbench: the runner's Docker operations, bound to one engine and one run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from bench.engine import labels, layersource
from bench.engine.client import Engine
from bench.lab import basemap, standins
from bench.layers.analysis import analyse_stream, base_layer_count
from bench.layers.savestream import UnreadableImage
from bench.layers.sizecache import SizeCache
from bench.manifest import SmokeSpec
from bench.models import (
    BuildOutcome,
    ImageAnalysis,
    ImageFacts,
    PullOutcome,
    SmokeResult,
    SourceChoice,
)
from bench.redaction import Scrubber
from bench.run.smoke import smoke_test


class Builder(Protocol):
    """Engine.build (classic, through the SDK) or BuildKitBuilder.build (through the CLI)."""

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
    ) -> BuildOutcome: ...


class DockerWorkbench:
    """Builds with our labels, build arguments and network; smoke tests with --network none."""

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        build_args: Mapping[str, str],
        network_mode: str | None,
        on_container: Callable[[str | None], None] | None = None,
        smoke_timeout_seconds: float = 60.0,
        builder: Builder | None = None,
        pull_allowed: Callable[[str], bool] | None = None,
        size_cache: SizeCache | None = None,
        layer_source: SourceChoice = "auto",
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self._engine = engine
        self._builder: Builder = builder or engine
        self._pull_allowed = pull_allowed
        self._run_id = run_id
        self._run_labels = labels.for_run(run_id)
        self._build_args = dict(build_args)
        self._network_mode = network_mode
        self._on_container = on_container
        self._standin_cache: dict[str, bool] = {}
        self._scrub = Scrubber(build_args)
        self._smoke_timeout_seconds = smoke_timeout_seconds
        self._built: list[str] = []
        self._unlabelled: list[str] = []
        # A cold build's image -> the tag that holds it (see build).
        self._pins: dict[str, str] = {}
        self._size_cache = size_cache
        self._saves = _StagedSaves(engine)
        self._layer_source = layer_source
        self._on_note = on_note
        self._noted: set[str] = set()
        # Whether the last image went through `docker save`: only then is the next image's
        # save worth starting early.
        self._saving = layer_source == "save"

    def close(self) -> None:
        """Let go of `docker save` streams started for analyses that will not come."""
        self._saves.close()

    def release_pins(self) -> None:
        """Remove the tags that still hold cold builds' images (the run's cleanup, which
        then deletes the images with the run's others)."""
        for image_id in list(self._pins):
            self._unpin(image_id)

    def pull(self, reference: str) -> PullOutcome:
        if self._pull_allowed is not None and not self._pull_allowed(reference):
            if self._engine.image_id(reference) is not None:
                return PullOutcome(reference, True, 0.0, was_present=True)
            return PullOutcome(
                reference,
                False,
                0.0,
                was_present=False,
                error=basemap.missing_base_message(reference, standins.REFERENCES),
            )
        return self._engine.pull(reference)

    def build(
        self,
        context_dir: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool,
        on_step: Callable[[str], None] | None = None,
    ) -> BuildOutcome:
        scrubbed_step = (lambda text: on_step(self._scrub.text(text))) if on_step else None
        outcome = self._builder.build(
            context_dir,
            dockerfile,
            tag,
            nocache=nocache,
            buildargs=self._build_args,
            labels=self._run_labels,
            network_mode=self._network_mode,
            on_step=scrubbed_step,
        )
        # Ours by the build's own output, though they carry no label of ours.
        for image_id in outcome.unreachable_images:
            if image_id not in self._unlabelled:
                self._unlabelled.append(image_id)
                self._built.append(image_id)
        if outcome.ok and outcome.image_id and outcome.image_id not in self._built:
            self._built.append(outcome.image_id)
        if (
            nocache
            and outcome.ok
            and outcome.image_id
            and self._engine.image_store() == "containerd"
        ):
            self._pin(outcome.image_id, tag)
        return self._scrub.outcome(outcome)

    def _pin(self, image_id: str, tag: str) -> None:
        """Hold a cold build's image under a tag of its own until it is analysed: on the
        containerd store a BuildKit build that moves `tag` deletes the image it replaced
        (the classic builder, and any builder on a graph driver, leave it untagged), and
        the analysis reads it after the edit and no-op builds have moved the tag on."""
        if image_id in self._pins:
            return
        pin = f"{tag}-cold-{image_id.removeprefix('sha256:')[:12]}"
        self._engine.tag(image_id, pin)
        self._pins[image_id] = pin

    def _unpin(self, image_id: str) -> None:
        pin = self._pins.pop(image_id, None)
        if pin is not None:
            self._engine.remove_image(pin)  # the tag; the image when nothing else holds it

    def unlabelled_images(self) -> list[str]:
        """Images this run's builds committed that carry no label (earlier stages, failed
        builds' last steps) and are not deleted yet: a label sweep does not find them."""
        return list(self._unlabelled)

    def built_images(self) -> list[str]:
        return list(self._built)

    def image_facts(self, reference: str) -> ImageFacts:
        return self._scrub.facts(self._engine.image_facts(reference))

    def base_is_standin(self, reference: str) -> bool:
        if reference not in self._standin_cache:
            found = self._engine.image_labels(reference).get(labels.STANDIN) == "true"
            self._standin_cache[reference] = found
        return self._standin_cache[reference]

    def analyse_image(
        self,
        reference: str,
        base: str | None,
        *,
        compressed: bool,
        next_image: str | None = None,
    ) -> ImageAnalysis | None:
        base_count = 0
        if base is not None:
            base_count = base_layer_count(
                self._engine.diff_ids(reference) or (), self._engine.diff_ids(base) or ()
            )
        chosen = layersource.plan(
            self._engine,
            reference,
            self._layer_source,
            compress=compressed,
            size_cache=self._size_cache,
        )
        self._note(chosen.line())
        self._saving = chosen.located is None
        analysis: ImageAnalysis | None
        if chosen.located is not None:
            self._saves.forget(reference)  # started for this image while it was next
            analysis = layersource.analyse_planned(
                chosen.located, chosen.compressed_sizes, base_layer_count=base_count
            )
        else:
            analysis = self._analyse_saved(reference, base_count, compressed, next_image)
        if analysis is None:
            return None
        layers = tuple(
            replace(layer, instruction=self._scrub.text(layer.instruction))
            for layer in analysis.layers
        )
        return replace(analysis, layers=layers)

    def _note(self, line: str) -> None:
        if self._on_note is not None and line not in self._noted:
            self._noted.add(line)
            self._on_note(line)

    def _analyse_saved(
        self, reference: str, base_count: int, compressed: bool, next_image: str | None
    ) -> ImageAnalysis | None:
        self._saves.start(reference)
        if next_image is not None and self._saving:
            # The engine stages the next image (about one core) while this one is staged
            # and read. Started only once this one was staged, it left the second core idle
            # while our process waited for the first byte. The lab's five variants, four
            # times each: 25.4-28.5 s before, 19.3-23.0 s now; with 15 images deleted
            # meanwhile, the deletions take the idle core and the two are even (26-30 s).
            self._saves.start(next_image)
        stream = self._saves.take(reference)  # once the engine has staged it
        try:
            return analyse_stream(
                stream,
                base_layer_count=base_count,
                compress=compressed,
                size_cache=self._size_cache,
            )
        except UnreadableImage:
            return None  # an archive format we cannot read: no analysis, not a failed variant

    def discard(self, image_ids: Sequence[str]) -> None:
        """Remove images this run built and no longer needs; anything else is left."""
        for image_id in image_ids:
            self._unpin(image_id)
            ours = image_id in self._unlabelled
            if ours or self._engine.image_labels(image_id).get(labels.RUN_ID) == self._run_id:
                self._engine.remove_image(image_id)
            if image_id in self._built:
                self._built.remove(image_id)
            if ours:
                self._unlabelled.remove(image_id)

    def smoke(self, reference: str, spec: SmokeSpec) -> SmokeResult:
        result = smoke_test(
            self._engine,
            reference,
            self._run_labels,
            spec,
            on_container=self._on_container,
            ready_timeout_seconds=self._smoke_timeout_seconds,
        )
        return replace(
            result,
            reason=self._scrub.optional(result.reason),
            checked=self._scrub.text(result.checked),
            log_tail=tuple(self._scrub.text(line) for line in result.log_tail),
        )


_Chunks = Generator[bytes | memoryview, None, None]


class _StagedSaves:
    """`docker save` streams started ahead, each waiting in its own thread for its first byte.

    Engine 20.10 sends nothing until it has written the whole image to a temporary
    directory; a stream started early is staged while another one is read. The threads are
    daemons: an interrupted run does not wait for a staging it no longer needs.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._started: dict[str, Future[tuple[bytes | memoryview | None, _Chunks]]] = {}

    def start(self, reference: str) -> None:
        if reference in self._started:
            return
        future: Future[tuple[bytes | memoryview | None, _Chunks]] = Future()

        def stage() -> None:
            try:
                chunks = self._engine.save(reference)
                future.set_result((next(chunks, None), chunks))
            except BaseException as error:  # handed to whoever takes the stream
                future.set_exception(error)

        threading.Thread(target=stage, name="docker-save", daemon=True).start()
        self._started[reference] = future

    def take(self, reference: str) -> Iterator[bytes | memoryview]:
        """The stream of `reference`, started earlier (or now); waits for its first byte."""
        self.start(reference)
        first, chunks = self._started.pop(reference).result()
        return _resumed(first, chunks)

    def forget(self, reference: str) -> None:
        """Let go of the stream of `reference`, if one was started (once it is staged)."""
        future = self._started.pop(reference, None)
        if future is not None:
            future.add_done_callback(_close_staged)

    def close(self) -> None:
        for future in self._started.values():
            if future.done() and future.exception() is None:
                future.result()[1].close()
        self._started.clear()


def _close_staged(future: Future[tuple[bytes | memoryview | None, _Chunks]]) -> None:
    if future.exception() is None:
        future.result()[1].close()


def _resumed(first: bytes | memoryview | None, chunks: _Chunks) -> Iterator[bytes | memoryview]:
    try:
        if first is not None:
            yield first
        yield from chunks
    finally:
        chunks.close()
