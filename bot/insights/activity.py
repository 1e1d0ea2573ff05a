"""The activity log: one row per community event (an issue or pull request opened, closed or
merged, a comment, a review) and per outcome of the bot's own (a welcome, a DCO or CLA verdict,
a good-first-issue claim, a code-of-conduct reminder). No bodies: who, what, where and when.

Rows are made by the same functions from a webhook's payload and from the REST API's objects
(they have the same shape), and each carries a key naming the fact it records, so a fact seen
twice (redelivered, or read again by a backfill) is one row.

Times are the facts' own times as GitHub states them (an issue's ``created_at``, a review's
``submitted_at``), in epoch seconds; the bot's outcomes are timed when they happen.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, delete, func, select

from ..github import github_time, is_bot
from ..inbox import Inbox, RowWrite, metadata

# Kinds of rows. People's doings:
ISSUE_OPENED = "issue_opened"
PR_OPENED = "pr_opened"
CLOSED = "closed"  # an issue, or a pull request closed without merging
MERGED = "merged"
REOPENED = "reopened"
COMMENT = "comment"  # on an issue or a pull request's conversation
REVIEW = "review"
REVIEW_COMMENT = "review_comment"
GFI_LABELED = "gfi_labeled"  # an issue labelled good first issue (its first labelling)
CLOSES = "closes"  # a merged pull request closing an issue by keyword: number is the issue's, detail the pull's
# The bot's outcomes:
GFI_CLAIMED = "gfi_claimed"
WELCOME = "welcome"  # detail: issue, pull_request or first_merge
DCO = "dco"  # detail: the check's conclusion
CLA = "cla"
CONDUCT_REMINDER = "conduct_reminder"
CONDUCT_LOCK = "conduct_lock"

OPENED_KINDS = (ISSUE_OPENED, PR_OPENED)
RESPONSE_KINDS = (COMMENT, REVIEW, REVIEW_COMMENT)
# What counts as contributing (CHAOSS: any visible work in the repository, not only code).
CONTRIBUTION_KINDS = (ISSUE_OPENED, PR_OPENED, COMMENT, REVIEW, REVIEW_COMMENT)

activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False, unique=True),  # the fact, once
    Column("owner", String(100), nullable=False),  # lower-case, for an organisation's figures
    Column("repository", String(200), nullable=False),  # owner/name, lower-case
    Column("kind", String(40), nullable=False),
    Column("number", Integer),  # the issue or pull request
    Column("is_pull", Boolean, nullable=False, default=False),
    Column("actor", String(100)),  # login
    Column("association", String(40)),  # author_association at the time
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("at", Float, nullable=False),  # epoch seconds
    Column("month", String(7), nullable=False),  # YYYY-MM of ``at`` in UTC, for trends by month
    Column("detail", String(100)),
    # Wide on purpose: each holds every column its queries read, so the figures are computed
    # from the index alone, never the table (2-3 times less work per page on SQLite, about 70 MB
    # more per million rows). An existing database keeps the indexes it was created with.
    Index(
        "ix_activity_repository_kind_at",
        "repository", "kind", "at", "number", "actor", "is_bot", "is_pull", "month", "detail",
    ),
    Index(
        "ix_activity_owner_kind_at",
        "owner", "kind", "at", "repository", "number", "actor", "is_bot", "is_pull", "month", "detail",
    ),
    Index("ix_activity_repository_number", "repository", "number", "at", "kind", "actor", "is_bot"),
    Index("ix_activity_at", "at"),  # pruning
    # "Was this their first contribution here?", and a newcomer's contributions, person by
    # person: covering too, with the owner for an organisation's figures.
    Index(
        "ix_activity_actor_repository_kind_at",
        "actor", "repository", "kind", "at", "owner", "number", "is_bot", "month",
    ),
)

DEFAULT_RETENTION_DAYS = 730


@dataclasses.dataclass(frozen=True)
class Activity:
    key: str
    repository: str
    kind: str
    number: int | None
    at: float
    actor: str | None = None
    association: str | None = None
    is_bot: bool = False
    is_pull: bool = False
    detail: str | None = None

    def row(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copies cost 20 µs a row, 20 s in a million-row backfill.
        values = {name: getattr(self, name) for name in _FIELDS}
        values["repository"] = self.repository.lower()
        values["owner"] = values["repository"].split("/", 1)[0]
        values["month"] = month_of(self.at)
        return values


_FIELDS = tuple(field.name for field in dataclasses.fields(Activity))


def month_of(at: float) -> str:
    # time.gmtime, not datetime's strftime: a third of the cost, on every row written.
    moment = time.gmtime(at)
    return f"{moment.tm_year:04d}-{moment.tm_mon:02d}"


def _person(user: Any) -> dict[str, Any]:
    return {"actor": (user or {}).get("login"), "is_bot": is_bot(user)}


def is_pull_request(issue: Mapping[str, Any]) -> bool:
    """An issue object from the issues API or an ``issue_comment`` payload is a pull request's
    when it carries ``pull_request``; a pull request object always has ``merged_at``'s key."""
    return "pull_request" in issue or "merged_at" in issue or "merged" in issue


