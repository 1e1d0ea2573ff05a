"""The all-contributors files (https://allcontributors.org), kept exactly as its own tools write them.

Projects that use all-contributors keep a ``.all-contributorsrc`` (JSON) and a contributors table
in their README between ``<!-- ALL-CONTRIBUTORS-LIST:START ... -->`` and
``<!-- ALL-CONTRIBUTORS-LIST:END -->`` markers. The all-contributors CLI and its GitHub bot
rewrite both files on every addition, so anything we write must be byte for byte what they write:
otherwise their next run (or ours) shows up as a noisy diff of reformatted lines.

The format followed is all-contributors-cli 6.26.1, the release on npm's ``latest`` tag and the
one the all-contributors bot (all-contributors/app, ``all-contributors-cli ^6.23.0``) runs:
``<img src="AVATAR?s=100" width="100px;" alt="NAME"/>`` cells. The 6.27.0 release candidates
write ``?size=100`` through a URL parser and ``width="100px" height="100px"`` instead; READMEs
made by them are not reproduced.

The configuration is written as the bot writes it: ``JSON.stringify(config, null, 2)`` and a
newline. The CLI does the same unless the project has a Prettier configuration, in which case it
lets Prettier reformat the file (arrays on one line, tabs...); such files are rewritten in the
bot's layout, as the bot itself does.

Pure functions only: fetching files, asking GitHub for a user's name and avatar, and committing
are the caller's business.
"""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

LIST_START = "<!-- ALL-CONTRIBUTORS-LIST:START - Do not remove or modify this section -->"
LIST_END = "<!-- ALL-CONTRIBUTORS-LIST:END -->"
BADGE_START = "<!-- ALL-CONTRIBUTORS-BADGE:START - Do not remove or modify this section -->"
BADGE_END = "<!-- ALL-CONTRIBUTORS-BADGE:END -->"

# The CLI finds its sections by these prefixes, so the short "<!-- ALL-CONTRIBUTORS-LIST:START -->"
# of old READMEs works too.
_LIST_TAG = "<!-- ALL-CONTRIBUTORS-LIST:"
_BADGE_TAG = "<!-- ALL-CONTRIBUTORS-BADGE:"
_CLOSING = "-->"


class ContributionType(NamedTuple):
    symbol: str  # the emoji, exactly the CLI's code points (some carry variation selectors)
    description: str  # the link's title in the table


# The CLI's src/util/contribution-types.js, in its order (promotion last, as there). The a11y
# symbol really is four U+FE0F selectors, the wheelchair and a fifth selector: the table must carry
# the same code points as the CLI's or every regeneration would rewrite the cell.
CONTRIBUTION_TYPES: Mapping[str, ContributionType] = {
    "a11y": ContributionType("\ufe0f\ufe0f\ufe0f\ufe0f\u267f\ufe0f", "Accessibility"),
    "audio": ContributionType("\U0001f50a", "Audio"),
    "blog": ContributionType("\U0001f4dd", "Blogposts"),
    "bug": ContributionType("\U0001f41b", "Bug reports"),
    "business": ContributionType("\U0001f4bc", "Business development"),
    "code": ContributionType("\U0001f4bb", "Code"),
    "content": ContributionType("\U0001f58b", "Content"),
    "data": ContributionType("\U0001f523", "Data"),
    "design": ContributionType("\U0001f3a8", "Design"),
    "doc": ContributionType("\U0001f4d6", "Documentation"),
    "eventOrganizing": ContributionType("\U0001f4cb", "Event Organizing"),
    "example": ContributionType("\U0001f4a1", "Examples"),
    "financial": ContributionType("\U0001f4b5", "Financial"),
    "fundingFinding": ContributionType("\U0001f50d", "Funding Finding"),
    "ideas": ContributionType("\U0001f914", "Ideas, Planning, & Feedback"),
    "infra": ContributionType("\U0001f687", "Infrastructure (Hosting, Build-Tools, etc)"),
    "maintenance": ContributionType("\U0001f6a7", "Maintenance"),
    "mentoring": ContributionType("\U0001f9d1\u200d\U0001f3eb", "Mentoring"),
    "platform": ContributionType("\U0001f4e6", "Packaging/porting to new platform"),
    "plugin": ContributionType("\U0001f50c", "Plugin/utility libraries"),
    "projectManagement": ContributionType("\U0001f4c6", "Project Management"),
    "question": ContributionType("\U0001f4ac", "Answering Questions"),
    "research": ContributionType("\U0001f52c", "Research"),
    "review": ContributionType("\U0001f440", "Reviewed Pull Requests"),
    "security": ContributionType("\U0001f6e1\ufe0f", "Security"),
    "talk": ContributionType("\U0001f4e2", "Talks"),
    "test": ContributionType("\u26a0\ufe0f", "Tests"),
    "tool": ContributionType("\U0001f527", "Tools"),
    "translation": ContributionType("\U0001f30d", "Translation"),
    "tutorial": ContributionType("\u2705", "Tutorials"),
    "userTesting": ContributionType("\U0001f4d3", "User Testing"),
    "video": ContributionType("\U0001f4f9", "Videos"),
    "promotion": ContributionType("\U0001f4e3", "Promotion"),
}

