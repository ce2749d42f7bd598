"""Command line: parse options, run one command, turn BenchError into one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from bench import manifest as manifest_module
from bench.errors import BenchError
from bench.lab.paths import ENGINE_NAMES
from bench.models import SCENARIOS, SOURCE_CHOICES
from bench.report.notes_text.template import Language

if TYPE_CHECKING:
    # argparse's type for what add_subparsers returns (generic in typeshed only).
    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _engine_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--engine",
        action="append",
        choices=[*ENGINE_NAMES, "all"],
        dest="engines",
        metavar="{" + ",".join([*ENGINE_NAMES, "all"]) + "}",
        help=help_text,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Build Dockerfile variants (the sample app's, or any project's) and "
        "measure image size, cold build, cached rebuild after a code edit, and whether the "
        "image runs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_lab(commands)
    _add_init(commands)
    _add_run(commands)
    _add_smoke_report(commands)
    _add_notes(commands)
    _add_gate(commands)
    _add_layers(commands)
    _add_perf(commands)
    return parser


def _add_lab(commands: _Commands) -> None:
    """`lab up | status | down | wheels`."""
    lab = commands.add_parser("lab", help="the offline lab: private engine, registry, wheelhouse")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    lab_up = lab_commands.add_parser("up", help="use a reachable engine, or start a private lab")
    lab_up.add_argument(
        "--manifest",
        type=Path,
        default=manifest_module.DEFAULT_MANIFEST,
        help="variants.toml whose requirements fill the wheelhouse",
    )
    lab_up.add_argument(
        "--debian-mirror",
        metavar="URL",
        help="Debian archive for debootstrap (default: from the host's apt)",
    )
    _engine_argument(lab_up, "engine to bring up: 20.10 (the default), 26, or all; repeatable")
    lab_commands.add_parser("status", help="mode, engines, registry, wheelhouse, bases")
    lab_down = lab_commands.add_parser("down", help="stop the processes the lab started")
    _engine_argument(lab_down, "engine to stop: 20.10, 26, or all (the default); repeatable")
    lab_wheels = lab_commands.add_parser(
        "wheels",
        help="add wheels to the lab's wheelhouse (only for builds that pass PIP_NO_INDEX: "
        "any other pip in a stand-in base goes through the lab's PyPI proxy)",
    )
    lab_wheels.add_argument(
        "-r",
        "--requirement",
        type=Path,
        action="append",
        required=True,
        dest="requirements",
        metavar="FILE",
        help="a requirements file; a requirement without a wheel for one of the lab's "
        "Python versions is skipped with a warning",
    )


def _add_init(commands: _Commands) -> None:
    """`init [DIR]`: a commented variants.toml for the Dockerfiles under DIR."""
    init = commands.add_parser(
        "init", help="write DIR/variants.toml for the Dockerfiles found under DIR"
    )
    init.add_argument(
        "directory", nargs="?", type=Path, default=Path(), metavar="DIR", help="(default: .)"
    )
    init.add_argument("--force", action="store_true", help="replace an existing variants.toml")


def _add_run(commands: _Commands) -> None:
    """`run`: measure variants and write results and reports."""
    run = commands.add_parser("run", help="measure variants and write results and reports")
    _manifest_options(run)
    run.add_argument("--repeat", type=_positive, default=3, help="samples per scenario (3)")
    run.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        dest="scenarios",
        help="only these scenarios (repeatable; default: all)",
    )
    _engine_option(run, repeatable=True)
    run.add_argument("--network", help="network mode for builds (lab default: host)")
    run.add_argument("--pip-index-url", metavar="URL", help="package index for pip in builds")
    wheels = run.add_mutually_exclusive_group()
    wheels.add_argument(
        "--wheel-index",
        metavar="URL",
        help="package index the wheel check asks whether each requirement has a wheel for "
        "the base's Python and libc (default: --pip-index-url, else the lab's PyPI proxy in "
        "the lab, else https://pypi.org/simple/)",
    )
    wheels.add_argument(
        "--no-wheel-check",
        action="store_true",
        help="do not ask the package index about wheels (nothing is recorded)",
    )
    run.add_argument(
        "--lab-base",
        action="append",
        default=[],
        dest="lab_bases",
        metavar="NAME=STAND-IN",
        help="in the lab, build a base it lacks from one of its stand-ins, e.g. "
        "python:3.12-slim=python:3.11-slim (repeatable; recorded, and shown in reports)",
    )
    run.add_argument(
        "--build-arg",
        action="append",
        default=[],
        dest="build_args",
        metavar="NAME=VALUE",
        help="a build argument for every variant "
        "(values of secret-looking names are never recorded)",
    )
    run.add_argument(
        "--smoke-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long an image may take to answer /health (60)",
    )
    run.add_argument(
        "--builder",
        choices=("sdk", "buildkit", "both"),
        default="sdk",
        help="sdk: the engine's classic builder via the Docker SDK (default); "
        "buildkit: BuildKit via the docker CLI; both: one run each",
    )
    run.add_argument(
        "--buildx-builder",
        metavar="NAME",
        help="with --builder buildkit: build with this existing buildx builder (`docker buildx "
        "ls`), e.g. a remote BuildKit; its images are loaded into the engine (--load)",
    )
    run.add_argument(
        "--python",
        metavar="VERSIONS",
        help="Python versions as the PYTHON_VERSION build argument, e.g. 3.11,3.13 "
        "(default: each Dockerfile's own)",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="measure only part K of N of the work units (variant, Python version, builder), "
        "split the same way on every machine; recorded in the results",
    )
    run.add_argument(
        "--keep-images",
        action="store_true",
        help="keep each variant's measured image (superseded builds still go)",
    )
    _add_source(run)
    run.add_argument(
        "--no-compressed",
        action="store_true",
        help="skip the compressed size (saves a gzip pass over every image)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=Path("reports/results"),
        help="directory for the results JSON (reports/results)",
    )
    run.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where latest.md and samples.csv are written (reports)",
    )
    run.add_argument(
        "--no-report",
        action="store_true",
        help="write only the results JSON, not latest.md and samples.csv",
    )


def _add_smoke_report(commands: _Commands) -> None:
    """`smoke` (build once and smoke-test) and `report` (regenerate the views)."""
    smoke = commands.add_parser("smoke", help="build variants once and smoke-test them")
    _manifest_options(smoke)
    _engine_option(smoke)
    smoke.add_argument(
        "--out",
        type=Path,
        default=Path("reports/results/smoke"),
        help="directory for the results JSON (reports/results/smoke)",
    )

    report = commands.add_parser("report", help="regenerate the markdown from results files")
    report.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="results files (default: the newest in reports/results)",
    )
    report.add_argument("--report-dir", type=Path, default=Path("reports"))
    report.add_argument(
        "--engines",
        action="store_true",
        help="write engines.md: the results' setups (engine, image store, builder) side by side",
    )

    merge = commands.add_parser(
        "merge",
        help="one report from several results files (shards, engines): coverage first",
    )
    merge.add_argument("results", nargs="+", type=Path, help="results files to merge")
    merge.add_argument(
        "--out",
        type=Path,
        default=Path("reports/merged.md"),
        help="the merged report (reports/merged.md); its CSV and charts go beside it",
    )


def _add_notes(commands: _Commands) -> None:
    """`notes` (the study notes' tables, filled) and `diff A B` (two variants' images)."""
    notes = commands.add_parser(
        "notes", help="the study notes' tables (size, build time, savings, dive), filled"
    )
    notes.add_argument(
        "results",
        nargs="*",
        type=Path,
        help="results files (default: the newest in reports/results)",
    )
    notes.add_argument(
        "--lang", choices=get_args(Language), default="en", help="language of the notes (en)"
    )
    notes.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")

    diff = commands.add_parser(
        "diff", help="what changed between two variants' images: by kind, by package"
    )
    diff.add_argument("before", metavar="A", help="variant compared from")
    diff.add_argument("after", metavar="B", help="variant compared to")
    diff.add_argument(
        "--results",
        type=Path,
        metavar="FILE",
        help="results file (default: the newest in reports/results)",
    )


def _add_gate(commands: _Commands) -> None:
    """`baseline update` and `check`: the size gate."""
    baseline = commands.add_parser("baseline", help="the committed size baseline")
    baseline_commands = baseline.add_subparsers(
        dest="baseline_command", required=True, metavar="ACTION"
    )
    update = baseline_commands.add_parser("update", help="write the baseline from results")
    update.add_argument(
        "results",
        nargs="?",
        type=Path,
        help="results file (default: the newest in reports/results)",
    )
    update.add_argument(
        "--baseline",
        type=Path,
        help="baseline file (default: reports/baseline.json for the lab's "
        "stand-in bases, reports/baseline-online.json otherwise)",
    )

    check = commands.add_parser("check", help="fail when an image grew past the baseline")
    check.add_argument(
        "results",
        nargs="?",
        type=Path,
        help="results file (default: the newest in reports/results)",
    )
    check.add_argument("--baseline", type=Path, help="baseline file (default: chosen by mode)")
    check.add_argument(
        "--manifest",
        type=Path,
        default=manifest_module.DEFAULT_MANIFEST,
        help="variants.toml with the size budgets and rules",
    )
    check.add_argument(
        "--tolerance",
        type=float,
        default=5.0,
        metavar="PERCENT",
        help="growth allowed, in %% of the baseline size (5)",
    )
    check.add_argument(
        "--tolerance-min",
        default="5 MB",
        metavar="SIZE",
        help="growth always allowed, whatever the percentage (5 MB)",
    )
    check.add_argument(
        "--max-new-layers",
        type=int,
        default=2,
        metavar="N",
        help="layers a variant may gain over its baseline (2)",
    )
    check.add_argument(
        "--markdown", type=Path, metavar="FILE", help="also write the markdown summary here"
    )


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=SOURCE_CHOICES,
        default="auto",
        help="where the layer analysis reads layers: the engine's storage directories (fast, "
        "needs a local engine whose files this user can read), docker save, or auto: the "
        "storage when readable (default)",
    )


def _add_layers(commands: _Commands) -> None:
    """`layers IMAGE`: what every layer holds, like dive."""
    layers = commands.add_parser("layers", help="what every layer of an image holds, like dive")
    layers.add_argument("image", metavar="IMAGE")
    layers.add_argument("--json", action="store_true", help="the analysis as JSON")
    layers.add_argument("--base", metavar="IMAGE", help="its base image (default: guessed)")
    layers.add_argument("--app-dir", metavar="PATH", help="the app's directory (its WORKDIR)")
    _add_source(layers)
    layers.add_argument(
        "--compressed", action="store_true", help="also gzip each layer (slower: ~25 MB/s a core)"
    )
    layers.add_argument(
        "--compare-dive", action="store_true", help="time it against `dive IMAGE --ci`"
    )
    layers.add_argument("--repeat", type=_positive, default=3, help="with --compare-dive (3)")


def _add_perf(commands: _Commands) -> None:
    """`perf`: the harness against `docker build` and dive, side by side."""
    perf = commands.add_parser("perf", help="our build call against `docker build`, side by side")
    perf.add_argument("--variant", default="slim", help="variant to build (slim)")
    perf.add_argument("--manifest", type=Path, default=manifest_module.DEFAULT_MANIFEST)
    perf.add_argument("--repeat", type=_positive, default=5, help="pairs per scenario (5)")
    perf.add_argument(
        "--out",
        type=Path,
        default=Path("reports/perf.json"),
        help="JSON output; the markdown goes next to it (reports/perf.md)",
    )
    perf.add_argument(
        "--layers-variant",
        default="full",
        help="variant whose image our layer analysis and dive both read (full; '' skips)",
    )
    perf.add_argument(
        "--layers-repeat",
        type=_positive,
        default=9,
        help="samples of each layer-analysis contender (9): the engine's export is noisy",
    )
    perf.add_argument(
        "--sources-repeat",
        type=_positive,
        default=5,
        help="samples of ours from storage, ours through docker save and dive (5); 0 skips",
    )
    perf.add_argument(
        "--large-files",
        type=int,
        default=200_000,
        help="files in the generated large image for the layer sources (200000; 0 skips it)",
    )
    perf.add_argument(
        "--large-bytes",
        type=int,
        default=5_000_000_000,
        help="bytes in the generated large image (5000000000)",
    )
    perf.add_argument(
        "--sources-only",
        action="store_true",
        help="measure only the layer sources; the other sections come from the JSON at --out",
    )
    perf.add_argument(
        "--overhead-run-args",
        default="",
        metavar="ARGS",
        help="arguments of the `bench run` timed for the overhead (default: a whole run)",
    )
    perf.add_argument(
        "--overhead-from",
        type=Path,
        metavar="RESULTS",
        help="take the overhead from this results file instead of timing a run",
    )
    perf.add_argument(
        "--skip-overhead", action="store_true", help="do not time a whole `bench run`"
    )
    perf.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: regenerate the markdown from the JSON at --out",
    )


def _engine_option(parser: argparse.ArgumentParser, *, repeatable: bool = False) -> None:
    names = ", ".join(ENGINE_NAMES)
    parser.add_argument(
        "--engine",
        action="append" if repeatable else "store",
        dest="engines" if repeatable else "engine",
        metavar="ENGINE",
        help=f"build on this engine: a lab engine ({names}; `lab up --engine NAME` starts it) "
        "or a Docker host address (unix://, tcp://, ssh://user@host); default: DOCKER_HOST, "
        "else the lab's 20.10 engine, else Docker's default"
        + (
            "; repeatable: each engine measures the same variants, one engine after another"
            if repeatable
            else ""
        ),
    )


def _manifest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "variants", nargs="*", metavar="VARIANT", help="variants to measure (default: all)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        dest="variant_options",
        metavar="NAME",
        help="same as a positional VARIANT",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="variants.toml to read (default: this repo's variants)",
    )
    parser.add_argument(
        "--dockerfile",
        type=Path,
        action="append",
        default=[],
        dest="dockerfiles",
        metavar="PATH",
        help="measure this Dockerfile without a manifest (repeatable; guessed settings, "
        "smoke check derived from the image)",
    )
    parser.add_argument(
        "--context",
        type=Path,
        action="append",
        default=[],
        dest="contexts",
        metavar="DIR",
        help="build context of the --dockerfile in the same position (default: its folder)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BenchError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "lab":
        from bench.commands import lab as commands_lab

        return commands_lab.run(args)
    if args.command == "init":
        from bench.commands import init as commands_init

        return commands_init.run(args)
    if args.command == "layers":
        from bench.commands import layers as commands_layers

        return commands_layers.run(args)
    if args.command == "perf":
        from bench.commands import perf as perf_command

        return perf_command.run(args)
    if args.command in ("check", "baseline"):
        from bench.commands import check as commands_check

        return (
            commands_check.check(args)
            if args.command == "check"
            else (commands_check.update_baseline(args))
        )
    if args.command in ("notes", "diff"):
        from bench.commands import notes as commands_notes

        return commands_notes.notes(args) if args.command == "notes" else commands_notes.diff(args)
    if args.command in ("run", "smoke", "report", "merge"):
        from bench.commands import run as commands_run

        handler = {
            "run": commands_run.run,
            "smoke": commands_run.smoke,
            "report": commands_run.report_command,
            "merge": commands_run.merge_command,
        }[args.command]
        return handler(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
