"""The command-line skin: the only package that imports typer or rich."""
