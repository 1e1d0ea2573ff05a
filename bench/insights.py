#!/usr/bin/env python
"""How long the community health figures take over a large activity log.

Generates ``--rows`` activity rows (default 1,000,000) of a realistic shape, from a fixed seed:
two organisations of 30 and 20 repositories, two years of issues and pull requests, the
busiest repository taking about a fifth of the activity (repositories by a power law), people
by a power law too (a few maintainers do much, most people little), and bots among them
(Dependabot's pull requests, the app's welcomes). Each item carries what follows it in
life: comments, reviews, review comments, closing or merging (sometimes a reopening), DCO and
CLA verdicts (some failing, then fixed or abandoned), good-first-issue labels and claims,
closing keywords, welcomes, and now and then a code-of-conduct reminder.

The rows, as ``ActivityLog.record`` writes them, are inserted by one executemany per 20,000. Then
``metrics.compute`` is timed, ``--runs`` times each (the median is shown), for:

- the busiest repository's page over the last 90 and 365 days (the target: under a second);
- a typical repository's page (the median one by activity), the same windows;
- the larger organisation, all its repositories, the same windows: by owner, and with its
  repositories listed too (as the web page asks, for what the signed-in person may read).

SQLite (the default: a fresh file in a temporary directory, deleted afterwards) or PostgreSQL
with ``--database`` (its own database, created if missing; never the tests' ``test``, whose
``activity`` rows the tests delete). On PostgreSQL the tables are dropped afterwards.

    .venv/bin/python bench/insights.py [--rows 1000000] [--runs 3]
    .venv/bin/python bench/insights.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/bench_insights
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime
import itertools
import math
import random
import statistics
import tempfile
import time
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.inbox import Inbox, metadata
from bot.insights import activity as act
from bot.insights.metrics import Scope, compute

DAY = 86400.0
HOUR = 3600.0
END = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC).timestamp()
YEARS = 2
ORGANISATIONS = (("acme", 30), ("globex", 20))
BATCH = 20_000
FILL_CACHE_KB = 512 * 1024
SQLITE_DEFAULT_CACHE_KB = 2000
TESTS_DATABASES = {"test", "test_two_processes"}
BOTS = ("dependabot[bot]", "renovate[bot]", "github-actions[bot]")
APP = "community-bot[bot]"


class History:
    """Activity rows of a fixed seed, item by item, until there are enough."""

    def __init__(self, rows: int, seed: int = 20250101) -> None:
        self.wanted = rows
        self.random = random.Random(seed)
        self.repositories = [f"{org}/repo-{index:02d}" for org, count in ORGANISATIONS for index in range(count)]
        # The busiest repository first, then a power law: the k-th has 1/k of its activity.
        self.repository_weights = _cumulative([1 / rank for rank in range(1, len(self.repositories) + 1)])
        people = max(2000, rows // 50)
        self.people = [f"person{index}" for index in range(people)]
        self.people_weights = _cumulative([1 / rank**1.1 for rank in range(1, people + 1)])
        # Each repository's maintainers answer most of its issues and pull requests.
        self.maintainers = {repo: self.random.sample(self.people[:300], 5) for repo in self.repositories}
        self.numbers = dict.fromkeys(self.repositories, 0)
        self.opened_here: set[tuple[str, str]] = set()
        self.count = itertools.count()

    def pick(self, values: list[str], cumulative: list[float]) -> str:
        return values[bisect.bisect(cumulative, self.random.random() * cumulative[-1])]

    def person(self) -> str:
        return self.pick(self.people, self.people_weights)

    def delay(self, median_hours: float, sigma: float = 1.5) -> float:
        """Seconds, log-normally spread about a median: most answers come soon, some very late."""
        return median_hours * HOUR * math.exp(self.random.gauss(0, sigma))

    def batches(self) -> Any:
        batch: list[dict[str, Any]] = []
        made = 0
        while made < self.wanted:
            rows = self.item()
            batch += rows
            made += len(rows)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def row(self, repo: str, kind: str, number: int, at: float, actor: str | None, *, is_pull: bool = False,
            detail: str | None = None) -> dict[str, Any]:
        """An ``activity`` row as ``Activity.row`` makes it (built directly: a million
        dataclasses cost more than the inserts)."""
        return {
            "key": f"{repo}#{number}:{kind}:{next(self.count)}", "owner": repo.split("/", 1)[0], "repository": repo,
            "kind": kind, "number": number, "is_pull": is_pull, "actor": actor, "association": None,
            "is_bot": actor is not None and actor.endswith("[bot]"), "at": at, "month": _month(at), "detail": detail,
        }

    def item(self) -> list[dict[str, Any]]:
        """An issue or pull request and what followed it (nothing after the history's end)."""
        repo = self.pick(self.repositories, self.repository_weights)
        self.numbers[repo] += 1
        number = self.numbers[repo]
        # Activity grows over the two years: more of it lately.
        opened = END - YEARS * 365 * DAY * (1 - self.random.random() ** 0.8)
        pull = self.random.random() < 0.45
        author = BOTS[0] if pull and self.random.random() < 0.15 else self.person()
        rows = [self.row(repo, act.PR_OPENED if pull else act.ISSUE_OPENED, number, opened, author, is_pull=pull)]
        newcomer = (repo, author) not in self.opened_here
        self.opened_here.add((repo, author))
        if newcomer and not author.endswith("[bot]") and self.random.random() < 0.8:
            rows.append(self.row(repo, act.COMMENT, number, opened + 5, APP, is_pull=pull))
            rows.append(self.row(repo, act.WELCOME, number, opened + 5, author, is_pull=pull,
                                 detail="pull_request" if pull else "issue"))
        # The conversation: a maintainer answers first (if anyone does), then others.
        at = opened
        for index in range(self.random.choice((0, 1, 1, 2, 2, 3, 4, 6))):
            at += self.delay(8 if index == 0 else 20)
            speaker = self.random.choice(self.maintainers[repo]) if self.random.random() < 0.7 else self.person()
            if self.random.random() < 0.05:
                speaker = self.random.choice(BOTS[1:])
            kind = act.COMMENT
            if pull and self.random.random() < 0.6:
                kind = self.random.choice((act.REVIEW, act.REVIEW_COMMENT, act.REVIEW_COMMENT))
            rows.append(self.row(repo, kind, number, at, speaker, is_pull=pull,
                                 detail="approved" if kind == act.REVIEW else None))
            if self.random.random() < 0.003:
                rows.append(self.row(repo, act.CONDUCT_REMINDER, number, at + 2, None, is_pull=pull))
                if self.random.random() < 0.2:
                    rows.append(self.row(repo, act.CONDUCT_LOCK, number, at + 60, None, is_pull=pull))
        if pull:
            rows += self.checks(repo, number, opened)
        else:
            rows += self.good_first_issue(repo, number, opened)
        rows += self.ending(repo, number, opened, pull, author)
        return [row for row in rows if row["at"] < END]

    def checks(self, repo: str, number: int, opened: float) -> list[dict[str, Any]]:
        rows = []
        for kind, passes in ((act.DCO, 0.85), (act.CLA, 0.9)):
            if self.random.random() < passes:
                rows.append(self.row(repo, kind, number, opened + 30, None, is_pull=True, detail="success"))
                continue
            rows.append(self.row(repo, kind, number, opened + 30, None, is_pull=True, detail="action_required"))
            if self.random.random() < 0.7:
                rows.append(self.row(repo, kind, number, opened + self.delay(3), None, is_pull=True, detail="success"))
        return rows

    def good_first_issue(self, repo: str, number: int, opened: float) -> list[dict[str, Any]]:
        if self.random.random() > 0.06:
            return []
        labelled = opened + self.delay(12)
        rows = [self.row(repo, act.GFI_LABELED, number, labelled, self.random.choice(self.maintainers[repo]),
                         detail="good first issue")]
        if self.random.random() < 0.6:
            claimer = self.person()
            claimed = labelled + self.delay(30)
            rows.append(self.row(repo, act.GFI_CLAIMED, number, claimed, claimer))
            if self.random.random() < 0.6:
                # The claimer's pull request closing it, by keyword, once merged.
                self.numbers[repo] += 1
                pull = self.numbers[repo]
                self.opened_here.add((repo, claimer))
                proposed = claimed + self.delay(24)
                merged = proposed + self.delay(48)
                rows += [
                    self.row(repo, act.PR_OPENED, pull, proposed, claimer, is_pull=True),
                    self.row(repo, act.MERGED, pull, merged, claimer, is_pull=True),
                    self.row(repo, act.CLOSES, number, merged, claimer, detail=str(pull)),
                ]
        return rows

    def ending(self, repo: str, number: int, opened: float, pull: bool, author: str) -> list[dict[str, Any]]:
        """Merged or closed (or neither, yet), and sometimes reopened and closed again."""
        chance = self.random.random()
        if pull and chance < 0.7:
            return [self.row(repo, act.MERGED, number, opened + self.delay(30 if author in BOTS else 40), author,
                             is_pull=True)]
        if chance > (0.9 if pull else 0.8):
            return []
        closer = self.random.choice(self.maintainers[repo])
        closed = opened + self.delay(120, 2)
        rows = [self.row(repo, act.CLOSED, number, closed, closer, is_pull=pull)]
        if self.random.random() < 0.05:
            reopened = closed + self.delay(48)
            rows += [self.row(repo, act.REOPENED, number, reopened, author, is_pull=pull),
                     self.row(repo, act.CLOSED, number, reopened + self.delay(72), closer, is_pull=pull)]
        return rows


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


# Month starts (UTC) around the history, to name a row's month without a datetime per row.
_MONTH_STARTS = [datetime.datetime(year, month, 1, tzinfo=datetime.UTC) for year in range(2022, 2026)
                 for month in range(1, 13)]
_MONTH_TIMES = [start.timestamp() for start in _MONTH_STARTS]
_MONTH_NAMES = [start.strftime("%Y-%m") for start in _MONTH_STARTS]


def _month(at: float) -> str:
    return _MONTH_NAMES[bisect.bisect(_MONTH_TIMES, at) - 1]


async def postgres(url: str, database: str | None = None) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                 database=database or parsed.database)


