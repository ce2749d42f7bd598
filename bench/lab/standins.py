"""Stand-in base images, built from Debian packages and pushed under their real names."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.engine import labels
from bench.engine.client import Engine
from bench.errors import BenchError
from bench.lab.paths import REGISTRY_ADDRESS
from bench.lab.rootfs import rootfs_tarball

STANDIN_DIR = Path(__file__).parent / "standins"


@dataclass(frozen=True)
class StandIn:
    """One base image: how to build it, and what it is made of (for reports)."""

    reference: str
    dockerfile: str
    source: str
    base: str | None = None
    suite: str | None = None
    slim: bool = False

    @property
    def repository(self) -> str:
        name, _, _ = self.reference.partition(":")
        return name if "/" in name else f"library/{name}"

    @property
    def tag(self) -> str:
        return self.reference.partition(":")[2]

    @property
    def registry_reference(self) -> str:
        return f"{REGISTRY_ADDRESS}/{self.repository}:{self.tag}"


# In build order: each one's base comes earlier in the list.
STANDINS: tuple[StandIn, ...] = (
    StandIn(
        "debian:bookworm", "debian.Dockerfile", "debootstrap minbase bookworm", suite="bookworm"
    ),
    StandIn(
        "debian:bookworm-slim",
        "debian.Dockerfile",
        "debootstrap minbase bookworm, without docs, man pages and locales",
        suite="bookworm",
        slim=True,
    ),
    StandIn(
        "debian:trixie-slim",
        "debian.Dockerfile",
        "debootstrap minbase trixie, without docs, man pages and locales",
        suite="trixie",
        slim=True,
    ),
    StandIn(
        "python:3.11",
        "python-full.Dockerfile",
        "debian:bookworm + Debian python3 3.11, pip, venv, build-essential, headers, git; "
        "pip.conf: the lab PyPI proxy",
        base="debian:bookworm",
    ),
    StandIn(
        "python:3.11-slim",
        "python-slim.Dockerfile",
        "debian:bookworm-slim + Debian python3 3.11, pip, venv, C headers; "
        "pip.conf: the lab PyPI proxy",
        base="debian:bookworm-slim",
    ),
    StandIn(
        "python:3.11-alpine",
        "python-alpine.Dockerfile",
        "FROM scratch: busybox-static + Debian python3 3.11, pip, libstdc++, libgomp (glibc); "
        "pip.conf: the lab PyPI proxy",
        base="debian:bookworm-slim",
    ),
    StandIn(
        "python:3.13-slim",
        "python-slim.Dockerfile",
        "debian:trixie-slim + Debian python3 3.13, pip, venv, C headers; "
        "pip.conf: the lab PyPI proxy",
        base="debian:trixie-slim",
    ),
)

# What `--lab-base NAME=STAND-IN` may name, and what a missing base's message lists.
REFERENCES: tuple[str, ...] = tuple(standin.reference for standin in STANDINS)


def recipe_digest(standin: StandIn) -> str:
    """Everything the stand-in is made from; a change here rebuilds it and what builds on it."""
    digest = hashlib.sha256(repr(standin).encode())
    digest.update((STANDIN_DIR / standin.dockerfile).read_bytes())
    if "alpine" in standin.dockerfile:
        digest.update((STANDIN_DIR / "alpine-gather.sh").read_bytes())
    if standin.dockerfile.startswith("python"):
        digest.update((STANDIN_DIR / "pip.conf").read_bytes())
    if standin.suite is not None:
        digest.update(_ROOTFS_RECIPE_VERSION.encode())
    base = next((s for s in STANDINS if s.reference == standin.base), None)
    if base is not None:
        digest.update(recipe_digest(base).encode())
    return digest.hexdigest()[:16]


# Bump when bench.lab.rootfs changes what goes into a root filesystem tarball.
_ROOTFS_RECIPE_VERSION = "1"


def in_registry(standin: StandIn) -> bool:
    request = urllib.request.Request(
        f"http://{REGISTRY_ADDRESS}/v2/{standin.repository}/manifests/{standin.tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return False
    except OSError as error:
        raise BenchError(
            f"the lab registry at {REGISTRY_ADDRESS} does not answer: {error}"
        ) from error


def lab_registry_serves(reference: str) -> bool:
    """Whether the lab can pull `reference` without the engine falling back to Docker Hub.

    A miss in the mirror makes the engine try Docker Hub, which starts with a DNS lookup
    through the host's resolver: in the lab that traffic must never be sent.
    """
    first, _, rest = reference.partition("/")
    if rest and first == REGISTRY_ADDRESS:
        return True  # addressed to the lab registry itself: no fallback
    if rest and ("." in first or ":" in first or first == "localhost"):
        return False  # another registry: unreachable from the lab
    name, _, tag = reference.rpartition(":") if ":" in reference else (reference, "", "latest")
    repository = name if "/" in name else f"library/{name}"
    return in_registry(StandIn(f"{repository}:{tag}", "", ""))


def ensure(engine: Engine, cache_dir: Path, mirror: str) -> dict[str, str]:
    """Every stand-in present in the engine and in the registry; returns reference -> action."""
    actions: dict[str, str] = {}
    for standin in STANDINS:
        recipe = recipe_digest(standin)
        present = engine.image_id(standin.reference) is not None
        if in_registry(standin):
            action = "present"
            if not present:
                outcome = engine.pull(standin.reference)  # through the mirror
                if not outcome.ok:
                    raise BenchError(
                        f"pulling {standin.reference} from the lab registry failed: {outcome.error}"
                    )
                action = "pulled from the lab registry"
            if engine.image_labels(standin.reference).get(labels.STANDIN_RECIPE) == recipe:
                actions[standin.reference] = action
                continue
        _build(engine, standin, cache_dir, mirror, recipe)
        engine.tag(standin.reference, standin.registry_reference)
        engine.push(standin.registry_reference)
        # Only the real name stays: the registry-qualified tag was a means to push.
        engine.remove_image(standin.registry_reference)
        actions[standin.reference] = "built and pushed"
    return actions


def _build(engine: Engine, standin: StandIn, cache_dir: Path, mirror: str, recipe: str) -> None:
    print(f"lab: building stand-in {standin.reference} ...", flush=True)
    if standin.suite is not None:
        context = rootfs_tarball(cache_dir, standin.suite, standin.slim, mirror).parent
    else:
        context = STANDIN_DIR
    outcome = engine.build(
        context,
        STANDIN_DIR / standin.dockerfile,
        standin.reference,
        nocache=False,
        buildargs={"BASE": standin.base} if standin.base else {},
        labels={
            labels.CREATED_BY: labels.CREATED_BY_VALUE,
            labels.STANDIN: "true",
            labels.STANDIN_SOURCE: standin.source,
            labels.STANDIN_RECIPE: recipe,
        },
        # apt inside the build reaches the Debian mirror through the host's network.
        network_mode="host",
    )
    if not outcome.ok:
        tail = " | ".join(outcome.log_tail[-3:])
        raise BenchError(f"building stand-in {standin.reference} failed: {outcome.error} {tail}")
