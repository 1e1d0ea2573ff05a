"""The record of recognitions: who thanked whom, for which kinds of contribution, where and when.

One row per person thanked in one comment, so a redelivered comment records nothing twice; the
first record stays as it was. The contribution types are all-contributors' keys
(``bot.allcontributors.CONTRIBUTION_TYPES``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, select

from .inbox import Inbox, metadata
from .insights.activity import month_of

recognitions = Table(
    "recognitions",
    metadata,
    Column("key", String(400), primary_key=True),  # repository, comment and person: once
    Column("owner", String(100), nullable=False),  # lower-case, for an organisation's figures
    Column("repository", String(300), nullable=False),  # owner/name, lower-case
    Column("comment_id", BigInteger, nullable=False),  # the comment that thanked them
    Column("login", String(100), nullable=False),  # the person thanked
    Column("types", String(500), nullable=False),  # their contribution types, comma-separated
    Column("by_login", String(100), nullable=False),  # who thanked them
    Column("number", Integer),  # the issue or pull request where they were thanked
    Column("at", Float, nullable=False),
    Column("month", String(7), nullable=False),
    Index("ix_recognitions_repository_at", "repository", "at"),
    Index("ix_recognitions_owner_at", "owner", "at"),
)


@dataclasses.dataclass(frozen=True)
class Recognition:
    repository: str
    login: str
    types: tuple[str, ...]
    by_login: str
    number: int | None
    at: float
    comment_id: int

    @property
    def key(self) -> str:
        return f"{self.repository.lower()}:{self.comment_id}:{self.login.lower()}"


class RecognitionBook:
    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def record(self, recognition: Recognition) -> bool:
        """Keep the recognition; False when this comment recorded it before."""
        row = {
            "key": recognition.key,
            "owner": recognition.repository.split("/", 1)[0].lower(),
            "repository": recognition.repository.lower(),
            "comment_id": recognition.comment_id,
            "login": recognition.login,
            "types": ",".join(recognition.types),
            "by_login": recognition.by_login,
            "number": recognition.number,
            "at": recognition.at,
            "month": month_of(recognition.at),
        }
        insert = self._inbox._insert(recognitions).values(row).on_conflict_do_nothing(index_elements=["key"])
        return await self._inbox.transaction(lambda conn: conn.execute(insert).rowcount == 1)

    async def for_repositories(self, repositories: Iterable[str], *, since: float = 0) -> list[Recognition]:
        """The recognitions in these repositories since then, oldest first."""
        query = (
            select(recognitions)
            .where(recognitions.c.repository.in_([r.lower() for r in repositories]), recognitions.c.at >= since)
            .order_by(recognitions.c.at)
        )
        rows = await self._inbox.transaction(lambda conn: conn.execute(query).mappings().all())
        return [
            Recognition(
                repository=row["repository"], login=row["login"], types=tuple(row["types"].split(",")),
                by_login=row["by_login"], number=row["number"], at=row["at"], comment_id=row["comment_id"],
            )
            for row in rows
        ]
