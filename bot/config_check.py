"""Check a ``.github/community-bot.yml`` against the config schema, saying on which line of the
file each problem is, for ``community-bot config check``.

Only the file itself is checked: ``_extends`` is checked for its shape but not followed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import jsonschema
import yaml

from .config import SCHEMA, error_message

_validator = jsonschema.Draft202012Validator(SCHEMA)


class Problem(NamedTuple):
    """What is wrong, on which line (1-based), at which key path (``""`` for none, e.g. a YAML
    syntax error)."""

    line: int
    key: str
    message: str

    def format(self, filename: str) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{filename}:{self.line}: {where}{self.message}"


def check(text: str) -> list[Problem]:
    """Every problem with the config in ``text``, by line; [] when it is valid (an empty file is)."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
            if root is None:
                return []
            data = loader.construct_document(root)
        except yaml.YAMLError as exc:
            return [_yaml_problem(exc, text)]
        problems = [problem for error in _validator.iter_errors(data) for problem in _problems(error, root, loader)]
    finally:
        loader.dispose()
    return sorted(problems)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = exc.problem or exc.context or str(exc)
    elif isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}" if isinstance(exc.character, int) else exc.reason
    else:
        line, message = 1, str(exc)
    return Problem(line, "", f"not valid YAML: {message}")


def _problems(error: jsonschema.ValidationError, root: yaml.Node, loader: yaml.SafeLoader) -> Iterator[Problem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # One problem per unexpected key, each on that key's own line.
        extras = _additional_properties(error.instance, error.schema)
        for extra in extras:
            message = f"Additional properties are not allowed ({extra!r} was unexpected)"
            known = list(error.schema.get("properties", {}))
            close = difflib.get_close_matches(extra, known, n=1) if isinstance(extra, str) else []
            if close:
                message += f"; did you mean {close[0]!r}?"
            yield Problem(_line(root, [*path, extra], loader), _key([*path, extra]), message)
        if extras:
            return
    message = error_message(error)
    if not path and error.validator == "type":
        # The whole file, which may be long: say what it is rather than repeat it.
        message = f"the file must be a mapping of sections, not {_kind(error.instance)}"
    yield Problem(_line(root, path, loader), _key(path), message)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def _additional_properties(instance: dict[Any, Any], schema: dict[str, Any]) -> list[Any]:
    properties = schema.get("properties", {})
    patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
    return [
        key
        for key in instance
        if key not in properties and not (isinstance(key, str) and any(p.search(key) for p in patterns))
    ]


def _key(path: Sequence[Any]) -> str:
    return ".".join(str(part) for part in path) or "top level"


def _line(root: yaml.Node, path: Sequence[Any], loader: yaml.SafeLoader) -> int:
    """The 1-based line of what ``path`` names: a mapping entry's key, a sequence's item; else
    the nearest enclosing node that exists."""
    node, line = root, root.start_mark.line
    for part in path:
        if isinstance(node, yaml.MappingNode):
            entry = _entry(node, part, loader)
            if entry is None:
                break
            key_node, node = entry
            line = key_node.start_mark.line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _entry(node: yaml.MappingNode, key: Any, loader: yaml.SafeLoader) -> tuple[yaml.Node, yaml.Node] | None:
    # The last matching entry: where a key is repeated, the last one is the one that counts.
    for key_node, value_node in reversed(node.value):
        try:
            same = loader.construct_object(key_node, deep=True) == key
        except (yaml.YAMLError, TypeError):
            same = False
        if same:
            return key_node, value_node
    return None
