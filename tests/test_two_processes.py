"""Two `community-bot serve` processes share one PostgreSQL inbox; one dies with SIGKILL
midway through 2,000 deliveries, and every delivery is still processed exactly once.

The observable effect is the welcome handler's: each delivery is a different newcomer's
first issue, so each must get exactly one welcome comment, posted once, on the fake GitHub.

The deliveries the killed process had leased come back only when their lease runs out: the
servers lease for the default LEASE_SECONDS (20 s), and the survivor looks for expired leases
every third of that, so it takes them back within 30 s of the kill. The leases kept by a process that lives are
renewed as often, so a short lease is not lost while a handler runs long: the last test here
shows that with a lease of well under a second.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

import bot.signatures  # noqa: F401  (puts cla_signatures on the metadata, so it is dropped too)
from bot.inbox import DONE, FAILED, PROCESSING, Inbox, NewDelivery, deliveries
from bot.worker import WorkerPool
from tests.conftest import (
    SECRET,
    drop_tables,
    free_port,
    headers_for,
    installed,
    own_postgres_database,
    postgres_answers,
)
from tests.fakes import FakeGitHub, example, make_private_key

DELIVERIES = 2000
CONCURRENCY = 16  # requests in flight at once, over both processes
# Deliveries answered but not yet processed, at most: sending keeps pace with processing, so
# that both processes process (not only receive) before one of them dies.
BACKLOG = 64
# Each repository in an installation of its own: GitHub (and the fake) allow an installation
# 5,000 requests an hour, and a welcome costs about four.
REPOSITORIES = ("Hello-World", "Second-Project", "Third-Project", "Fourth-Project", "Fifth-Project")
OWNER = "Codertocat"  # the owner in GitHub's example payload
COMMENTS_PATH = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
# The killed process's leases run out within the default lease (20 s); the survivor takes them
# back at its next tending of leases, at most a third of that later: within 30 s by default.
TAKEOVER_SECONDS = 30.0
SETTLE_TIMEOUT = 60.0
OWN_DATABASE = "test_two_processes"


pytestmark = pytest.mark.skipif(not postgres_answers(), reason="no PostgreSQL answers on 127.0.0.1:5432")


@pytest.fixture
async def database_url():
    url = await own_postgres_database(OWN_DATABASE)
    # Nothing left from an earlier run is processed too. The tables are made here, before
    # the servers start: two processes opening an empty database at once race in
    # metadata.create_all (CREATE TABLE, UniqueViolationError on pg_type), and one of them
    # stops with "cannot start: the database does not answer".
    await drop_tables(url, create_again=True)
    yield url
    await drop_tables(url)


@dataclass
class Delivery:
    index: int
    repo: str
    number: int
    delivery_id: str
    body: bytes


def _deliveries() -> list[Delivery]:
    """Each a new person's first issue, in one of a few repositories, numbered uniquely."""
    template = example("issues", "opened")
    made = []
    for index in range(DELIVERIES):
        repo = REPOSITORIES[index % len(REPOSITORIES)]
        number = index + 1
        installation_id = 7 + REPOSITORIES.index(repo)
        payload = installed(json.loads(json.dumps(template).replace(f"{OWNER}/Hello-World", f"{OWNER}/{repo}")), installation_id)
        payload["repository"].update(name=repo, full_name=f"{OWNER}/{repo}", id=1296269 + REPOSITORIES.index(repo))
        author = copy.deepcopy(payload["issue"]["user"])
        author.update(login=f"newcomer-{index}", id=500_000 + index)
        payload["issue"].update(number=number, user=author, author_association="NONE", title=f"Issue {number}")
        payload["sender"] = author
        made.append(Delivery(index, repo, number, f"two-processes-{index}", json.dumps(payload).encode()))
    return made


