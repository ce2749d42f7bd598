"""The size and cache-regression gate: baseline, rules as pure functions, rendering."""
