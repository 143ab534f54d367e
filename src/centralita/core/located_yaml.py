"""YAML loading that keeps where every key and value is, so errors name FILE:LINE:COL.

The file is composed into ruamel.yaml nodes (YAML 1.2: `yes` and `08:00` are strings) and turned into
plain Python values by hand: duplicate keys become errors with their line instead of stopping the parse,
timestamps stay strings (pydantic parses dates), and every path gets its position. Used by the
configuration file and by contact flows (which also point inside a scalar: `Located.position_in`).
Aliases are expanded at most `MAX_VALUES` values in all, so an alias bomb is an error, not a hang.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from centralita.core.errors import FieldError
from centralita.core.i18n import _

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

__all__ = ["MAX_VALUES", "Located", "Path", "Position", "load_yaml"]

MAX_VALUES = 200_000  # values in one document, aliases expanded
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass
class Located:
    """A loaded YAML document: plain data plus the position of every key and value by path."""

    source: str
    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    scalars: set[Path] = field(default_factory=set)
    errors: list[FieldError] = field(default_factory=list)
    text: str = ""
    # a scalar's source extent (start and end offsets in `text`) and style (None plain, "'", '"', "|", ">")
    extents: dict[Path, tuple[int, int, str | None]] = field(default_factory=dict)

    def position(self, path: Path, at_key: bool = False) -> Position:
        """Where `path` is: a scalar's value, else its key, else the nearest enclosing item that exists."""
        for end in range(len(path), -1, -1):
            p = path[:end]
            if at_key and end == len(path) and p in self.keys:
                return self.keys[p]
            if p in self.scalars and p in self.values:
                return self.values[p]
            if p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
        return (1, 1)

    def position_in(self, path: Path, offset: int, fragment: str) -> Position:
        """Where the character at `offset` of the string scalar at `path` is in the file (`fragment`: the
        text found there, to find it again when quoting or line folding moved it); the scalar's own position
        when it cannot be told."""
        start = self.position(path)
        extent = self.extents.get(path)
        if extent is None:
            return start
        begin, end, style = extent
        source = self.text[begin:end]
        if style in (None, "'", '"') and "\n" not in source:
            skip = 1 if style in ("'", '"') else 0
            if source[skip + offset : skip + offset + len(fragment)] == fragment:
                return (start[0], start[1] + skip + offset)
        value = self._value(path)
        found = _align(source, value, style, offset) if isinstance(value, str) else -1
        if found < 0 or (fragment and source[found : found + len(fragment)] != fragment):
            found = source.find(fragment) if fragment else -1
        if found < 0:
            return start
        before = source[:found]
        line = start[0] + before.count("\n")
        column = found - before.rfind("\n") if "\n" in before else start[1] + found
        return (line, column)

    def _value(self, path: Path) -> Any:
        value = self.data
        for step in path:
            if isinstance(value, dict) and step in value:  # noqa: SIM114 - the list index is narrowed below
                value = value[step]
            elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
                value = value[step]
            else:
                return None
        return value

    def error(self, path: Path, message: str, at_key: bool = False) -> FieldError:
        line, column = self.position(path, at_key)
        return FieldError(list(path), message, line=line, column=column, source=self.source)


def _align(source: str, value: str, style: str | None, offset: int) -> int:
    """Where in `source` (a scalar as written: quoted, folded or literal) the character at `offset` of its
    `value` is (`len(value)`: just after its last character). The value's characters are matched in order; a
    space or line break of the value stands for a run of spaces, line breaks and indentation. -1 when they
    cannot be matched (an escape sequence)."""
    j = source.find("\n") + 1 if style in ("|", ">") else (1 if style in ("'", '"') else 0)
    pos = -1
    for i, char in enumerate(value[: offset + 1]):
        if char in " \n":
            while j < len(source) and source[j] not in " \t\r\n":
                j += 1
            if j >= len(source):
                return -1
            pos = j
            run = j
            while run < len(source) and source[run] in " \t":
                run += 1
            if run < len(source) and source[run] in "\r\n":  # a line break: the whole run stands for it
                while run < len(source) and source[run] in " \t\r\n":
                    run += 1
                j = run
            else:
                j += 1
        else:
            pos = source.find(char, j)
            if pos < 0:
                return -1
            j = pos + 1
        if i == offset:
            return pos
    return pos + 1 if value and offset >= len(value) else -1


def _pos(node: Node) -> Position:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, yaml: YAML, out: Located) -> None:
        self.yaml = yaml
        self.out = out
        self.stack: set[int] = set()
        self.count = 0

    def build(self, node: Node, path: Path) -> Any:
        self.out.values[path] = _pos(node)
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig
        if id(node) in self.stack:
            self.out.errors.append(self._at(node, path, _("a recursive alias is not supported")))
            return None
        self.stack.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self.stack.discard(id(node))

    def _build(self, node: Node, path: Path) -> Any:
        if isinstance(node, ScalarNode):
            self.out.scalars.add(path)
            self.out.extents[path] = (node.start_mark.index, node.end_mark.index, node.style)
            if node.tag == _TIMESTAMP_TAG:
                return str(node.value)
            return self.yaml.constructor.construct_object(node, deep=True)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            first: dict[Any, Position] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    self.out.errors.append(self._at(key_node, path, _("merge keys (<<) are not supported")))
                    continue
                if not isinstance(key_node, ScalarNode):
                    self.out.errors.append(self._at(key_node, path, _("a key must be a plain value")))
                    continue
                key = self.yaml.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | bool | float) and key is not None:
                    key = str(key_node.value)
                if key in first:
                    line = first[key][0]
                    message = _("duplicate key {key!r} (first at line {line})", key=key, line=line)
                    self.out.errors.append(self._at(key_node, (*path, key), message))
                    continue
                first[key] = _pos(key_node)
                self.out.keys[(*path, key)] = _pos(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        return None  # pragma: no cover - the composer only makes the three node kinds

    def _at(self, node: Node, path: Path, message: str) -> FieldError:
        line, column = _pos(node)
        return FieldError(list(path), message, line=line, column=column, source=self.out.source)


class _TooBig(Exception):
    pass


def _too_deep() -> str:
    return _("the document nests too deeply to be read")


def load_yaml(text: str, source: str) -> Located:
    """Parse `text`; syntax errors and duplicate keys are in `.errors` (data is None after a syntax error)."""
    out = Located(source=source, data=None, text=text)
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():  # an anchor defined again is valid YAML: the later one counts
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or _("not valid YAML")
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        syntax = _("YAML syntax: {message}", message=message)
        out.errors.append(FieldError([], syntax, line=line, column=column, source=source))
        return out
    except YAMLError as exc:
        out.errors.append(FieldError([], _("YAML syntax: {message}", message=exc), source=source))
        return out
    except RecursionError:  # ruamel.yaml composes nested collections recursively
        out.errors.append(FieldError([], _too_deep(), line=1, column=1, source=source))
        return out
    if node is None:
        out.data = {}
        return out
    try:
        out.data = _Builder(yaml, out).build(node, ())
    except (YAMLError, ValueError, TypeError, OverflowError) as exc:  # a scalar that cannot be constructed,
        out.errors.append(FieldError([], _("YAML: {message}", message=exc), source=source))  # e.g. !!int x
        out.data = None
    except RecursionError:
        out.errors.append(FieldError([], _too_deep(), line=1, column=1, source=source))
        out.data = None
    except _TooBig:
        message = _("the document expands to more than {count} values (aliases?)", count=MAX_VALUES)
        out.errors.append(FieldError([], message, line=1, column=1, source=source))
        out.data = None
    return out
