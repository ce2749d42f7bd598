"""Greets over HTTP."""
