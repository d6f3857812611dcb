"""Running: adapters per warehouse, DDL, the scheduler, events, the run lock, artifacts."""
