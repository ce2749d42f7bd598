"""The `lab` command's output: what a user needs to see and the DOCKER_HOST to use."""

from __future__ import annotations

import argparse
import time

from bench import manifest
from bench.errors import EXIT_OK
from bench.lab import control, wheelhouse
from bench.lab.control import LabState
from bench.lab.paths import ENGINE_NAMES, LabPaths


def run(args: argparse.Namespace) -> int:
    paths = LabPaths.default()
    if args.lab_command == "up":
        started = time.perf_counter()
        loaded = manifest.load(args.manifest)
        engines = control.engine_names(args.engines or ())
        state = control.up(paths, loaded.requirement_files, args.debian_mirror, engines=engines)
        _print_state(state)
        print(f"lab up took {time.perf_counter() - started:.1f} s")
    elif args.lab_command == "status":
        _print_state(control.status(paths))
    elif args.lab_command == "down":
        report = control.down(paths, control.engine_names(args.engines or ENGINE_NAMES))
        print(
            "stopped: " + (", ".join(report.stopped) if report.stopped else "nothing was running")
        )
        if report.unmounted:
            print("unmounted: " + ", ".join(report.unmounted))
        if report.kept:
            print("kept: " + ", ".join(report.kept))
        if report.removed:
            print("removed: " + ", ".join(report.removed))
    elif args.lab_command == "wheels":
        fetched = wheelhouse.fill(paths.wheelhouse, args.requirements, tolerant=True)
        print("downloaded: " + (", ".join(fetched) if fetched else "all wheels were there"))
    return EXIT_OK


def _print_state(state: LabState) -> None:
    print(f"mode:        {state.mode}")
    print(f"engine:      {state.docker_host}")
    print(f"registry:    {state.registry or '-'}")
    print(f"wheelhouse:  {state.wheelhouse_url or '-'}")
    upstream = f" (upstream: {state.pypi_upstream})" if state.pypi_upstream else ""
    print(f"pypi proxy:  {state.pypi_proxy or '-'}{upstream}")
    if state.storage:
        print(f"storage:     {state.storage}")
    for reference, origin in state.bases:
        print(f"base:        {reference:22} {origin}")
    for engine in state.engines:
        print(f"engine {engine.name}:")
        print(f"  version:         {engine.version} (API {engine.api_version})")
        print(f"  image store:     {engine.image_store}")
        print(f"  default builder: {engine.default_builder}")
        print(f"  socket:          {engine.docker_host}")
    if state.mode == "lab":
        print(f"export DOCKER_HOST={state.docker_host}")
    for engine in state.engines:
        if engine.docker_host != state.docker_host:
            print(f"# engine {engine.name}: export DOCKER_HOST={engine.docker_host}")
