"""The inbox: every accepted delivery, durably recorded, then claimed by workers with a lease.

SQLAlchemy 2 Core over SQLite (the embedded default, one process) or PostgreSQL (asyncpg, for
several processes sharing one database). Each operation is one function of a SQLAlchemy
``Connection``, run as one transaction: on PostgreSQL through ``AsyncConnection.run_sync``; on
SQLite in the inbox's own thread, entered once per transaction. (aiosqlite enters its thread
for every cursor call, some nine times per transaction, and that cost ~0.7 ms of CPU per
transaction, more than everything else the webhook does.)

Recording goes through one writer task that commits whatever has queued up meanwhile in a
single transaction (group commit), so a burst of deliveries costs one commit, not one each,
and each is still on disk before it is acknowledged. A processed delivery's "done" goes the
same way, with the rows its handlers asked to keep (community activity, timers): one
executemany per table for the whole group, where a transaction each cost more than the
handlers' own work.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Result, make_url
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import Executable

log = logging.getLogger(__name__)
T = TypeVar("T")

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(100), primary_key=True),  # X-GitHub-Delivery, the same on redelivery
    Column("event", String(100), nullable=False),
    Column("action", String(100)),
    Column("installation_id", BigInteger),
    Column("repository", String(300)),
    Column("received_at", Float, nullable=False),
    Column("state", String(16), nullable=False),  # pending, processing, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(200)),
    Column("lease_expires", Float),
    Column("finished_at", Float),
    Column("error", Text),
    Index("ix_deliveries_state_received", "state", "received_at"),
)

# Payloads apart from the rows that change: claiming and finishing a delivery rewrites a
# row of a few columns, not the row and its 10 KB payload (SQLite rewrites a row whole).
payloads = Table(
    "payloads",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("payload", Text, nullable=False),
)

# Facts a handler must remember once and for all ("welcomed this person in this repository,
# on issue 12"): the first value remembered under a key stays.
marks = Table(
    "marks",
    metadata,
    Column("kind", String(100), primary_key=True),
    Column("key", String(500), primary_key=True),
    Column("value", String(500), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"

# A row to keep with a delivery's "done": an insert built once (so equal statements are one
# executemany) and its parameters.
RowWrite = tuple[Executable, dict[str, Any]]
_BATCH_LIMIT = 500


# The statements of every delivery's path, built once: building a statement costs more than
# running it (SQLAlchemy caches the compiled form, not the construction).
# Pending only, so the (state, received_at) index is read in order: with an OR for expired
# leases SQLite sorted the whole backlog on every claim.
_CLAIMABLE = (
    select(deliveries.c.id)
    .where(deliveries.c.state == PENDING)
    .order_by(deliveries.c.received_at)
    .limit(bindparam("limit", type_=Integer))
    # Several processes on PostgreSQL: each skips the rows another is claiming.
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(deliveries)
    .where(deliveries.c.id.in_(_CLAIMABLE.scalar_subquery()))
    .values(
        state=PROCESSING,
        lease_owner=bindparam("owner"),
        lease_expires=bindparam("expires"),
        attempts=deliveries.c.attempts + 1,
    )
    .returning(
        deliveries.c.id,
        deliveries.c.event,
        deliveries.c.attempts,
        deliveries.c.received_at,
        deliveries.c.action,
        deliveries.c.installation_id,
        deliveries.c.repository,
    )
)
_PAYLOADS = select(payloads.c.id, payloads.c.payload).where(payloads.c.id.in_(bindparam("ids", expanding=True)))
_MARKED = select(marks.c.value).where(marks.c.kind == bindparam("kind"), marks.c.key == bindparam("key"))
_MARKED_KINDS = select(marks.c.kind, marks.c.value).where(
    marks.c.kind.in_(bindparam("kinds", expanding=True)), marks.c.key == bindparam("key")
)
_FINISH = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        error=bindparam("b_error"),
        finished_at=bindparam("b_finished_at"),
        lease_owner=None,
        lease_expires=None,
    )
)


class InboxUnavailable(Exception):
    """The database could not record or read deliveries."""


@dataclasses.dataclass(frozen=True)
class NewDelivery:
    id: str
    event: str
    payload: str
    action: str | None = None
    installation_id: int | None = None
    repository: str | None = None

    def row(self) -> dict[str, Any]:
        """The parameters that record it (``Inbox.insert_deliveries``)."""
        return {
            "id": self.id,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "repository": self.repository,
            "payload": self.payload,
            "state": PENDING,
            "attempts": 0,
        }


@dataclasses.dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    event: str
    payload: str
    attempts: int
    received_at: float
    action: str | None
    installation_id: int | None
    repository: str | None
    # What processing asks to be written with its "done" (``Inbox.finish``).
    kept_rows: list[RowWrite] = dataclasses.field(default_factory=list, compare=False, repr=False)


@dataclasses.dataclass
class _Write:
    kind: str  # "record" or "finish"
    params: dict[str, Any]
    done: asyncio.Future[bool]
    rows: Sequence[RowWrite] = ()


def default_owner() -> str:
    """This process's name on the leases it holds."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Inbox:
    def __init__(self, url: str, *, owner: str | None = None, lease_seconds: float = 20.0) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self._async_engine: AsyncEngine | None = None
        self._sqlite_engine: Engine | None = None
        self._sqlite_thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._sqlite_connection: Connection | None = None
        self._sqlite_durable = True
        # Built once, in this database's dialect, as the statements above.
        self._mark = (
            self._insert(marks)
            .values(**{name: bindparam(name) for name in ("kind", "key", "value", "created_at")})
            .on_conflict_do_nothing(index_elements=["kind", "key"])
            .returning(marks.c.value)
        )
        self._writes: asyncio.Queue[_Write] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def open(self, *, take_back_unfinished: bool = True) -> None:
        """Connect, and create the tables. On SQLite, the process that serves owns the inbox, and
        takes back what it held when it stopped; a command reading the database beside a
        running server passes ``take_back_unfinished=False``."""
        if self.is_sqlite:
            # One connection in one thread: SQLite has one writer at a time anyway, and a
            # second connection would only meet "database is locked".
            self._sqlite_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="inbox-sqlite")
            self._sqlite_engine = create_engine(
                make_url(self.url).set(drivername="sqlite"), pool_size=1, max_overflow=0, connect_args={"timeout": 30}
            )
            event.listen(self._sqlite_engine, "connect", _sqlite_pragmas)
        else:
            self._async_engine = create_async_engine(self.url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        await self.transaction(self._create_tables)
        if self.is_sqlite and take_back_unfinished:
            # One process owns a SQLite inbox: whatever it held when it stopped is its own
            # unfinished work, to be done again now.
            await self._execute(
                update(deliveries)
                .where(deliveries.c.state == PROCESSING)
                .values(state=PENDING, lease_owner=None, lease_expires=None)
            )
        self._writer = asyncio.create_task(self._write_loop(), name="inbox-writer")

    def _create_tables(self, conn: Connection) -> None:
        if not self.is_sqlite:
            # Several processes starting on a new database would all create the tables, and
            # all but one would fail on PostgreSQL's catalogue: one at a time.
            conn.execute(text("SELECT pg_advisory_xact_lock(7012001)"))
        metadata.create_all(conn)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        while not self._writes.empty():
            write = self._writes.get_nowait()
            if not write.done.done():
                write.done.set_exception(InboxUnavailable("the inbox closed"))
        if self._async_engine is not None:
            await self._async_engine.dispose()
            self._async_engine = None
        if self._sqlite_engine is not None:
            engine, self._sqlite_engine = self._sqlite_engine, None
            connection, self._sqlite_connection = self._sqlite_connection, None
            if connection is not None:
                await asyncio.get_running_loop().run_in_executor(self._sqlite_thread, connection.close)
            await asyncio.get_running_loop().run_in_executor(self._sqlite_thread, engine.dispose)
            self._sqlite_thread.shutdown()
            self._sqlite_thread = None

    # Group-committed writes -------------------------------------------------------------

    async def record(self, delivery: NewDelivery) -> bool:
        """Record a delivery; True when new, False when its id was recorded before."""
        return await self._submit("record", delivery.row())

    async def finish(self, delivery_id: str, *, error: str | None = None, rows: Sequence[RowWrite] = ()) -> None:
        """Mark a claimed delivery done, or failed with the error, and keep ``rows`` in the
        same transaction: a crash before it leaves neither, and the delivery is processed again."""
        params = {
            "b_id": delivery_id,
            "b_state": FAILED if error else DONE,
            "b_error": error,
            "b_finished_at": time.time(),
        }
        await self._submit("finish", params, rows)

    async def _submit(self, kind: str, params: dict[str, Any], rows: Sequence[RowWrite] = ()) -> bool:
        if self._writer is None or self._writer.done():
            raise InboxUnavailable("the inbox is not open")
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._writes.put_nowait(_Write(kind, params, done, rows))
        return await done

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._writes.get()]
            while not self._writes.empty() and len(batch) < _BATCH_LIMIT:
                batch.append(self._writes.get_nowait())
            try:
                outcomes = await self._commit(batch)
            except InboxUnavailable as exc:
                log.error("the inbox could not commit %d writes: %s", len(batch), exc)
                for write in batch:
                    if not write.done.done():
                        write.done.set_exception(InboxUnavailable(str(exc)))
            else:
                for write, outcome in zip(batch, outcomes):
                    if not write.done.done():
                        write.done.set_result(outcome)

    async def _commit(self, batch: list[_Write]) -> list[bool]:
        records = [w.params for w in batch if w.kind == "record"]
        finishes = [w.params for w in batch if w.kind == "finish"]
        kept = [w for w in batch if w.rows]

        def write(conn: Connection, rows: list[RowWrite]) -> set[str]:
            inserted = self.insert_deliveries(conn, records) if records else set()
            if finishes:
                conn.execute(_FINISH, finishes)
            _write_rows(conn, rows)
            return inserted

        # A 202 promises the delivery is on disk; a lost "done" only means processing it again.
        durable = bool(records)
        try:
            inserted = await self.transaction(lambda conn: write(conn, [row for w in kept for row in w.rows]), durable=durable)
        except InboxUnavailable as exc:
            # A row the database refuses (not the database away: then all are tried again,
            # rows included) would hold back every "done" of the group for ever: the group
            # without the rows, and the deliveries that kept them failed with the reason.
            if not kept or not isinstance(exc.__cause__, (IntegrityError, DataError, ProgrammingError)):
                raise
            log.error("rows kept with deliveries' done could not be written: %s", exc)
            for w in kept:
                w.params.update(b_state=FAILED, b_error=f"its records could not be written: {exc}")
            inserted = await self.transaction(lambda conn: write(conn, []), durable=durable)
        outcomes = []
        for entry in batch:
            if entry.kind == "record":
                # Only the first of several writes of one id in a batch is the new one.
                new = entry.params["id"] in inserted
                inserted.discard(entry.params["id"])
                outcomes.append(new)
            else:
                outcomes.append(True)
        return outcomes

    async def write_rows(self, rows: Sequence[RowWrite]) -> None:
        """Write rows meant for a delivery's "done" now, in a transaction of their own."""
        if rows:
            await self.transaction(lambda conn: _write_rows(conn, rows), durable=False)

    def insert_deliveries(self, conn: Connection, records: list[dict[str, Any]]) -> set[str]:
        """Insert these deliveries (``record``'s parameters) and their payloads within the
        caller's transaction, skipping ids recorded before; the ids inserted."""
        unique = list({r["id"]: r for r in reversed(records)}.values())
        inserted = self._insert_new(conn, unique)
        if inserted:
            conn.execute(payloads.insert(), [{"id": r["id"], "payload": r["payload"]} for r in unique if r["id"] in inserted])
        return inserted

    def _insert_new(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the deliveries not recorded before; the ids of those inserted.

        One executemany, without RETURNING (which costs more than the rest of the batch):
        its row count says whether all were new, as they nearly always are. Only when some
        id was there already (a redelivery) are ours told apart, by this batch's stamp.
        """
        stamp = time.time()  # the batch's received time, and how its own rows are told apart
        for row in rows:
            row["received_at"] = stamp
        ids = [row["id"] for row in rows]
        result = conn.execute(self._insert(deliveries).on_conflict_do_nothing(index_elements=["id"]), rows)
        if result.rowcount == len(rows):
            return set(ids)
        ours = select(deliveries.c.id).where(deliveries.c.id.in_(ids), deliveries.c.received_at == stamp)
        return set(conn.execute(ours).scalars())

    def _insert(self, table: Table) -> Any:
        return (sqlite.insert if self.is_sqlite else postgresql.insert)(table)

    # Leases -----------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[ClaimedDelivery]:
        """Take up to ``limit`` pending deliveries, oldest first, under this process's lease."""
        params = {"limit": limit, "owner": self.owner, "expires": time.time() + self.lease_seconds}

        def claim_with_payloads(conn: Connection) -> list[ClaimedDelivery]:
            taken = conn.execute(_CLAIM, params).mappings().all()
            if not taken:
                return []
            texts = dict(conn.execute(_PAYLOADS, {"ids": [row["id"] for row in taken]}).all())
            return [ClaimedDelivery(payload=texts[row["id"]], **row) for row in taken]

        claimed = await self.transaction(claim_with_payloads, durable=False)
        return sorted(claimed, key=lambda d: d.received_at)

    async def requeue_expired(self) -> int:
        """Put back deliveries whose holder's lease ran out (its process died), for any to claim."""
        return await self._execute(
            update(deliveries)
            .where(deliveries.c.state == PROCESSING, deliveries.c.lease_expires < time.time())
            .values(state=PENDING, lease_owner=None, lease_expires=None),
            lambda result: result.rowcount,
            durable=False,
        )

    async def extend(self, delivery_ids: list[str]) -> None:
        """Renew this process's leases on deliveries still in hand."""
        await self._update_held(delivery_ids, lease_expires=time.time() + self.lease_seconds)

    async def release(self, delivery_ids: list[str], *, untried: bool = False) -> None:
        """Give deliveries back unfinished, for the next worker or process to take. ``untried``:
        claimed ahead and never started, so their claim is not counted as an attempt."""
        attempts = {"attempts": deliveries.c.attempts - 1} if untried else {}
        await self._update_held(delivery_ids, state=PENDING, lease_owner=None, lease_expires=None, **attempts)

    async def _update_held(self, delivery_ids: list[str], **values: Any) -> None:
        """Change those of these deliveries whose lease this process still holds."""
        if delivery_ids:
            await self._execute(
                update(deliveries)
                .where(deliveries.c.id.in_(delivery_ids), deliveries.c.lease_owner == self.owner)
                .values(**values),
                durable=False,
            )

    async def prune(self, *, older_than_days: float) -> int:
        """Delete finished deliveries received before the retention window, and their payloads."""
        cutoff = time.time() - older_than_days * 86400
        old = select(deliveries.c.id).where(deliveries.c.state.in_([DONE, FAILED]), deliveries.c.received_at < cutoff)

        def delete_old(conn: Connection) -> int:
            conn.execute(delete(payloads).where(payloads.c.id.in_(old.scalar_subquery())))
            return conn.execute(delete(deliveries).where(deliveries.c.id.in_(old.scalar_subquery()))).rowcount

        return await self.transaction(delete_old)

    # Reading ----------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            await self._execute(text("SELECT 1"))
        except InboxUnavailable:
            return False
        return True

    async def get(self, delivery_id: str) -> dict[str, Any] | None:
        row = await self._execute(
            select(deliveries, payloads.c.payload)
            .join(payloads, payloads.c.id == deliveries.c.id)
            .where(deliveries.c.id == delivery_id),
            lambda result: result.mappings().first(),
        )
        return dict(row) if row else None

    async def known(self, delivery_ids: list[str]) -> set[str]:
        """Which of these delivery ids are recorded."""
        if not delivery_ids:
            return set()
        return await self._execute(
            select(deliveries.c.id).where(deliveries.c.id.in_(delivery_ids)), lambda result: set(result.scalars())
        )

    async def count_by_state(self) -> dict[str, int]:
        rows = await self._execute(
            select(deliveries.c.state, func.count()).group_by(deliveries.c.state), lambda result: result.all()
        )
        return {state: count for state, count in rows}

    # Marks ------------------------------------------------------------------------------

    async def mark(self, kind: str, key: str, value: str = "") -> str:
        """Remember ``value`` under (kind, key) unless a value is remembered there already;
        the value that is. Whoever gets their own value back was first (or is repeating
        themselves, as a redelivered event does)."""
        params = {"kind": kind, "key": key, "value": value, "created_at": time.time()}

        def mark_and_read(conn: Connection) -> str:
            # Nearly always the first: the insert says so, and only a repetition reads.
            first = conn.execute(self._mark, params).scalar()
            return first if first is not None else conn.execute(_MARKED, params).scalar_one()

        return await self.transaction(mark_and_read, durable=False)

    async def marked(self, kind: str, key: str) -> str | None:
        """The value remembered under (kind, key), or None."""
        # A read: it writes nothing for the disk to wait on (durable would only switch SQLite's
        # synchronous setting back and forth on every welcome).
        params = {"kind": kind, "key": key}
        return await self.transaction(lambda conn: conn.execute(_MARKED, params).scalar(), durable=False)

    async def marked_kinds(self, kinds: Sequence[str], key: str) -> dict[str, str]:
        """The values remembered under ``key`` for each of these kinds that has one, in one read."""
        params = {"kinds": list(kinds), "key": key}
        return await self.transaction(lambda conn: dict(conn.execute(_MARKED_KINDS, params).all()), durable=False)

    async def count_marks(self, kind: str, key_prefix: str, *, since: float) -> int:
        """How many facts of this kind, with keys starting ``key_prefix``, were remembered since
        then (flags raised on one thread in a window, say)."""
        prefix = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return await self._execute(
            select(func.count())
            .select_from(marks)
            .where(marks.c.kind == kind, marks.c.key.like(prefix + "%", escape="\\"), marks.c.created_at >= since),
            lambda result: result.scalar_one(),
        )

    async def forget_mark(self, kind: str, key: str) -> bool:
        """Forget one fact (a mentor's open pull request, once it is closed); whether it was known."""
        return await self._execute(
            delete(marks).where(marks.c.kind == kind, marks.c.key == key), lambda result: result.rowcount > 0, durable=False
        )

    async def forget_marks(self, kind: str, *, before: float) -> int:
        """Delete the facts of this kind remembered before then (those that only matter for a
        while, such as redelivery rounds); how many."""
        return await self._execute(
            delete(marks).where(marks.c.kind == kind, marks.c.created_at < before), lambda result: result.rowcount
        )

    async def _execute(
        self, statement: Executable, read: Callable[[Result[Any]], T] = lambda _result: None, *, durable: bool = True
    ) -> T:
        """Run one statement in a transaction of its own and read its result there."""
        return await self.transaction(lambda conn: read(conn.execute(statement)), durable=durable)

    async def transaction(self, work: Callable[[Connection], T], *, durable: bool = True) -> T:
        """Run ``work`` in one transaction, committed when it returns; database errors become
        InboxUnavailable.

        ``durable=False`` is for what may be lost if the machine loses power (never if only the
        process dies): leases, a delivery's "done", marks. Such a commit does not wait for the
        disk (SQLite's synchronous=NORMAL in WAL mode, PostgreSQL's synchronous_commit=off); a
        durable commit after it still writes it first, and nothing is ever corrupted.

        A caller cancelled meanwhile (a worker stopped at shutdown) does not cut the
        transaction short: a connection abandoned mid-transaction would never return to the
        pool, and SQLite has only one.
        """
        try:
            if self._sqlite_engine is not None:
                return await asyncio.get_running_loop().run_in_executor(self._sqlite_thread, self._in_sqlite, work, durable)
            if self._async_engine is not None:
                return await asyncio.shield(self._in_postgres(work, durable))
        except (SQLAlchemyError, OSError) as exc:
            raise InboxUnavailable(str(exc)) from exc
        raise InboxUnavailable("the inbox is not open")

    def _in_sqlite(self, work: Callable[[Connection], T], durable: bool) -> T:
        if self._sqlite_engine is None:
            raise InboxUnavailable("the inbox is not open")
        # One connection held for good: a pool checkout per transaction cost 70 µs.
        if self._sqlite_connection is None:
            self._sqlite_connection = self._sqlite_engine.connect()
            self._sqlite_durable = True  # _sqlite_pragmas' setting
        connection = self._sqlite_connection
        try:
            if durable != self._sqlite_durable:
                # Between transactions, on the driver's connection: SQLAlchemy would begin one.
                connection.connection.dbapi_connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._sqlite_durable = durable
            with connection.begin():
                return work(connection)
        except SQLAlchemyError:
            # It may be broken now: the next transaction opens a fresh one.
            self._sqlite_connection = None
            with contextlib.suppress(SQLAlchemyError):
                connection.close()
            raise

    async def _in_postgres(self, work: Callable[[Connection], T], durable: bool) -> T:
        assert self._async_engine is not None
        async with self._async_engine.begin() as conn:
            if not durable:
                await conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            return await conn.run_sync(work)


def _write_rows(conn: Connection, rows: Sequence[RowWrite]) -> None:
    """One executemany per statement."""
    grouped: dict[Executable, list[dict[str, Any]]] = {}
    for statement, params in rows:
        grouped.setdefault(statement, []).append(params)
    for statement, many in grouped.items():
        conn.execute(statement, many)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work beside the writer; FULL syncs each commit to disk, which group
    # commit makes affordable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
