"""The study notes in English."""

from __future__ import annotations

from bench.report.notes_text.template import NotesText

TEXT = NotesText(
    title="# Study notes: the tables, filled from measurements",
    intro=(
        "The tables of the Docker study notes, with the numbers measured by dockerfile-bench "
        "and one or two sentences on why. `reports/latest.md` has every detail."
    ),
    not_measured="not measured",
    failed="failed: {reason}",
    skipped="skipped: {reason}",
    percent="{value}%",
    source=(
        "Source: run `{run_id}` ({date}), Docker Engine {engine}, image store {store} "
        "({driver}), {bases}"
    ),
    bases_standin=(
        "the lab's stand-in base images (built from Debian packages, not Docker Hub's: "
        "sizes are indicative)"
    ),
    bases_registry="base images pulled from a registry",
    source_sizes=(
        "{source}; one image per variant, from its cold build (a size does not vary between "
        "builds, n=1); 1 MB = 1,000,000 bytes."
    ),
    source_times=(
        "{source}; medians of n={n} builds per cell, spread (coefficient of variation) up to {cv}."
    ),
    source_times_none="{source}; no build was timed.",
    source_diff=(
        "{source}; each image's layer analysis (read from `docker save`); "
        "`python -m bench diff {a} {b}` prints the whole comparison."
    ),
    source_dive=(
        "{source}; each image's layer analysis (read from `docker save`), counted as dive "
        "counts; `python -m bench layers IMAGE` shows every layer."
    ),
    size_heading="### Image size by base image",
    size_header=("Base image", "Size", "Compressed (what a pull transfers)"),
    multistage_label="multi-stage ({base})",
    size_sentence=(
        "The smallest image is {smallest} at {size}, {saved} less than {largest} "
        "({largest_size}); a pull transfers {compressed} of it, compressed."
    ),
    size_why=(
        "The gap is the base image itself: its layers take {largest_base} in {largest} and "
        "{smallest_base} in {smallest}, while what the Dockerfile adds on top (packages, "
        "bytecode, the app) is {top_min} to {top_max} in every image."
    ),
    size_single="Only {label} was measured ({size}): there is nothing to compare it with.",
    size_none="No image was built, so there is nothing to compare.",
    alpine_standin=(
        "The {label} row is the lab's stand-in: Alpine-sized but built on glibc, not musl, so pip "
        "installed the same manylinux wheels as on Debian. On real Alpine pip needs musllinux "
        "wheels and compiles any package that has none; this run did not check which (no wheel "
        "check in its results), so the row may not represent real Alpine."
    ),
    alpine_not_representative=(
        "The {label} row is the lab's stand-in: Alpine-sized but built on glibc, not musl, so "
        "pip installed manylinux wheels and compiled nothing. Real Alpine would compile the "
        "packages above from source, so this row's size and build time are **not "
        "representative** of real Alpine."
    ),
    alpine_standin_all_wheels=(
        "The {label} row is the lab's stand-in (glibc, not musl); every package has a "
        "musllinux wheel, so real Alpine installs wheels too, though not the same files."
    ),
    not_representative_mark=" (not representative of real Alpine)",
    wheels_missing_one=(
        "On {label} ({libc}), {count} of {total} packages has no wheel: {packages} will be "
        "compiled from source."
    ),
    wheels_missing=(
        "On {label} ({libc}), {count} of {total} packages have no wheel: {packages} will be "
        "compiled from source."
    ),
    wheels_not_installable=(
        "The index the check asked has nothing installable (no wheel, no sdist) for {packages}."
    ),
    wheels_all_musl=(
        "On {label} (musl), all {total} packages have a musllinux wheel: nothing is compiled."
    ),
    time_heading="### Build time",
    time_situation="Situation",
    time_header="Time: {variant}",
    time_good_header="Time: {variant} (good layer order)",
    time_naive_header="Time: {variant} (an edit reinstalls dependencies)",
    time_rows=("First build", "Rebuild after a code edit (cache used)"),
    time_cell="{median} (median, n={n}, {minimum}\N{EN DASH}{maximum})",
    time_cell_single="{median} (n=1)",
    time_good_sentence=(
        "With {variant}, the rebuild after a code edit took {edit}, {ratio} of its first build "
        "({cold}): only {rerun} of {steps} steps ran again, and the dependency layer came from "
        "the cache."
    ),
    time_naive_sentence=(
        "With {variant}, the same edit took {edit}, {ratio} of its first build ({cold}): "
        "`{busted}` copies the edited file before `{reinstall}`, so the edit invalidated that "
        "layer's cache and every dependency was installed again."
    ),
    time_no_naive=(
        "No variant's code edit reinstalled dependencies in this run, so there is no naive "
        "column to compare with."
    ),
    time_no_good="Every variant's code edit reinstalled its dependencies in this run.",
    time_incomplete="{variant}: the first build or the rebuild was not measured, so no ratio.",
    savings_heading="### Multi-stage build: image size cut by XX%",
    savings_headline="**Image size cut by {saved}**: {label} vs {reference}",
    savings_headline_larger="**Image size not cut, {larger}**: {label} vs {reference}",
    savings_none="No multi-stage variant was measured in this run: there is no XX% to fill.",
    savings_header=("Comparison", "Before", "After", "Saved"),
    savings_larger="{percent} larger",
    savings_vs_same_larger=(
        "Against {same}, which ships on the same final base image, {label} is {delta} larger, "
        "not smaller: both ship the same base layers ({base}), so multi-stage had no build "
        "tools to leave behind, and the layer analysis finds more of these: {changes}."
    ),
    savings_vs_same_smaller=(
        "Against {same}, which ships on the same final base image, {label} is {delta} "
        "smaller; the largest changes: {changes}."
    ),
    savings_only_in="Only {label} has {packages} installed.",
    diff_header=("Group", "Change"),
    package_label="{name} (package)",
    group_names={
        "base": "base image",
        "runtime": "Python runtime",
        "package": "packages",
        "pip-cache": "pip cache",
        "apt": "apt cache and lists",
        "bytecode": "bytecode (.pyc)",
        "tests-docs": "tests and docs in packages",
        "app": "the app",
        "other": "other files",
    },
    list_separator=", ",
    dive_heading="### What dive would show: size per layer, wasted bytes, biggest packages",
    dive_header=(
        "Image",
        "Largest layer the Dockerfile adds",
        "Wasted bytes (efficiency)",
        "Biggest packages",
    ),
    dive_no_layer="none (only the base's layers)",
    dive_wasted="{wasted} ({efficiency})",
    dive_small=(
        "dive would show at most {wasted} of wasted bytes (in {label}), under {threshold} of every "
        "image: "
        "the layers hardly duplicate or delete files, so there is little to win there."
    ),
    dive_large=(
        "dive would show {wasted} of wasted bytes in {label}: files that one layer adds and a "
        "later one replaces or deletes; remove them in the layer that adds them."
    ),
    dive_remove=(
        "Unneeded files worth removing in {label}: {bytecode} of bytecode (.pyc) and {tests} "
        "of tests and docs inside packages."
    ),
)
