#!/usr/bin/env python
"""One `community-bot serve` process against two sharing one PostgreSQL inbox.

Each run sends the same N signed ``issues``/``opened`` deliveries as ``webhook_load.py`` (each
a newcomer's first issue, so the welcome handler posts one welcome per delivery), C at a time,
round-robin over the run's processes, to a fresh fake GitHub and a fresh inbox, and reports:

- *acked/s*: 202 answers per second of the send phase;
- *processed/s*: N over the time from the first delivery sent until the fake GitHub has
  received the last welcome it was waiting for (the fake notes when each issue gets its first
  welcome, on the same monotonic clock);
- that every issue got exactly one welcome (POST of a comment), none failed, all were acked;
- how the processing split between the processes, and who used the CPU meanwhile, in cores:
  the bots, the fake, the senders, the rest (PostgreSQL, and anything else on the machine).

Configurations, run in turn, ``--rounds`` times (a noisy machine needs several runs each):
one process on PostgreSQL, two processes on PostgreSQL, and (``--sqlite``, the default) one
process on SQLite for reference. The PostgreSQL at 127.0.0.1:5432 (user postgres) is used in a
database of the bench's own (``--database``, created if missing, its tables dropped before each
run; never ``test`` or ``test_two_processes``, which the tests use). The first process creates
the tables before the second starts: two starting on an empty database race to create them.

    .venv/bin/python bench/processes.py [--deliveries 4000] [--concurrency 16] [--rounds 3]

Pinning, as in ``webhook_load.py``: the first bot process on core 0; this process (the senders)
and the fake on core 1; the second bot process on core 1 too, or on core 0 with ``--same-core``
(then both processes share the one core a single process has). PostgreSQL is not pinned. The
exit status is 1 if a server dies, or if in any run a delivery was not acked, not processed, or
welcomed other than once.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from webhook_load import (
    APP_ID,
    CLIENT_CORE,
    HOST,
    POLL_INTERVAL,
    REQUEST_TIMEOUT,
    SERVER_CORE,
    STATS_PATH,
    BenchError,
    Children,
    Deliveries,
    Load,
    base_env,
    bot_env,
    code_version,
    cpu_seconds,
    fake_stats,
    fetch_metrics,
    free_port,
    load_arguments,
    parsed,
    run_bench,
    total,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
TESTS_DATABASES = {"test", "test_two_processes"}
COMMENTS = re.compile(r"/repos/[^/]+/[^/]+/issues/[0-9]+/comments")


@dataclass(frozen=True)
class Config:
    name: str
    processes: int
    postgres: bool


@dataclass
class Run:
    config: Config
    deliveries: int
    answered: collections.Counter[int | str]
    send_seconds: float
    processed_seconds: float | None  # None: not every issue got its welcome
    welcomed: int  # issues with a welcome
    posts: int  # welcomes posted in all
    violations: int  # requests real GitHub would have refused
    processed_by: list[int]  # per process, from its /metrics
    failed: int
    cores: dict[str, float]  # CPU used over the run, in cores: bots, fake, senders, rest, machine

    @property
    def acked_per_second(self) -> float:
        return self.answered[202] / self.send_seconds

    @property
    def processed_per_second(self) -> float | None:
        return self.deliveries / self.processed_seconds if self.processed_seconds else None

    @property
    def sound(self) -> bool:
        """Every delivery acked and processed, every issue welcomed exactly once."""
        n = self.deliveries
        return self.answered[202] == n and self.welcomed == n and self.posts == n and self.failed == 0


# The fake GitHub (a subprocess of this script) -------------------------------------------


def serve_fake(port: int) -> None:
    """The tests' fake, counting the welcomes (comments created) on each issue as they come."""
    from tests.fakes import FakeGitHub

    fake = FakeGitHub(app_id=APP_ID, public_key_pem=os.environ["BENCH_PUBLIC_KEY"])
    posts: collections.Counter[str] = collections.Counter()
    last_new_at = 0.0  # time.monotonic(): on Linux one clock for every process on the machine

    @web.middleware
    async def count_welcomes(request: web.Request, handler: Any) -> web.StreamResponse:
        nonlocal last_new_at
        if request.path == STATS_PATH:
            return web.json_response({
                "welcomed": len(posts), "posts": posts.total(), "last_new_at": last_new_at,
                "violations": len(fake.violations),
            })
        response = await handler(request)
        if request.method == "POST" and response.status == 201 and COMMENTS.fullmatch(request.path):
            posts[request.path] += 1
            if posts[request.path] == 1:
                last_new_at = time.monotonic()
        return response

    fake.app.middlewares.append(count_welcomes)
    web.run_app(fake.app, host=HOST, port=port, print=None, access_log=None)


# One run ----------------------------------------------------------------------------------


async def fresh_postgres(database: str) -> str:
    """The bench's database, created if missing, without tables; its URL."""
    try:
        server = await asyncpg.connect(f"{POSTGRES}/postgres")
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"no PostgreSQL at {POSTGRES}: {exc}") from exc
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await server.execute(f'CREATE DATABASE "{database}"')
    finally:
        await server.close()
    url = f"{POSTGRES}/{database}"
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if tables:
            await connection.execute("DROP TABLE " + ", ".join(f'"{t["tablename"]}"' for t in tables) + " CASCADE")
    finally:
        await connection.close()
    return url


