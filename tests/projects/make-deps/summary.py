"""Print a summary table of this week's builds."""

from rich.console import Console
from rich.table import Table

BUILDS = [("main", 41, 2), ("release", 9, 0), ("docs", 5, 1)]


def main() -> None:
    table = Table(title="builds this week")
    for column in ("branch", "passed", "failed"):
        table.add_column(column)
    for branch, passed, failed in BUILDS:
        table.add_row(branch, str(passed), str(failed))
    Console(width=60).print(table)


if __name__ == "__main__":
    main()
