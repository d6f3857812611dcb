"""The docs site: a static catalog of the project (pages, search, lineage pictures) written by `martctl docs build`."""
