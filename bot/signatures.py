"""The record of Contributor License Agreement signatures, and its export format.

Signatures live in the bot's database beside the inbox's tables, so one backup holds both and
several processes sharing PostgreSQL see the same record. A signature belongs to a GitHub user
id, not a login: a renamed account stays signed. One is kept per user, agreement version and
scope, and the first stays as it was recorded: it is the audit trail of what was signed, when,
and where.

The export (CSV or JSON, with the fields of ``Signature``) is for audits and for moving the
record between databases; it reads back exactly.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import math
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import BigInteger, Column, Float, String, Table, select
from sqlalchemy.engine import Connection

from . import export
from .inbox import Inbox, metadata

# On the inbox's metadata: whoever opens an inbox after importing this module gets the table.
cla_signatures = Table(
    "cla_signatures",
    metadata,
    # Key columns in this order: "which of these users signed this version here" reads one
    # range of the key.
    Column("scope", String(300), primary_key=True),
    Column("version", String(100), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("login", String(100), nullable=False),
    Column("signed_at", Float, nullable=False),
    Column("repository", String(300), nullable=False),
    Column("comment_url", String(1000)),
)
_KEY = ["scope", "version", "user_id"]


@dataclasses.dataclass(frozen=True)
class Signature:
    user_id: int  # GitHub user id: a renamed login stays signed
    login: str  # the login when signing, for people reading an export
    version: str  # the CLA version label signed, e.g. "v1"
    scope: str  # "org:<owner>" (one signature covers the organisation) or "repo:<owner>/<name>", lower-case
    signed_at: float  # epoch seconds
    repository: str  # "owner/name" where the signing comment was made
    comment_url: str | None  # the signing comment's html_url: the audit trail


FIELDS = tuple(field.name for field in dataclasses.fields(Signature))


class SignatureBook:
    """Signatures kept in the inbox's database, through its transactions (database errors
    raise InboxUnavailable)."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def sign(self, signature: Signature) -> bool:
        """Record a signature; True when recorded now, False when that user had signed that
        version in that scope already (the first record stays). Of concurrent signings by one
        person, exactly one is told True."""
        insert = (
            self._inbox._insert(cla_signatures)
            .values(**dataclasses.asdict(signature))
            .on_conflict_do_nothing(index_elements=_KEY)
        )
        return await self._inbox.transaction(lambda conn: conn.execute(insert).rowcount == 1)

    async def signed(self, user_ids: Iterable[int], *, version: str, scope: str) -> set[int]:
        """Which of these users have signed this version in this scope, in one query."""
        wanted = set(user_ids)
        if not wanted:
            return set()
        query = select(cla_signatures.c.user_id).where(
            cla_signatures.c.scope == scope, cla_signatures.c.version == version, cla_signatures.c.user_id.in_(wanted)
        )
        return await self._inbox.transaction(lambda conn: set(conn.execute(query).scalars()))

    async def all(self) -> list[Signature]:
        """Every signature, oldest first: for audits."""
        query = select(*(cla_signatures.c[name] for name in FIELDS)).order_by(cla_signatures.c.signed_at, *_KEY)
        rows = await self._inbox.transaction(lambda conn: conn.execute(query).mappings().all())
        return [Signature(**row) for row in rows]

    async def load(self, signatures: Iterable[Signature]) -> int:
        """Add signatures from elsewhere (an import); how many were new. Those already recorded
        stay as they are, as does the first of several with one key in ``signatures``."""
        firsts: dict[tuple[str, str, int], dict[str, Any]] = {}
        for signature in signatures:
            firsts.setdefault((signature.scope, signature.version, signature.user_id), dataclasses.asdict(signature))
        if not firsts:
            return 0
        # RETURNING counts the rows inserted: an executemany's row count is not to be relied on.
        insert = (
            self._inbox._insert(cla_signatures)
            .on_conflict_do_nothing(index_elements=_KEY)
            .returning(cla_signatures.c.user_id)
        )

        def insert_new(conn: Connection) -> int:
            return len(conn.execute(insert, list(firsts.values())).all())

        return await self._inbox.transaction(insert_new)


# Export format --------------------------------------------------------------------------------


def to_json(signatures: Iterable[Signature]) -> str:
    """A JSON list of objects with Signature's fields, signed_at in ISO 8601 UTC."""
    return export.to_json(_exported(signature) for signature in signatures)


