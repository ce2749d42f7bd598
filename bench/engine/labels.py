"""Labels on everything the harness creates, so cleanup can never touch anything else."""

CREATED_BY = "org.dockerfile-bench.created-by"
CREATED_BY_VALUE = "dockerfile-bench"
RUN_ID = "org.dockerfile-bench.run-id"
STANDIN = "org.dockerfile-bench.standin"
STANDIN_SOURCE = "org.dockerfile-bench.standin-source"
# A digest of the stand-in's recipe (its files and its base's recipe): a changed recipe
# means the registry's copy is stale and is rebuilt.
STANDIN_RECIPE = "org.dockerfile-bench.standin-recipe"


def for_run(run_id: str) -> dict[str, str]:
    # One label only: the classic builder appends a LABEL step per label to every build,
    # and each costs ~90 ms in the cached-rebuild timings. The run-id key says who made it.
    return {RUN_ID: run_id}
