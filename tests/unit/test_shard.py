"""`run --shard K/N`: every work unit in exactly one shard, the same split in any order."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from bench import cli
from bench.errors import BenchError
from bench.manifest import DEFAULT_MANIFEST as MANIFEST
from bench.models import RunResult
from bench.run import session, shard
from bench.run.session import RunRequest
from bench.run.shard import Shard, WorkUnit
from tests.unit.sample_results import sample_run

# The sample's five variants, two Python versions, both builders: 20 work units.
VARIANTS = ("full", "slim", "alpine", "multistage", "naive")
PYTHONS = ("3.11", "3.13")
BUILDERS = ("sdk", "buildkit")


def _units() -> tuple[WorkUnit, ...]:
    return shard.units(VARIANTS, PYTHONS, BUILDERS)


@pytest.mark.parametrize("count", range(1, 8))
def test_the_shards_cover_every_unit_exactly_once(count: int) -> None:
    every = _units()
    parts = [shard.select(every, Shard(index, count)) for index in range(1, count + 1)]
    flat = [unit for part in parts for unit in part]
    assert len(every) == 20
    assert sorted(flat) == sorted(every)  # each once: no unit lost, none twice
    sizes = [len(part) for part in parts]
    # Round-robin over (variant, Python) groups of two builders: within one group's units.
    assert max(sizes) - min(sizes) <= len(BUILDERS)
    for part in parts:  # a variant's builders stay together: their ratio is one engine's
        groups = {(unit.variant, unit.python_version) for unit in part}
        assert len(part) == len(groups) * len(BUILDERS)


@pytest.mark.parametrize("count", [2, 3])
def test_with_fewer_groups_than_shards_the_units_are_dealt(count: int) -> None:
    units = shard.units(["slim"], ["3.11"], BUILDERS)
    parts = [shard.select(units, Shard(index, count)) for index in range(1, count + 1)]
    assert sorted(unit for part in parts for unit in part) == sorted(units)
    assert [len(part) for part in parts][:2] == [1, 1]  # no job idle that could take one


@pytest.mark.parametrize("count", range(1, 8))
def test_the_split_does_not_depend_on_the_order_of_the_input(count: int) -> None:
    shuffled_variants = list(VARIANTS)
    shuffled_units = list(_units())
    random.Random(count).shuffle(shuffled_variants)
    random.Random(count + 100).shuffle(shuffled_units)
    reordered = shard.units(shuffled_variants, reversed(PYTHONS), reversed(BUILDERS))
    for index in range(1, count + 1):
        expected = shard.select(_units(), Shard(index, count))
        assert shard.select(reordered, Shard(index, count)) == expected
        assert shard.select(shuffled_units, Shard(index, count)) == expected


def test_the_split_is_the_documented_round_robin() -> None:
    # Pinned: a change here re-splits every sharded CI matrix, so it must be deliberate.
    first = shard.select(_units(), Shard(1, 3))
    # Groups sorted: (alpine, 3.11), (alpine, 3.13), (full, 3.11), (full, 3.13), ...;
    # shard 1 of 3 takes positions 0, 3, 6, 9.
    assert first == (
        WorkUnit("alpine", "3.11", "buildkit"),
        WorkUnit("alpine", "3.11", "sdk"),
        WorkUnit("full", "3.13", "buildkit"),
        WorkUnit("full", "3.13", "sdk"),
        WorkUnit("naive", "3.11", "buildkit"),
        WorkUnit("naive", "3.11", "sdk"),
        WorkUnit("slim", "3.13", "buildkit"),
        WorkUnit("slim", "3.13", "sdk"),
    )


def test_the_default_python_version_is_a_unit_of_its_own() -> None:
    units = shard.units(["slim"], [None], ["sdk"])
    assert units == (WorkUnit("slim", "", "sdk"),)


def test_a_shard_beyond_the_units_is_empty() -> None:
    units = shard.units(["slim"], [None], ["sdk"])
    assert shard.select(units, Shard(1, 2)) == units
    assert shard.select(units, Shard(2, 2)) == ()


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", Shard(1, 1)), ("2/3", Shard(2, 3)), (" 3 / 3 ", Shard(3, 3))]
)
def test_parse(text: str, expected: Shard) -> None:
    assert shard.parse(text) == expected
    assert expected.label == text.replace(" ", "")


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "0/0", "-1/3", "1/3/4", "", "2"])
def test_bad_shards_are_one_line_errors(text: str) -> None:
    with pytest.raises(BenchError) as raised:
        shard.parse(text)
    assert "--shard" in raised.value.message
    assert "\n" not in raised.value.message


# The command: `run --shard K/N` measures only its units, records the shard, or says so. ------


def _run_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *extra: str
) -> tuple[int, list[RunRequest]]:
    requests: list[RunRequest] = []

    def fake_run(request: RunRequest, _progress: object) -> tuple[RunResult, Path, int]:
        requests.append(request)
        chosen = {v.name for v in request.variants}
        result = replace(
            sample_run(), variants=tuple(v for v in sample_run().variants if v.name in chosen)
        )
        return result, tmp_path / f"{len(requests)}.json", 0

    monkeypatch.setattr(session, "run", fake_run)
    argv = ["run", "--manifest", str(MANIFEST), "--no-report", "--out", str(tmp_path), *extra]
    return cli.main(argv), requests


def test_a_shard_runs_only_its_units_and_records_the_shard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measured: set[WorkUnit] = set()
    for index in (1, 2, 3):
        code, requests = _run_command(
            monkeypatch, tmp_path, "--python", "3.13,3.11", "--shard", f"{index}/3"
        )
        assert code == 0
        assert {r.shard for r in requests} == {f"{index}/3"}
        units = {
            WorkUnit(v.name, r.python_version or "", r.builder)
            for r in requests
            for v in r.variants
        }
        assert not units & measured
        measured |= units
    assert measured == set(shard.units(VARIANTS, PYTHONS, ["sdk"]))
    assert "shard 3/3: 3 of 10 work units" in capsys.readouterr().out


def test_an_empty_shard_says_so_and_measures_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, requests = _run_command(monkeypatch, tmp_path, "slim", "--shard", "2/2")
    assert (code, requests) == (0, [])
    assert capsys.readouterr().out == (
        "shard 2/2: no work units fall in this shard; nothing to measure\n"
    )


def test_a_bad_shard_is_one_line_before_any_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, requests = _run_command(monkeypatch, tmp_path, "--shard", "4/3")
    assert code != 0 and requests == []
    error = capsys.readouterr().err
    assert error.startswith("error: --shard '4/3'") and error.count("\n") == 1


def test_each_engine_measures_the_units_in_turn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, requests = _run_command(
        monkeypatch,
        tmp_path,
        "slim",
        "--engine",
        "20.10",
        "--engine",
        "tcp://build-2:2376",
        "--engine",
        "20.10",  # named twice: measured once
    )
    assert code == 0
    assert [r.engine for r in requests] == ["20.10", "tcp://build-2:2376"]
    out = capsys.readouterr().out
    assert out.index("== engine 20.10 ==") < out.index("== engine tcp://build-2:2376 ==")


def test_a_shard_records_how_many_units_the_whole_run_has(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, requests = _run_command(monkeypatch, tmp_path, "--builder", "sdk", "--shard", "1/2")
    assert {r.shard_units for r in requests} == {5}


def test_a_buildx_builder_needs_buildkit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, requests = _run_command(monkeypatch, tmp_path, "slim", "--buildx-builder", "remote")
    assert (code, requests) == (2, [])


def test_a_bad_engine_is_one_line_before_any_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, requests = _run_command(monkeypatch, tmp_path, "slim", "--engine", "nowhere")
    assert (code, requests) == (2, [])
    assert "--engine 'nowhere'" in capsys.readouterr().err
