"""An organisation's license policy, and the verdict it gives a license expression.

Expressions are read by ``license-expression`` with its bundled SPDX index: letter case is
SPDX's own (``mit`` is ``MIT``), deprecated ids are brought to today's (``GPL-2.0`` is
``GPL-2.0-only``, ``GPL-2.0+`` is ``GPL-2.0-or-later``). An expression is a choice among
alternatives (its disjunctive normal form): ``MIT OR GPL-3.0-only`` can be taken under MIT
alone, ``MIT AND GPL-3.0-only`` only under both. A package passes when one alternative
passes as a whole:

- with ``allow``, an alternative passes when every license in it is allowed;
- with ``deny``, when no license in it is denied.

A license "or later" can be taken under any later version of it: ``GPL-2.0-or-later`` passes
an allow list holding ``GPL-3.0-only``, and is denied only when every version from 2.0 on is.
An allow entry "or later" allows that version and every later one. ``X WITH exception`` is
allowed where ``X`` is (an exception only adds permissions) or where the list names that very
pair; it is denied where ``X`` is (the exception is not assumed to cure it).

Where no alternative passes only because of ids that are not SPDX's (``BSD``, ``OTHER``, a
``LicenseRef-`` the policy does not name) or because the text is not an expression at all,
the verdict is ``unknown``, never ``denied``: the policy cannot say, and the config's
``unknown`` setting decides what that means for the check.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import license_expression
from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol, get_spdx_licensing

ALLOWED, DENIED, UNKNOWN = "allowed", "denied", "unknown"
# Said by GitHub and SPDX tools for "no license could be found": no expression to judge.
NO_ASSERTION = {"", "NOASSERTION", "NONE"}
# A deprecated SPDX id as the index keeps it: one word with a version (GPL-2.0, LGPL-2.1+).
_DEPRECATED_ID = re.compile(r"[A-Za-z][A-Za-z0-9.-]*[0-9][A-Za-z0-9.-]*\+?")
_VERSIONED = re.compile(r"(?P<family>.+?)-(?P<version>\d+(?:\.\d+)*)-(?P<kind>only|or-later)", re.IGNORECASE)


@functools.cache
def licensing() -> license_expression.Licensing:
    """The SPDX index (built once: it reads a few thousand keys)."""
    return get_spdx_licensing()


@dataclasses.dataclass(frozen=True)
class Term:
    """One license of an alternative, with its exception if any, in SPDX's spelling."""

    license: str
    exception: str | None = None
    known: bool = True  # written as an id on SPDX's list (or a LicenseRef the policy names)
    written: str | None = None  # how it was written, where that is not an SPDX id

    def __str__(self) -> str:
        license = self.license if self.known else self.written or self.license
        return f"{license} WITH {self.exception}" if self.exception else license


@dataclasses.dataclass(frozen=True)
class Judgement:
    verdict: str  # ALLOWED, DENIED or UNKNOWN
    why: str  # one short sentence for the check's table
    expression: str | None = None  # the expression as normalised, where it parsed


class PolicyError(ValueError):
    """A policy the config states that cannot be applied (an entry that is not a license id)."""


def parse(text: str) -> Any:
    """The expression ``text`` as license-expression reads it, deprecated ids brought up to
    date; raises ``license_expression.ExpressionError`` when it is not an expression."""
    return licensing().parse(text, validate=False, simple=False)


def normalise(text: str) -> str | None:
    """``text`` in SPDX's spelling (``gpl-2.0+`` → ``GPL-2.0-or-later``), or None where it is no
    expression."""
    try:
        parsed = parse(text.strip())
    except license_expression.ExpressionError:
        return None
    return None if parsed is None else parsed.render()


def alternatives(expression: Any, identified: Mapping[str, tuple[bool, str]] | None = None) -> list[tuple[Term, ...]]:
    """The ways to take a parsed expression: each a tuple of terms that must all be accepted.
    ``identified``: for each license key (lower-case), whether it was written as an SPDX id or
    one the policy names (``identify``); without it, whether the key itself is one."""
    if isinstance(expression, OR):
        return [alt for arg in expression.args for alt in alternatives(arg, identified)]
    if isinstance(expression, AND):
        combined: list[tuple[Term, ...]] = [()]
        for arg in expression.args:
            combined = [left + right for left in combined for right in alternatives(arg, identified)]
        return combined
    if isinstance(expression, LicenseWithExceptionSymbol):
        term = _term(expression.license_symbol, identified)
        return [(dataclasses.replace(term, exception=expression.exception_symbol.key),)]
    return [(_term(expression, identified),)]


def _term(symbol: LicenseSymbol, identified: Mapping[str, tuple[bool, str]] | None) -> Term:
    key = symbol.key
    if identified is None:
        return Term(key, known=is_spdx_id(key))
    known, written = identified.get(key.lower(), (False, key))
    return Term(key, known=known, written=None if known else written)


