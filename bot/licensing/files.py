"""What a pull request's files say about licenses: ``SPDX-License-Identifier`` lines at the top
of new source files, the repository's ``REUSE.toml`` annotations (the REUSE specification,
version 3.3, as ``reuse lint`` reads it), and license texts added, edited or removed.
"""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
import tomllib
from collections.abc import Iterable
from typing import Any

# Text source files by extension: those a header can sit in. Data, images and lock files are
# not asked for one (REUSE covers them through REUSE.toml or a .license file).
SOURCE_EXTENSIONS = frozenset(
    """
    c h cc cpp cxx hpp hh hxx m mm cs fs java kt kts scala groovy gradle go rs swift dart
    py pyi pyx js mjs cjs jsx ts tsx vue svelte rb php pl pm lua r jl ex exs erl hrl clj cljs
    hs ml mli elm nim zig v sol sh bash zsh fish ps1 psm1 bat cmd sql proto thrift graphql
    css scss sass less html htm xml xsl tf hcl nix cmake mk
    """.split()
)
SOURCE_NAMES = frozenset({"makefile", "dockerfile", "containerfile", "justfile", "cmakelists.txt"})
# Where a header is looked for: REUSE puts it in the first comment, after a shebang or an
# encoding line at most; twenty lines leave room for a copyright block above it.
HEADER_LINES = 20
_IDENTIFIER = re.compile(
    r"SPDX-License-Identifier:[ \t]*(?P<expression>.*?)[ \t]*(?:\*/|-->|\*\)|#\}|\]\]|\"\"\"|'''|-\}|%>)?[ \t]*$",
    re.MULTILINE,
)
_LICENSE_TEXT = re.compile(r"(?:licen[cs]e|copying|notice)(?:[._-].*)?", re.IGNORECASE)


def is_source_file(path: str) -> bool:
    name = posixpath.basename(path).lower()
    if name in SOURCE_NAMES:
        return True
    _, dot, extension = name.rpartition(".")
    return bool(dot) and extension in SOURCE_EXTENSIONS


def is_license_text(path: str) -> bool:
    """``LICENSE``, ``LICENCE``, ``COPYING`` or ``NOTICE`` (any suffix but a source file's:
    ``license.py`` is code) anywhere, or a file in a top-level ``LICENSES/`` folder (where
    REUSE keeps the texts)."""
    named = bool(_LICENSE_TEXT.fullmatch(posixpath.basename(path))) and not is_source_file(path)
    return named or path.startswith("LICENSES/")


def added_lines(patch: str | None) -> list[str]:
    """The lines a unified diff adds, without their ``+``: for an added file, its content."""
    return [line[1:] for line in (patch or "").splitlines() if line.startswith("+") and not line.startswith("+++")]


def header_expression(lines: Iterable[str]) -> str | None:
    """The expression of the first ``SPDX-License-Identifier:`` line among the first
    ``HEADER_LINES`` lines, without a comment's closing marks; None where there is none."""
    for number, line in enumerate(lines):
        if number >= HEADER_LINES:
            break
        match = _IDENTIFIER.search(line)
        if match and match.group("expression"):
            return match.group("expression")
    return None


@functools.lru_cache(maxsize=512)
def glob_pattern(glob: str) -> re.Pattern[str]:
    """REUSE's path globs: ``*`` any characters but ``/``, ``**`` any characters, ``\\*`` a
    star; everything else literal, letter case included."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("\\\\", i):
            out.append(re.escape("\\"))
            i += 2
        elif glob.startswith("\\*", i):
            out.append(re.escape("*"))
            i += 2
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def path_matches(path: str, glob: str) -> bool:
    return glob_pattern(glob.lstrip("/")).fullmatch(path) is not None


class ReuseError(ValueError):
    """A REUSE.toml that does not parse or does not follow the specification."""


@dataclasses.dataclass(frozen=True)
class Annotation:
    paths: tuple[str, ...]
    license: str | None  # the expression; several identifiers are joined with AND
    precedence: str = "closest"  # closest, aggregate or override


@dataclasses.dataclass(frozen=True)
class ReuseToml:
    """The repository's top-level ``REUSE.toml`` (paths relative to the repository root)."""

    annotations: tuple[Annotation, ...] = ()

    @classmethod
    def parse(cls, text: str) -> ReuseToml:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ReuseError(f"REUSE.toml is not TOML: {exc}") from None
        if data.get("version") != 1:
            raise ReuseError("REUSE.toml: version must be 1")
        annotations = []
        for number, table in enumerate(data.get("annotations") or [], 1):
            annotations.append(_annotation(table, number))
        return cls(tuple(annotations))

    def covering(self, path: str) -> Annotation | None:
        """The annotation that speaks for ``path``: the last one whose globs match it."""
        for annotation in reversed(self.annotations):
            if annotation.license and any(path_matches(path, glob) for glob in annotation.paths):
                return annotation
        return None


def _annotation(table: Any, number: int) -> Annotation:
    where = f"REUSE.toml, annotation {number}"
    if not isinstance(table, dict):
        raise ReuseError(f"{where}: not a table")
    paths = _strings(table.get("path"), f"{where}: path")
    if not paths:
        raise ReuseError(f"{where}: path is missing")
    precedence = table.get("precedence", "closest")
    if precedence not in ("closest", "aggregate", "override"):
        raise ReuseError(f"{where}: precedence must be closest, aggregate or override, not {precedence!r}")
    identifiers = _strings(table.get("SPDX-License-Identifier"), f"{where}: SPDX-License-Identifier")
    license = " AND ".join(f"({expression})" if len(identifiers) > 1 else expression for expression in identifiers) or None
    return Annotation(tuple(paths), license, precedence)


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ReuseError(f"{where} must be a string or a list of strings")


def declared_license(own: str | None, annotation: Annotation | None) -> tuple[str | None, str]:
    """A file's license as REUSE reads it, from its own header and the annotation covering it,
    and where that came from."""
    if annotation is None:
        return own, "header"
    if annotation.precedence == "override" or own is None:
        return annotation.license, "REUSE.toml"
    if annotation.precedence == "aggregate":
        return f"({own}) AND ({annotation.license})", "header and REUSE.toml"
    return own, "header"
