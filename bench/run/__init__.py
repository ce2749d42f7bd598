"""Manifest -> results: a run's session, one function per scenario, the smoke test, progress."""
