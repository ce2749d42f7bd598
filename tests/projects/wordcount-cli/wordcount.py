"""Count words, lines and characters in files or standard input."""

import argparse
import sys

VERSION = "1.2"


def count(text: str) -> tuple[int, int, int]:
    return len(text.splitlines()), len(text.split()), len(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="wordcount", description=__doc__)
    parser.add_argument("files", nargs="*", help="files to count (default: stdin)")
    parser.add_argument("--version", action="version", version=f"wordcount {VERSION}")
    args = parser.parse_args(argv)
    sources = [(name, open(name, encoding="utf-8").read()) for name in args.files]
    if not sources:
        sources = [("-", sys.stdin.read())]
    for name, text in sources:
        lines, words, chars = count(text)
        print(f"{lines:8} {words:8} {chars:8} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
