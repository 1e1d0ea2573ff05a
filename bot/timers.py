"""Timers: "if nobody has answered this newcomer in 48 hours, say so", without polling GitHub.

A handler schedules a timer with the event it wants to receive when it is due. Due times are
kept in the database; once a minute at most one process (whoever marks the minute first) moves
the timers that have come due into the inbox as deliveries of the ``timer`` event, in the same
transaction that deletes them. From there they are claimed, leased, retried and finished like
any delivery GitHub sent: each is handled once, by one process, and survives a crash.

Handlers subscribe with ``router.register(TIMER_EVENT, action=kind)``; the event's payload is
what they scheduled, with ``action`` set to the timer's kind.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from sqlalchemy import BigInteger, Column, Float, Index, String, Table, Text, bindparam, delete, select
from sqlalchemy.engine import Connection

from .inbox import Inbox, InboxUnavailable, NewDelivery, RowWrite, metadata

log = logging.getLogger(__name__)

TIMER_EVENT = "timer"
ROUND_MARK = "timer-round"  # key: the minute; value: the process that looks for due timers in it
ROUND_SECONDS = 60.0
_BATCH = 500

timers = Table(
    "timers",
    metadata,
    Column("kind", String(100), primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("due_at", Float, nullable=False),
    Column("installation_id", BigInteger),
    Column("repository", String(300)),
    Column("payload", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_timers_due_at", "due_at"),
)

_DUE = (
    select(timers)
    .where(timers.c.due_at <= bindparam("now"))
    .order_by(timers.c.due_at)
    .limit(_BATCH)
    # Several processes on PostgreSQL: a timer being moved by one is skipped by the others.
    .with_for_update(skip_locked=True)
)

_FIRED = delete(timers).where(timers.c.kind == bindparam("fired_kind"), timers.c.key == bindparam("fired_key"))


def delivery_id(kind: str, key: str, created_at: float) -> str:
    """The due timer's delivery id: the same for the same timer, so it is recorded once; a
    timer kept again later under the same key is another timer."""
    return f"timer:{kind}:{key}:{int(created_at * 1_000_000)}"


class TimerBook:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        # Built once (building costs more than running it): one for every newcomer's item.
        self._keep = (
            inbox._insert(timers)
            .values(**{column.name: bindparam(column.name) for column in timers.columns})
            .on_conflict_do_nothing(index_elements=["kind", "key"])
        )

    async def schedule(self, kind: str, key: str, due_at: float, payload: dict[str, Any]) -> bool:
        """Keep a timer of ``kind`` for ``key`` (an issue, say), unless one is kept already;
        whether this one is new. ``payload`` is the event delivered when it is due."""
        statement, row = self.row_write(kind, key, due_at, payload)
        return await self.inbox.transaction(lambda conn: conn.execute(statement, row).rowcount > 0, durable=False)

    def row_write(self, kind: str, key: str, due_at: float, payload: dict[str, Any]) -> RowWrite:
        """The timer as a write to keep with a delivery's "done" (``Inbox.finish``): as
        ``schedule``, without a transaction of its own."""
        row = {
            "kind": kind,
            "key": key,
            "due_at": due_at,
            "installation_id": (payload.get("installation") or {}).get("id"),
            "repository": (payload.get("repository") or {}).get("full_name"),
            "payload": orjson.dumps({**payload, "action": kind}).decode(),
            "created_at": time.time(),
        }
        return self._keep, row

    async def cancel(self, kind: str, key: str) -> bool:
        """Drop the timer, if one is kept; whether one was."""
        statement = delete(timers).where(timers.c.kind == kind, timers.c.key == key)
        return await self.inbox.transaction(lambda conn: conn.execute(statement).rowcount > 0, durable=False)

    async def fire_due(self, now: float | None = None) -> int:
        """Move the timers due by ``now`` into the inbox as deliveries; how many were recorded."""
        moment = time.time() if now is None else now

        def move(conn: Connection) -> int:
            fired = 0
            while rows := conn.execute(_DUE, {"now": moment}).mappings().all():
                deliveries = [
                    NewDelivery(
                        id=delivery_id(row["kind"], row["key"], row["created_at"]),
                        event=TIMER_EVENT,
                        payload=row["payload"],
                        action=row["kind"],
                        installation_id=row["installation_id"],
                        repository=row["repository"],
                    ).row()
                    for row in rows
                ]
                fired += len(self.inbox.insert_deliveries(conn, deliveries))
                conn.execute(_FIRED, [{"fired_kind": row["kind"], "fired_key": row["key"]} for row in rows])
                if len(rows) < _BATCH:
                    break
            return fired

        return await self.inbox.transaction(move)

    async def run(self, wake: Callable[[], None], *, every: float = ROUND_SECONDS) -> None:
        """Look for due timers each round (one process a round), and wake the workers when
        some were moved into the inbox. Runs until cancelled."""
        # Two bots on one inbox (as in tests) are told apart too, not only processes.
        runner = f"{self.inbox.owner}:{uuid.uuid4().hex[:8]}"
        async for slot in slot_starts(every):
            try:
                if await self.inbox.mark(ROUND_MARK, f"{every:g}:{slot}", runner) != runner:
                    continue  # another process has this round
                fired = await self.fire_due()
            except InboxUnavailable as exc:
                log.warning("due timers not looked for: %s", exc)
                continue
            if fired:
                log.info("timers came due", extra={"fields": {"count": fired}})
                wake()


async def slot_starts(every: float) -> AsyncIterator[int]:
    """The number of each time slot ``every`` seconds long, as it starts (so every process on a
    database wakes for the same slot), never the same one twice should a sleep end a hair early.
    Periodic rounds claim their slot with a mark, so one process runs each."""
    slot = 0
    while True:
        now = time.time()
        slot = max(math.floor(now / every) + 1, slot + 1)
        await asyncio.sleep(max(0.0, slot * every - now))
        yield slot
