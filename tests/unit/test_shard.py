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
    assert max(sizes) - min(sizes) <= 1  # round-robin balances to within one unit


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
    assert first[:3] == (
        WorkUnit("alpine", "3.11", "buildkit"),  # sorted position 0
        WorkUnit("alpine", "3.13", "sdk"),  # 3
        WorkUnit("full", "3.13", "buildkit"),  # 6
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
