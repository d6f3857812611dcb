"""Table and column lineage, its cache and its exports."""
