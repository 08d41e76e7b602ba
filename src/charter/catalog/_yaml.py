"""
YAML reading that remembers where every value came from (line and column, 1-based).

PyYAML's composer gives nodes with marks; we construct plain Python values from them and
keep a map from each value's path (a tuple of keys and indexes) to its position, so a
validation error on ``inventory[3].qualifier`` can name the exact line and column.
Duplicate mapping keys, which PyYAML would silently overwrite, are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's C parser when PyYAML was built with it (about 20x faster); same nodes and marks.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass
class LocatedDocument:
    """A parsed YAML document plus the position of every value (and every key)."""

    value: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    key_positions: dict[Path, Position] = field(default_factory=dict)
    duplicates: list[tuple[Path, Position]] = field(default_factory=list)

    def locate(self, path: Path) -> Position | None:
        """The position of the deepest known prefix of ``path``."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.positions:
                return self.positions[prefix]
        return None

    def locate_key(self, path: Path) -> Position | None:
        """The position of the key that holds ``path`` (for unknown-field errors)."""
        return self.key_positions.get(path) or self.locate(path)


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; carries the 1-based position of the problem."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class LazyLocatedDocument(LocatedDocument):
    """
    A document parsed by the fast path, whose positions are computed only when asked for.

    Positions are needed only to report problems, so a valid catalog never pays for them.
    """

    def __init__(self, text: str, value: Any) -> None:
        super().__init__(value=value)
        self._text: str | None = text

    def _ensure(self) -> None:
        if self._text is not None:
            located = parse_located(self._text)
            self._text = None
            self.positions = located.positions
            self.key_positions = located.key_positions

    def locate(self, path: Path) -> Position | None:
        self._ensure()
        return super().locate(path)

    def locate_key(self, path: Path) -> Position | None:
        self._ensure()
        return super().locate_key(path)


def parse_fast(text: str) -> Any:
    """
    Parse YAML without positions, with a Rust parser when installed (about 7x faster).

    Raises:
        YamlSyntaxError: the fast parser rejected the text (including duplicate keys); the
            caller re-parses with :func:`parse_located` for a located message.
    """
    if _fast_loads is None:
        return yaml.load(text, Loader=_COMPOSER)  # noqa: S506 - CSafeLoader/SafeLoader only
    try:
        return _fast_loads(text)
    except _FastError as exc:
        raise YamlSyntaxError(str(exc).splitlines()[0], None, None) from None


def _load_fast_parser() -> tuple[Callable[[str], Any] | None, type[Exception]]:
    try:  # yaml-rs: a fast YAML 1.2 parser; duplicate keys are errors by default
        import yaml_rs  # noqa: PLC0415 - optional accelerator
    except ImportError:  # pragma: no cover - the located PyYAML path still works
        return None, ValueError
    return yaml_rs.loads, yaml_rs.YAMLDecodeError


_fast_loads, _FastError = _load_fast_parser()


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def parse_located(text: str) -> LocatedDocument:
    """
    Parse one YAML document, keeping positions.

    Raises:
        YamlSyntaxError: the text is not valid YAML (bad indentation, unclosed quote, ...).
    """
    try:
        root = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlSyntaxError(f"invalid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        raise YamlSyntaxError(f"invalid YAML: {exc}", None, None) from None
    doc = LocatedDocument(value=None)
    if root is None:
        return doc
    constructor = yaml.SafeLoader("")
    try:
        doc.value = _build(root, (), doc, constructor)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlSyntaxError(f"invalid YAML value: {exc.problem}", line, col) from None
    return doc


def _build(node: yaml.Node, path: Path, doc: LocatedDocument, loader: yaml.SafeLoader) -> Any:
    doc.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                key_node.value
                if key_node.tag == _STR_TAG
                else loader.construct_object(key_node, deep=True)
            )
            if not isinstance(key, (str, int)):
                key = str(key)
            child = (*path, key)
            if key in out:
                doc.duplicates.append((child, _mark(key_node)))
                continue
            doc.key_positions[child] = _mark(key_node)
            out[key] = _build(value_node, child, doc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, loader) for i, item in enumerate(node.value)]
    if node.tag == _STR_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


_STR_TAG = "tag:yaml.org,2002:str"
