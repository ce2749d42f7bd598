"""A queue worker: polls a spool directory and processes each job file it finds."""

import pathlib
import time

from tenacity import retry, stop_after_attempt, wait_fixed

SPOOL = pathlib.Path("/tmp/spool")


@retry(stop=stop_after_attempt(3), wait=wait_fixed(0.5))
def process(job: pathlib.Path) -> None:
    print(f"processed {job.name}: {len(job.read_bytes())} bytes", flush=True)
    job.unlink()


def main() -> None:
    SPOOL.mkdir(exist_ok=True)
    print(f"watching {SPOOL}", flush=True)
    while True:
        for job in sorted(SPOOL.glob("*.job")):
            process(job)
        time.sleep(1)


if __name__ == "__main__":
    main()