# Which types link somewhere other than "#type-login": the CLI's repo/index.js, per repoType.
_LINKED_TYPES = {"code": "commits", "doc": "commits", "test": "commits", "bug": "issues", "review": "reviews"}
_REPO_LINKS = {
    "github": {
        "host": "https://github.com",
        "commits": "{host}/{owner}/{name}/commits?author={login}",
        "issues": "{host}/{owner}/{name}/issues?q=author%3A{login}",
        "reviews": "{host}/{owner}/{name}/pulls?q=is%3Apr+reviewed-by%3A{login}",
    },
    "gitlab": {
        "host": "https://gitlab.com",
        "commits": "{host}/{owner}/{name}/commits/master",
        "issues": "{host}/{owner}/{name}/issues?author_username={login}",
        "reviews": "{host}/{owner}/{name}/merge_requests?scope=all&state=all&approver_usernames[]={login}",
    },
}

# What the all-contributors bot accepts in "@all-contributors please add @x for ...": the
# aliases of all-contributors/app's lib/parse-comment.js, lower-cased. Official keys are matched
# case-insensitively beside these ("eventorganizing", "UserTesting").
_TYPE_ALIASES = {
    "accessibility": "a11y",
    "advertisement": "promotion",
    "blogs": "blog",
    "blogging": "blog",
    "bugs": "bug",
    "codes": "code",
    "coding": "code",
    "dataset": "data",
    "datasets": "data",
    "designing": "design",
    "designs": "design",
    "docs": "doc",
    "documenting": "doc",
    "documentation": "doc",
    "examples": "example",
    "finance": "financial",
    "financials": "financial",
    "funds": "fundingFinding",
    "idea": "ideas",
    "infras": "infra",
    "infrastructure": "infra",
    "maintaining": "maintenance",
    "management": "projectManagement",
    "managing": "projectManagement",
    "mentor": "mentoring",
    "music": "audio",
    "platforms": "platform",
    "plugins": "plugin",
    "project": "projectManagement",
    "projectmanaging": "projectManagement",
    "questions": "question",
    "reviews": "review",
    "securing": "security",
    "sound": "audio",
    "talks": "talk",
    "tests": "test",
    "testing": "test",
    "tools": "tool",
    "tooling": "tool",
    "translator": "translation",
    "translating": "translation",
    "translations": "translation",
    "tutorials": "tutorial",
    "videos": "video",
    # The bot's multi-word terms.
    "audio production": "audio",
    "audio recording": "audio",
    "music production": "audio",
    "data collection": "data",
    "data collections": "data",
    "data set": "data",
    "data sets": "data",
    "event organising": "eventOrganizing",
    "event organizing": "eventOrganizing",
    "fund finding": "fundingFinding",
    "funding finding": "fundingFinding",
    "user testing": "userTesting",
    "business development": "business",
    "project management": "projectManagement",
    "social media": "promotion",
}
_KEYS_BY_LOWER = {key.lower(): key for key in CONTRIBUTION_TYPES}