def identify(text: str, named: frozenset[str] = frozenset()) -> dict[str, tuple[bool, str]]:
    """For each license an expression names (by its SPDX key, lower-case), whether it was
    written as an SPDX id, today's or deprecated, or as one the policy names; and how it was
    written. The SPDX index
    also resolves names that are not SPDX ids (``GPL`` to GPL-1.0-or-later, a LicenseRef of
    ScanCode's to MIT-0): those are guesses, and a guess is not a declaration."""
    found: dict[str, tuple[bool, str]] = {}
    for token, written, _ in licensing().tokenize(text, strict=False, simple=False):
        if isinstance(token, LicenseWithExceptionSymbol):
            key, written = token.license_symbol.key, re.split(r"\s+with\s+", written, flags=re.IGNORECASE)[0]
        elif isinstance(token, LicenseSymbol):
            key = token.key
        else:
            continue
        declared = is_spdx_id(written) or written.strip().lower() in named
        if not declared or key.lower() not in found:
            found[key.lower()] = (declared, written.strip())
    return found


def is_spdx_id(text: str) -> bool:
    """Whether ``text`` is an id on SPDX's license list, today's or deprecated, letter case
    aside; ``X+`` (SPDX's "or later" operator) of one too."""
    written = text.strip().lower()
    return written in _spdx_ids() or (written.endswith("+") and written[:-1] in _spdx_ids())


@functools.cache
def _spdx_ids() -> frozenset[str]:
    """SPDX's license ids (lower-case) as the index bundled with license-expression lists
    them, with the deprecated ones it keeps as aliases (``GPL-2.0``, ``LGPL-2.1+``). The
    index's other aliases are ScanCode's names, not SPDX's: free text (``GPL 2.0``),
    ``LicenseRef-`` keys, or bare family names with no version (``GPL``)."""
    ids: set[str] = set()
    for entry in license_expression.get_license_index():
        key = entry.get("spdx_license_key") or ""
        if key and not key.startswith("LicenseRef-") and not entry.get("is_exception"):
            ids.add(key.lower())
        for alias in entry.get("other_spdx_license_keys") or []:
            if _DEPRECATED_ID.fullmatch(alias) and not alias.startswith("LicenseRef-"):
                ids.add(alias.lower())
    return frozenset(ids)


@functools.cache
def _versions(family: str) -> tuple[str, ...]:
    """The versions SPDX lists of a versioned family (``GPL`` → 1.0, 2.0, 3.0), oldest first."""
    found = set()
    for key in _spdx_ids():
        match = _VERSIONED.fullmatch(key)
        if match and match.group("family") == family.lower():
            found.add(match.group("version"))
    return tuple(sorted(found, key=_version_key))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _spelled(key: str) -> str:
    """An id in SPDX's letter case."""
    symbol = licensing().known_symbols.get(key) or licensing().known_symbols_lowercase.get(key.lower())
    return symbol.key if symbol is not None else key


def later_versions(license: str) -> list[str]:
    """For ``X-N-or-later``, each ``X-M-only`` with M ≥ N that SPDX lists: the licenses one may
    take it under. For any other license, none besides itself."""
    match = _VERSIONED.fullmatch(license)
    if not match or match.group("kind").lower() != "or-later":
        return []
    family, since = match.group("family"), _version_key(match.group("version"))
    return [_spelled(f"{family}-{v}-only") for v in _versions(family) if _version_key(v) >= since]


def covered(entry: str) -> set[str]:
    """The lower-case ids a policy entry stands for: itself, and for ``X-N-or-later`` every
    version from N on, "only" and "or later" alike."""
    ids = {entry.lower()}
    match = _VERSIONED.fullmatch(entry)
    if match and match.group("kind").lower() == "or-later":
        family, since = match.group("family"), _version_key(match.group("version"))
        for version in _versions(family):
            if _version_key(version) >= since:
                ids |= {f"{family}-{version}-only".lower(), f"{family}-{version}-or-later".lower()}
    return ids


@dataclasses.dataclass(frozen=True)
class LicenseList:
    """The licenses an allow or deny list names: plain ids, and id-with-exception pairs."""

    ids: frozenset[str]  # lower-case
    pairs: frozenset[tuple[str, str]]  # lower-case (license, exception)

    @classmethod
    def of(cls, entries: Iterable[str]) -> LicenseList:
        ids: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for entry in entries:
            for term in _entry_terms(entry):
                if term.exception:
                    pairs |= {(license, term.exception.lower()) for license in covered(term.license)}
                else:
                    ids |= covered(term.license)
        return cls(frozenset(ids), frozenset(pairs))

    def names(self, term: Term) -> bool:
        """Whether the list names this term: its license, or (for a term with an exception) that
        pair."""
        license = term.license.lower()
        return license in self.ids or (term.exception is not None and (license, term.exception.lower()) in self.pairs)


