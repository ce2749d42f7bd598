"""Convert an amount between currencies with a fixed table of rates."""

import click
from tabulate import tabulate

RATES_TO_EUR = {"EUR": 1.0, "USD": 0.92, "KRW": 0.00068, "JPY": 0.0061}


@click.command()
@click.option("--amount", default=100.0, show_default=True)
@click.option("--currency", default="EUR", type=click.Choice(sorted(RATES_TO_EUR)))
def main(amount: float, currency: str) -> None:
    """Print AMOUNT in CURRENCY converted to every currency in the table."""
    in_eur = amount * RATES_TO_EUR[currency]
    rows = [(code, round(in_eur / rate, 2)) for code, rate in sorted(RATES_TO_EUR.items())]
    click.echo(tabulate(rows, headers=["currency", "amount"]))


if __name__ == "__main__":
    main()