_DEFAULT_BADGE = (
    "[![All Contributors](https://img.shields.io/badge/all_contributors-<%= contributors.length %>"
    "-orange.svg?style=flat-square)](#contributors-)"
)
_FOOTER_LOGO = (
    "https://raw.githubusercontent.com/all-contributors/all-contributors-cli/"
    "1b8533af435da9854653492b1327a23a4dbd0a10/assets/logo-small.svg"
)
_FOOTER_LINK = "https://all-contributors.js.org/docs/en/bot/usage"


class UnsupportedOption(ValueError):
    """The configuration asks for something the CLI would evaluate as JavaScript (a
    ``contributorTemplate``, or a template with code in it): we refuse rather than write a table
    the CLI would write differently."""


class UnknownContributionType(ValueError):
    """A contribution type neither official nor declared in the configuration's ``types``; the CLI
    refuses to generate a table with one, with this same message."""


def normalise_type(word: str) -> str | None:
    """The official key for what a maintainer typed ("Docs", "tests", "infrastructure", "user
    testing"), or None when the all-contributors bot would not understand it either.

    Custom types declared in a project's ``types`` are the caller's to look up: they are not
    all-contributors' vocabulary."""
    text = " ".join(word.strip().strip(".,;:!?").split()).lower()
    if text in _KEYS_BY_LOWER:
        return _KEYS_BY_LOWER[text]
    return _TYPE_ALIASES.get(text)


# --- .all-contributorsrc ---------------------------------------------------------------------


def parse_rc(text: str) -> dict[str, Any]:
    """The configuration in a ``.all-contributorsrc``, key order kept. Raises ValueError for what
    ``JSON.parse`` refuses (the bot does not repair files; NaN and Infinity are not JSON) or when
    the file is not a JSON object."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    config = json.loads(text, parse_constant=refuse)
    if not isinstance(config, dict):
        raise ValueError(".all-contributorsrc must hold a JSON object")
    return config


def dump_rc(config: Mapping[str, Any]) -> str:
    """The file's text as the all-contributors bot writes it: ``JSON.stringify(config, null, 2)``
    and a newline. Non-ASCII stays as it is, keys keep their order (JavaScript's, in fact: keys
    that are array indices, like "2", come first, ascending), numbers are written as JavaScript
    writes them (``1.0`` becomes ``1``)."""
    return _stringify(config, "") + "\n"


def _stringify(value: Any, indent: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "null"
        return _js_number(value)
    if isinstance(value, str):
        return _js_quote(value)
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{_js_quote(key)}: {_stringify(value[key], inner)}" for key in _js_key_order(value)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + _stringify(item, inner) for item in value) + "\n" + indent + "]"
    raise TypeError(f"{type(value).__name__} is not JSON")


def _js_key_order(mapping: Mapping[str, Any]) -> list[str]:
    """JavaScript objects list integer-index keys first, ascending, then the others as inserted."""
    indices = []
    others = []
    for key in mapping:
        if not isinstance(key, str):
            raise TypeError("JSON object keys must be strings")
        if key.isdigit() and key.isascii() and str(int(key)) == key and int(key) < 2**32 - 1:
            indices.append(key)
        else:
            others.append(key)
    return sorted(indices, key=int) + others


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')


def _js_quote(text: str) -> str:
    """A JSON string as ``JSON.stringify`` writes it: only quotes, backslashes and control
    characters are escaped (lower-case hex), and lone surrogates (a Python str holds pairs as one
    code point, so any surrogate here is lone)."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _JSON_ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def _js_number(number: int | float) -> str:
    """``String(number)`` in JavaScript: shortest round-trip digits, exponent only from 1e21 up
    and below 1e-6. Integers beyond 2**53 lose precision there as well."""
    if isinstance(number, int) and abs(number) <= 2**53:
        return str(number)
    value = float(number)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digits_tuple, exponent = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    k = len(digits)
    n = exponent + k  # the decimal point's position in the digits, as ECMAScript numbers it
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


