"""Summary statistics of timing samples, and when to distrust them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

# A spread this large (stdev / mean) means the median may move a lot on the next run.
UNSTABLE_CV = 0.10
# Below this many samples a median and a spread say little.
MIN_SAMPLES = 3


@dataclass(frozen=True)
class Summary:
    """Median, range and spread of one scenario's samples (seconds or any one unit)."""

    count: int
    median: float
    minimum: float
    maximum: float
    mean: float
    stdev: float | None
    cv: float | None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a summary needs at least one value")
        if not self.minimum <= self.median <= self.maximum:
            raise ValueError(f"median {self.median} outside [{self.minimum}, {self.maximum}]")


def summarize(values: Iterable[float]) -> Summary | None:
    """Summary of the values, or None when there are none."""
    data = [float(value) for value in values]
    if not data:
        return None
    if any(not math.isfinite(value) for value in data):
        raise ValueError(f"not a finite number among {data}")
    mean = statistics.fmean(data)
    # Sample standard deviation (n - 1): the repeats are a sample of possible builds.
    stdev = statistics.stdev(data) if len(data) >= 2 else None
    cv = stdev / mean if stdev is not None and mean != 0 else None
    return Summary(
        count=len(data),
        median=statistics.median(data),
        minimum=min(data),
        maximum=max(data),
        mean=mean,
        stdev=stdev,
        cv=cv,
    )


def is_unstable(summary: Summary) -> bool:
    """True when the spread is large: coefficient of variation >= 10 %."""
    return summary.cv is not None and summary.cv >= UNSTABLE_CV


def small_sample(summary: Summary) -> bool:
    """True when there are fewer than 3 samples."""
    return summary.count < MIN_SAMPLES