async def send(
    urls: list[str], deliveries: Deliveries, concurrency: int
) -> tuple[collections.Counter[int | str], float, float]:
    """POST delivery i to urls[i % len(urls)], ``concurrency`` at a time over one keep-alive
    session. Returns the answers, and time.monotonic() at the first send and the last answer."""
    answered: collections.Counter[int | str] = collections.Counter()
    indices = iter(range(deliveries.count))  # shared: each index goes to exactly one sender
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def sender() -> None:
            for i in indices:
                body, headers = deliveries.body(i), deliveries.headers(i)
                try:
                    async with session.post(urls[i % len(urls)], data=body, headers=headers) as answer:
                        await answer.read()
                        answered[answer.status] += 1
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    answered[type(exc).__name__] += 1

        first_send = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return answered, first_send, time.monotonic()


def wait_for(what: str, count: Callable[[], float], n: int, stall_timeout: float, check: Callable[[], None],
             progress: Callable[[str], None]) -> bool:
    """Poll count() until it reaches n; False after stall_timeout seconds without progress."""
    last, last_change = -1.0, time.monotonic()
    while True:
        check()
        try:
            seen = count()
        except OSError:  # a server too busy to answer in time: no progress seen this time
            seen = last
        if seen >= n:
            return True
        now = time.monotonic()
        if seen != last:
            last, last_change = seen, now
        elif now - last_change > stall_timeout:
            progress(f"  gave up waiting for {what}: {seen:.0f}/{n}, no progress for {stall_timeout:.0f} s")
            return False
        time.sleep(POLL_INTERVAL)


