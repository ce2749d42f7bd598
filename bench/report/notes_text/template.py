"""Every sentence and label of the study notes, as one record per language.

A template is a str.format string with named fields; the renderer (bench/report/notes.py)
fills them from the numbers, so no number is ever written here. A new language is one module
with one NotesText, added to LANGUAGES in this package's __init__.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The languages the notes are written in (`python -m bench notes --lang`).
Language = Literal["en", "ko"]


@dataclass(frozen=True)
class NotesText:
    """The complete wording of the notes in one language."""

    # Document -------------------------------------------------------------------------------
    title: str
    intro: str
    # Cells that are not a number.
    not_measured: str
    failed: str  # {reason}
    skipped: str  # {reason}
    # Percentages: {value} is the number, already rounded.
    percent: str
    # Where the numbers come from. {run_id} {date} {engine} {store} {driver} {bases}
    source: str
    bases_standin: str
    bases_registry: str
    source_sizes: str  # {source}
    source_times: str  # {source} {n} {cv}
    source_times_none: str  # {source}
    source_diff: str  # {source} {a} {b}
    source_dive: str  # {source}

    # Image size by base ---------------------------------------------------------------------
    size_heading: str
    size_header: tuple[str, str, str]
    multistage_label: str  # {base}
    size_sentence: str  # {smallest} {size} {saved} {largest} {largest_size} {compressed}
    size_why: str  # {largest} {largest_base} {smallest} {smallest_base} {top_min} {top_max}
    size_single: str  # {label} {size}
    size_none: str
    alpine_standin: str  # {label}: the run did not check wheels
    # The wheel check (bench/wheels/): the real base's libc ("glibc", "musl") is {libc}.
    alpine_not_representative: str  # {label}: a package has no musllinux wheel
    alpine_standin_all_wheels: str  # {label}: every package has a musllinux wheel
    not_representative_mark: str  # appended to the size cell of such a row
    wheels_missing_one: str  # {label} {libc} {count} {total} {packages}: {count} is 1
    wheels_missing: str  # {label} {libc} {count} {total} {packages}
    wheels_not_installable: str  # {packages}: no wheel and no sdist on the index asked
    wheels_all_musl: str  # {label} {total}

    # Build time -----------------------------------------------------------------------------
    time_heading: str
    time_situation: str
    time_header: str  # {variant}: a variant whose code edit was not measured
    time_good_header: str  # {variant}
    time_naive_header: str  # {variant}
    time_rows: tuple[str, str]  # first build, rebuild after a code edit
    time_cell: str  # {median} {n} {minimum} {maximum}
    time_cell_single: str  # {median}
    time_good_sentence: str  # {variant} {edit} {ratio} {cold} {rerun} {steps}
    time_naive_sentence: str  # {variant} {edit} {ratio} {cold} {busted} {reinstall}
    time_no_naive: str
    time_no_good: str
    time_incomplete: str  # {variant}

    # Size saved -----------------------------------------------------------------------------
    savings_heading: str
    savings_headline: str  # {saved} {label} {reference}
    savings_headline_larger: str  # {larger} {label} {reference}
    savings_none: str
    savings_header: tuple[str, str, str, str]
    savings_larger: str  # {percent}
    savings_vs_same_larger: str  # {label} {same} {delta} {base} {changes}
    savings_vs_same_smaller: str  # {label} {same} {delta} {changes}
    savings_only_in: str  # {packages} {label}
    diff_header: tuple[str, str]  # the group column, the change column
    package_label: str  # {name}
    group_names: dict[str, str]  # kind -> name, for every kind of bench.models.GROUP_KINDS
    list_separator: str

    # dive -----------------------------------------------------------------------------------
    dive_heading: str
    dive_header: tuple[str, str, str, str]
    dive_no_layer: str
    dive_wasted: str  # {wasted} {efficiency}
    dive_small: str  # {label} {wasted} {threshold}
    dive_large: str  # {label} {wasted}
    dive_remove: str  # {label} {bytecode} {tests}
