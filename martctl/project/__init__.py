"""The project model and loading it (config.yaml, marts' YAML and SQL, seeds, env vars)."""
