"""Tally votes from a CSV file."""
