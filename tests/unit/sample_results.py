"""A realistic, scripted RunResult for storage and report tests (no Docker involved).

Five variants as in variants/variants.toml plus "broken", whose build fails. Scripted to show
what the report must handle: naive's edit rebuild reinstalls dependencies (and its timings
are unstable), alpine builds but its smoke test fails for want of libstdc++, broken has no
image at all.
"""

from __future__ import annotations

from bench.models import (
    GROUP_KINDS,
    BuildStep,
    ContextStats,
    EngineInfo,
    ImageAnalysis,
    ImageResult,
    Layer,
    LayerAnalysis,
    PackageWheel,
    Provenance,
    PullOutcome,
    RunResult,
    Sample,
    SizeGroup,
    SmokeResult,
    VariantResult,
    WastedPath,
    WheelCheck,
    WheelPlatform,
)

RUN_ID = "20261124T101502Z-3fa9c1"

_ENV = "ENV PYTHONDONTWRITEBYTECODE=1     PYTHONUNBUFFERED=1     PIP_DISABLE_PIP_VERSION_CHECK=1"
_PIP_ARGS = ("ARG PIP_INDEX_URL", "ARG PIP_FIND_LINKS", "ARG PIP_NO_INDEX")
_PIP_INSTALL = "RUN pip install --no-cache-dir -r requirements.txt"
_TAIL = (
    "COPY --chown=10001:10001 main.py ./",
    "USER 10001",
    "EXPOSE 8000",
    'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]',
)
_ALPINE_RUN = (
    "RUN if command -v apk >/dev/null 2>&1; then         apk add --no-cache libstdc++ libgomp "
    "        && apk add --no-cache --virtual .build-deps build-base;     fi     "
    "&& pip install --no-cache-dir -r requirements.txt     "
    "&& if command -v apk >/dev/null 2>&1; then apk del .build-deps; fi"
)


def _single_stage(base: str, install: str = _PIP_INSTALL) -> tuple[str, ...]:
    return (
        "ARG PYTHON_VERSION=3.11",
        f"FROM python:${{PYTHON_VERSION}}{base}",
        _ENV,
        "WORKDIR /app",
        *_PIP_ARGS,
        "COPY requirements.txt ./",
        install,
        "COPY train.py ./",
        "RUN python train.py",
        *_TAIL,
    )


INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "full": _single_stage(""),
    "slim": _single_stage("-slim"),
    "alpine": _single_stage("-alpine", _ALPINE_RUN),
    "multistage": (
        "ARG PYTHON_VERSION=3.11",
        "FROM python:${PYTHON_VERSION} AS builder",
        _ENV,
        "WORKDIR /app",
        "RUN python3 -m venv /opt/venv",
        "ENV PATH=/opt/venv/bin:$PATH",
        *_PIP_ARGS,
        "COPY requirements.txt ./",
        _PIP_INSTALL,
        "COPY train.py ./",
        "RUN python train.py",
        "FROM python:${PYTHON_VERSION}-slim",
        _ENV,
        "ENV PATH=/opt/venv/bin:$PATH",
        "WORKDIR /app",
        "COPY --from=builder /opt/venv /opt/venv",
        "COPY --from=builder /app/model.joblib ./",
        *_TAIL,
    ),
    "naive": (
        "ARG PYTHON_VERSION=3.11",
        "FROM python:${PYTHON_VERSION}-slim",
        _ENV,
        "WORKDIR /app",
        *_PIP_ARGS,
        "COPY --chown=10001:10001 . .",
        _PIP_INSTALL,
        "RUN python train.py",
        "USER 10001",
        "EXPOSE 8000",
        'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]',
    ),
}

# The first instruction whose cache the edit to main.py invalidates.
_EDIT_BUSTS = {
    "full": "COPY --chown=10001:10001 main.py ./",
    "slim": "COPY --chown=10001:10001 main.py ./",
    "alpine": "COPY --chown=10001:10001 main.py ./",
    "multistage": "COPY --chown=10001:10001 main.py ./",
    "naive": "COPY --chown=10001:10001 . .",
}

