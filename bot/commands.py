"""Prow-style slash commands (``/assign``, ``/good-first-issue @octocat``) read from the Markdown
body of an issue or pull request comment.

A command is a line of its own, so a sentence that mentions ``/assign`` does not trigger it. Only
what a reader sees as typed by the commenter counts: GitHub's "Quote reply" copies commands into
``>`` lines, people paste commands into code blocks to explain them, and issue templates hide
instructions in HTML comments; bots that acted on those were the commonest complaint about Prow
and bedevere, so quotes, code and comments are skipped.

The reading is line by line and deliberately not a full CommonMark parser: container blocks such
as list items are not tracked, so a command in a list item (``- /assign``) is not one, and a
fence opened inside a list item is not seen as a fence.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

# Names are ASCII: with re.IGNORECASE alone, [a-z] would also match the Kelvin sign and long s.
_COMMAND = re.compile(r" {0,3}/([A-Za-z][A-Za-z0-9-]*)(?=\s|$)")
# A backtick fence's info string cannot hold a backtick: "```x```" is inline code, not a fence.
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}(?!.*`)|~{3,})")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_QUOTE = re.compile(r" {0,3}>")
_LINE_END = re.compile(r"\r\n?|\n")


@dataclasses.dataclass(frozen=True)
class Command:
    name: str  # lower-case, without the slash: "good-first-issue"
    arguments: tuple[str, ...]  # the words after it on its line, as written
    addressed: bool = False  # said to the bot by its name (``@slug add``), not typed as ``/add``


def commands(body: str, known: Iterable[str] | None = None, *, addressed_to: str | None = None) -> list[Command]:
    """The commands in a comment, in order: one per line, anywhere in the comment, repeats kept.

    A command line starts (after at most three spaces) with ``/name``, ``name`` being a letter
    then letters, digits and hyphens, followed by the end of the line or whitespace and the
    arguments. Lines in fenced or indented code, in block quotes and in HTML comments are not
    commands, and a comment on a command's line is not part of its arguments.

    Any line that merely looks like a command is one here: ``/usr/bin/env`` is not (a slash
    follows the name), but "/etc is read-only" reads as ``etc`` with arguments. Handlers should
    therefore pass ``known``, the names they act on; only those are returned. With ``known``
    None, every command-shaped line is.

    ``addressed_to``: a login (the app's slug) whose mention also starts a command, the way
    other bots are spoken to: ``@all-contributors add @octocat for code`` is ``add``.
    """
    wanted = None if known is None else {name.lower() for name in known}
    addressed = _addressed(addressed_to) if addressed_to else None
    found: list[Command] = []
    fence = ""  # the opening fence while inside fenced code
    in_comment = False
    for line in _LINE_END.split(body):
        if fence:
            close = _FENCE_CLOSE.fullmatch(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                fence = ""
            continue
        starts_in_comment = in_comment
        if not in_comment:
            if opening := _FENCE_OPEN.match(line):
                fence = opening.group(1)
                continue
            # Code and quotes are skipped whole: a "<!--" in them opens no comment.
            if line.startswith(("    ", "\t")) or _QUOTE.match(line):
                continue
        visible, in_comment = _outside_comments(line, in_comment)
        match = by_name = None
        if not starts_in_comment:
            match = _COMMAND.match(line)
            if match is None and addressed is not None:
                match = by_name = addressed.match(line)
        if match is None:
            continue
        name = match.group(1).lower()
        if wanted is None or name in wanted:
            # The matched prefix holds no "<!--", so it sits at the same place in `visible`.
            found.append(Command(name, tuple(visible[match.end() :].split()), addressed=by_name is not None))
    return found


def _addressed(login: str) -> re.Pattern[str]:
    return re.compile(rf" {{0,3}}@{re.escape(login)}[,:]?\s+([A-Za-z][A-Za-z0-9-]*)(?=\s|$)", re.IGNORECASE)


def _outside_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The parts of ``line`` outside HTML comments, and whether a comment is still open after it."""
    visible: list[str] = []
    pos = 0
    while True:
        if in_comment:
            end = line.find("-->", pos)
            if end < 0:
                return "".join(visible), True
            pos, in_comment = end + 3, False
        else:
            start = line.find("<!--", pos)
            if start < 0:
                visible.append(line[pos:])
                return "".join(visible), False
            visible.append(line[pos:start])
            pos, in_comment = start + 4, True