# --- adding contributions ----------------------------------------------------------------------


def add_contribution(
    config: dict[str, Any],
    login: str,
    name: str | None,
    avatar_url: str,
    profile: str,
    types: Iterable[str],
) -> bool:
    """Credit ``login`` for ``types`` in ``config`` (changed in place); True when it changed.

    As the all-contributors bot does it (the CLI's ``addContributorWithDetails`` after the bot has
    merged the old types in): logins match case-insensitively; an existing entry keeps its name,
    avatar, profile and types in their order, gains the new types at the end, and loses nothing
    (the CLI's prompt-driven ``add`` drops types missing from a shorter list; the bot avoids that,
    and so do we). Duplicate types, also ones already duplicated in the file, are kept once, the
    first occurrence winning (``{"type": ..., "url": ...}`` objects count by their type). A new
    person is appended as ``login, name, avatar_url, profile, contributions``, the name falling back
    to the login as the bot's does when GitHub has none.

    Types must be official keys (see ``normalise_type``) or declared in the configuration's
    ``types``: anything else raises UnknownContributionType before anything changes, since the
    CLI would refuse to draw the table afterwards."""
    wanted = list(types)
    if not wanted:
        raise ValueError("no contribution types given")
    known = _types(config)
    for type_ in wanted:
        if type_ not in known:
            raise UnknownContributionType(f"Unknown contribution type {type_} for contributor {login}")
    contributors = config.get("contributors")
    if contributors is None:
        contributors = config["contributors"] = []
    if not isinstance(contributors, list):
        raise ValueError("the configuration's contributors is not a list")
    lowered = login.lower()
    changed = False
    found = False
    # Every matching entry, as the CLI's map over the list does when a login is listed twice.
    for contributor in contributors:
        existing_login = contributor.get("login") if isinstance(contributor, dict) else None
        if not isinstance(existing_login, str) or not existing_login or existing_login.lower() != lowered:
            continue
        found = True
        existing = contributor.get("contributions") or []
        merged = _unique_types([*existing, *wanted])
        if merged != existing:
            contributor["contributions"] = merged
            changed = True
    if not found:
        contributors.append(
            {
                "login": login,
                "name": name or login,
                "avatar_url": avatar_url,
                "profile": profile,
                "contributions": _unique_types(wanted),
            }
        )
        changed = True
    return changed


def _type_key(contribution: Any) -> Any:
    """The CLI's ``contribution.type || contribution``: an object without a type is only itself."""
    if isinstance(contribution, Mapping):
        return contribution.get("type") or id(contribution)
    return contribution


def _unique_types(contributions: list[Any]) -> list[Any]:
    seen: list[Any] = []
    result = []
    for contribution in contributions:
        key = _type_key(contribution)
        if key not in seen:
            seen.append(key)
            result.append(contribution)
    return result


# --- the README ---------------------------------------------------------------------------------


def has_list_markers(readme_text: str) -> bool:
    """Whether the CLI would find a contributors list to fill in ``readme_text``."""
    return _find_section(readme_text, _LIST_TAG) is not None