def item_rows(repository: str, item: Mapping[str, Any]) -> list[Activity]:
    """What an issue or pull request object says of itself: opened, and closed or merged when it is."""
    number = item["number"]
    pull = is_pull_request(item)
    base = f"{repository.lower()}#{number}"
    author = item.get("user")
    rows = [
        Activity(
            key=f"{base}:opened",
            repository=repository,
            kind=PR_OPENED if pull else ISSUE_OPENED,
            number=number,
            at=github_time(item["created_at"]),
            association=item.get("author_association"),
            is_pull=pull,
            **_person(author),
        )
    ]
    merged_at = item.get("merged_at") or (item.get("pull_request") or {}).get("merged_at")
    if merged_at:
        rows.append(
            Activity(key=f"{base}:merged", repository=repository, kind=MERGED, number=number, at=github_time(merged_at),
                     association=item.get("author_association"), is_pull=True, **_person(author))
        )
        rows += closes_rows(repository, item, at=github_time(merged_at))
    elif item.get("closed_at"):
        at = github_time(item["closed_at"])
        rows.append(
            Activity(key=f"{base}:closed:{int(at)}", repository=repository, kind=CLOSED, number=number, at=at,
                     is_pull=pull, **_person(item.get("closed_by")))
        )
    return rows


def reopened_row(repository: str, item: Mapping[str, Any], sender: Any, at: float) -> Activity:
    return Activity(
        key=f"{repository.lower()}#{item['number']}:reopened:{int(at)}",
        repository=repository, kind=REOPENED, number=item["number"], at=at, is_pull=is_pull_request(item),
        **_person(sender),
    )


# GitHub's closing keywords, with the issue in this repository (#12) or named in full.
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+(?:([\w.-]+/[\w.-]+))?#(\d+)\b", re.IGNORECASE
)


def closing_references(body: str | None, repository: str) -> list[int]:
    """The issues of this repository that a pull request's text closes by GitHub's keywords
    (``Fixes #12``, ``closes owner/repo#12``)."""
    numbers = []
    for named, number in _CLOSING.findall(body or ""):
        if (not named or named.lower() == repository.lower()) and int(number) not in numbers:
            numbers.append(int(number))
    return numbers


def closes_rows(repository: str, pull: Mapping[str, Any], *, at: float) -> list[Activity]:
    return [
        Activity(
            key=f"{repository.lower()}#{issue}:closed_by:{pull['number']}",
            repository=repository, kind=CLOSES, number=issue, at=at, detail=str(pull["number"]),
            association=pull.get("author_association"), **_person(pull.get("user")),
        )
        for issue in closing_references(pull.get("body"), repository)
    ]


def comment_row(repository: str, kind: str, comment: Mapping[str, Any], *, number: int, is_pull: bool) -> Activity:
    """A comment (``COMMENT``), a review comment (``REVIEW_COMMENT``) or a review (``REVIEW``)."""
    at = comment.get("submitted_at") if kind == REVIEW else comment.get("created_at")
    # A review's state: lower-case in the webhook, upper-case in the REST API.
    state = (comment.get("state") or "").lower() or None if kind == REVIEW else None
    return Activity(
        key=f"{repository.lower()}:{kind}:{comment['id']}",
        repository=repository, kind=kind, number=number, at=github_time(at), is_pull=is_pull,
        association=comment.get("author_association"), detail=state,
        **_person(comment.get("user")),
    )


def labeled_row(repository: str, issue: Mapping[str, Any], label: str, at: float, sender: Any = None) -> Activity:
    """An issue labelled good first issue; its first labelling is the one kept."""
    return Activity(
        key=f"{repository.lower()}#{issue['number']}:labeled:{label.lower()}",
        repository=repository, kind=GFI_LABELED, number=issue["number"], at=at, detail=label[:100], **_person(sender),
    )


def outcome_row(
    repository: str, kind: str, number: int, *, once_per: str = "", detail: str | None = None,
    actor: str | None = None, is_pull: bool = False, at: float | None = None,
) -> Activity:
    """One of the bot's outcomes on an issue or pull request, recorded once per ``once_per``
    (a head commit, a comment) and ``detail``."""
    return Activity(
        key=f"{repository.lower()}#{number}:{kind}:{once_per}:{detail or ''}",
        repository=repository, kind=kind, number=number, at=time.time() if at is None else at,
        actor=actor, is_pull=is_pull, detail=detail,
    )


class ActivityLog:
    """The activity rows, in the inbox's database and through its transactions."""

    def __init__(self, inbox: Inbox, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.inbox = inbox
        self.retention_days = retention_days
        # Built once (building costs more than running it). RETURNING counts the rows
        # inserted: asyncpg gives an executemany no row count.
        self._keep = inbox._insert(activity).on_conflict_do_nothing(index_elements=["key"])
        self._insert = self._keep.returning(activity.c.id)

    async def record(self, rows: Iterable[Activity]) -> int:
        """Add the rows whose facts are new; how many were."""
        values = list({row.key: row.row() for row in rows}.values())
        if not values:
            return 0
        # Insights, not promises: a power cut may lose the last few rows.
        return await self.inbox.transaction(lambda conn: len(conn.execute(self._insert, values).all()), durable=False)

    def row_writes(self, rows: Iterable[Activity]) -> list[RowWrite]:
        """The rows as writes to keep with a delivery's "done" (``Inbox.finish``): as ``record``,
        without a transaction of their own."""
        return [(self._keep, row.row()) for row in rows]

    async def merged_count(self, repository: str, login: str, *, until: float) -> int:
        """How many of the person's pull requests in the repository were merged by then, as
        recorded and backfilled (a merge delivered late or twice counts the same)."""
        query = select(func.count()).where(
            activity.c.repository == repository.lower(),
            activity.c.kind == MERGED,
            activity.c.actor == login,
            activity.c.at <= until,
        )
        return await self.inbox.transaction(lambda conn: conn.execute(query).scalar_one(), durable=False)

    async def prune(self) -> int:
        """Forget rows older than the retention period; how many."""
        cutoff = time.time() - self.retention_days * 86400
        old = delete(activity).where(activity.c.at < cutoff)
        return await self.inbox.transaction(lambda conn: conn.execute(old).rowcount)