def _entry_terms(entry: str) -> list[Term]:
    """A policy entry: one license id, or one ``X WITH exception``."""
    text = str(entry).strip()
    if text.upper() in ("OTHER", "LICENSEREF-CLEARLYDEFINED-OTHER"):
        return [Term("OTHER", known=False)]
    try:
        parsed = parse(text)
    except license_expression.ExpressionError as exc:
        raise PolicyError(f"{entry!r} is not a license id: {exc}") from None
    found = alternatives(parsed) if parsed is not None else []
    if len(found) != 1 or len(found[0]) != 1:
        raise PolicyError(f"{entry!r} is an expression; list each license on its own")
    return list(found[0])


@dataclasses.dataclass(frozen=True)
class Policy:
    """``allow`` or ``deny`` (one of the two; neither: every license passes)."""

    allow: LicenseList | None = None
    deny: LicenseList | None = None
    # Ids outside SPDX's list the policy names (LicenseRef-acme): known to it.
    named: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> Policy:
        allow, deny = section.get("allow"), section.get("deny")
        if allow and deny:
            raise PolicyError("licenses: give either allow or deny, not both")
        entries = list(allow or deny or [])
        named = frozenset(term.license.lower() for entry in entries for term in _entry_terms(entry))
        if allow:
            return cls(allow=LicenseList.of(entries), named=named)
        if deny:
            return cls(deny=LicenseList.of(entries), named=named)
        return cls()

    def judge(self, license: str | None) -> Judgement:
        """The verdict on a package's or a file's declared license."""
        text = (license or "").strip()
        if text.upper() in NO_ASSERTION:
            return Judgement(UNKNOWN, "no license declared")
        try:
            parsed = parse(text)
        except license_expression.ExpressionError:
            return Judgement(UNKNOWN, f"{text!r} is not an SPDX license expression")
        if parsed is None:
            return Judgement(UNKNOWN, "no license declared")
        expression = parsed.render()
        ways = alternatives(parsed, identify(text, self.named))
        verdicts = [self._alternative(way) for way in ways]
        for (verdict, _), way in zip(verdicts, ways):
            if verdict == ALLOWED:
                how = "" if len(ways) == 1 else f" (taken as {' AND '.join(str(t) for t in way)})"
                return Judgement(ALLOWED, f"{self._allowed_why()}{how}", expression)
        unknown = [why for verdict, why in verdicts if verdict == UNKNOWN]
        if unknown:
            return Judgement(UNKNOWN, unknown[0], expression)
        return Judgement(DENIED, verdicts[0][1] if len(verdicts) == 1 else _none_acceptable(verdicts), expression)

    def _allowed_why(self) -> str:
        if self.allow is not None:
            return "allowed by the policy"
        if self.deny is not None:
            return "not denied by the policy"
        return "no allow or deny list"

    def _alternative(self, terms: tuple[Term, ...]) -> tuple[str, str]:
        """One alternative's verdict and, where it does not pass, why. Without an allow list,
        an alternative passes unless it needs a denied license or one no one can identify."""
        if self.allow is not None:
            # A license the index only guessed at (written "GPL") is not taken on the guess.
            refused = [t for t in terms if not t.known or not self._allowed(t)]
            if not refused:
                return ALLOWED, ""
            if all(not t.known for t in refused):
                return UNKNOWN, f"{_listing(refused)} not an SPDX license id the policy knows"
            return DENIED, f"{_listing([t for t in refused if t.known])} not on the allow list"
        denied = [t for t in terms if t.known and self._denied(t)]
        if denied:
            return DENIED, f"{_listing(denied)} on the deny list"
        strangers = [t for t in terms if not t.known]
        if strangers:
            return UNKNOWN, f"{_listing(strangers)} not an SPDX license id the policy knows"
        return ALLOWED, ""

    def _allowed(self, term: Term) -> bool:
        """Allowed as it is, or under one of the later versions it may be taken under."""
        assert self.allow is not None
        return any(self.allow.names(dataclasses.replace(term, license=license)) for license in [term.license, *later_versions(term.license)])

    def _denied(self, term: Term) -> bool:
        """Denied as it is, or under every later version it may be taken under; with an
        exception or without."""
        if self.deny is None:
            return False

        def denied(license: str) -> bool:
            return self.deny.names(dataclasses.replace(term, license=license))

        later = later_versions(term.license)
        return denied(term.license) or (bool(later) and all(denied(license) for license in later))


def _listing(terms: list[Term]) -> str:
    names = [str(t) for t in dict.fromkeys(terms)]
    return (names[0] + " is") if len(names) == 1 else (", ".join(names[:-1]) + f" and {names[-1]} are")


def _none_acceptable(verdicts: list[tuple[str, str]]) -> str:
    return "no choice of its licenses is acceptable: " + "; ".join(why for _, why in dict.fromkeys(verdicts))


def strangers(entries: Iterable[str]) -> Iterator[str]:
    """The allow or deny entries that name no SPDX license (a typo such as ``Apache2`` would
    otherwise refuse every Apache-2.0 package without a word)."""
    for entry in entries:
        written = re.split(r"\s+with\s+", str(entry).strip(), flags=re.IGNORECASE)[0]
        if not (is_spdx_id(written) or written.lower().startswith("licenseref-") or written.upper() == "OTHER"):
            yield str(entry)
