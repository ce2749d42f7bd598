"""Markdown and CSV views of results files: deterministic, regenerated, never hand-edited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import storage
from bench.lab import basemap
from bench.models import SCENARIO_LABELS, Layer, RunResult, Sample, VariantResult
from bench.report import layers as report_layers
from bench.report import markup, paths
from bench.report.markup import Row
from bench.report.wheels import not_representative, wheels_section
from bench.stats import MIN_SAMPLES, UNSTABLE_CV, Summary, is_unstable, small_sample, summarize
from bench.units import format_bytes, format_percent, format_seconds

# Keys of `chart_paths`: a chart image is linked under the section of the same key.
CHART_SECTIONS = ("size", "groups", "timing", "saved", "rerun", "smoke", "context", "layers")
STANDIN_NOTE = (
    "Base images are the lab's stand-ins built from Debian packages, not Docker Hub's: "
    "sizes are indicative."
)
_LOG_LINES = 3

_Section = Callable[[list[Row], bool], str]


def render_markdown(
    runs: Sequence[RunResult],
    chart_paths: dict[str, str] | None = None,
    *,
    preface: str = "",
    command: str = "report",
) -> str:
    """reports/latest.md for these runs: every table, its definitions, and provenance;
    `preface` (a section) goes first, and `command` is the one named as the generator."""
    if not runs:
        raise ValueError("render_markdown needs at least one run")
    charts = dict(chart_paths or {})
    unknown = sorted(set(charts) - set(CHART_SECTIONS))
    if unknown:
        raise ValueError(f"unknown chart sections {unknown}; known: {CHART_SECTIONS}")
    rows = [(run, variant) for run in runs for variant in run.variants]
    with_run = len(runs) > 1
    sections: list[tuple[str, _Section]] = [
        ("size", _size_section),
        ("wheels", wheels_section),
        ("groups", report_layers.groups_section),
        ("timing", _timing_section),
        ("saved", _saved_section),
        ("rerun", _rerun_section),
        ("smoke", _smoke_section),
        ("context", _context_section),
        ("layers", report_layers.layers_section),
    ]
    parts = [_header(runs, command), preface, _variant_list(rows), _failure_details(rows, with_run)]
    for key, section in sections:
        parts.append(section(rows, with_run))
        if key in charts:
            parts.append(f"![{key} chart]({charts[key]})")
    parts.append(_provenance_section(runs))
    parts.append(_protocol_section())
    return "\n\n".join(part for part in parts if part) + "\n"


def write_csv(runs: Sequence[RunResult], path: Path) -> None:
    """samples.csv for these runs (see render_csv), written atomically."""
    storage.write_text_atomic(path, render_csv(runs))


def render_csv(runs: Sequence[RunResult]) -> str:
    """One row per sample: run_id, variant, scenario, repeat, ok, duration, re-run steps, error.

    rerun_steps counts as the report does: FROM and the ARGs before it are left out.
    """
    buffer = io.StringIO()
    # "\n" line ends and minimal quoting: the bytes pandas' to_csv wrote before.
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "run_id",
            "variant",
            "scenario",
            "repeat",
            "ok",
            "duration_seconds",
            "rerun_steps",
            "error",
        ]
    )
    writer.writerows(
        [
            run.run_id,
            sample.variant,
            sample.scenario,
            sample.repeat,
            sample.ok,
            # repr: the shortest text that reads back as the same float; empty when missing.
            "" if sample.duration_seconds is None else repr(float(sample.duration_seconds)),
            len(sample.rerun_steps),
            sample.error or "",
        ]
        for run in runs
        for variant in run.variants
        for sample in variant.samples
    )
    return buffer.getvalue()


# Cells ---------------------------------------------------------------------------------------


# (a) Image size ------------------------------------------------------------------------------


_ENGINE_SIZE_DEFINITION = (
    "engine reports",
    "the image's `Size` as the engine reports it: on the containerd image store that is the "
    "content it stores (compressed layers, manifests, configs), not the unpacked size, so it "
    "is shown apart and never compared",
)


def _size_section(rows: list[Row], with_run: bool) -> str:
    # The engine's own number gets a column where it differs in kind: the containerd store.
    engine_column = any(
        v.image is not None and v.image.engine_size_kind == "content" for _, v in rows
    )

    def cells(run: RunResult, variant: VariantResult) -> list[str]:
        return _size_cells(run, variant, engine_column)

    engine_header = ["engine reports"] if engine_column else []
    header = ["base image", "image size", *engine_header, "compressed", "layers"]
    table = markup.variant_table(rows, with_run, [*header, "largest layer", "smoke test"], cells)
    return markup.section(
        "Image size per base",
        "The image each variant's cold build produced, and whether that image runs.",
        table,
        _size_definitions(engine_column, any(not_representative(*row) for row in rows)),
    )


def _size_cells(run: RunResult, variant: VariantResult, engine_column: bool) -> list[str]:
    image = variant.image
    if image is None:
        return [markup.absent(variant)] * (7 if engine_column else 6)
    mapped = basemap.stand_in_for(image.base_image, dict(run.provenance.options))
    base = (
        f"`{image.base_image}`"
        + (f" (lab: `{mapped}`)" if mapped else "")  # --lab-base
        + (" (stand-in)" if image.base_is_standin else "")
        # Built on a glibc stand-in, while real Alpine would compile packages from source.
        + (" **not representative** (see Wheels)" if not_representative(run, variant) else "")
    )
    compressed = (
        "not measured" if image.compressed_bytes is None else format_bytes(image.compressed_bytes)
    )
    engine = (
        [_engine_size(image.engine_size_bytes, image.engine_size_kind)] if engine_column else []
    )
    return [
        base,
        format_bytes(image.size_bytes),
        *engine,
        compressed,
        str(image.layers_with_bytes),
        _largest_layer(image.layers),
        _smoke_summary(variant),
    ]


def _size_definitions(engine_column: bool, flagged: bool) -> str:
    return markup.definitions(
        (
            "variant",
            "the Dockerfile variant (listed above); `(failed)` when it did not "
            "build or its image does not run",
        ),
        (
            "base image",
            "the final stage's `FROM` image; `(stand-in)` when the lab built it"
            + (
                "; **not representative** when the stand-in is glibc while the real base is "
                "musl and a package there has no wheel (see Wheels for each base's platform)"
                if flagged
                else ""
            ),
        ),
        (
            "image size",
            "unpacked: the sum of the layers' contents, base layers included, as "
            "`docker images` shows it on an engine with a graph driver (overlay2); the "
            "same quantity on every engine, and the one every table and the size gate "
            "compare; decimal units (1 MB = 1,000,000 bytes)",
        ),
        *([_ENGINE_SIZE_DEFINITION] if engine_column else []),
        (
            "compressed",
            "the layers gzip-compressed, as a registry push would send them: "
            "roughly what a pull transfers",
        ),
        (
            "layers",
            "history entries that add bytes, the base image's included; "
            "metadata-only instructions (ENV, USER, CMD, ...) add none",
        ),
        ("largest layer", "the instruction that added the most bytes, and how many"),
        (
            "smoke test",
            "`ok` when the image passed its smoke check (what was checked: see Smoke test)",
        ),
    )


def _engine_size(size_bytes: int | None, kind: str) -> str:
    if size_bytes is None:
        return "not recorded"
    return f"{format_bytes(size_bytes)} ({'stored content' if kind == 'content' else 'unpacked'})"


def _largest_layer(layers: Sequence[Layer]) -> str:
    if not layers:
        return "not measured"
    largest = max(layers, key=lambda layer: layer.size_bytes)
    # `docker import` records no instruction: that is the base's root file system.
    what = (
        markup.code(largest.instruction, 40) if largest.instruction.strip() else "imported rootfs"
    )
    return f"{what} ({format_bytes(largest.size_bytes)})"


def _smoke_summary(variant: VariantResult) -> str:
    if variant.smoke is None:
        return markup.absent(variant)
    return "ok" if variant.smoke.ok else f"failed: {markup.short(variant.smoke.reason)}"


def _variant_list(rows: list[Row]) -> str:
    items: list[str] = []
    bases: list[str] = []  # what the listed Dockerfile paths are relative to
    seen: set[str] = set()
    for run in dict.fromkeys(run for run, _variant in rows):
        shown = paths.shown_dockerfiles(
            [variant.dockerfile for variant in run.variants], _manifest(run)
        )
        for variant, dockerfile in zip(run.variants, shown.dockerfiles, strict=True):
            if variant.name not in seen:
                seen.add(variant.name)
                bases.append(shown.relative_to)
                description = markup.recorded(variant.description)
                items.append(f"- **{variant.name}** (`{dockerfile}`): {description}")
    relative_to = " or ".join(dict.fromkeys(bases))
    return "\n".join([f"Variants (Dockerfiles relative to {relative_to}):", "", *items])


def _manifest(run: RunResult) -> str | None:
    """The manifest the run read, as its options recorded it (older results have none)."""
    return dict(run.provenance.options).get("manifest")


def _failure_details(rows: list[Row], with_run: bool) -> str:
    blocks = []
    for run, variant in rows:
        if variant.status == "ok":
            continue
        where = markup.where(run, variant, with_run)
        blocks.append(
            f"- **{where}** {variant.status}: {' '.join(markup.recorded(variant.reason).split())}"
        )
        tail = next((s.log_tail for s in variant.samples if s.log_tail), ())
        if tail:
            blocks.append(_log_block(f"{where}: last {_LOG_LINES} lines of the build log", tail))
    return "\n".join(["Failed or skipped variants:", "", *blocks]) if blocks else ""


def _log_block(summary: str, lines: Sequence[str]) -> str:
    text = "\n".join(lines[-_LOG_LINES:])
    fence = "````" if "```" in text else "```"
    # Indented to stay inside the list item above it.
    return (
        f"\n  <details><summary>{summary}</summary>\n\n  {fence}\n"
        + "\n".join(f"  {line}" for line in lines[-_LOG_LINES:])
        + f"\n  {fence}\n\n  </details>"
    )


# (b) Timing ----------------------------------------------------------------------------------


def _timing_section(rows: list[Row], with_run: bool) -> str:
    warnings: list[str] = []

    def cells(run: RunResult, variant: VariantResult) -> list[str]:
        result = []
        for scenario, column in SCENARIO_LABELS.items():
            cell, warning = _timing_cell(variant, scenario)
            result.append(cell)
            if warning:
                where = f"{markup.where(run, variant, with_run)}, {column}"
                warnings.append(f"- ⚠ {where}: {warning}")
        return result

    groups = markup.by_engine(rows)
    columns = list(SCENARIO_LABELS.values())
    # Build times depend on the machine and the engine: rows from two of them side by side
    # would read as a comparison the numbers cannot support. Sizes do not, and stay together.
    tables = (
        markup.variant_table(rows, with_run, columns, cells)
        if len(groups) == 1
        else "\n\n".join(
            f"{label}:\n\n{markup.variant_table(group, with_run, columns, cells)}"
            for label, group in groups
        )
    )
    within = (
        " Timings are compared only within one engine (one Docker host and engine version on "
        "one host): runs on different engines get a table each. Sizes may be compared across "
        "all runs."
        if with_run
        else ""
    )
    return markup.section(
        "First build vs rebuild after a code edit",
        "Wall-clock time of each scenario: the median of the repeats, with their range and "
        "spread. Only successful samples count; failed ones are listed in the cell." + within,
        tables,
        "\n".join(["Warnings:", "", *warnings]) if warnings else "",
        markup.definitions(
            (
                "pull",
                "pulling the base images before any build: network, not build work; "
                "measured once per run. `already present`: the engine had the base (e.g. pulled "
                "for an earlier variant), so this is only a check",
            ),
            ("cold build", "a build with the cache off (`nocache=True`), base image present"),
            (
                "edit rebuild",
                "a cached rebuild after the same one-line edit to an application source file",
            ),
            (
                "no-op rebuild",
                "a cached rebuild with nothing changed: the floor of a cached rebuild",
            ),
            (
                "cell",
                "median (minimum\N{EN DASH}maximum, CV = coefficient of variation = standard "
                "deviation / mean, n = successful samples)",
            ),
            (
                "⚠",
                f"the spread is large (CV ≥ {UNSTABLE_CV * 100:.0f} %) or there are fewer than "
                f"{MIN_SAMPLES} samples: treat the median with care",
            ),
        ),
    )


def _timing_cell(variant: VariantResult, scenario: str) -> tuple[str, str | None]:
    samples = [s for s in variant.samples if s.scenario == scenario]
    failed = [s for s in samples if not s.ok]
    summary = summarize(
        s.duration_seconds for s in samples if s.ok and s.duration_seconds is not None
    )
    if summary is None:
        if failed:
            return f"failed: {markup.short(failed[0].error, markup.SHORT_FAILURE_CHARS)}", None
        return markup.absent(variant), None
    extra = [f"{len(failed)} failed"] if failed else []
    if scenario == "pull":
        # Pulled once per run by design: a single sample is expected, not a warning.
        present = variant.pull is not None and variant.pull.was_present
        notes = extra + (["already present"] if present else [])
        cell = (
            _seconds_range(summary, notes)
            if summary.count > 1
            else (format_seconds(summary.median) + (f" ({', '.join(notes)})" if notes else ""))
        )
        return cell, None
    cell = _seconds_range(summary, extra)
    warning = _timing_warning(summary)
    return (f"{cell} ⚠", warning) if warning else (cell, None)


def _seconds_range(summary: Summary, notes: list[str]) -> str:
    if summary.count == 1:
        details = ["n=1", *notes]
    else:
        details = [f"{format_seconds(summary.minimum)}\N{EN DASH}{format_seconds(summary.maximum)}"]
        if summary.cv is not None:
            details.append(f"CV {format_percent(summary.cv)}")
        details += [f"n={summary.count}", *notes]
    return f"{format_seconds(summary.median)} ({', '.join(details)})"


def _timing_warning(summary: Summary) -> str | None:
    reasons = []
    if is_unstable(summary) and summary.cv is not None:
        reasons.append(
            f"spread is large (CV {format_percent(summary.cv)} ≥ "
            f"{UNSTABLE_CV * 100:.0f} %); the median may move on the next run"
        )
    if small_sample(summary):
        reasons.append(f"only {summary.count} sample(s), fewer than {MIN_SAMPLES}")
    return "; ".join(reasons) + "; more repeats or an idle machine help" if reasons else None


# (c) Size saved ------------------------------------------------------------------------------


def _saved_section(rows: list[Row], with_run: bool) -> str:
    sentences: list[str] = []

    def cells(run: RunResult, variant: VariantResult) -> list[str]:
        if variant.image is None:
            return [markup.absent(variant)] * 2
        size = format_bytes(variant.image.size_bytes)
        full = next((v for v in run.variants if v.name == "full"), None)
        if full is None:
            return [size, "n/a (no full variant)"]
        if full.image is None:
            return [size, "n/a (full variant did not build)"]
        if variant is full:
            return [size, "reference"]
        saved = 1 - variant.image.size_bytes / full.image.size_bytes
        sentences.append(
            _saved_sentence(
                markup.where(run, variant, with_run),
                saved,
                full.image.size_bytes,
                variant.image.size_bytes,
                variant,
            )
        )
        return [size, format_percent(saved) if saved >= 0 else f"{format_percent(-saved)} larger"]

    table = markup.variant_table(rows, with_run, ["image size", "saved vs full"], cells)
    return markup.section(
        "Size saved vs full",
        "Each variant's image size and how much smaller it is than the `full` variant's "
        "(same app, same dependencies).",
        table,
        "\n".join(sentences),
        markup.definitions(
            ("image size", "as in Image size per base (decimal units)"),
            (
                "saved vs full",
                "1 \N{MINUS SIGN} size / size of `full`, from the same run; "
                "`reference` marks `full` itself",
            ),
        ),
    )


def _saved_sentence(
    label: str, saved: float, full_bytes: int, size_bytes: int, variant: VariantResult
) -> str:
    change = (
        f"saved {format_percent(saved)}"
        if saved >= 0
        else f"is {format_percent(-saved)} larger than full"
    )
    sentence = f"- **{label}** {change} ({format_bytes(full_bytes)} → {format_bytes(size_bytes)})"
    if variant.smoke is not None and not variant.smoke.ok:
        # The point of the smoke test: the smallest image is no win if it does not run.
        sentence += ", but its image does not run (smoke test failed)"
    return sentence + "."


# (d) Steps re-run ----------------------------------------------------------------------------


def _rerun_section(rows: list[Row], with_run: bool) -> str:
    def cells(_run: RunResult, variant: VariantResult) -> list[str]:
        edits = [s for s in variant.samples if s.scenario == "edit"]
        sample = next((s for s in reversed(edits) if s.ok), None)
        if sample is None:
            why = (
                f"failed: {markup.short(edits[-1].error, markup.SHORT_FAILURE_CHARS)}"
                if edits
                else markup.absent(variant)
            )
            return [why] * 3
        if not sample.steps:
            return ["not measured (no step log)"] * 3
        return _rerun_cells(variant, sample)

    table = markup.variant_table(
        rows, with_run, ["steps re-run", "instructions re-run", "dependencies reinstalled"], cells
    )
    return markup.section(
        "Steps re-run after a code edit",
        "Which Dockerfile instructions the builder ran again, instead of taking them from "
        "the cache, after a one-line edit to the app code (the last successful edit rebuild).",
        table,
        markup.definitions(
            (
                "steps re-run",
                "instructions that were not cache hits, of all instructions; "
                "`FROM` lines (and `ARG`s before the first one) are left out: the classic "
                "builder never reports them as cache hits and they do no work in a rebuild",
            ),
            ("instructions re-run", "those instructions, in build order (long ones cut)"),
            (
                "dependencies reinstalled",
                "`yes` when a re-run step is a `RUN` that installs dependencies (pip, uv, "
                "poetry, pipenv, pdm or conda installing requirements, a lock file or named "
                "packages; npm, yarn, pnpm, bundle, `go mod download`, `cargo fetch`), not the "
                "project itself (`pip install .`, `-e .`), as the manifest's "
                "`[variant.dependency_steps]` corrects it: the rule the size gate applies "
                "too; the edit invalidated the dependency layer",
            ),
        ),
    )


def _rerun_cells(variant: VariantResult, sample: Sample) -> list[str]:
    rebuilt = sample.rerun_steps
    count = f"{len(rebuilt)} of {len(sample.counted_steps)}"
    listed = (
        "<br>".join(markup.code(step.instruction) for step in rebuilt)
        or "none (every step was a cache hit)"
    )
    reinstalled = variant.reinstalled_dependencies(sample)
    return [count, listed, "yes — dependencies reinstalled" if reinstalled else "no"]


# (e) Smoke test ------------------------------------------------------------------------------


def _smoke_section(rows: list[Row], with_run: bool) -> str:
    def cells(_run: RunResult, variant: VariantResult) -> list[str]:
        smoke = variant.smoke
        if smoke is None:
            return ["not run", markup.absent(variant), "not measured", "not measured"]
        ready = (
            format_seconds(smoke.ready_seconds)
            if smoke.ready_seconds is not None
            else "not measured (never healthy)"
        )
        memory = (
            format_bytes(smoke.memory_bytes) if smoke.memory_bytes is not None else "not measured"
        )
        if smoke.ok:
            return ["ok", markup.short(smoke.checked), ready, memory]
        return ["failed", markup.short(smoke.reason), ready, memory]

    table = markup.variant_table(
        rows, with_run, ["result", "reason", "ready after", "memory"], cells
    )
    logs = []
    for run, variant in rows:
        if variant.smoke is not None and not variant.smoke.ok and variant.smoke.log_tail:
            where = markup.where(run, variant, with_run)
            logs.append(f"- **{where}**: {markup.recorded(variant.smoke.reason)}")
            logs.append(
                _log_block(
                    f"{where}: last {_LOG_LINES} lines of the container log", variant.smoke.log_tail
                )
            )
    return markup.section(
        "Smoke test",
        "Every image that built was started with `--network none` and checked as its "
        "manifest's smoke section says (HTTP answers asked from outside the container, a "
        "command's exit code and output, or staying up), or, without one, as its image "
        "config suggests. An image that builds but does not run is a result, not a footnote.",
        table,
        "\n".join(logs),
        markup.definitions(
            ("result", "`ok`, `failed`, or `not run` when there was no image to start"),
            (
                "reason",
                "what was checked, or why it failed (the container's last log lines follow "
                "the table)",
            ),
            ("ready after", "from container start to the first healthy answer"),
            (
                "memory",
                "the container's memory use once healthy, as `docker stats` counts "
                "it (reclaimable page cache excluded); decimal units",
            ),
        ),
    )


# (f) Build context ---------------------------------------------------------------------------


def _context_section(rows: list[Row], with_run: bool) -> str:
    def cells(_run: RunResult, variant: VariantResult) -> list[str]:
        context = variant.context
        if context is None:
            return [markup.absent(variant)] * 4
        return [
            format_bytes(context.sent_bytes),
            str(context.sent_files),
            format_bytes(context.ignored_bytes),
            str(context.ignored_files),
        ]

    table = markup.variant_table(
        rows, with_run, ["sent", "files sent", "kept out", "files kept out"], cells
    )
    return markup.section(
        "Build context",
        "What the engine received as build context, and what `.dockerignore` kept out.",
        table,
        markup.definitions(
            ("sent", "bytes of the files sent to the engine with each build"),
            ("files sent", "how many files that is"),
            (
                "kept out",
                "bytes of the files in the context directory that `.dockerignore` excluded",
            ),
            ("files kept out", "how many files that is"),
        ),
    )


# (g) Provenance and (h) protocol -------------------------------------------------------------


def _provenance_fields(run: RunResult) -> list[tuple[str, str]]:
    p = run.provenance
    engine = p.engine
    bases = (
        "<br>".join(f"`{ref}` ({markup.recorded(kind)})" for ref, kind in p.bases)
        or "none recorded"
    )
    options = (
        "<br>".join(
            f"{key}={paths.file_name(value) if key == 'manifest' else markup.recorded(value)}"
            for key, value in p.options
        )
        or "none"
    )
    return [
        ("run id", run.run_id),
        ("started (UTC)", p.started_utc),
        ("finished (UTC)", run.finished_utc or "not finished (interrupted or still running)"),
        ("engine version", engine.server_version),
        ("API version", engine.api_version),
        ("image store", f"{engine.image_store} ({engine.storage_driver})"),
        ("builder", engine.builder),
        ("engine OS", engine.operating_system),
        ("engine CPUs", str(engine.cpus)),
        ("Docker host", engine.docker_host),
        ("lab mode", p.lab_mode),
        ("bases", bases),
        ("harness Python", p.python_version),
        ("host", p.host),
        ("host CPUs", str(p.cpu_count)),
        ("git SHA", p.git_sha),
        ("options", options),
    ]


def _provenance_section(runs: Sequence[RunResult]) -> str:
    fields = [_provenance_fields(run) for run in runs]
    header = ["field", *(["value"] if len(runs) == 1 else [run.run_id for run in runs])]
    body = [
        [name, *(paths.tilde_home(markup.recorded(run_fields[i][1])) for run_fields in fields)]
        for i, (name, _value) in enumerate(fields[0])
    ]
    standins = any(run.provenance.bases_are_standins for run in runs)
    return markup.section(
        "Provenance",
        "Where and how these numbers were made (a home directory in a path reads `~`).",
        f"**{STANDIN_NOTE}**" if standins else "",
        markup.pipe_table(header, body),
        markup.definitions(
            (
                "lab mode",
                "`lab`: the private offline engine with a registry mirror and a "
                "local wheelhouse; `online`: an engine that was reachable as it was",
            ),
            (
                "bases",
                "each base image and where it came from (`stand-in`: built by the lab "
                "from Debian packages; `registry`: pulled from a registry)",
            ),
            (
                "builder",
                "`classic`: the engine's classic builder, which the Docker SDK uses (no BuildKit)",
            ),
            (
                "git SHA",
                "the commit of the measured Dockerfiles; `-dirty` when they had "
                "uncommitted changes",
            ),
            (
                "options",
                "the run's settings; secret values are recorded as `***`; `manifest` is the "
                "variants file's name, and the Dockerfile paths under Variants are relative "
                "to its folder",
            ),
        ),
    )


def _protocol_section() -> str:
    return markup.section(
        "How the numbers were measured",
        "The definitions behind every table above.",
        markup.definitions(
            (
                "pull",
                "base images are pulled before any timed build; the pull time is "
                "network work and is reported apart from build time",
            ),
            ("cold", "a build with `nocache=True`, base image present; every cold sample is cold"),
            (
                "edit",
                "the build context is copied to a scratch directory and built once "
                "untimed (warm-up); then the same deterministic one-line edit is applied to an "
                "application source file and the image is rebuilt with the cache, timed; which "
                "steps ran and which were cache hits is recorded. The user's files are never "
                "modified",
            ),
            ("noop", "a rebuild with the cache and nothing changed: the floor of a cached rebuild"),
            (
                "timing",
                "`time.perf_counter()` around the build call only; every sample is "
                "kept; median, minimum, maximum and spread are reported, with a warning when the "
                "spread is large (CV ≥ 10 %) or there are fewer than 3 samples",
            ),
            (
                "size",
                "the image's unpacked size, the sum of its layers' contents (the engine's "
                "`Size` on a graph-driver engine, what `docker images` shows there; on the "
                "containerd image store, whose `Size` counts stored content, the layer "
                "analysis's sum), the compressed size (what a registry transfer costs) and "
                "per-layer sizes",
            ),
            (
                "smoke test",
                "every built image is started and given its variant's smoke check (an HTTP "
                "request, a command, or staying up), asked from outside the container: "
                "through its network namespace in the lab (`--network none`), through a "
                "port published on 127.0.0.1 on an engine with a bridge network",
            ),
            (
                "layers",
                "each variant's image is read once, after its cold builds, as `docker save` "
                "streams it (never stored): every layer's file headers give the layer table, "
                "dive's efficiency and wasted bytes, the size groups and the findings; the "
                "same pass gzips each layer (level 6, in 1 MiB blocks on two threads, within "
                "a few bytes per MiB of one gzip stream) for the compressed size",
            ),
        ),
    )


def _header(runs: Sequence[RunResult], command: str) -> str:
    names = ", ".join(f"{run.run_id}.json" for run in runs)
    lines = [
        f"<!-- generated by python -m bench {command} from {names}; do not edit -->",
        "",
        "# Dockerfile variants: size, build time, and whether the image runs",
        "",
        "Measured by dockerfile-bench in "
        + ("run " if len(runs) == 1 else f"{len(runs)} runs: ")
        + ", ".join(f"`{run.run_id}` (started {run.provenance.started_utc})" for run in runs)
        + ". Provenance and the measurement protocol are at the end.",
    ]
    if any(run.provenance.bases_are_standins for run in runs):
        lines += ["", f"> **{STANDIN_NOTE}**"]
    for run in runs:
        if not run.complete:
            lines += [
                "",
                f"> **Run `{run.run_id}` did not finish** (interrupted, or still "
                "running when this was written): what it had not measured yet is "
                "marked as such.",
            ]
    return "\n".join(lines)