def render_table(config: Mapping[str, Any], indent: int = 0) -> str:
    """What the CLI's ``generate`` writes between the list's START marker (after its ``-->``) and
    ``<!-- ALL-CONTRIBUTORS-LIST:END``: the prettier/markdownlint guards, and the ``<table>`` of
    ``contributors`` in rows of ``contributorsPerLine`` (default 7) with ``imageSize`` avatars
    (default 100), the ``linkToUsage`` footer, or no table when nobody is listed.

    ``indent`` is the START marker's column (the CLI indents the table's first line by it).

    Follows the CLI, not the bot, where they differ: a configuration without ``repoType`` is a
    GitHub one (the CLI's reading of the file adds it; the bot, which does not, links code to
    ``#code-login`` there). ``contributorsSortAlphabetically``, custom ``types`` and
    ``wrapperTemplate``/``badgeTemplate``/type links made of plain ``<%= a.b %>`` substitutions are
    honoured; ``contributorTemplate`` is not supported (UnsupportedOption), nor are templates with
    code in them."""
    options = _options(config)
    contributors = options["contributors"]
    if not isinstance(contributors, list):
        raise ValueError("the configuration's contributors is not a list")
    content = "\n" if not contributors else _contributors_list(options, contributors)
    # The CLI's String.replace with a string pattern: only the first newline gets the indent.
    content = content.replace("\n", "\n" + " " * max(indent, 0), 1)
    return (
        "\n<!-- prettier-ignore-start -->"
        "\n<!-- markdownlint-disable -->"
        f"{content}"
        "<!-- markdownlint-restore -->"
        "\n<!-- prettier-ignore-end -->"
        "\n\n"
    )


def render_badge(config: Mapping[str, Any]) -> str:
    """The shields.io badge with the number of contributors (or the project's ``badgeTemplate``)."""
    options = _options(config)
    contributors = options["contributors"]
    template = options.get("badgeTemplate") or _DEFAULT_BADGE
    return _template(template, {"contributors": contributors})


def update_readme(readme_text: str, config: Mapping[str, Any]) -> str:
    """``readme_text`` with its contributors list and its badge regenerated from ``config``, as the
    CLI's ``generate`` does; nothing outside the markers changes.

    A README without the LIST markers gets no table: it comes back unchanged (unless it has the
    BADGE markers, whose badge is updated on its own, as the CLI does). Adding the markers is the
    caller's decision; ``has_list_markers`` tells whether they are there. Only the first section of
    each kind is filled, like the CLI."""
    result = readme_text
    section = _find_section(result, _LIST_TAG)
    if section is not None:
        start, after_opening, closing = section
        result = result[:after_opening] + render_table(config, _indent(result, start) - 1) + result[closing:]
    section = _find_section(result, _BADGE_TAG)
    if section is not None:
        start, after_opening, closing = section
        badge = render_badge(config).replace("\n", "\n" + " " * _indent(result, start), 1)
        result = result[:after_opening] + "\n" + badge + "\n" + result[closing:]
    return result


def _find_section(text: str, tag: str) -> tuple[int, int, int] | None:
    """(START marker's index, index after its ``-->``, END marker's index), searched as the CLI
    does: the first START, the first ``-->`` after it, the first END after that."""
    start = text.find(tag + "START")
    if start == -1:
        return None
    opening_end = text.find(_CLOSING, start)
    if opening_end == -1:
        return None
    closing = text.find(tag + "END", opening_end)
    if closing == -1:
        return None
    return start, opening_end + len(_CLOSING), closing


def _indent(text: str, start: int) -> int:
    """The CLI's count: characters from the last newline before the marker (included) to it, so a
    marker at a line's start counts 1; on the first line, its column."""
    return start - min(start, max(0, text.rfind("\n", 0, start)))


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration as the CLI's generate sees it: its command-line defaults under the file."""
    if config.get("contributorTemplate"):
        raise UnsupportedOption("contributorTemplate is JavaScript for the CLI to evaluate; not supported")
    options: dict[str, Any] = {"files": ["README.md"], "contributorsPerLine": 7, "contributors": []}
    options.update(config)
    if "repoType" not in config:
        options["repoType"] = "github"
    per_line = options["contributorsPerLine"]
    # The bot's rule: anything but an integer means 7.
    if isinstance(per_line, bool) or not isinstance(per_line, int):
        options["contributorsPerLine"] = per_line = 7
    if per_line < 1:
        raise ValueError("contributorsPerLine must be at least 1")
    if options["contributors"] is None:
        options["contributors"] = []
    return options


