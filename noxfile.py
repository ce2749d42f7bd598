"""Sessions: tests (every test, lab brought up when needed), lab, bench, check, lint, faults."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
APP_REQUIREMENTS = "variants/app/requirements.txt"


def _install(session: nox.Session, *groups: str) -> None:
    # With the `lab` extra: `lab up` starts the PyPI caching proxy from this environment.
    session.install("-e", ".[lab]")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


def _lab_up(session: nox.Session, *engines: str) -> None:
    # Uses a reachable engine as it is (online mode) or starts the private lab.
    session.run("python", "-m", "bench", "lab", "up", *(f"--engine={name}" for name in engines))


def _in_the_lab(session: nox.Session) -> bool:
    """True when `lab up` started the private lab; False when it found an online engine."""
    lab_host = session.run(
        "python",
        "-c",
        "from bench.lab import control; print(control.lab_docker_host() or '')",
        silent=True,
    )
    return bool(lab_host and lab_host.strip())


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, the sample app's tests, and the docker-marked tests against every lab
    engine: Engine 20.10 (overlay2, classic builder) and Engine 26 (containerd image store)."""
    _install(session, "test")
    session.install("-r", APP_REQUIREMENTS)
    _lab_up(session)
    # In the lab the docker tests run on both lab engines; online, once, on the user's engine.
    both = _in_the_lab(session)
    # The slowest tests, named in CI's log: where its time goes (the budget is 30 minutes).
    session.run("pytest", "--durations=10", *session.posargs)
    if both and not session.posargs:
        # The docker tests again, on the containerd store; those that make sense on one
        # engine only are deselected by their lab_engines marker, and listed. The fault
        # suite (the harness's own error handling, the same code on any engine) runs once,
        # above, to keep CI within its time. Engine 26 is brought up here, after the lab
        # tests, which stop and restart the lab.
        _lab_up(session, "26")
        session.run(
            "pytest",
            "--durations=10",
            "-m",
            "docker",
            "tests/docker",
            env={"BENCH_TEST_ENGINE": "26"},
        )


@nox.session
def faults(session: nox.Session) -> None:
    """The fault and bad-input suite alone (`nox -s tests` runs it too)."""
    _install(session, "test")
    _lab_up(session)
    session.run("pytest", "tests/faults", *session.posargs)


@nox.session
def lab(session: nox.Session) -> None:
    """Bring up the offline lab (or find a usable engine): `python -m bench lab up`."""
    _install(session)
    session.run("python", "-m", "bench", "lab", "up", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure every variant and regenerate reports/latest.md and the study notes
    (reports/notes.md, reports/notes.ko.md) from the new results."""
    _install(session)
    _lab_up(session)
    session.run("python", "-m", "bench", "run", *session.posargs)
    # The notes read the newest results file, the one this run just wrote.
    for language, name in (("en", "notes.md"), ("ko", "notes.ko.md")):
        session.run(
            "python", "-m", "bench", "notes", "--lang", language, "--out", f"reports/{name}"
        )


@nox.session
def check(session: nox.Session) -> None:
    """The CI size gate: build every variant once, compare with the committed baseline."""
    _install(session)
    _lab_up(session)
    out = "reports/results/check"
    session.run("rm", "-rf", out, external=True)
    # One cold build per variant, and one edit sample for the cache-regression rule.
    session.run(
        "python",
        "-m",
        "bench",
        "run",
        "--repeat",
        "1",
        "--scenario",
        "pull",
        "--scenario",
        "cold",
        "--scenario",
        "edit",
        "--out",
        out,
        "--no-report",
        success_codes=[0, 1],
    )
    (results,) = sorted(Path(out).glob("*.json"))[-1:]
    session.run(
        "python",
        "-m",
        "bench",
        "check",
        str(results),
        *session.posargs,
        "--markdown",
        f"{out}/summary.md",
    )


@nox.session
def perf(session: nox.Session) -> None:
    """The harness against `docker build`, side by side: writes reports/perf.md."""
    _install(session)
    _lab_up(session)
    session.run("python", "-m", "bench", "perf", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, hadolint on the variant Dockerfiles, and the GitHub workflows
    against GitHub's workflow schema (check-jsonschema) and zizmor's safety audits."""
    _install(session, "lint", "test")
    session.run("ruff", "check", "bench", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "bench", "tests", "noxfile.py")
    session.run("mypy")
    session.run(
        "hadolint",
        "--config",
        "variants/.hadolint.yaml",
        "variants/full/Dockerfile",
        "variants/slim/Dockerfile",
        "variants/alpine/Dockerfile",
        "variants/multistage/Dockerfile",
        "variants/naive/Dockerfile",
    )
    workflows = sorted(str(path) for path in Path(".github/workflows").glob("*.y*ml"))
    # Both offline: the schema is bundled with check-jsonschema, and zizmor --offline skips
    # the audits that ask GitHub's API. zizmor fails on any finding, informational ones too.
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("zizmor", "--offline", *workflows)
