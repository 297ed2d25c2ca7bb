"""Helpers shared by the suites that start real processes."""
