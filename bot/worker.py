"""A bounded pool of workers that claim recorded deliveries, process them, and mark them done.

Work comes from the inbox, never from memory: the webhook only records a delivery and wakes
the pool. So a delivery recorded by this process, by another process on the same PostgreSQL,
or before a crash, is found the same way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator

from .inbox import ClaimedDelivery, Inbox, InboxUnavailable
from .metrics import Metrics

log = logging.getLogger(__name__)

# A delivery whose processing kept killing its process is given up after this many claims.
MAX_ATTEMPTS = 5

# Processing starts once no delivery has been received for this long (or max_yield passed).
LULL_SECONDS = 0.005

# While the database is away, a processed delivery's "done" is tried again for this long
# (kept in hand meanwhile, so its lease is renewed as soon as the database answers) before it
# is left to run out and be processed again.
FINISH_RETRY_SECONDS = 300.0

Process = Callable[[ClaimedDelivery], Awaitable[str | None]]


class WorkerPool:
    def __init__(
        self,
        inbox: Inbox,
        process: Process,
        *,
        concurrency: int = 8,
        metrics: Metrics | None = None,
        poll_interval: float = 1.0,
        retention_days: float = 7,
        prune_interval: float = 3600,
        max_yield: float = 0.02,
        prune_also: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.inbox = inbox
        self._process = process
        self.concurrency = concurrency
        self._metrics = metrics
        self._poll_interval = poll_interval
        self._retention_days = retention_days
        self._prune_interval = prune_interval
        # Other records past their retention (community activity), forgotten on the same round.
        self._prune_also = prune_also
        self._in_hand: dict[str, asyncio.Task[None]] = {}
        # Claimed ahead, waiting for a worker: one claim's transaction serves several
        # deliveries (a claim a delivery cost 0.24 ms of CPU on SQLite, a claim of nine 0.05
        # each), under this process's lease like those in hand.
        self._ready: collections.deque[ClaimedDelivery] = collections.deque()
        self._wake = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._stopping = asyncio.Event()  # no more claiming or pruning
        self._let_go = asyncio.Event()  # nothing left in hand: no more leases to keep
        self._receiving = 0
        self._last_received = 0.0
        self._max_yield = max_yield
        self._tasks: list[asyncio.Task[None]] = []
        self._lease_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._metrics is not None:
            self._metrics.in_hand.set_function(lambda: len(self._in_hand))
        # Leases are renewed every third of their length, so a delivery stays with its worker
        # however long its handlers take; two renewals may fail (a slow database) before it
        # runs out.
        self._lease_task = asyncio.create_task(
            self._every(self.inbox.lease_seconds / 3, self._tend_leases, until=self._let_go), name="worker-leases"
        )
        self._tasks = [
            asyncio.create_task(self._feed(), name="worker-feed"),
            self._lease_task,
            asyncio.create_task(self._every(self._prune_interval, self._prune, until=self._stopping), name="worker-prune"),
        ]

    def wake(self) -> None:
        """New work was recorded."""
        self._wake.set()

    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        """While a delivery is being received, processing waits its turn (see _yield_to_receiving)."""
        self._receiving += 1
        try:
            yield
        finally:
            self._receiving -= 1
            self._last_received = time.monotonic()

    async def _yield_to_receiving(self) -> None:
        # GitHub gives up on a delivery not answered within 10 s, while a recorded one is safe
        # on disk: answering comes first, and processing still gets a turn every max_yield.
        # At 20 ms, under steady load (the peer benchmark, 16 senders) the bot welcomes at
        # about 40 % of its idle rate while it answers, p99 under 25 ms; at 0.5 s it welcomed
        # almost nothing until the load stopped.
        # It waits for a lull, not merely for no request in hand: a sender that keeps 16
        # requests going has none in hand for a moment after each answer.
        deadline = time.monotonic() + self._max_yield
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= deadline or (not self._receiving and now - self._last_received >= LULL_SECONDS):
                return
            await asyncio.sleep(LULL_SECONDS)

    @property
    def in_hand(self) -> int:
        return len(self._in_hand)

    async def stop(self, timeout: float = 25.0) -> None:
        """Take no more work; finish what is in hand within ``timeout``; give back the rest."""
        # The loops are told to stop rather than cancelled, so none is cut off mid-claim
        # with deliveries leased to it that nobody would then process. Leases are kept up
        # until the end: a lease shorter than the time given to finish would otherwise run
        # out, and another process would take a delivery still being processed here.
        self._stopping.set()
        self._wake.set()
        self._slot_free.set()
        await asyncio.gather(*(task for task in self._tasks if task is not self._lease_task), return_exceptions=True)
        try:
            await self._give_back_ready()
            await self._finish_in_hand(timeout)
        finally:
            self._let_go.set()
            if self._lease_task is not None:
                await asyncio.gather(self._lease_task, return_exceptions=True)

    async def _give_back_ready(self) -> None:
        ready = [delivery.id for delivery in self._ready]
        self._ready.clear()
        if ready:
            with contextlib.suppress(InboxUnavailable):  # their leases run out instead
                await self.inbox.release(ready, untried=True)

    async def _finish_in_hand(self, timeout: float) -> None:
        in_hand = dict(self._in_hand)
        if in_hand:
            log.info("finishing %d deliveries in hand before stopping", len(in_hand))
            _, unfinished = await asyncio.wait(in_hand.values(), timeout=timeout)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            left = [delivery_id for delivery_id, task in in_hand.items() if task in unfinished]
            if left:
                log.warning("giving back %d unfinished deliveries", len(left))
                with contextlib.suppress(InboxUnavailable):
                    await self.inbox.release(left)

    async def _feed(self) -> None:
        try:
            await self._tend_leases()  # work a dead process left, before new work
        except Exception:
            log.exception("cannot take back expired leases")
        while not self._stopping.is_set():
            free = self.concurrency - len(self._in_hand)
            if free <= 0:
                self._slot_free.clear()
                if not self._stopping.is_set():
                    await self._slot_free.wait()
                continue
            if not self._ready:
                await self._yield_to_receiving()
                self._wake.clear()
                try:
                    self._ready.extend(await self.inbox.claim(free + self.concurrency))
                except Exception:
                    log.exception("cannot claim deliveries")
                if not self._ready:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                    continue
            while free > 0 and self._ready:
                delivery = self._ready.popleft()
                self._in_hand[delivery.id] = asyncio.create_task(self._run(delivery), name=f"delivery-{delivery.id}")
                free -= 1

    async def _run(self, delivery: ClaimedDelivery) -> None:
        started = time.monotonic()
        try:
            if delivery.attempts > MAX_ATTEMPTS:
                error: str | None = f"given up after {MAX_ATTEMPTS} attempts that did not finish"
                log.error(error, extra={"fields": {"delivery": delivery.id}})
            else:
                try:
                    error = await self._process(delivery)
                except Exception as exc:
                    log.exception("delivery could not be processed", extra={"fields": {"delivery": delivery.id}})
                    error = f"could not be processed: {exc!r}"
            await self._finish(delivery, error)
            if self._metrics is not None:
                self._metrics.processing_seconds.observe(time.monotonic() - started)
        finally:
            self._in_hand.pop(delivery.id, None)
            self._slot_free.set()

    async def _finish(self, delivery: ClaimedDelivery, error: str | None) -> None:
        """Mark the delivery finished, with the rows its processing kept for then, waiting out a
        database outage: processed once, it should not be processed again only because "done"
        could not be written at that moment."""
        delivery_id = delivery.id
        deadline = time.monotonic() + FINISH_RETRY_SECONDS
        delay = 0.1
        while True:
            try:
                await self.inbox.finish(delivery_id, error=error, rows=delivery.kept_rows)
                return
            except InboxUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    # Its lease runs out and it is processed again: handlers are idempotent.
                    log.error("cannot mark delivery finished: %s", exc, extra={"fields": {"delivery": delivery_id}})
                    return
                if delay == 0.1:
                    log.warning("cannot mark delivery finished yet; trying again: %s", exc, extra={"fields": {"delivery": delivery_id}})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _every(self, interval: float, job: Callable[[], Awaitable[None]], *, until: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(until.wait(), interval)
            if until.is_set():
                return
            try:
                await job()
            except Exception:
                log.exception("%s failed; trying again in %ss", job.__name__, interval)

    async def _tend_leases(self) -> None:
        """Keep our leases; put back those of processes that died holding theirs."""
        await self.inbox.extend([*self._in_hand, *(delivery.id for delivery in self._ready)])
        requeued = await self.inbox.requeue_expired()
        if requeued:
            log.warning("took back %d deliveries whose process stopped renewing its lease", requeued)

    async def _prune(self) -> None:
        pruned = await self.inbox.prune(older_than_days=self._retention_days)
        if pruned:
            log.info("pruned %d finished deliveries", pruned)
        if self._prune_also is not None:
            forgotten = await self._prune_also()
            if forgotten:
                log.info("pruned %d records past their retention", forgotten)