class Server:
    """One `python -m bot serve` on the shared PostgreSQL, logging to a file."""

    def __init__(self, name: str, tmp_path: Path, fake: FakeGitHub, database_url: str) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        directory = tmp_path / name
        directory.mkdir()
        self.log_path = directory / "stderr.log"
        env = {
            **os.environ,
            "GITHUB_APP_ID": "1",
            "GITHUB_PRIVATE_KEY": make_private_key()[0],
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": fake.url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "GITHUB_WRITES_PER_MINUTE": "0",
            "GITHUB_WRITES_PER_HOUR": "0",
        }
        # A file, not a pipe: nobody reads a pipe while the test runs, and a full one would
        # block the server mid-log.
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=directory, env=env, stderr=self._log, stdout=self._log
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_healthy(self, session: aiohttp.ClientSession, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} stopped on start-up:\n{self.log_path.read_text()[-3000:]}")
            try:
                async with session.get(f"{self.base}/healthz", timeout=aiohttp.ClientTimeout(total=1)) as answer:
                    if answer.status == 200 and (await answer.json())["ok"] is True:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not healthy in {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def log_lines(self) -> list[dict[str, Any]]:
        self._log.flush()
        lines = []
        for line in self.log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by SIGKILL
        return lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


async def _leases_of(inbox: Inbox, pid: int) -> int:
    """How many deliveries the process with this pid holds leased (claimed, not finished)."""
    query = (
        select(func.count())
        .select_from(deliveries)
        .where(deliveries.c.state == PROCESSING, deliveries.c.lease_owner.like(f"%:{pid}:%"))
    )
    return await inbox.transaction(lambda conn: conn.execute(query).scalar_one())


async def test_two_processes_share_the_inbox_and_a_killed_ones_deliveries_are_processed_once(
    database_url, fake_github, tmp_path
):
    started = time.monotonic()
    work = _deliveries()
    a = Server("a", tmp_path, fake_github, database_url)
    b = Server("b", tmp_path, fake_github, database_url)
    observer = Inbox(database_url)  # the test's own look at the shared tables
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(a.wait_healthy(session), b.wait_healthy(session))
            await observer.open()

            answered: dict[int, tuple[str, int]] = {}  # index -> (server name, status)
            refused: list[tuple[Delivery, str, float]] = []  # sent to A, connection failed: (delivery, error, when)
            killed_at: float | None = None
            killed_wall = 0.0
            answered_at_kill = 0
            held_by_dead = 0  # deliveries A held leased when it died
            half_answered = asyncio.Event()

            async def post(server: Server, delivery: Delivery) -> int:
                headers = headers_for("issues", delivery.body, delivery_id=delivery.delivery_id)
                async with session.post(
                    f"{server.base}/webhook", data=delivery.body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as answer:
                    await answer.read()
                    return answer.status

            queue: asyncio.Queue[Delivery] = asyncio.Queue()
            for delivery in work:
                queue.put_nowait(delivery)

            done = 0  # deliveries processed, as the inbox last said

            async def watch_progress() -> None:
                nonlocal done
                while True:
                    done = (await observer.count_by_state()).get(DONE, 0)
                    await asyncio.sleep(0.05)

            async def sender() -> None:
                while True:
                    while len(answered) - done >= BACKLOG:
                        await asyncio.sleep(0.01)
                    try:
                        delivery = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    # Round-robin while both live; everything to B once A is dead.
                    server = a if delivery.index % 2 == 0 and killed_at is None else b
                    try:
                        status = await post(server, delivery)
                    except aiohttp.ClientConnectionError as exc:
                        if server is b:
                            raise
                        refused.append((delivery, repr(exc), time.monotonic()))
                        continue
                    answered[delivery.index] = (server.name, status)
                    if len(answered) >= DELIVERIES // 2:
                        half_answered.set()

            async def killer() -> None:
                nonlocal killed_at, killed_wall, answered_at_kill, held_by_dead
                await half_answered.wait()
                # A must die holding leases. Frozen (SIGSTOP), it cannot finish what it holds while
                # its leases are counted; a commit it had already sent lands in the pause. Holding
                # none, it is let go on and tried again a moment later.
                deadline = time.monotonic() + 30
                while True:
                    assert time.monotonic() < deadline, "process A never held a lease while deliveries came in"
                    os.kill(a.pid, signal.SIGSTOP)
                    await asyncio.sleep(0.1)
                    held_by_dead = await _leases_of(observer, a.pid)
                    if held_by_dead:
                        break
                    os.kill(a.pid, signal.SIGCONT)
                    await asyncio.sleep(0.02)
                killed_at, killed_wall = time.monotonic(), time.time()
                answered_at_kill = len(answered)
                os.kill(a.pid, signal.SIGKILL)

            kill_task = asyncio.create_task(killer())
            watch_task = asyncio.create_task(watch_progress())
            try:
                await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
                await kill_task
            finally:
                kill_task.cancel()
                watch_task.cancel()
                await asyncio.gather(kill_task, watch_task, return_exceptions=True)
            assert a.process.wait(timeout=10) == -signal.SIGKILL
            assert answered_at_kill < DELIVERIES * 3 // 4, f"A was killed late, after {answered_at_kill} answers"
            sent_seconds = time.monotonic() - started

            # Only deliveries sent to A may have been refused, and only once A was being killed.
            assert all(when >= killed_at for _, _, when in refused), refused
            assert {status for _, status in answered.values()} == {202}, collections.Counter(answered.values())
            # GitHub redelivers what was not answered, with the same delivery id: to B now. One
            # A recorded before it died without answering is a duplicate to B: 200, not 202.
            redelivered = collections.Counter()
            for delivery, _, _ in refused:
                status = await post(b, delivery)
                assert status in (200, 202), status
                redelivered[status] += 1
                answered[delivery.index] = ("b", status)
            assert sorted(answered) == list(range(DELIVERIES))
            per_server = collections.Counter(name for name, _ in answered.values())
            assert per_server["a"] > 0 and per_server["b"] > 0, per_server

            # What A held when it died: leased, so only the expiry of its leases frees them.
            assert held_by_dead > 0, "A held no leased delivery when killed: the test proved nothing about leases"

            # Wait until every delivery is finished and every issue has its welcome.
            wanted = {(d.repo, d.number) for d in work}

            def posted() -> collections.Counter:
                return collections.Counter(
                    (call.path.split("/")[3], int(call.path.split("/")[5]))
                    for call in fake_github.calls_to("POST", COMMENTS_PATH)
                )

            deadline = time.monotonic() + SETTLE_TIMEOUT
            while True:
                counts = await observer.count_by_state()
                if counts == {DONE: DELIVERIES} and set(posted()) == wanted:
                    break
                if counts.get(FAILED):
                    errors = await observer.transaction(
                        lambda conn: conn.execute(
                            select(deliveries.c.error).where(deliveries.c.state == FAILED).limit(3)
                        ).scalars().all()
                    )
                    raise AssertionError(f"deliveries failed: {counts}, e.g. {errors}")
                if time.monotonic() > deadline:
                    missing = wanted - set(posted())
                    raise AssertionError(
                        f"not settled {SETTLE_TIMEOUT}s after the kill: states {counts}, "
                        f"{len(missing)} issues without a welcome, e.g. {sorted(missing)[:5]}"
                    )
                assert b.process.poll() is None, f"B stopped:\n{b.log_path.read_text()[-3000:]}"
                await asyncio.sleep(0.2)
            settled_seconds = time.monotonic() - killed_at

            # Exactly once: one POST per issue, and one comment on it, never a second.
            counted = posted()
            twice = {key: n for key, n in counted.items() if n != 1}
            assert not twice, f"issues welcomed more than once: {twice}"
            assert set(counted) == wanted
            for repo, number in sorted(wanted)[:: DELIVERIES // 20]:  # a sample: fake.comments is a scan
                assert len(fake_github.comments(OWNER, repo, number)) == 1

            # B took back what A had leased, and both processes did part of the work.
            b.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(b.process.wait, 30) == 0
            b_lines, a_lines = b.log_lines(), a.log_lines()
            taken_back = [line for line in b_lines if "took back" in line.get("message", "")]
            assert taken_back, "B never took back A's expired leases"
            takeover_seconds = datetime.datetime.fromisoformat(taken_back[-1]["time"]).timestamp() - killed_wall
            assert takeover_seconds <= TAKEOVER_SECONDS, f"A's deliveries taken back {takeover_seconds:.1f}s after the kill"
            processed_by = {
                name: {line.get("delivery") for line in lines if line.get("message") == "delivery processed"}
                for name, lines in (("a", a_lines), ("b", b_lines))
            }
            assert processed_by["a"] and processed_by["b"], {k: len(v) for k, v in processed_by.items()}
            assert processed_by["a"] | processed_by["b"] == {d.delivery_id for d in work}
            print(
                f"\n{DELIVERIES} deliveries: answered a={per_server['a']} b={per_server['b']}, "
                f"{len(refused)} refused by the killed A and resent to B (answers {dict(redelivered)}); A held {held_by_dead} leases when killed; "
                f"processed (logged) by a={len(processed_by['a'])} b={len(processed_by['b'])}, "
                f"both={len(processed_by['a'] & processed_by['b'])}; B: {[l['message'] for l in taken_back]}; "
                f"killed after {answered_at_kill} answers, taken back {takeover_seconds:.1f}s after; sent in {sent_seconds:.1f}s, settled {settled_seconds:.1f}s after the kill, "
                f"{time.monotonic() - started:.1f}s in all"
            )
    finally:
        a.stop()
        b.stop()
        await observer.close()


async def test_a_short_lease_stays_with_a_live_process_while_its_handler_runs_long(database_url):
    """A handler runs for many leases, through a graceful stop too, while another process on
    the database keeps looking for expired leases and claiming: the delivery stays with the
    live process, is processed once, and is finished by it."""
    lease = 0.6
    holder = Inbox(database_url, lease_seconds=lease)
    other = Inbox(database_url, lease_seconds=lease)  # another process, by its lease owner
    await holder.open()
    await other.open()
    started, processed = asyncio.Event(), []

    async def long_handler(delivery):
        processed.append(delivery.id)
        started.set()
        await asyncio.sleep(6 * lease)

    try:
        await holder.record(NewDelivery(id="long", event="issues", payload="{}"))
        pool = WorkerPool(holder, long_handler, poll_interval=0.05)
        pool.start()
        await asyncio.wait_for(started.wait(), 10)
        taken: list[str] = []

        async def other_process() -> None:
            while True:
                await other.requeue_expired()
                taken.extend(delivery.id for delivery in await other.claim(10))
                await asyncio.sleep(lease / 6)

        prowler = asyncio.create_task(other_process())
        try:
            await asyncio.sleep(3 * lease)
            await pool.stop(timeout=30)  # the handler is still at work: it is let finish
        finally:
            prowler.cancel()
            await asyncio.gather(prowler, return_exceptions=True)
        assert taken == []
        assert processed == ["long"]
        stored = await other.get("long")
        assert (stored["state"], stored["attempts"]) == (DONE, 1)
    finally:
        await holder.close()
        await other.close()
