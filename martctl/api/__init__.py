"""The public API: open a project once, then validate, compile, seed, run, build, test, lineage."""
