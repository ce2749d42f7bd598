"""Command line: parse options, run one command, turn BenchError into one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import manifest as manifest_module
from bench.errors import EXIT_OK, BenchError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Build Dockerfile variants of one app and measure image size, cold build, "
        "cached rebuild after a code edit, and whether the image runs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lab = commands.add_parser("lab", help="the offline lab: private engine, registry, wheelhouse")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    lab_up = lab_commands.add_parser("up", help="use a reachable engine, or start a private lab")
    lab_up.add_argument("--manifest", type=Path, default=manifest_module.DEFAULT_MANIFEST,
                        help="variants.toml whose requirements fill the wheelhouse")
    lab_up.add_argument("--debian-mirror", metavar="URL",
                        help="Debian archive for debootstrap (default: from the host's apt)")
    lab_commands.add_parser("status", help="mode, engine, registry, wheelhouse, bases")
    lab_commands.add_parser("down", help="stop the processes the lab started")
    lab_wheels = lab_commands.add_parser("wheels", help="add wheels to the lab's wheelhouse")
    lab_wheels.add_argument("-r", "--requirement", type=Path, action="append", required=True,
                            dest="requirements", metavar="FILE")
    return parser


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
        from bench import commands_lab

        return commands_lab.run(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
