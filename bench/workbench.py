"""The real Workbench: the runner's Docker operations, bound to one engine and one run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from bench import labels
from bench.compressed import compressed_bytes
from bench.engine import Engine
from bench.models import BuildOutcome, ImageFacts, PullOutcome, SmokeResult
from bench.smoke import smoke_test


class DockerWorkbench:
    """Builds with our labels, build arguments and network; smoke tests with --network none."""

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        build_args: Mapping[str, str],
        network_mode: str | None,
        on_container: Callable[[str | None], None] | None = None,
    ) -> None:
        self._engine = engine
        self._run_labels = labels.for_run(run_id)
        self._build_args = dict(build_args)
        self._network_mode = network_mode
        self._on_container = on_container
        self._standin_cache: dict[str, bool] = {}

    def pull(self, reference: str) -> PullOutcome:
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
        return self._engine.build(
            context_dir,
            dockerfile,
            tag,
            nocache=nocache,
            buildargs=self._build_args,
            labels=self._run_labels,
            network_mode=self._network_mode,
            on_step=on_step,
        )

    def image_facts(self, reference: str) -> ImageFacts:
        return self._engine.image_facts(reference)

    def base_is_standin(self, reference: str) -> bool:
        if reference not in self._standin_cache:
            found = self._engine.image_labels(reference).get(labels.STANDIN) == "true"
            self._standin_cache[reference] = found
        return self._standin_cache[reference]

    def compressed_bytes(self, reference: str) -> int | None:
        return compressed_bytes(self._engine.save(reference))

    def smoke(self, reference: str) -> SmokeResult:
        return smoke_test(
            self._engine, reference, self._run_labels, on_container=self._on_container
        )
