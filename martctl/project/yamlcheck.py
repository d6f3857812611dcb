"""Checking a YAML mapping against a schema of keys and types, gathering every problem."""

from __future__ import annotations

from pathlib import Path

from martctl.errors import Problem, did_you_mean
from martctl.project.yamlfile import key_line

TYPE_NAMES = {str: "a string", int: "a whole number", list: "a list", dict: "a mapping", bool: "true or false"}


def type_name(types) -> str:
    if isinstance(types, tuple):
        return " or ".join(TYPE_NAMES.get(t, t.__name__) for t in types)
    return TYPE_NAMES.get(types, types.__name__)


class Collector:
    """Gathers every problem so `validate` can report them all at once."""

    def __init__(self, folder=None):
        self.problems: list[Problem] = []
        self.folder = folder  # a paths.ProjectFolder: files read while checking must lie inside it

    def add(self, message, file=None, line=None, hint=None, **kw):
        self.problems.append(Problem(message, file, line, hint=hint, **kw))

    def check_mapping(self, mapping, schema: dict, file: Path, what: str) -> bool:
        """Unknown keys (with a did-you-mean) and wrong value types; such keys are reported, then dropped
        from `mapping` so the code reading it further sees only well-typed values."""
        if not isinstance(mapping, dict):
            self.add(f"{what} must be a mapping, got {kind_of(mapping)}", file, getattr(mapping, "line", None))
            return False
        bad = []
        for key, value in mapping.items():
            line = key_line(mapping, key)
            if key not in schema:
                hint = did_you_mean(key, schema) or f"allowed keys: {', '.join(sorted(schema))}"
                self.add(f"unknown key '{key}' in {what}", file, line, hint=hint)
                bad.append(key)
                continue
            types = schema[key]
            if value is None or (types is int and isinstance(value, bool)) or not isinstance(value, types):
                self.add(
                    f"'{key}' in {what} must be {type_name(types)}, got {describe(value)}",
                    file,
                    line,
                    hint=f"for example {key}: {example(types)}",
                )
                bad.append(key)
        for key in bad:
            del mapping[key]
        return True


EXAMPLES = {str: "some text", int: "4", list: "[a, b]", dict: "{key: value}", bool: "true"}


def example(types) -> str:
    return EXAMPLES.get(types[0] if isinstance(types, tuple) else types, "...")


def kind_of(value) -> str:
    """The YAML kind of a loaded value, as a user wrote it (not the loader's YamlMap/YamlList)."""
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def describe(value) -> str:
    if value is None:
        return "nothing"
    return f"{kind_of(value)} {value!r}"[:60]
