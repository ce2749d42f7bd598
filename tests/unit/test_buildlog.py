"""The classic builder's stream, recorded from Engine 20.10, turned into steps."""

from __future__ import annotations

from bench.engine.buildlog import StepTracker, telling_line

RECORDED: list[dict[str, object]] = [
    {"stream": "Step 1/4 : FROM python:3.11-slim"},
    {"stream": "\n"},
    {"stream": " ---> 0634f9a0e53e\n"},
    {"stream": "Step 2/4 : COPY requirements.txt ./\n"},
    {"stream": " ---> Using cache\n ---> 1a2b3c4d5e6f\n"},
    {"stream": "Step 3/4 : RUN pip install -r requirem"},  # split mid-line
    {"stream": "ents.txt\n"},
    {"stream": " ---> Running in 9f8e7d6c5b4a\n"},
    {"stream": "\x1b[91mWARNING: Running pip as the 'root' user\n\x1b[0m"},
    {"stream": "Removing intermediate container 9f8e7d6c5b4a\n ---> 77aa88bb99cc\n"},
    {"stream": 'Step 4/4 : CMD ["python3"]\n'},
    {"stream": " ---> Running in 0a0b0c0d0e0f\n ---> deadbeef0000\n"},
    {"aux": {"ID": "sha256:deadbeef0000"}},
    {"stream": "Successfully built deadbeef0000\n"},
]


def _run(events: list[dict[str, object]]) -> StepTracker:
    tracker = StepTracker(started_at=0.0)
    for second, event in enumerate(events):
        tracker.feed(event, float(second))
    return tracker


def test_steps_timings_and_cache_hits() -> None:
    tracker = _run(RECORDED)
    steps = tracker.finish(20.0)
    assert [s.instruction for s in steps] == [
        "FROM python:3.11-slim",
        "COPY requirements.txt ./",
        "RUN pip install -r requirements.txt",
        'CMD ["python3"]',
    ]
    assert [s.cached for s in steps] == [True, True, False, False]  # FROM does no work
    assert [s.duration_seconds for s in steps] == [2.0, 3.0, 4.0, 10.0]
    assert tracker.image_id == "sha256:deadbeef0000"
    assert tracker.error is None


def test_error_is_kept_with_a_clean_log_tail() -> None:
    tracker = _run(
        [
            {"stream": "Step 1/2 : FROM python:3.11-slim\n"},
            {"stream": "Step 2/2 : RUN false\n"},
            {"stream": "\x1b[91msomething broke\n\x1b[0m"},
            {
                "error": "The command '/bin/sh -c false' returned a non-zero code: 1",
                "errorDetail": {"code": 1},
            },
        ]
    )
    steps = tracker.finish(5.0)
    assert len(steps) == 2
    assert tracker.error == "The command '/bin/sh -c false' returned a non-zero code: 1"
    assert "something broke" in tracker.log_tail
    assert not any("\x1b" in line for line in tracker.log_tail)
    assert tracker.image_id is None


def test_multistage_steps_are_all_recorded() -> None:
    tracker = _run(
        [
            {"stream": "Step 1/4 : FROM python:3.11 AS builder\n"},
            {"stream": "Step 2/4 : RUN python -m venv /opt/venv\n"},
            {"stream": "Step 3/4 : FROM python:3.11-slim\n"},
            {"stream": "Step 4/4 : COPY --from=builder /opt/venv /opt/venv\n"},
        ]
    )
    steps = tracker.finish(4.0)
    assert [s.index for s in steps] == [1, 2, 3, 4]
    assert steps[2].instruction == "FROM python:3.11-slim"


