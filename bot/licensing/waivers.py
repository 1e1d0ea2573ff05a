"""License waivers: a maintainer's recorded decision that a package may come in although the
policy would stop it, with who, when, on which pull request and why: the audit trail.

A waiver names a package (``left-pad``), a package URL (``pkg:npm/left-pad``, any version;
``pkg:npm/left-pad@1.3.0``, that version) or a glob of either (``pkg:npm/@acme/*``), for the
repository (``repo:owner/name``) or its whole organisation (``org:owner``). Waivers are kept
in the bot's database beside the inbox's tables; the first record of a command stays as it
was, so a redelivered command adds nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text, or_, select

from .. import export
from ..inbox import Inbox, metadata

PACKAGE_LENGTH = 500  # the longest package name or URL a waiver keeps

license_waivers = Table(
    "license_waivers",
    metadata,
    # One command comment may grant several waivers, one per line.
    Column("comment_id", BigInteger, primary_key=True),
    Column("package", String(PACKAGE_LENGTH), primary_key=True),
    Column("scope", String(300), nullable=False, index=True),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", Float, nullable=False),
    Column("repository", String(300), nullable=False),
    Column("pull_number", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("comment_url", String(1000)),
)


@dataclasses.dataclass(frozen=True)
class Waiver:
    package: str  # a name, package URL or glob, as the maintainer wrote it
    scope: str  # "repo:<owner>/<name>" or "org:<owner>", lower-case
    granted_by: str  # the maintainer's login
    granted_at: float  # epoch seconds
    repository: str  # "owner/name" of the pull request
    pull_number: int
    reason: str
    comment_id: int
    comment_url: str | None = None


FIELDS = tuple(field.name for field in dataclasses.fields(Waiver))


def repository_scope(owner: str, repo: str) -> str:
    return f"repo:{owner}/{repo}".lower()


def organisation_scope(owner: str) -> str:
    return f"org:{owner}".lower()


class WaiverBook:
    """Waivers kept in the inbox's database, through its transactions."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def grant(self, waiver: Waiver) -> bool:
        """Record a waiver; False when this command's waiver was recorded already."""
        insert = (
            self._inbox._insert(license_waivers)
            .values(**dataclasses.asdict(waiver))
            .on_conflict_do_nothing(index_elements=["comment_id", "package"])
        )
        return await self._inbox.transaction(lambda conn: conn.execute(insert).rowcount == 1)

    async def for_repository(self, owner: str, repo: str) -> list[Waiver]:
        """The waivers that apply in this repository: its own and its organisation's."""
        column = license_waivers.c.scope
        query = self._ordered(select(license_waivers).where(or_(column == repository_scope(owner, repo), column == organisation_scope(owner))))
        return await self._read(query)

    async def all(self) -> list[Waiver]:
        """Every waiver, oldest first: for audits."""
        return await self._read(self._ordered(select(license_waivers)))

    @staticmethod
    def _ordered(query: Any) -> Any:
        return query.order_by(license_waivers.c.granted_at, license_waivers.c.comment_id, license_waivers.c.package)

    async def _read(self, query: Any) -> list[Waiver]:
        rows = await self._inbox.transaction(lambda conn: conn.execute(query).mappings().all())
        return [Waiver(**{name: row[name] for name in FIELDS}) for row in rows]


def to_json(waivers: Iterable[Waiver]) -> str:
    """A JSON list of objects with Waiver's fields, granted_at in ISO 8601 UTC."""
    return export.to_json(_exported(waiver) for waiver in waivers)


def to_csv(waivers: Iterable[Waiver]) -> str:
    return export.to_csv((_exported(waiver) for waiver in waivers), FIELDS)


def _exported(waiver: Waiver) -> dict[str, Any]:
    return {**dataclasses.asdict(waiver), "granted_at": export.iso(waiver.granted_at)}