def to_csv(signatures: Iterable[Signature]) -> str:
    """CSV with a header row of Signature's fields, signed_at in ISO 8601 UTC; no comment
    link is an empty cell."""
    return export.to_csv((_exported(signature) for signature in signatures), FIELDS)


def parse_export(text: str, format: str) -> list[Signature]:
    """The signatures of an export in ``format`` ("csv" or "json"): the bot's own, or one
    written elsewhere in the same shape, signed_at in ISO 8601 (with a time zone) or epoch
    seconds. A ValueError names the line (CSV) or entry (JSON) and the field of the first
    bad value."""
    if format == "json":
        entries = _json_entries(text)
    elif format == "csv":
        entries = _csv_entries(text)
    else:
        raise ValueError(f"unknown format {format!r}: csv or json")
    return [_signature(fields, where) for where, fields in entries]


def _exported(signature: Signature) -> dict[str, Any]:
    return {**dataclasses.asdict(signature), "signed_at": export.iso(signature.signed_at)}


def _json_entries(text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError("not a JSON list of signatures")
    numbered = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ValueError(f"entry {number}: not an object")
        numbered.append((f"entry {number}", entry))
    return numbered


def _csv_entries(text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    entries = []
    try:
        if reader.fieldnames is None:
            raise ValueError("no header row")
        for row in reader:
            if None in row:
                raise ValueError(f"line {reader.line_num}: more cells than the header names")
            entries.append((f"line {reader.line_num}", row))
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: {exc}") from None
    return entries


_SCOPE = re.compile(r"org:[^/\s]+|repo:[^/\s]+/[^/\s]+")
_REPOSITORY = re.compile(r"[^/\s]+/[^/\s]+")
_DIGITS = re.compile(r"[0-9]+")


def _signature(fields: dict[str, Any], where: str) -> Signature:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (the fields are {', '.join(FIELDS)})")

    def text(name: str) -> str:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{where}: {name} is missing")
        if not isinstance(value, str):
            raise ValueError(f"{where}: {name} must be text, not {value!r}")
        value = value.strip()
        limit = cla_signatures.c[name].type.length
        if len(value) > limit:
            raise ValueError(f"{where}: {name} is longer than {limit} characters")
        return value

    def shaped(name: str, pattern: re.Pattern[str], shape: str, *, lower: bool = False) -> str:
        value = text(name).lower() if lower else text(name)
        if not pattern.fullmatch(value):
            raise ValueError(f"{where}: {name} must be {shape}, not {value!r}")
        return value

    comment_url = fields.get("comment_url")
    if isinstance(comment_url, str) and not comment_url.strip():
        comment_url = None  # an empty CSV cell
    if comment_url is not None:
        comment_url = text("comment_url")
        if urlsplit(comment_url).scheme not in ("http", "https"):
            raise ValueError(f"{where}: comment_url must be an http(s) link, not {comment_url!r}")
    return Signature(
        user_id=_user_id(fields.get("user_id"), where),
        login=text("login"),
        version=text("version"),
        # GitHub's owner and repository names are case-insensitive; scopes are kept lower-case.
        scope=shaped("scope", _SCOPE, "org:<owner> or repo:<owner>/<name>", lower=True),
        signed_at=_moment(fields.get("signed_at"), where),
        repository=shaped("repository", _REPOSITORY, "owner/name"),
        comment_url=comment_url,
    )


def _user_id(value: Any, where: str) -> int:
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value)
    if value is None or value == "":
        raise ValueError(f"{where}: user_id is missing")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValueError(f"{where}: user_id must be a GitHub user id (a positive whole number), not {value!r}")
    return value


def _moment(value: Any, where: str) -> float:
    """Epoch seconds from a number (or its text) or from ISO 8601 text with a time zone."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{where}: signed_at is missing")
    problem = (
        f"{where}: signed_at must be an ISO 8601 time with a time zone (2024-05-01T12:00:00Z)"
        f" or epoch seconds, not {value!r}"
    )
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(problem)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                when = datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(problem) from None
            if when.tzinfo is None:
                raise ValueError(problem) from None
            value = when.timestamp()
    if not math.isfinite(value):
        raise ValueError(problem)
    try:
        export.iso(value)  # it must export again
    except (OverflowError, OSError, ValueError):
        raise ValueError(problem) from None
    return float(value)