# Scripted wall-clock seconds per scenario, three repeats each (pull is measured once).
TIMINGS: dict[str, dict[str, tuple[float, ...]]] = {
    "full": {
        "pull": (12.31,),
        "cold": (27.41, 26.88, 27.95),
        "edit": (0.212, 0.198, 0.205),
        "noop": (0.046, 0.049, 0.047),
    },
    "slim": {
        "pull": (3.02,),
        "cold": (14.12, 13.87, 14.40),
        "edit": (0.201, 0.195, 0.214),
        "noop": (0.045, 0.044, 0.048),
    },
    "alpine": {
        "pull": (1.12,),
        "cold": (12.95, 13.31, 12.77),
        "edit": (0.188, 0.192, 0.205),
        "noop": (0.043, 0.046, 0.044),
    },
    "multistage": {
        "pull": (0.09,),
        "cold": (31.20, 30.64, 31.87),
        "edit": (0.233, 0.226, 0.241),
        "noop": (0.061, 0.058, 0.060),
    },
    # Reinstalling every dependency on each edit: slow, and noisy (CV > 10 %).
    "naive": {
        "pull": (0.04,),
        "cold": (14.35, 14.02, 14.61),
        "edit": (14.08, 18.93, 13.21),
        "noop": (0.047, 0.045, 0.046),
    },
}

_BASE_LAYERS = {
    # Stand-ins: a Debian rootfs imported with `docker import` (no instruction recorded),
    # then the python packages installed on top.
    "": (
        Layer("", 75_112_448),
        Layer(
            "RUN apt-get update && apt-get install -y --no-install-recommends build-essential "
            "python3-dev git curl python3 python3-pip python3-venv",
            985_331_200,
        ),
    ),
    "-slim": (
        Layer("", 75_112_448),
        Layer(
            "RUN apt-get update && apt-get install -y --no-install-recommends python3 "
            "python3-pip python3-venv",
            124_903_424,
        ),
    ),
    "-alpine": (Layer("", 0), Layer("COPY /rootfs/ /", 64_215_040)),
}
_META = (
    Layer("USER 10001", 0),
    Layer("EXPOSE map[8000/tcp:{}]", 0),
    Layer('CMD ["uvicorn" "main:app" "--host" "0.0.0.0" "--port" "8000"]', 0),
)


def _app_layers(copy_all: bool = False) -> tuple[Layer, ...]:
    if copy_all:
        return (
            Layer(_ENV, 0),
            Layer("WORKDIR /app", 0),
            Layer("COPY --chown=10001:10001 dir:5c1e in . ", 14_233),
            Layer(_PIP_INSTALL, 286_104_576),
            Layer("RUN python train.py", 5_118),
            *_META,
        )
    return (
        Layer(_ENV, 0),
        Layer("WORKDIR /app", 0),
        Layer("COPY file:1a2b in ./ ", 96),
        Layer(_PIP_INSTALL, 286_104_576),
        Layer("COPY file:3c4d in ./ ", 1_204),
        Layer("RUN python train.py", 5_118),
        Layer("COPY --chown=10001:10001 file:5e6f in ./ ", 2_311),
        *_META,
    )


LAYERS: dict[str, tuple[Layer, ...]] = {
    "full": (*_BASE_LAYERS[""], *_app_layers()),
    "slim": (*_BASE_LAYERS["-slim"], *_app_layers()),
    "alpine": (*_BASE_LAYERS["-alpine"], *_app_layers()),
    "multistage": (
        *_BASE_LAYERS["-slim"],
        Layer(_ENV, 0),
        Layer("ENV PATH=/opt/venv/bin:$PATH", 0),
        Layer("WORKDIR /app", 0),
        Layer("COPY dir:7a8b in /opt/venv ", 291_552_870),
        Layer("COPY file:9c0d in ./ ", 5_118),
        Layer("COPY --chown=10001:10001 file:5e6f in ./ ", 2_311),
        *_META,
    ),
    "naive": (*_BASE_LAYERS["-slim"], *_app_layers(copy_all=True)),
}
# Scripted layer analyses. The pip layer (or the copied venv) splits like the real full
# variant's did in the lab; a layer's compressed size is its share of the image's.
_PIP_SPLIT = (
    ("package", "scipy", 102_780_365, 758),
    ("package", "numpy", 51_914_699, 525),
    ("package", "scikit-learn", 25_221_109, 577),
    ("package", "pydantic-core", 5_382_547, 13),
    ("package", "pydantic", 1_997_163, 114),
    ("bytecode", "bytecode (.pyc)", 64_777_054, 2_514),
    ("tests-docs", "tests and docs in packages", 28_316_968, 1_647),
)
_WASTED = (
    WastedPath("/var/cache/debconf/templates.dat", 1_533_354, 2),
    WastedPath("/var/cache/debconf/templates.dat-old", 1_466_729, 2),
    WastedPath("/var/lib/dpkg/status", 275_157, 2),
)
# Layers the classic builder makes (metadata-only instructions make none).
_MAKES_A_LAYER = ("", "RUN", "COPY", "ADD", "WORKDIR")


