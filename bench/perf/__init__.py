"""The harness measured against its peers (`docker build`, dive): `python -m bench perf`."""
