"""The one YAML reader for user files (task specs, reference tables): safe, and bounded.

PyYAML's ``SafeLoader`` runs no code, but on its own it accepts inputs a user never means:

* nesting 50,000 levels deep overflows Python's stack (its composer recurses);
* a few hundred bytes of nested aliases expand to millions of values (an "alias bomb"), which
  later code (the spec index, an error message) expands for real;
* a repeated key silently keeps its last value;
* an integer of more than 4,300 digits raises a plain ``ValueError`` (Python's int limit).

:func:`read_yaml` refuses each with one :class:`~harness.errors.SpecError` line naming the file
and the line. PyYAML is kept (rather than a stricter library such as strictyaml) because every
spec and table is written for it; the limits are a loader subclass.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import SpecError
from harness.paths import regular_file

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 2 * 2**20  # the largest shipped YAML file is 15 kB
MAX_DEPTH = 100  # nesting levels of sequences and mappings
MAX_NODES = 100_000  # values after expanding aliases (the largest shipped table has ~1,500)
MAX_INT_DIGITS = 4_300  # Python's default int <-> str limit (sys.get_int_max_str_digits)
_QUOTE = 200  # characters of a key quoted in a message


def read_yaml(path: Path, what: str) -> Any:
    """The value of the YAML file ``path`` (``what`` it is, for messages: "task spec", ...).

    Raises:
        SpecError: missing, not a regular file, unreadable, too large, not UTF-8, a YAML syntax error,
            or one of the limits above (one line: ``<path>: line <n>: <problem>``).
    """
    import yaml

    regular_file(path, error=SpecError)  # a FIFO or a device would block or never end
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise SpecError(f"{path}: cannot read ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"{path}: larger than {MAX_BYTES // 2**20} MiB; a {what} is a small text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise SpecError(f"{path}: line {line}: not UTF-8 text") from None
    loader_class, refused = _loader_classes()
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: {_describe(err, refused)}") from None
    finally:
        loader.dispose()


def _describe(err: yaml.YAMLError, refused: type) -> str:
    """``line <n>: <problem>`` for one YAML error (``refused``: one of this reader's limits)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = f"line {mark.line + 1}: " if mark else ""
    problem = (getattr(err, "problem", None) or "invalid YAML")[:_QUOTE]
    return f"{line}{problem}" if isinstance(err, refused) else f"{line}YAML syntax error ({problem})"


@lru_cache(maxsize=1)
def _loader_classes() -> tuple[type, type]:
    """The bounded ``SafeLoader`` subclass and its error (built on first use: PyYAML is imported
    lazily)."""
    import yaml
    from yaml.events import AliasEvent
    from yaml.nodes import MappingNode, SequenceNode

    class Refused(yaml.MarkedYAMLError):
        """Valid YAML this reader refuses (too deep, too many values, a repeated key)."""

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._total = 0  # values composed so far, aliases expanded
            self._sizes: dict[int, int] = {}  # id(node) -> values in it, aliases expanded

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, AliasEvent):
                node = self.anchors.get(event.anchor)
                if node is not None and id(node) not in self._sizes:
                    raise Refused(None, None, f"alias *{event.anchor} refers to a value that contains it", event.start_mark)
                size = self._sizes[id(node)] if node is not None else 0
            else:
                self._depth += 1
                if self._depth > MAX_DEPTH:
                    raise Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                size = 1
            self._total += size
            if self._total > MAX_NODES:
                raise Refused(None, None, f"more than {MAX_NODES:,} values (aliases expanded)", event.start_mark)
            node = super().compose_node(parent, index)
            if not isinstance(event, AliasEvent):
                self._depth -= 1
                self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, MappingNode):
                seen: set[Any] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        repeated = key in seen
                        seen.add(key)
                    except TypeError:  # unhashable: the base constructor reports it
                        continue
                    if repeated:
                        raise Refused(None, None, f"duplicate key {str(key)[:_QUOTE]!r}", key_node.start_mark)
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node: Any) -> int:
            if sum(c.isalnum() for c in node.value) > MAX_INT_DIGITS:
                raise Refused(None, None, f"an integer of more than {MAX_INT_DIGITS:,} digits", node.start_mark)
            return yaml.SafeLoader.construct_yaml_int(self, node)

    def _children(node: Any) -> list[Any]:
        if isinstance(node, SequenceNode):
            return node.value
        return [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else []

    BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
    return BoundedLoader, Refused