def _pip_groups(total: int, rest_name: str) -> list[SizeGroup]:
    groups = [SizeGroup(kind, name, size, files) for kind, name, size, files in _PIP_SPLIT]
    rest = total - sum(group.size_bytes for group in groups)
    return [*groups, SizeGroup("package", rest_name, rest, 404)]


def _analysis(name: str) -> ImageAnalysis:
    made = [
        layer
        for layer in LAYERS[name]
        if layer.instruction.split(" ", 1)[0] in _MAKES_A_LAYER or not layer.instruction
    ]
    total = sum(layer.size_bytes for layer in made)
    base_count = 2
    groups: list[SizeGroup] = [
        SizeGroup("base", "base image", sum(layer.size_bytes for layer in made[:base_count]), 9_410)
    ]
    app_bytes = 0
    for layer in made[base_count:]:
        if layer.instruction.startswith(("RUN pip", "COPY dir:7a8b")):
            rest_name = "pip" if name == "multistage" else "anyio"
            groups += _pip_groups(layer.size_bytes, rest_name)
        else:
            app_bytes += layer.size_bytes
    groups.append(SizeGroup("app", "the app", app_bytes, 4))
    groups.sort(key=lambda group: (GROUP_KINDS.index(group.kind), -group.size_bytes))
    share = COMPRESSED[name] / total
    compressed = [round(layer.size_bytes * share) for layer in made]
    compressed[-1] += COMPRESSED[name] - sum(compressed)
    wasted = _WASTED if name == "full" else _WASTED[2:]
    wasted_bytes = sum(item.wasted_bytes for item in wasted)
    return ImageAnalysis(
        size_bytes=total,
        symlink_bytes=0,
        compressed_bytes=COMPRESSED[name],
        efficiency=1 - wasted_bytes / 2 / total,
        wasted_bytes=wasted_bytes,
        base_layer_count=base_count,
        app_dir="/app",
        layers=tuple(
            LayerAnalysis(
                index=index,
                instruction=layer.instruction,
                size_bytes=layer.size_bytes,
                compressed_bytes=size,
                files_added=0 if layer.size_bytes == 0 else max(1, layer.size_bytes // 45_000),
                files_changed=13 if index == 1 else 0,
                files_removed=0,
                in_base=index < base_count,
            )
            for index, (layer, size) in enumerate(zip(made, compressed, strict=True))
        ),
        top_wasted=wasted,
        groups=tuple(groups),
        findings=(),
    )


COMPRESSED = {
    "full": 512_400_112,
    "slim": 161_877_309,
    "alpine": 118_306_552,
    "multistage": 163_020_771,
    "naive": 161_881_954,
}
BASES = {
    "full": "python:3.11",
    "slim": "python:3.11-slim",
    "alpine": "python:3.11-alpine",
    "multistage": "python:3.11-slim",
    "naive": "python:3.11-slim",
}
DESCRIPTIONS = {
    "full": "python:<ver> (full Debian image with build tools), good layer order",
    "slim": "python:<ver>-slim, good layer order",
    "alpine": "python:<ver>-alpine; scikit-learn has no musllinux wheel, so real Alpine "
    "compiles it",
    "multistage": "venv built and model trained in python:<ver>, shipped on python:<ver>-slim",
    "naive": "python:<ver>-slim with COPY . . before pip install (every code edit reinstalls deps)",
}
CONTEXT = ContextStats(sent_bytes=14_233, sent_files=7, ignored_bytes=1_204_551, ignored_files=38)
SMOKE_OK = SmokeResult(
    ok=True,
    ready_seconds=1.84,
    memory_bytes=112_345_088,
    health='{"status":"ok"}',
    prediction='{"label":"setosa"}',
    listening=("0.0.0.0:8000",),
    reached_by="netns",
    checked="http GET :8000/health -> 200, "
    """POST :8000/predict -> 2xx containing '"label":"setosa"'""",
)
ALPINE_LOG = (
    "Traceback (most recent call last):",
    '  File "/usr/local/bin/uvicorn", line 8, in <module>',
    "    sys.exit(main())",
    '  File "/app/main.py", line 7, in <module>',
    "    import numpy as np",
    '  File "/usr/local/lib/python3.11/site-packages/numpy/__init__.py", line 130, in <module>',
    "    from numpy.__config__ import show as show_config",
    '  File "/usr/local/lib/python3.11/site-packages/numpy/core/_multiarray_umath.py", '
    "line 3, in <module>",
    "ImportError: libstdc++.so.6: cannot open shared object file: No such file or directory",
)
BROKEN_ERROR = (
    "COPY failed: file not found in build context or excluded by .dockerignore: "
    "stat requirements-dev.txt: file does not exist"
)


# The wheel check as the lab's PyPI proxy would answer it, for variants/app/requirements.txt
# (tests/unit/wheel_index.py has the same facts as an index).
WHEEL_INDEX = "http://127.0.0.1:5081/index/"
_PINS = (
    ("annotated-doc", "0.0.7"),
    ("annotated-types", "0.8.0"),
    ("anyio", "4.16.0"),
    ("click", "8.5.1"),
    ("fastapi", "0.164.0"),
    ("h11", "0.16.0"),
    ("idna", "3.20"),
    ("joblib", "1.5.3"),
    ("numpy", "2.3.5"),
    ("opentelemetry-api", "1.45.2"),
    ("pydantic", "2.14.4"),
    ("pydantic-core", "2.50.5"),
    ("scikit-learn", "1.8.0"),
    ("scipy", "1.16.3"),
    ("starlette", "1.10.0"),
    ("threadpoolctl", "3.8.0"),
    ("typing-extensions", "4.16.0"),
    ("typing-inspection", "0.4.5"),
    ("uvicorn", "0.53.0"),
)
_COMPILED = {
    "manylinux": {
        "numpy": "manylinux_2_27_x86_64.manylinux_2_28_x86_64",
        "pydantic-core": "manylinux_2_17_x86_64.manylinux2014_x86_64",
        "scikit-learn": "manylinux_2_27_x86_64.manylinux_2_28_x86_64",
        "scipy": "manylinux_2_27_x86_64.manylinux_2_28_x86_64",
    },
    # scikit-learn publishes no musllinux wheel: pip builds its sdist.
    "musllinux": {
        "numpy": "musllinux_1_2_x86_64",
        "pydantic-core": "musllinux_1_1_x86_64",
        "scipy": "musllinux_1_2_x86_64",
    },
}


def _package(name: str, version: str, platform: WheelPlatform) -> PackageWheel:
    stem = name.replace("-", "_")
    compiled = {"numpy", "pydantic-core", "scikit-learn", "scipy"}
    if name not in compiled:
        return PackageWheel(name, version, "pinned", "wheel", f"{stem}-{version}-py3-none-any.whl")
    tag = _COMPILED[platform].get(name)
    if tag is None:
        return PackageWheel(name, version, "pinned", "sdist")
    return PackageWheel(name, version, "pinned", "wheel", f"{stem}-{version}-cp311-cp311-{tag}.whl")


def wheel_check(base: str) -> WheelCheck:
    """The check of a variant whose final base is `base` (python:3.11, -slim or -alpine)."""
    musl = base.endswith("-alpine")
    platform: WheelPlatform = "musllinux" if musl else "manylinux"
    return WheelCheck(
        index_url=WHEEL_INDEX,
        base_image=base,
        python_version="3.11",
        platform=platform,
        platform_tag="musllinux_1_2_x86_64" if musl else "manylinux_2_36_x86_64",
        packages=tuple(_package(name, version, platform) for name, version in _PINS),
    )


def steps(variant: str, scenario: str) -> tuple[BuildStep, ...]:
    """The steps a scenario's build reports, as the classic builder would."""
    instructions = INSTRUCTIONS[variant]
    busted = False
    seen_from = False
    result = []
    for index, instruction in enumerate(instructions, start=1):
        seen_from = seen_from or instruction.startswith("FROM")
        busted = busted or (scenario == "edit" and instruction == _EDIT_BUSTS[variant])
        # FROM and the global ARGs before it never print "Using cache".
        cacheable = seen_from and not instruction.startswith("FROM")
        cached = cacheable and scenario != "cold" and not busted
        duration = 0.01 if cached else (9.5 if instruction == _PIP_INSTALL else 0.3)
        result.append(BuildStep(index, instruction, duration, cached))
    return tuple(result)


def _samples(variant: str) -> tuple[Sample, ...]:
    timings = TIMINGS[variant]
    samples = [Sample(variant, "pull", 1, True, timings["pull"][0])]
    for scenario in ("cold", "edit", "noop"):
        samples.extend(
            Sample(variant, scenario, repeat, True, seconds, steps(variant, scenario))
            for repeat, seconds in enumerate(timings[scenario], start=1)
        )
    return tuple(samples)


def _variant(name: str) -> VariantResult:
    layers = LAYERS[name]
    alpine = name == "alpine"
    return VariantResult(
        name=name,
        description=DESCRIPTIONS[name],
        dockerfile=f"variants/{name}/Dockerfile",
        status="failed" if alpine else "ok",
        reason="smoke test failed: container exited with code 1" if alpine else None,
        pull=PullOutcome(
            BASES[name], True, TIMINGS[name]["pull"][0], was_present=name in ("multistage", "naive")
        ),
        samples=_samples(name),
        image=ImageResult(
            size_bytes=sum(layer.size_bytes for layer in layers),
            compressed_bytes=COMPRESSED[name],
            layers=layers,
            base_image=BASES[name],
            base_is_standin=True,
            analysis=_analysis(name),
            engine_size_bytes=sum(layer.size_bytes for layer in layers),
        ),
        context=CONTEXT,
        smoke=SmokeResult(
            ok=False,
            reason="container exited with code 1",
            log_tail=ALPINE_LOG,
            checked="http GET :8000/health -> 200",
        )
        if alpine
        else SMOKE_OK,
        wheel_check=wheel_check(BASES[name]),
    )


def _broken() -> VariantResult:
    instructions = (*INSTRUCTIONS["slim"][:7], "COPY requirements-dev.txt ./")
    failed_steps = tuple(
        BuildStep(index, instruction, 0.05, False)
        for index, instruction in enumerate(instructions, start=1)
    )
    return VariantResult(
        name="broken",
        description="slim, copying a file the context does not have (a build that fails)",
        dockerfile="variants/broken/Dockerfile",
        status="failed",
        reason=f"build failed: {BROKEN_ERROR}",
        pull=PullOutcome("python:3.11-slim", True, 0.04, was_present=True),
        samples=(
            Sample("broken", "pull", 1, True, 0.04),
            Sample(
                "broken",
                "cold",
                1,
                False,
                0.41,
                failed_steps,
                BROKEN_ERROR,
                (
                    "Step 7/15 : ARG PIP_NO_INDEX",
                    " ---> Running in 0f1e2d3c4b5a",
                    "Step 8/15 : COPY requirements-dev.txt ./",
                    BROKEN_ERROR,
                ),
            ),
        ),
        context=CONTEXT,
    )


def provenance() -> Provenance:
    """Where the scripted numbers were 'made': the offline lab with stand-in bases."""
    return Provenance(
        engine=EngineInfo(
            docker_host="unix:///root/.local/share/dockerfile-bench/lab/run/docker.sock",
            server_version="20.10.24+dfsg1",
            api_version="1.41",
            storage_driver="overlay2",
            operating_system="Debian GNU/Linux 12 (bookworm)",
            cpus=2,
            builder="classic",
        ),
        lab_mode="lab",
        bases_are_standins=True,
        bases=(
            ("python:3.11", "stand-in"),
            ("python:3.11-alpine", "stand-in"),
            ("python:3.11-slim", "stand-in"),
        ),
        python_version="3.11.7",
        host="bench-host",
        cpu_count=2,
        git_sha="3f2c1a9b7d4e",
        started_utc="2026-11-24T10:15:02+00:00",
        options=(
            ("build_args", "PIP_FIND_LINKS=http://127.0.0.1:8765/,PIP_NO_INDEX=1"),
            ("keep_images", "false"),
            ("manifest", "variants/variants.toml"),
            ("network", "host"),
            ("repeat", "3"),
            ("scenarios", "pull,cold,edit,noop"),
            ("variants", "full,slim,alpine,multistage,naive,broken"),
            ("wheel_index", WHEEL_INDEX),
        ),
    )


def sample_run() -> RunResult:
    """The scripted run: five variants from the manifest and one that fails to build."""
    return RunResult(
        run_id=RUN_ID,
        provenance=provenance(),
        variants=(*(_variant(name) for name in INSTRUCTIONS), _broken()),
        complete=True,
        finished_utc="2026-11-24T10:31:47+00:00",
        harness_seconds=(
            ("setup", 0.412),
            ("scratch copies", 0.087),
            ("layer analysis", 41.5),
            ("smoke test", 14.25),
            ("warm-up builds", 3.1),
            ("saving results", 0.9),
            ("cleanup", 6.4),
        ),
    )