async def prepare_database(url: str) -> None:
    """PostgreSQL: the bench's own database, created if missing, without the tables of an
    earlier run (whose indexes may predate the current ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    if parsed.database in TESTS_DATABASES:
        raise SystemExit(f"the tests use the database {parsed.database!r}: give the bench one of its own")
    server = await postgres(url, "postgres")
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            await server.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await server.close()
    bench = await postgres(url)
    try:
        await bench.execute("DROP TABLE IF EXISTS " + ", ".join(table.name for table in metadata.sorted_tables))
    finally:
        await bench.close()


async def settle(inbox: Inbox) -> None:
    """Statistics for the planner; on PostgreSQL, VACUUM too, as autovacuum soon would after
    so many inserts: index-only scans need its visibility map."""
    if inbox.is_sqlite:
        await inbox.transaction(lambda conn: conn.execute(text("ANALYZE")))
        return
    connection = await postgres(inbox.url)
    try:
        await connection.execute("VACUUM ANALYZE activity")
    finally:
        await connection.close()


async def fill(inbox: Inbox, rows: int) -> tuple[int, float]:
    """Write the history, one executemany per batch; how many rows, and in how many seconds."""
    insert = act.activity.insert()
    started = time.perf_counter()
    if inbox.is_sqlite:
        # Rows in no index's order, into seven indexes, thrash SQLite's 2 MB page cache; the
        # figures are timed with the cache the bot runs with.
        await inbox.transaction(lambda conn: conn.exec_driver_sql(f"PRAGMA cache_size = {-FILL_CACHE_KB}"))
    written = 0
    for batch in History(rows).batches():
        await inbox.transaction(lambda conn: conn.execute(insert, batch))
        written += len(batch)
    if inbox.is_sqlite:
        await inbox.transaction(lambda conn: conn.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_DEFAULT_CACHE_KB}"))
    await settle(inbox)
    return written, time.perf_counter() - started


async def busiest_and_typical(inbox: Inbox) -> tuple[str, str]:
    query = (
        select(act.activity.c.repository)
        .group_by(act.activity.c.repository)
        .order_by(func.count().desc(), act.activity.c.repository)
    )
    ranked = await inbox.transaction(lambda conn: list(conn.execute(query).scalars()))
    return ranked[0], ranked[len(ranked) // 2]


async def timed(inbox: Inbox, scope: Scope, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await compute(inbox, scope)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def scope_rows(inbox: Inbox, repositories: tuple[str, ...] | None, owner: str | None) -> int:
    query = select(func.count()).select_from(act.activity)
    if repositories is not None:
        query = query.where(act.activity.c.repository.in_(repositories))
    if owner is not None:
        query = query.where(act.activity.c.owner == owner)
    return await inbox.transaction(lambda conn: conn.execute(query).scalar_one())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL URL (postgresql+asyncpg://...); default: a SQLite file")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as directory:
        url = arguments.database or f"sqlite:///{directory}/insights.db"
        await prepare_database(url)
        inbox = Inbox(url)
        await inbox.open(take_back_unfinished=False)
        try:
            written, seconds = await fill(inbox, arguments.rows)
            print(f"{make_url(url).get_backend_name()}: {written:,} rows written in {seconds:.1f} s "
                  f"({written / seconds:,.0f} rows/s)")
            busiest, typical = await busiest_and_typical(inbox)
            owner, count = ORGANISATIONS[0]
            listed = tuple(f"{owner}/repo-{index:02d}" for index in range(count))
            cases = [
                (f"busiest repository ({busiest})", None, (busiest,)),
                (f"typical repository ({typical})", None, (typical,)),
                (f"organisation ({owner}, {count} repositories)", owner, None),
                ("the same, its repositories listed (as the web page)", owner, listed),
            ]
            print(f"{'scope':<52} {'rows':>9} {'90 days':>9} {'365 days':>9}   (seconds, median of {arguments.runs})")
            for label, owner_of, repositories in cases:
                figures = []
                for days in (90, 365):
                    scope = Scope(owner_of, repositories, END - days * DAY, END)
                    figures.append(await timed(inbox, scope, arguments.runs))
                rows = await scope_rows(inbox, repositories, owner_of)
                print(f"{label:<52} {rows:>9,} {figures[0]:>9.3f} {figures[1]:>9.3f}")
        finally:
            if not inbox.is_sqlite:
                await inbox.transaction(metadata.drop_all)
            await inbox.close()


if __name__ == "__main__":
    asyncio.run(main())
