"""Print a table's row counts from PostgreSQL, or the libpq this image links."""

import os
import sys

import psycopg2
import psycopg2.extensions


def main(argv: list[str]) -> int:
    if argv == ["--libpq-version"]:
        print(f"libpq {psycopg2.extensions.libpq_version()}, psycopg2 {psycopg2.__version__}")
        return 0
    with psycopg2.connect(os.environ["DATABASE_URL"]) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY 2 DESC")
            for name, rows in cursor.fetchall():
                print(f"{rows:10} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
