"""Every text the bot writes: jinja2 templates, neutralised user text, hidden markers.

Templates are Markdown (autoescape off) with ``StrictUndefined``, so a misspelt variable is an
error rather than a silent blank. Whatever a template prints from a variable passes through
``neutralise``: a title or login cannot @-mention anyone or open an HTML comment. The only
mentions the bot makes are those wrapped in ``Mention``, for people it was asked to mention.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
from typing import Any

import jinja2
from cachetools import LRUCache

log = logging.getLogger(__name__)

_MENTION = re.compile(r"(?<![\w`/])@(?=[A-Za-z0-9_-])")
_MARKER = re.compile(r"<!-- community-bot:([a-z0-9_.-]+) -->")


class Mention(str):
    """A login or team the bot was asked to mention; printed as ``@name``, left un-neutralised."""

    def __new__(cls, name: str) -> Mention:
        return super().__new__(cls, "@" + name.lstrip("@"))


def neutralise(text: str) -> str:
    """Text that cannot mention people or teams, nor open or close an HTML comment."""
    text = _MENTION.sub("@\u200b", text)
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def _finalize(value: Any) -> Any:
    if isinstance(value, Mention):
        return value
    if isinstance(value, str):
        return neutralise(value)
    return value


def table_cell(value: Any) -> str:
    """Text that stays in its Markdown table cell: no pipe ends it, no newline breaks the row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def literal(text: str) -> str:
    """A template that prints ``text`` as it is, for messages written before templates were."""
    return "{% raw %}" + text.replace("{% endraw %}", "{ % endraw % }") + "{% endraw %}"


def marker(kind: str) -> str:
    """The hidden line that names the kind of a bot comment, so it is edited, not repeated."""
    if not re.fullmatch(r"[a-z0-9_.-]+", kind):
        raise ValueError(f"marker kinds are lower-case words: {kind!r}")
    return f"<!-- community-bot:{kind} -->"


def marker_kind(body: str | None) -> str | None:
    match = _MARKER.search(body or "")
    return match.group(1) if match else None


def with_marker(body: str, kind: str) -> str:
    return f"{body.rstrip()}\n\n{marker(kind)}\n"


class Renderer:
    """Renders the built-in templates, or a repository's override of one."""

    def __init__(self, directory: str | None = None) -> None:
        # Repositories' overrides, compiled once each: a busy repository's every comment uses one.
        self._overrides: LRUCache[str, jinja2.Template] = LRUCache(maxsize=256)
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory or str(importlib.resources.files("templates"))),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            # The built-in templates ship with the package: no need to look at their files'
            # times before every render.
            auto_reload=False,
        )
        self._env.filters["cell"] = table_cell

    def render(self, name: str, variables: dict[str, Any], *, override: str | None = None) -> str:
        """The template ``name``; a repository's ``override`` wins unless it fails to render."""
        if override is not None:
            try:
                template = self._overrides.get(override)
                if template is None:
                    template = self._overrides[override] = self._env.from_string(override)
                return template.render(variables)
            except jinja2.TemplateError as exc:
                log.error(
                    "the repository's template %s failed, the built-in one is used: %s",
                    name,
                    exc,
                    extra={"fields": {"template": name, "reason": str(exc)}},
                )
        return self._env.get_template(name).render(variables)
