"""YAML reading that remembers the line of every key and item."""

from __future__ import annotations

from pathlib import Path

import yaml

from martctl.errors import Problem
from martctl.project.textfile import UnreadableFile, read_text

ALIAS_LIMIT = 100_000  # values that YAML aliases may add to one file (a 517-byte "billion laughs" adds 387 million)

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlMap(dict):
    """A mapping that knows its own line and each key's line (1-based)."""

    line: int = 0
    lines: dict
    value_nodes: dict


class YamlList(list):
    line: int = 0
    lines: list


class _Refused(yaml.MarkedYAMLError):
    """A well-formed YAML file martctl refuses (a duplicate key, an alias bomb), with its fix."""

    def __init__(self, problem: str, mark, hint: str):
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def expanded_size(root) -> tuple[int, int]:
    """(values once aliases are expanded, distinct nodes), counted without expanding anything."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if id(node) in open_nodes:
            raise _Refused("an alias refers to the collection it is in", node.start_mark,
                           "a YAML alias (*name) must not point at its own parent: write the value out")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)], len(sizes)


def _biggest_entry(node):
    """The top-level key (or item) holding most of an expanded document: where to point."""
    if isinstance(node, yaml.MappingNode) and node.value:
        return max(node.value, key=lambda pair: expanded_size(pair[1])[0])[0]
    if isinstance(node, yaml.SequenceNode) and node.value:
        return max(node.value, key=lambda item: expanded_size(item)[0])
    return node


class _AliasLimit:
    """Refuses a document whose aliases expand it by more than ALIAS_LIMIT values, before building it."""

    document = "this file"
    aliased = True  # False: the text has no anchor and alias (`&name`, `*name`) to count

    def construct_document(self, node):
        if not self.aliased:
            return super().construct_document(node)
        expanded, distinct = expanded_size(node)
        if expanded - distinct > ALIAS_LIMIT:
            raise _Refused(
                f"YAML aliases expand {self.document} to {expanded:,} values (more than {ALIAS_LIMIT:,} added)",
                _biggest_entry(node).start_mark,
                "write the values out, or use fewer nested aliases (*name): this looks like an alias bomb",
            )
        return super().construct_document(node)


class PlainLoader(_AliasLimit, _Base):
    """yaml.safe_load's loader with the alias limit (for YAML from the command line)."""

    document = "the value"


class _LineLoader(_AliasLimit, _Base):
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
            if key in mapping.lines:
                raise _Refused(
                    f"duplicate key '{key}' (first on line {mapping.lines[key]})",
                    key_node.start_mark,
                    "YAML keeps only the last of two equal keys: remove or rename one of them",
                )
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
        try:
            text = read_text(path)
        except UnreadableFile as exc:
            raise YamlProblem(exc.problem) from None
    try:
        loader = _LineLoader(text)
        loader.aliased = "*" in text and "&" in text  # an alias (*name) needs an anchor (&name)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except RecursionError:
        raise YamlProblem(Problem("invalid YAML: nested too deeply", path,
                                  hint="flatten the nesting: martctl's files need a few levels, not hundreds")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        lines = text.splitlines()
        snippet = lines[line - 1] if line and line <= len(lines) else None
        refused = isinstance(exc, _Refused)
        raise YamlProblem(
            Problem(
                f"{'' if refused else 'invalid YAML: '}{exc.problem or exc.context}",
                path,
                line,
                col,
                hint=exc.hint if refused else "check the indentation and quoting near this line",
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
