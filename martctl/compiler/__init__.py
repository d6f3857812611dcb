"""SQL: parsing, resolving references into a graph, selecting, compiling for a dialect."""