MULTISTAGE: list[dict[str, object]] = [
    {"stream": "Step 1/9 : ARG PYTHON_VERSION=3.11\n"},
    {"stream": "Step 2/9 : FROM python:${PYTHON_VERSION} AS builder\n ---> 64910a71c882\n"},
    {"stream": "Step 3/9 : COPY requirements.txt ./\n ---> Using cache\n ---> 1a2b3c4d5e6f\n"},
    {"stream": "Step 4/9 : RUN pip wheel -r requirements.txt\n ---> Running in 9f8e7d6c5b4a\n"},
    {"stream": "Removing intermediate container 9f8e7d6c5b4a\n ---> 77aa88bb99cc\n"},
    {"stream": "Step 5/9 : FROM python:3.11-slim AS tools\n ---> b7a9fe862471\n"},
    {"stream": "Step 6/9 : ENV A=1\n ---> Using cache\n ---> 2b2b2b2b2b2b\n"},
    {"stream": "Step 7/9 : FROM python:3.11-slim\n ---> b7a9fe862471\n"},
    {"stream": "Step 8/9 : COPY --from=builder /wheels /wheels\n ---> 3c3c3c3c3c3c\n"},
    {"stream": 'Step 9/9 : CMD ["python3"]\n ---> Running in 0a0b0c0d0e0f\n'},
    {"stream": " ---> deadbeef0000\n"},
    {"aux": {"ID": "sha256:deadbeef0000"}},
    {"stream": "Successfully built deadbeef0000\n"},
]


def test_earlier_stages_this_build_committed_are_known() -> None:
    tracker = _run(MULTISTAGE)
    tracker.finish(20.0)
    # builder ran its last step: ours, and nothing reaches it once the final image goes.
    # tools ended on a cache hit: an image from before, perhaps the user's, never ours.
    assert tracker.stage_images == ["77aa88bb99cc"]
    assert tracker.last_committed == "deadbeef0000"  # the final image: its tag reaches it


def test_a_failed_build_leaves_its_last_committed_step() -> None:
    tracker = _run(
        [
            *MULTISTAGE[:5],
            {"stream": "Step 5/9 : RUN false\n ---> Running in 5e5e5e5e5e5e\n"},
            {"error": "The command '/bin/sh -c false' returned a non-zero code: 1"},
        ]
    )
    tracker.finish(20.0)
    assert tracker.stage_images == [] and tracker.last_committed == "77aa88bb99cc"


def test_the_running_step_container_is_known_until_its_step_commits() -> None:
    """What an interrupted build must stop: the container of the step that runs now."""
    tracker = _run(RECORDED[:8])  # RUN pip install has started
    assert tracker.running_container == "9f8e7d6c5b4a"
    assert tracker.unreachable_images(False) == ()  # the COPY step was a cache hit
    tracker = _run(RECORDED[:10])  # its container was committed and removed
    assert tracker.running_container is None
    assert tracker.unreachable_images(False) == ("77aa88bb99cc",)


def test_on_the_containerd_store_every_step_image_but_the_final_one_is_the_runs_to_delete() -> None:
    tracker = _run(RECORDED)
    tracker.finish(20.0)
    # A graph driver prunes a step's image with the final image that descends from it.
    assert tracker.unreachable_images(True) == ()
    # The containerd store keeps each step's image on its own: the RUN step's is this
    # build's (it committed it); the cached COPY's and FROM's are not; the final is the tag's.
    assert tracker.unreachable_images(True, every_step=True) == ("77aa88bb99cc",)
    # A failed build: every image it committed, the last one included.
    assert tracker.unreachable_images(False, every_step=True) == (
        "77aa88bb99cc",
        "deadbeef0000",
    )


def test_the_telling_line_of_a_failed_sdist_build() -> None:
    # psycopg2 without libpq-dev: pip's wrappers around the line that says what is missing.
    tail = [
        "      running egg_info",
        "      Error: pg_config executable not found.",
        "      ",
        "      pg_config is required to build psycopg2 from source.  Please add the directory",
        "      [end of output]",
        "  note: This error originates from a subprocess, and is likely not a problem with pip.",
        "error: metadata-generation-failed",
        "\u00d7 Encountered error while generating package metadata.",
        "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1",
    ]
    assert telling_line(tail) == "Error: pg_config executable not found."
    compiler = [
        "\x1b[91m      ./psycopg/psycopg.h:36:10: fatal error: Python.h: No such file or directory",
        "      compilation terminated.",
    ]
    assert telling_line(compiler) == (
        "./psycopg/psycopg.h:36:10: fatal error: Python.h: No such file or directory"
    )
    assert telling_line(["E: Unable to locate package libpq-devel"]) == (
        "E: Unable to locate package libpq-devel"
    )


def test_no_telling_line_when_the_log_only_says_that_it_failed() -> None:
    assert telling_line(["Step 3/5 : RUN false", "returned a non-zero code: 1"]) is None
    assert telling_line([]) is None
