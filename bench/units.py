"""Parsing and formatting of sizes and durations: one formatter per unit."""

from __future__ import annotations

import re

# Decimal units, as `docker images` prints them; binary units when asked for by name.
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size_bytes(text: str | int) -> int:
    """'1.3 GB' -> 1300000000. Raises ValueError with the reason."""
    if isinstance(text, bool):
        raise ValueError("expected a size like '500 MB', got a boolean")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a size cannot be negative")
        return text
    match = _SIZE.match(text)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected a size like '500 MB' or '1.2 GiB', got {text!r}")
    return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_bytes(size_bytes: float) -> str:
    """Decimal units, like `docker images`: 1.26 GB, 501 MB, 75.3 MB, 12.0 kB."""
    value = float(size_bytes)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            if unit == "B":
                return f"{sign}{value:.0f} B"
            # Three significant digits, trailing zeros kept: 1.00 GB, not "1 GB".
            decimals = 2 if value < 10 else 1 if value < 100 else 0
            return f"{sign}{value:.{decimals}f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def format_percent(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"
