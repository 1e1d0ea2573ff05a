"""Storage on both databases: SQLite always, PostgreSQL when one answers on 127.0.0.1:5432."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from bot.inbox import Inbox, NewDelivery, metadata
from tests.conftest import POSTGRES_URL, postgres_answers

POSTGRES = pytest.param(
    POSTGRES_URL,
    id="postgresql",
    marks=pytest.mark.skipif(not postgres_answers(), reason="no PostgreSQL answers on 127.0.0.1:5432"),
)


@pytest.fixture(params=["sqlite", POSTGRES])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inbox.db'}"
        return
    # A clean slate in the shared test database.
    inbox = Inbox(request.param)
    await inbox.open()
    await inbox.transaction(metadata.drop_all)
    await inbox.close()
    yield request.param


@pytest.fixture
async def open_inbox(database_url):
    opened = []

    async def open_one(**kwargs) -> Inbox:
        inbox = Inbox(database_url, **kwargs)
        await inbox.open()
        opened.append(inbox)
        return inbox

    yield open_one
    for inbox in opened:
        await inbox.close()


def delivery(n: int, event: str = "issues") -> NewDelivery:
    return NewDelivery(id=f"delivery-{n}", event=event, payload='{"n": %d}' % n, action="opened", installation_id=7, repository="o/r")


async def test_record_is_new_once(open_inbox):
    inbox = await open_inbox()
    assert await inbox.record(delivery(1)) is True
    assert await inbox.record(delivery(1)) is False
    assert (await inbox.get("delivery-1"))["state"] == "pending"


async def test_concurrent_records_of_one_id_store_one_row(open_inbox):
    inbox = await open_inbox()
    outcomes = await asyncio.gather(*(inbox.record(delivery(1)) for _ in range(20)))
    assert outcomes.count(True) == 1
    assert await inbox.count_by_state() == {"pending": 1}


async def test_claim_takes_oldest_first_and_holds_a_lease(open_inbox):
    inbox = await open_inbox()
    for n in range(5):
        await inbox.record(delivery(n))
    first = await inbox.claim(3)
    assert [d.id for d in first] == ["delivery-0", "delivery-1", "delivery-2"]
    assert all(d.attempts == 1 for d in first)
    second = await inbox.claim(10)
    assert [d.id for d in second] == ["delivery-3", "delivery-4"]
    assert await inbox.claim(10) == []


async def test_finish_marks_done_or_failed(open_inbox):
    inbox = await open_inbox()
    await inbox.record(delivery(1))
    await inbox.record(delivery(2))
    await inbox.claim(2)
    await inbox.finish("delivery-1")
    await inbox.finish("delivery-2", error="handlers failed: x")
    assert (await inbox.get("delivery-1"))["state"] == "done"
    failed = await inbox.get("delivery-2")
    assert failed["state"] == "failed"
    assert failed["error"] == "handlers failed: x"


async def test_rows_kept_for_done_are_written_with_it_in_one_group(open_inbox):
    from bot.inbox import marks

    inbox = await open_inbox()
    keep = inbox._insert(marks).on_conflict_do_nothing(index_elements=["kind", "key"])
    for n in (1, 2):
        await inbox.record(delivery(n))
    await inbox.claim(2)
    row = lambda key: (keep, {"kind": "kept", "key": key, "value": "", "created_at": time.time()})  # noqa: E731
    # Finished together, so in one transaction: two rows of one, one of the other, and a repeat.
    await asyncio.gather(
        inbox.finish("delivery-1", rows=[row("a"), row("b")]),
        inbox.finish("delivery-2", error="handlers failed: x", rows=[row("c"), row("a")]),
    )
    assert {key: await inbox.marked("kept", key) for key in "abc"} == {"a": "", "b": "", "c": ""}
    assert (await inbox.get("delivery-1"))["state"] == "done"
    assert (await inbox.get("delivery-2"))["state"] == "failed"


async def test_rows_that_cannot_be_written_fail_their_delivery_and_hold_back_no_other(open_inbox):
    from bot.inbox import marks

    inbox = await open_inbox()
    for n in (1, 2):
        await inbox.record(delivery(n))
    await inbox.claim(2)
    # No value where one is required: this row can never be written.
    broken = (marks.insert(), {"kind": "kept", "key": "x", "value": None, "created_at": None})
    await asyncio.gather(inbox.finish("delivery-1"), inbox.finish("delivery-2", rows=[broken]))
    assert (await inbox.get("delivery-1"))["state"] == "done"
    failed = await inbox.get("delivery-2")
    assert failed["state"] == "failed"
    assert failed["error"].startswith("its records could not be written")
    assert await inbox.marked("kept", "x") is None


async def test_a_database_error_not_of_the_rows_making_fails_no_delivery(tmp_path):
    from sqlalchemy import column, insert, table

    from bot.inbox import InboxUnavailable

    inbox = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    await inbox.open()
    try:
        await inbox.record(delivery(1))
        await inbox.claim(1)
        # An OperationalError, as when the database goes away (SQLite names a missing table
        # so): the finish is refused, to be tried again, rows and all; nothing is failed.
        missing = (insert(table("no_such_table", column("x"))), {"x": 1})
        with pytest.raises(InboxUnavailable):
            await inbox.finish("delivery-1", rows=[missing])
        assert (await inbox.get("delivery-1"))["state"] == "processing"
    finally:
        await inbox.close()


async def test_marks_of_several_kinds_are_read_at_once(open_inbox):
    inbox = await open_inbox()
    await inbox.mark("welcome.issue", "o/r:alice", "12")
    await inbox.mark("welcome.first_merge", "o/r:alice", "14")
    await inbox.mark("welcome.pull_request", "o/r:bob", "3")
    kinds = ["welcome.issue", "welcome.pull_request"]
    assert await inbox.marked_kinds(kinds, "o/r:alice") == {"welcome.issue": "12"}
    assert await inbox.marked_kinds(kinds, "o/r:carol") == {}


async def test_an_expired_lease_is_taken_over(open_inbox):
    dead = await open_inbox(owner="dead", lease_seconds=0.2)
    alive = await open_inbox(owner="alive", lease_seconds=30)
    await dead.record(delivery(1))
    assert [d.id for d in await dead.claim(1)] == ["delivery-1"]
    assert await alive.claim(1) == []
    assert await alive.requeue_expired() == 0
    await asyncio.sleep(0.3)
    assert await alive.requeue_expired() == 1
    taken = await alive.claim(1)
    assert [(d.id, d.attempts) for d in taken] == [("delivery-1", 2)]
    assert (await alive.get("delivery-1"))["lease_owner"] == "alive"


async def test_extend_keeps_a_lease_alive(open_inbox):
    holder = await open_inbox(owner="holder", lease_seconds=0.3)
    other = await open_inbox(owner="other")
    await holder.record(delivery(1))
    await holder.claim(1)
    for _ in range(3):
        await asyncio.sleep(0.15)
        await holder.extend(["delivery-1"])
    assert await other.claim(1) == []


async def test_release_gives_work_back(open_inbox):
    inbox = await open_inbox()
    await inbox.record(delivery(1))
    await inbox.claim(1)
    await inbox.release(["delivery-1"])
    assert [d.id for d in await inbox.claim(1)] == ["delivery-1"]


async def test_prune_deletes_only_old_finished_deliveries(open_inbox):
    inbox = await open_inbox()
    for n in range(3):
        await inbox.record(delivery(n))
    await inbox.claim(2)
    await inbox.finish("delivery-0")
    await inbox.finish("delivery-1", error="boom")
    assert await inbox.prune(older_than_days=7) == 0
    await inbox.transaction(lambda conn: conn.execute(text("UPDATE deliveries SET received_at = received_at - 8 * 86400")))
    assert await inbox.prune(older_than_days=7) == 2
    assert await inbox.count_by_state() == {"pending": 1}


async def test_the_first_value_marked_stays(open_inbox):
    inbox = await open_inbox()
    assert await inbox.marked("welcome", "o/r:alice") is None
    results = await asyncio.gather(*(inbox.mark("welcome", "o/r:alice", f"issue {n}") for n in range(5)))
    first = results[0]
    assert results == [first] * 5  # one of them won, and every one of them was told which
    assert await inbox.mark("welcome", "o/r:alice", first) == first  # the winner, repeating itself
    assert await inbox.marked("welcome", "o/r:alice") == first
    assert await inbox.mark("welcome", "o/r:bob") == ""


async def test_marks_are_counted_by_key_prefix_and_time(open_inbox):
    inbox = await open_inbox()
    for key in ("o/r#1:c1", "o/r#1:c2", "o/r#12:c3", "o_r#1:c4"):
        await inbox.mark("conduct.flag", key)
    assert await inbox.count_marks("conduct.flag", "o/r#1:", since=0) == 2  # not #12, and _ is no wildcard
    assert await inbox.count_marks("conduct.flag", "o/r#1:", since=time.time() + 60) == 0
    assert await inbox.count_marks("other", "o/r#1:", since=0) == 0


async def test_marks_of_a_kind_are_forgotten_once_old(open_inbox):
    inbox = await open_inbox()
    await inbox.mark("redelivery-round", "900s:1")
    await inbox.mark("welcome", "o/r:alice")
    assert await inbox.forget_marks("redelivery-round", before=time.time() - 60) == 0  # not old yet
    assert await inbox.forget_marks("redelivery-round", before=time.time() + 60) == 1
    assert await inbox.marked("redelivery-round", "900s:1") is None
    assert await inbox.marked("welcome", "o/r:alice") == ""  # another kind is kept


async def test_concurrent_claimers_split_the_work(database_url, open_inbox):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process")
    claimers = [await open_inbox(owner=f"p{i}") for i in range(4)]
    for n in range(200):
        await claimers[0].record(delivery(n))

    async def drain(inbox):
        got = []
        while batch := await inbox.claim(7):
            got.extend(d.id for d in batch)
        return got

    results = await asyncio.gather(*(drain(c) for c in claimers))
    claimed = [d for got in results for d in got]
    assert len(claimed) == 200
    assert len(set(claimed)) == 200


async def test_sqlite_restart_takes_back_unfinished_work(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    crashed = Inbox(url, owner="crashed", lease_seconds=3600)
    await crashed.open()
    await crashed.record(delivery(1))
    await crashed.claim(1)
    await crashed.close()  # no release: as if the process had died
    restarted = Inbox(url, owner="restarted")
    await restarted.open()
    try:
        assert [d.id for d in await restarted.claim(1)] == ["delivery-1"]
    finally:
        await restarted.close()


async def test_a_command_beside_a_running_sqlite_server_leaves_its_work_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    server = Inbox(url, owner="server", lease_seconds=3600)
    await server.open()
    await server.record(delivery(1))
    await server.claim(1)
    command = Inbox(url, owner="cla-export")
    await command.open(take_back_unfinished=False)
    try:
        assert await command.count_by_state() == {"processing": 1}
    finally:
        await command.close()
        await server.close()


async def test_unreachable_database_raises_inbox_unavailable():
    from bot.inbox import InboxUnavailable

    inbox = Inbox("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    with pytest.raises(Exception):
        await inbox.open()
    assert await inbox.ping() is False
    with pytest.raises(InboxUnavailable):
        await inbox.record(delivery(1))


async def test_a_cancelled_caller_does_not_strand_the_connection(open_inbox):
    # A worker stopped mid-claim once left SQLite's only connection checked out, and every
    # later write waited for the pool's timeout.
    inbox = await open_inbox()
    for n in range(20):
        await inbox.record(delivery(n))
        claim = asyncio.create_task(inbox.claim(1))
        for _ in range(n % 6):
            await asyncio.sleep(0)
        claim.cancel()
        await asyncio.gather(claim, return_exceptions=True)
        assert await asyncio.wait_for(inbox.record(delivery(100 + n)), 5) is True
        assert await asyncio.wait_for(inbox.ping(), 5) is True


async def test_a_batch_mixing_a_redelivery_and_a_new_delivery(open_inbox):
    inbox = await open_inbox()
    assert await inbox.record(delivery(1)) is True
    # Recorded together, so in one batch: only the new one is new.
    outcomes = await asyncio.gather(inbox.record(delivery(1)), inbox.record(delivery(2)), inbox.record(delivery(1)))
    assert outcomes == [False, True, False]
    assert await inbox.count_by_state() == {"pending": 2}
    assert (await inbox.get("delivery-2"))["payload"] == '{"n": 2}'


async def test_a_failed_transaction_leaves_the_inbox_usable(open_inbox):
    from bot.inbox import InboxUnavailable

    inbox = await open_inbox()
    with pytest.raises(InboxUnavailable):
        await inbox.transaction(lambda conn: conn.execute(text("SELECT * FROM no_such_table")))
    assert await inbox.ping() is True
    assert await inbox.record(delivery(1)) is True


async def test_processes_starting_together_on_a_new_database_all_start(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process")
    first = Inbox(database_url)
    await first.open()
    await first.transaction(metadata.drop_all)
    await first.close()
    inboxes = [Inbox(database_url, owner=f"p{n}") for n in range(4)]
    try:
        await asyncio.gather(*(inbox.open() for inbox in inboxes))
    finally:
        await inboxes[0].transaction(metadata.drop_all)
        for inbox in inboxes:
            await inbox.close()


async def test_only_durable_transactions_wait_for_the_disk(open_inbox, database_url):
    """Recording a delivery (what a 202 promises) waits for the disk; leases, "done" and marks
    may be lost to a power cut, so they do not."""
    inbox = await open_inbox()
    if inbox.is_sqlite:
        setting = "PRAGMA synchronous"  # 2: FULL, 1: NORMAL
        durable, relaxed = 2, 1
    else:
        setting = "SHOW synchronous_commit"
        durable, relaxed = "on", "off"

    def read(conn):
        return conn.exec_driver_sql(setting).scalar()

    assert await inbox.transaction(read) == durable
    assert await inbox.transaction(read, durable=False) == relaxed
    assert await inbox.transaction(read) == durable
    await inbox.mark("k", "key", "v")
    await inbox.record(delivery(1))
    assert await inbox.get("delivery-1") is not None
