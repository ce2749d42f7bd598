"""`tally VOTES.csv`: count the votes per option, most first."""

import csv
import sys
from collections import Counter

import click


def tally(rows: list[list[str]]) -> list[tuple[str, int]]:
    return Counter(row[0].strip() for row in rows if row and row[0].strip()).most_common()


@click.command()
@click.argument("votes", type=click.File(encoding="utf-8"), required=False)
@click.option("--self-test", is_flag=True, help="tally a built-in sample and exit")
def main(votes, self_test: bool) -> None:
    if self_test:
        result = tally([["tea"], ["coffee"], ["tea"]])
        assert result == [("tea", 2), ("coffee", 1)], result
        click.echo("self-test passed")
        return
    if votes is None:
        raise click.UsageError("give a CSV file of votes, or --self-test")
    for option, count in tally(list(csv.reader(votes))):
        click.echo(f"{count:6} {option}")


if __name__ == "__main__":
    sys.exit(main())
