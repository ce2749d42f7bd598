"""`python -m bench layers`: the text view and the base-image guess, without Docker."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from bench.cli import _parser
from bench.commands import layers as commands_layers
from bench.commands.layers import guess_base, render_text
from bench.layers.analysis import analyse_stream
from bench.perf.layers import parse_dive_ci
from tests.unit import scenario
from tests.unit.savetar import chunks, save_tar


def test_text_view() -> None:
    analysis = analyse_stream(
        chunks(save_tar(scenario.LAYERS)), base_layer_count=1, min_finding_bytes=1000
    )
    out = io.StringIO()
    render_text("demo:1", "base:1", True, 1.5, analysis, out)
    text = out.getvalue()
    assert "demo:1: 6 layers, read and analysed in 1.50 s" in text
    assert "efficiency  83.4212 %" in text
    assert "wasted      7.42 kB (7,420 bytes" in text
    assert "base image  base:1: layers 0-0 (guessed: --base to choose)" in text
    assert (
        "  0    9.30 kB           -        7        0        0  (base) ADD file:0a1b in /" in text
    )
    assert "5.00 kB  2 layers  /usr/big" in text
    assert "   20.0 kB   53.9 %        1 file   pip cache" in text
    assert "  - pip cache left in layer 2 (`RUN pip install demo`)" in text


class _Engine:
    def __init__(self, images: dict[str, tuple[str, ...]]) -> None:
        self._images = images

    def tagged_images(self) -> list[str]:
        return sorted(self._images)

    def diff_ids(self, reference: str) -> tuple[str, ...] | None:
        return self._images.get(reference)


def test_the_guessed_base_is_the_longest_proper_prefix() -> None:
    engine: Any = _Engine(
        {
            "debian:bookworm": ("a",),
            "python:3.11": ("a", "b"),
            "other:1": ("a", "x"),
            "app:1": ("a", "b", "c"),
            "app:again": ("a", "b", "c"),  # the same image under another tag
        }
    )
    assert guess_base(engine, "app:1", ("a", "b", "c")) == "python:3.11"
    assert guess_base(engine, "debian:bookworm", ("a",)) is None


def test_layers_command_options() -> None:
    args = _parser().parse_args(["layers", "img:1", "--json", "--base", "python:3.11"])
    assert (args.image, args.json, args.base, args.compressed) == (
        "img:1",
        True,
        "python:3.11",
        False,
    )


def test_dive_ci_output_is_parsed() -> None:
    output = (
        "\x1b[1mAnalyzing image...\x1b[0m\n  efficiency: 99.8034 %\n"
        "  wastedBytes: 3608830 bytes (3.6 MB)\n  userWastedPercent: 0.4074 %\n"
    )
    numbers = parse_dive_ci(output)
    assert (numbers.efficiency_percent, numbers.wasted_bytes) == (99.8034, 3608830)


def test_source_option_and_the_size_cache_of_compressed_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _parser().parse_args(["layers", "x"]).source == "auto"
    assert _parser().parse_args(["layers", "x", "--source", "save"]).source == "save"
    assert _parser().parse_args(["run", "--source", "storage"]).source == "storage"
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    cache = commands_layers._size_cache()  # loaded only for --compressed
    assert cache.path == tmp_path / "compressed-layers.json"
