"""Data tests, unit tests and their reports."""
