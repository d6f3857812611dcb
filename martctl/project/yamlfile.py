"""YAML reading that remembers the line of every key and item."""

from __future__ import annotations

from pathlib import Path

import yaml

from martctl.errors import Problem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlMap(dict):
    """A mapping that knows its own line and each key's line (1-based)."""

    line: int = 0
    lines: dict
    value_nodes: dict


class YamlList(list):
    line: int = 0
    lines: list


class _LineLoader(_Base):
    def construct_mapping(self, node, deep=False):
        mapping = YamlMap()
        mapping.line = node.start_mark.line + 1
        mapping.lines = {}
        mapping.value_nodes = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value", key_node.start_mark
                )
            key = str(key)
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
            mapping.value_nodes[key] = (value_node.start_mark.line + 1, getattr(value_node, "style", None))
        return mapping

    def construct_sequence(self, node, deep=False):
        seq = YamlList(self.construct_object(child, deep=True) for child in node.value)
        seq.line = node.start_mark.line + 1
        seq.lines = [child.start_mark.line + 1 for child in node.value]
        return seq


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def read_yaml(path: Path, text: str | None = None):
    """Parse a YAML file; a syntax error becomes a Problem with file:line."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        lines = text.splitlines()
        snippet = lines[line - 1] if line and line <= len(lines) else None
        raise YamlProblem(
            Problem(
                f"invalid YAML: {exc.problem or exc.context}",
                path,
                line,
                col,
                hint="check the indentation and quoting near this line",
                snippet=snippet,
            )
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(f"invalid YAML: {exc}", path)) from None


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render())


def key_line(mapping, key: str) -> int | None:
    lines = getattr(mapping, "lines", None) or {}
    return lines.get(key, getattr(mapping, "line", None))


def value_first_line(mapping, key: str) -> int:
    """The line where a scalar value's text starts (block scalars start below their key)."""
    line, style = (getattr(mapping, "value_nodes", None) or {}).get(key, (getattr(mapping, "line", 1), None))
    return line + 1 if style in ("|", ">") else line