def machine_jiffies() -> tuple[int, int]:
    """(busy, all) CPU time of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    everything = user + nice + system + idle + iowait + irq + softirq + steal
    return everything - idle - iowait, everything


def run_once(config: Config, args: argparse.Namespace, children: Children, deliveries: Deliveries, env: dict[str, str],
             fake_port: int, public_pem: str, progress: Callable[[str], None]) -> Run:
    os.sync()  # the previous run's dirty pages must not be written back during this one
    if config.postgres:
        database_url = asyncio.run(fresh_postgres(args.database))
    else:
        for leftover in children.directory.glob("inbox.db*"):
            leftover.unlink()
        database_url = f"sqlite:///{children.directory / 'inbox.db'}"

    fake_url = f"http://{HOST}:{fake_port}"
    fake = children.start("fake", [sys.executable, str(Path(__file__).resolve()), "--serve-fake", str(fake_port)],
                          core=CLIENT_CORE, env=base_env() | {"BENCH_PUBLIC_KEY": public_pem})
    children.wait_ready("fake", fake, fake_url + STATS_PATH)
    bots, urls = [], []
    for k in range(config.processes):  # one after the other: the first creates the tables
        name, port = f"bot-{'ab'[k]}", free_port()
        core = SERVER_CORE if k == 0 or args.same_core else CLIENT_CORE
        bot = children.start(name, [sys.executable, "-m", "bot", "serve"], core=core,
                             env=env | {"DATABASE_URL": database_url, "PORT": str(port)})
        children.wait_ready(name, bot, f"http://{HOST}:{port}/healthz")
        bots.append((name, bot))
        urls.append(f"http://{HOST}:{port}")

    def check() -> None:
        for name, bot in bots:
            children.check_alive(name, bot)

    def metric(name: str) -> list[float]:
        return [total(fetch_metrics(url), name) for url in urls]

    def cpu() -> dict[str, float]:
        busy, everything = machine_jiffies()
        return {"at": time.monotonic(), "bots": sum(cpu_seconds(bot.pid) for _, bot in bots),
                "fake": cpu_seconds(fake.pid), "senders": time.process_time(), "busy": busy, "all": everything}

    before = cpu()
    progress(f"{config.name}: sending {deliveries.count} deliveries at concurrency {args.concurrency}")
    webhooks = [url + "/webhook" for url in urls]
    answered, first_send, last_answer = asyncio.run(send(webhooks, deliveries, args.concurrency))
    complete = wait_for("welcomes", lambda: fake_stats(fake_url)["welcomed"], deliveries.count, args.stall_timeout,
                        check, progress)
    after = cpu()
    last_welcome_at = fake_stats(fake_url)["last_new_at"]
    # Every delivery finished before counting welcomes: a late one could still post a second.
    processed, failed = "communitybot_deliveries_processed_total", "communitybot_deliveries_failed_total"
    wait_for("deliveries finished", lambda: sum(metric(processed)) + sum(metric(failed)), deliveries.count,
             args.stall_timeout, check, progress)
    processed_by, failed_by = metric(processed), metric(failed)
    final = fake_stats(fake_url)
    for _, bot in bots:
        children.stop(bot)
    children.stop(fake)

    cores = {who: (after[who] - before[who]) / (after["at"] - before["at"]) for who in ("bots", "fake", "senders")}
    machine = (after["busy"] - before["busy"]) / (after["all"] - before["all"]) * (os.cpu_count() or 1)
    cores |= {"rest": machine - sum(cores.values()), "machine": machine}  # rest: PostgreSQL, and other load
    return Run(
        config=config, deliveries=deliveries.count, answered=answered, send_seconds=last_answer - first_send,
        processed_seconds=last_welcome_at - first_send if complete else None,
        welcomed=final["welcomed"], posts=final["posts"], violations=final["violations"],
        processed_by=[int(n) for n in processed_by], failed=int(sum(failed_by)), cores=cores,
    )


# The report -------------------------------------------------------------------------------


def run_line(run: Run) -> str:
    n = run.deliveries
    not_acked = {k: v for k, v in run.answered.items() if k != 202}
    lines = [f"  acked {run.answered[202]}/{n}{f' (not 202: {not_acked})' if not_acked else ''}"
             f" in {run.send_seconds:.2f} s = {run.acked_per_second:.0f} acked/s; "
             + (f"last welcome {run.processed_seconds:.2f} s after the first send"
                f" = {run.processed_per_second:.0f} processed/s" if run.processed_seconds
                else "INCOMPLETE: not every issue got its welcome"),
             f"  welcomes: {run.posts} posted on {run.welcomed}/{n} issues"
             f" ({'each once' if run.posts == run.welcomed else 'REPEATED'}); processed per process "
             + " / ".join(str(k) for k in run.processed_by)
             + f"; failed {run.failed}; spec violations {run.violations}",
             "  CPU in cores, first send to last welcome: "
             + ", ".join(f"{who} {used:.2f}" for who, used in run.cores.items()) + f" (of {os.cpu_count()})"]
    if not run.sound:
        lines.append("  NOT SOUND: a delivery was not acked, not processed, or welcomed other than once")
    return "\n".join(lines)


def table(configs: list[Config], runs: list[Run], rounds: int) -> str:
    width = max(len(c.name) for c in configs)
    header = f"{'':{width}}" + "".join(f"{f'run {k + 1}':>9}" for k in range(rounds)) + f"{'median':>9}"
    lines = []
    for title, figure in (("processed/s", lambda r: r.processed_per_second), ("acked/s", lambda r: r.acked_per_second)):
        lines += [f"{title}", header]
        for config in configs:
            values = [figure(r) for r in runs if r.config == config]
            cells = "".join(f"{v:>9.0f}" if v is not None else f"{'-':>9}" for v in values)
            measured = [v for v in values if v is not None]
            median = f"{statistics.median(measured):>9.0f}" if measured else f"{'-':>9}"
            lines.append(f"{config.name:{width}}{cells}{median}")
    return "\n".join(lines)


# Main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    load_arguments(p, deliveries=4000)
    p.add_argument("--rounds", type=int, default=3, help="runs of each configuration, in turn (default 3)")
    p.add_argument("--database", default="bench_processes", metavar="NAME",
                   help=f"the PostgreSQL database at {POSTGRES} to use, created if missing (default bench_processes)")
    p.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True,
                   help="also run one process on SQLite, for reference (default on)")
    p.add_argument("--same-core", action="store_true",
                   help="the second process on core 0 beside the first, rather than on core 1")
    args = parsed(p, argv, positive=("rounds",))
    if args.database in TESTS_DATABASES:
        p.error(f"--database {args.database}: the tests use it and drop its tables; choose another")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return 0

    return run_bench("processes", "community-bot-processes-", args, lambda children, load, progress: compare(args, children, load, progress))


def compare(args: argparse.Namespace, children: Children, load: Load, progress: Callable[[str], None]) -> int:
    env = bot_env(load.secret, load.private_pem, load.fake_url, args.workers)
    configs = [Config("1 process, PostgreSQL", 1, True), Config("2 processes, PostgreSQL", 2, True)]
    if args.sqlite:
        configs.append(Config("1 process, SQLite", 1, False))
    version = code_version()  # read before the bots start: others may be editing the code

    runs = []
    for k in range(args.rounds):
        for config in configs:
            run = run_once(config, args, children, load.deliveries, env, load.fake_port, load.public_pem, progress)
            runs.append(run)
            print(f"{config.name}, run {k + 1}:\n{run_line(run)}", flush=True)

    second = "core 0 beside the first" if args.same_core else "core 1 beside the senders and the fake"
    print(f"\n{args.deliveries} deliveries a run, concurrency {args.concurrency} round-robin over the processes, "
          f"WORKERS {args.workers or 'default'}; code {version}")
    print(f"first process on core 0, second on {second}; PostgreSQL not pinned" if children.taskset
          else "NOT pinned to cores (taskset missing or one core): figures are noisier")
    print(table(configs, runs, args.rounds))
    unsound = [r for r in runs if not r.sound]
    print("every run: all acked, all processed, each issue welcomed exactly once" if not unsound
          else f"NOT SOUND in {len(unsound)} run(s): see above")
    return 1 if unsound else 0


if __name__ == "__main__":
    sys.exit(main())