def _types(options: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    types: dict[str, Mapping[str, Any]] = {
        key: {"symbol": symbol, "description": description} for key, (symbol, description) in CONTRIBUTION_TYPES.items()
    }
    custom = options.get("types")
    if isinstance(custom, Mapping):
        # Object.assign: a project's type replaces the official one whole (no link unless given).
        types.update({key: value for key, value in custom.items() if isinstance(value, Mapping)})
    return types


def _contributors_list(options: Mapping[str, Any], contributors: list[Any]) -> str:
    per_line = options["contributorsPerLine"]
    ordered = list(contributors)
    if _truthy(options.get("contributorsSortAlphabetically")):
        # lodash's sortBy on name (6.26.1): UTF-16 code-unit order, stable, entries without a
        # string name last.
        named = [c for c in ordered if isinstance(c.get("name"), str)]
        unnamed = [c for c in ordered if not isinstance(c.get("name"), str)]
        ordered = sorted(named, key=lambda c: c["name"].encode("utf-16-be")) + unnamed
    cells = [_format_contributor(options, contributor) for contributor in ordered]
    width = _cell_width(per_line)
    attributes = f'align="center" valign="top" width="{width}%"'
    lines = [
        f"<td {attributes}>" + f"</td>\n      <td {attributes}>".join(cells[i : i + per_line]) + "</td>"
        for i in range(0, len(cells), per_line)
    ]
    wrapper = options.get("wrapperTemplate")
    separator = "\n    </tr><br />\n    <tr>\n      " if wrapper else "\n    </tr>\n    <tr>\n      "
    body = "\n    <tr>\n      " + separator.join(lines) + "\n    </tr>\n"
    footer = ""
    if _truthy(options.get("linkToUsage")):
        footer = (
            "  <tfoot>\n    "
            f'<tr>\n      <td align="center" size="13px" colspan="{_js_string(per_line)}">\n'
            f'        <img src="{_FOOTER_LOGO}">\n'
            f'          <a href="{_FOOTER_LINK}">Add your contributions</a>\n'
            "        </img>\n      </td>\n    </tr>"
            "\n  </tfoot>\n"
        )
    if wrapper:
        return _template(f"\n{wrapper}\n\n", {"bodyContent": body, "tableFooterContent": footer})
    return f"\n<table>\n  <tbody>{body}  </tbody>\n{footer}</table>\n\n"


def _cell_width(per_line: int) -> str:
    """lodash's ``floor(100 / n, 2)``, which shifts the decimal point in the number's text rather
    than multiplying, so 100/7 gives 14.28 and no float artefacts."""
    shifted = decimal.Decimal(repr(100 / per_line)).scaleb(2).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return _js_number(float(shifted.scaleb(-2)))


def _format_contributor(options: Mapping[str, Any], contributor: Mapping[str, Any]) -> str:
    contributions = " ".join(
        _format_contribution(options, contributor, contribution)
        for contribution in contributor.get("contributions") or []
    )
    raw_name = contributor.get("name") or contributor.get("login")
    if not isinstance(raw_name, str):
        raise ValueError("a contributor has neither a name nor a login")
    name = raw_name.replace("|", "&#124;").replace('"', "&quot;")
    image_size = _js_string(options["imageSize"]) if "imageSize" in options else "100"
    avatar = (
        f'<img src="{_js_string(contributor.get("avatar_url"))}?s={image_size}" width="{image_size}px;" alt="{name}"/>'
    )
    profile = contributor.get("profile")
    if _truthy(profile):
        block = f'<a href="{_js_string(profile)}">{avatar}<br /><sub><b>{name}</b></sub></a>'
    else:
        block = f"{avatar}<br /><sub><b>{name}</b></sub>"
    return f"{block}<br />{contributions}"


def _format_contribution(options: Mapping[str, Any], contributor: Mapping[str, Any], contribution: Any) -> str:
    is_object = isinstance(contribution, Mapping)
    key = contribution.get("type") if is_object else contribution
    types = _types(options)
    type_ = types.get(key) if isinstance(key, str) else None
    # String(contribution) in the CLI's messages and anchors.
    shown = "[object Object]" if is_object else _js_string(contribution)
    if type_ is None:
        who = contributor.get("login") or contributor.get("name")
        raise UnknownContributionType(f"Unknown contribution type {shown} for contributor {_js_string(who)}")
    login = contributor.get("login")
    url = f"#{shown}-{_js_string(login)}" if _truthy(login) else f"#{shown}"
    data = {
        "symbol": type_.get("symbol"),
        "description": type_.get("description") or "",
        "contributor": contributor,
        "options": options,
    }
    custom = options.get("types")
    is_official = key in CONTRIBUTION_TYPES and not (isinstance(custom, Mapping) and key in custom)
    if is_object and _truthy(contribution.get("url")):
        url = _js_string(contribution["url"])
    elif is_official:
        link = _official_link(options, contributor, key)
        if link is not None:
            url = link
    elif _truthy(type_.get("link")):
        url = _template(type_["link"], data)
    return f'<a href="{url}" title="{_js_string(data["description"])}">{_js_string(data["symbol"])}</a>'


def _official_link(options: Mapping[str, Any], contributor: Mapping[str, Any], key: str) -> str | None:
    kind = _LINKED_TYPES.get(key)
    links = _REPO_LINKS.get(options.get("repoType")) if isinstance(options.get("repoType"), str) else None
    if kind is None or links is None:
        return None
    host = options.get("repoHost")
    return links[kind].format(
        host=_js_string(host) if _truthy(host) else links["host"],
        owner=_js_string(options.get("projectOwner")),
        name=_js_string(options.get("projectName")),
        login=_js_string(contributor.get("login")),
    )


# --- the few JavaScript semantics the output depends on -----------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, (list, dict)):
        return True  # [] and {} are truthy in JavaScript
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def _js_string(value: Any) -> str:
    """A value as lodash's template interpolation prints it: null and undefined as nothing."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return _js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else _js_string(item) for item in value)
    return "[object Object]"


_TEMPLATE_TAG = re.compile(r"<%(=|-)?([\s\S]*?)%>|\$\{([^\\}]*(?:\\.[^\\}]*)*)\}")
_OPERAND = re.compile(r"""\s*(?:"([^"\\]*)"|'([^'\\]*)'|([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*))\s*""")


