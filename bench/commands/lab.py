"""The `lab` command's output: what a user needs to see and the DOCKER_HOST to use."""

from __future__ import annotations

import argparse
import time

from bench import manifest
from bench.errors import EXIT_OK
from bench.lab import control, wheelhouse
from bench.lab.control import LabState
from bench.lab.paths import LabPaths


def run(args: argparse.Namespace) -> int:
    paths = LabPaths.default()
    if args.lab_command == "up":
        started = time.perf_counter()
        loaded = manifest.load(args.manifest)
        state = control.up(paths, loaded.requirement_files, args.debian_mirror)
        _print_state(state)
        print(f"lab up took {time.perf_counter() - started:.1f} s")
    elif args.lab_command == "status":
        _print_state(control.status(paths))
    elif args.lab_command == "down":
        stopped = control.down(paths)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    elif args.lab_command == "wheels":
        fetched = wheelhouse.fill(paths.wheelhouse, args.requirements)
        print("downloaded: " + (", ".join(fetched) if fetched else "all wheels were there"))
    return EXIT_OK


def _print_state(state: LabState) -> None:
    print(f"mode:        {state.mode}")
    print(f"engine:      {state.docker_host}")
    print(f"registry:    {state.registry or '-'}")
    print(f"wheelhouse:  {state.wheelhouse_url or '-'}")
    if state.storage:
        print(f"storage:     {state.storage}")
    for reference, origin in state.bases:
        print(f"base:        {reference:22} {origin}")
    if state.mode == "lab":
        print(f"export DOCKER_HOST={state.docker_host}")