def _template(template: str, data: Mapping[str, Any]) -> str:
    """lodash's ``template`` for what all-contributors' own templates use: ``<%= a.b.c %>`` (and
    ``${a.b}``) paths, ``.length``, and ``x || "fallback"``. Anything else is code the CLI would run:
    UnsupportedOption."""

    def substitute(match: re.Match[str]) -> str:
        kind, expression, es_expression = match.groups()
        if es_expression is None and kind != "=":
            raise UnsupportedOption(f"template code is not supported: {match.group()!r}")
        expression = es_expression if es_expression is not None else expression
        value: Any = None
        for operand in expression.split("||"):
            parsed = _OPERAND.fullmatch(operand)
            if parsed is None:
                raise UnsupportedOption(f"template expression is not supported: {expression.strip()!r}")
            double, single, path = parsed.groups()
            value = double if double is not None else single if single is not None else _lookup(data, path)
            if _truthy(value):
                break
        return _js_string(value)

    return _TEMPLATE_TAG.sub(substitute, template)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping):
            if part not in value:
                if value is data:
                    raise UnsupportedOption(f"template variable {part!r} is not available")
                return None
            value = value[part]
        elif isinstance(value, (list, str)) and part == "length":
            value = len(value.encode("utf-16-le")) // 2 if isinstance(value, str) else len(value)
        else:
            return None
    return value
