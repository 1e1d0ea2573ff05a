#!/usr/bin/env python
"""Load benchmark of community-bot's webhook.

Starts the test fake of GitHub and the bot (``python -m bot serve``) as subprocesses, sends N
distinct signed ``issues``/``opened`` deliveries at concurrency C, waits until the bot has
processed them all, and reports: acknowledged deliveries per second, answer latency, processed
deliveries per second, GitHub API calls per delivery, and the bot's memory over the run. With
``--bare`` (the default) it then sends the same load to a bare aiohttp server that only checks
the signature, for comparison.

    python bench/webhook_load.py --deliveries 20000 --concurrency 16 [--database URL] [--json]

The bot (and later the bare server) runs on core 0; this process and the fake share core 1,
so the client does not steal CPU from the server it measures. Everything talks to 127.0.0.1
only. The exit status is 0 whether or not the targets are met; only a crash (or a server
that dies) makes it non-zero.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import contextlib
import ctypes
import dataclasses
import hashlib
import hmac
import json
import math
import mmap
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # for tests.fakes

HOST = "127.0.0.1"
APP_ID = 1
SERVER_CORE, CLIENT_CORE = 0, 1
STATS_PATH = "/_bench/stats"  # the fake's window for the bench; never a GitHub path
MAX_BODY = 25 * 1024 * 1024

# Targets; bench/README.md lists them.
TARGET_RATIO = 0.5  # bot acked/s over bare acked/s, at concurrency 16
TARGET_P99_MS = 10.0
TARGET_RSS_GROWTH = 0.20  # RSS at 100% within 20% ...
TARGET_RSS_GROWTH_MB = 30.0  # ... or 30 MB of RSS at 10%, whichever is larger
BARE_BUSY_ENOUGH = 0.85  # below this CPU share the bare server was not what limited its own rate

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0  # the bot's own graceful shutdown is bounded at 25 s
REQUEST_TIMEOUT = 30.0
POLL_INTERVAL = 0.1

# Never route a request for 127.0.0.1 through an http_proxy from the environment.
_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(RuntimeError):
    """Something the benchmark cannot measure past: a server that does not start or died."""


# Deliveries -----------------------------------------------------------------------------


_SLOT = re.compile(r'"@@#(\w+)@@"|@@(\w+)@@')


def payload_template(api_url: str) -> list[tuple[str, str | None]]:
    """GitHub's real ``issues``/``opened`` example as (literal text, slot name) pairs.

    The payload is serialised once with named slots; each delivery is then a string join, so
    building 100,000 costs seconds rather than 100,000 deep copies and dumps. A slot written
    ``"@@#name@@"`` (quotes included) is a JSON number; ``@@name@@`` sits inside a string.
    """
    from tests.fakes import example

    payload = example("issues", "opened")
    # The example's issue author is also the repository's owner; make the author a newcomer.
    newcomer = json.loads(json.dumps(payload["issue"]["user"]).replace("Codertocat", "@@author@@"))
    newcomer.update(id="@@#author_id@@", node_id="U_@@author_id@@")
    payload["issue"]["user"] = payload["sender"] = newcomer
    payload["issue"].update(
        id="@@#issue_id@@", node_id="I_@@issue_id@@", number="@@#number@@", author_association="@@association@@"
    )
    payload["repository"]["id"] = "@@#repo_id@@"
    payload["repository"]["node_id"] = "R_@@repo_id@@"
    payload["installation"] = {"id": "@@#installation@@", "node_id": "IN_@@installation@@"}
    text = json.dumps(payload)
    text = text.replace("Codertocat/Hello-World", "@@owner@@/@@repo@@")
    text = text.replace('"Hello-World"', '"@@repo@@"').replace("Codertocat", "@@owner@@")
    text = re.sub(r"/issues/1(?=[\"/])", "/issues/@@number@@", text)
    # API URLs in a delivery point at the API host, and a handler may follow them: here that
    # is the fake, so nothing can reach the real api.github.com.
    text = text.replace("https://api.github.com", api_url)
    pieces = _SLOT.split(text)  # literal, number slot, string slot, literal, ...
    template = []
    for i in range(0, len(pieces), 3):
        slot = (pieces[i + 1] or pieces[i + 2]) if i + 1 < len(pieces) else None
        template.append((pieces[i], slot))
    return template


def fill(template: list[tuple[str, str | None]], values: dict[str, Any]) -> bytes:
    parts = []
    for literal, slot in template:
        parts.append(literal)
        if slot is not None:
            parts.append(str(values[slot]))
    return "".join(parts).encode()


def delivery_values(i: int, run: str, installations: int, repos: int) -> dict[str, Any]:
    """Delivery i's slots: repositories spread over installations, a new author every time."""
    repo = i % repos
    installation = repo % installations + 1  # a repository belongs to one installation
    return {
        "installation": installation,
        "owner": f"bench-org-{installation}",
        "repo": f"project-{repo}",
        "repo_id": 10_000_000 + repo,
        "number": i // repos + 1,
        "issue_id": 500_000_000 + i,
        # The run tag keeps authors new on a PostgreSQL database that remembers past runs.
        "author": f"newcomer-{run}-{i}",
        "author_id": 100_000_000 + i,
        "association": "FIRST_TIMER" if i % 2 else "NONE",
    }


class Deliveries:
    """N signed deliveries, built and signed before any timing.

    Bodies (12 KB each: 1.2 GB for 100,000) go to a spool file read back through mmap, so they
    are ready before the clock starts without being held in this process's own memory.
    """

    def __init__(self, directory: Path, count: int, secret: str, api_url: str, installations: int, repos: int) -> None:
        self.count = count
        self.ids: list[str] = []
        self.signatures: list[str] = []
        self.offsets = array.array("q", [0])
        self.path = directory / "bodies.spool"
        template = payload_template(api_url)
        run = secrets.token_hex(3)
        key = secret.encode()
        with self.path.open("wb") as spool:
            for i in range(count):
                body = fill(template, delivery_values(i, run, installations, repos))
                if i == 0:
                    _check_first(json.loads(body))
                spool.write(body)
                self.offsets.append(self.offsets[-1] + len(body))
                self.ids.append(str(uuid.uuid4()))
                self.signatures.append("sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest())
            # On disk now, or the kernel writes it back 30 s later, in the middle of a measurement.
            spool.flush()
            os.fsync(spool.fileno())
        self._file = self.path.open("rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def body(self, i: int) -> bytes:
        return self._map[self.offsets[i] : self.offsets[i + 1]]

    def headers(self, i: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": self.ids[i],
            "X-Hub-Signature-256": self.signatures[i],
        }

    def close(self) -> None:
        self._map.close()
        self._file.close()


def _check_first(payload: dict[str, Any]) -> None:
    """The template kept GitHub's shape: numbers are numbers, nothing left unfilled."""
    assert payload["action"] == "opened"
    assert payload["installation"]["id"] == 1
    assert payload["issue"]["number"] == 1 and isinstance(payload["issue"]["id"], int)
    assert payload["issue"]["user"]["login"] == payload["sender"]["login"]
    assert payload["repository"]["full_name"] == "bench-org-1/project-0"
    text = json.dumps(payload)
    assert "@@" not in text and "Codertocat" not in text and "Hello-World" not in text and "api.github.com" not in text


# Subprocesses ---------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and whether the bot's code differs from it: the figures belong to it."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "bot", "handlers", "templates"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (" with uncommitted changes to the bot" if dirty else "")


def _die_with_parent() -> None:
    # If the bench is killed outright, its servers must not linger holding cores and ports.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Children:
    """The subprocesses of one run, each pinned to a core, all stopped however the run ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taskset = shutil.which("taskset") if (os.cpu_count() or 1) >= 2 else None
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], *, core: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        if self.taskset:
            argv = [self.taskset, "-c", str(core), *argv]
        log = (self.directory / f"{name}.log").open("wb")
        # cwd is the temp directory so the bot cannot pick up a .env from where the bench runs.
        proc = subprocess.Popen(
            argv, env=env, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, start_new_session=True,
        )
        log.close()
        self._running.append((name, proc))
        return proc

    def log_tail(self, name: str, lines: int = 8) -> str:
        try:
            text = (self.directory / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM (the bot then shuts down gracefully), SIGKILL if it takes too long."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._running = [(n, p) for n, p in self._running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(self._running):
            self.stop(proc)

    def check_alive(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with status {proc.returncode}; its log ends:\n{self.log_tail(name)}")

    def wait_ready(self, name: str, proc: subprocess.Popen[bytes], url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self.check_alive(name, proc)
            try:
                with _local.open(url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise BenchError(f"{name} was not ready within {READY_TIMEOUT:.0f} s; its log ends:\n{self.log_tail(name)}")


def base_env() -> dict[str, str]:
    # A clean environment: no GITHUB_* or DATABASE_URL of the caller's, no proxies.
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}


def bot_env(secret: str, private_pem: str, fake_url: str, workers: int | None) -> dict[str, str]:
    """`serve`'s settings for a bot talking to the fake, but for its database and port."""
    return base_env() | {
        "GITHUB_APP_ID": str(APP_ID),
        "GITHUB_PRIVATE_KEY": private_pem,
        "GITHUB_WEBHOOK_SECRET": secret,
        "GITHUB_API_URL": fake_url,
        "GITHUB_APP_SLUG": "community-bot",
        "HOST": HOST,
        "LOG_LEVEL": "WARNING",
        # Write pacing protects real GitHub's secondary limits; the fake has none.
        "GITHUB_WRITES_PER_MINUTE": "0",
        "GITHUB_WRITES_PER_HOUR": "0",
    } | ({"WORKERS": str(workers)} if workers else {})


def this_script(mode: str, port: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), mode, str(port)]


# What /proc says about a process --------------------------------------------------------


def proc_status_kb(pid: int, field_name: str) -> int:
    """A ``VmRSS``/``VmHWM``-style field of /proc/PID/status, in kB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User plus system CPU time of all the process's threads, or of one of them."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Metrics --------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^(\w+)(?:\{([^}]*)\})?\s+(\S+)$")


def fetch_metrics(base_url: str) -> dict[str, dict[str, float]]:
    """Prometheus samples by metric name, then by label text ("" without labels)."""
    with _local.open(base_url + "/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples: dict[str, dict[str, float]] = collections.defaultdict(dict)
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            samples[match[1]][match[2] or ""] = float(match[3])
    return samples


def total(samples: dict[str, dict[str, float]], name: str) -> float:
    return sum(samples.get(name, {}).values())


# Sending --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    answered: collections.Counter[int | str]
    seconds: float
    latencies: list[float]  # sorted, seconds
    server_cpu: float  # seconds during the send phase
    server_main_cpu: float  # of which the main thread (the event loop); the rest is helper threads
    client_cpu: float
    rss_kb: list[tuple[float, int]] = field(default_factory=list)  # (fraction sent, VmRSS)

    @property
    def acked(self) -> int:
        return self.answered[202]

    @property
    def not_acked(self) -> int:
        return sum(n for status, n in self.answered.items() if status != 202)

    @property
    def acked_per_second(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        return 1000 * self.latencies[min(len(self.latencies) - 1, max(0, math.ceil(q * len(self.latencies)) - 1))]


async def send_all(
    url: str, deliveries: Deliveries, concurrency: int, server_pid: int, samples: int, progress: Callable[[str], None]
) -> LoadResult:
    """POST every delivery, ``concurrency`` at a time over one keep-alive session."""
    n = deliveries.count
    latencies = array.array("d", bytes(8 * n))
    answered: collections.Counter[int | str] = collections.Counter()
    # RSS is read from /proc (no request to the server) each time another 1/samples is answered.
    sample_at = [math.ceil(n * k / samples) for k in range(1, samples + 1)]
    rss: list[tuple[float, int]] = []
    done = 0
    indices: Iterator[int] = iter(range(n))  # shared: each index goes to exactly one sender

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def sender() -> None:
            nonlocal done
            for i in indices:
                body, headers = deliveries.body(i), deliveries.headers(i)
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as answer:
                        await answer.read()
                        status: int | str = answer.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    status = type(exc).__name__
                latencies[i] = time.perf_counter() - started
                answered[status] += 1
                done += 1
                while sample_at and done >= sample_at[0]:
                    sample_at.pop(0)
                    rss.append((done / n, proc_status_kb(server_pid, "VmRSS")))
                    progress(f"  {done}/{n} answered, {answered[202]} acked, RSS {rss[-1][1] / 1024:.1f} MB")

        cpu_before = cpu_seconds(server_pid), cpu_seconds(server_pid, server_pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_after = cpu_seconds(server_pid), cpu_seconds(server_pid, server_pid), time.process_time()
    server_cpu, main_cpu, client_cpu = (after - before for after, before in zip(cpu_after, cpu_before))
    return LoadResult(answered, seconds, sorted(latencies), server_cpu, main_cpu, client_cpu, rss)


# The runs -------------------------------------------------------------------------------


@dataclass
class BotRun:
    load: LoadResult
    processed: int
    failed: int
    complete: bool
    processed_seconds: float  # from the first send to the last delivery processed
    bot_api_calls: float
    bot_api_by_label: dict[str, float]
    fake: dict[str, Any]
    fake_cpu: float
    cpu_total: float  # the bot's CPU seconds from the first send to the last delivery processed
    rss_after_kb: int
    hwm_kb: int
    log_tail: str


def wait_processed(
    base_url: str, bot: subprocess.Popen[bytes], children: Children, baseline: float, n: int,
    stall_timeout: float, timeout: float, progress: Callable[[str], None],
) -> tuple[float, bool, dict[str, dict[str, float]]]:
    """Poll /metrics until processed + failed reaches N; gives up after no progress for
    ``stall_timeout`` or ``timeout`` in all. Returns (monotonic time seen done, complete, samples)."""
    deadline = time.monotonic() + timeout
    last_count, last_change = -1.0, time.monotonic()
    last_report = 0.0
    samples: dict[str, dict[str, float]] = {}
    while True:
        children.check_alive("bot", bot)
        try:
            samples = fetch_metrics(base_url)
        except OSError:  # a bot too busy to answer within the timeout: no progress seen this time
            pass
        now = time.monotonic()
        count = total(samples, "communitybot_deliveries_processed_total") + total(
            samples, "communitybot_deliveries_failed_total"
        ) - baseline
        if count >= n:
            return now, True, samples
        if count != last_count:
            last_count, last_change = count, now
        if now - last_change > stall_timeout or now > deadline:
            progress(f"  gave up waiting: {count:.0f}/{n} processed; the last progress was {now - last_change:.0f} s ago")
            return now, False, samples
        if now - last_report > 10:
            progress(f"  {count:.0f}/{n} processed")
            last_report = now
        time.sleep(POLL_INTERVAL)


def fake_stats(fake_url: str) -> dict[str, Any]:
    with _local.open(fake_url + STATS_PATH, timeout=30) as answer:
        return json.loads(answer.read())


def run_bot(args: argparse.Namespace, children: Children, deliveries: Deliveries, secret: str,
            private_pem: str, public_pem: str, fake_port: int, progress: Callable[[str], None]) -> BotRun:
    fake_url = f"http://{HOST}:{fake_port}"
    fake = children.start(
        "fake", this_script("--serve-fake", fake_port), core=CLIENT_CORE, env=base_env() | {"BENCH_PUBLIC_KEY": public_pem}
    )
    children.wait_ready("fake", fake, fake_url + STATS_PATH)

    port = free_port()
    env = bot_env(secret, private_pem, fake_url, args.workers) | {
        "DATABASE_URL": args.database or f"sqlite:///{children.directory / 'bench.db'}",
        "PORT": str(port),
    }
    bot = children.start("bot", [sys.executable, "-m", "bot", "serve"], core=SERVER_CORE, env=env)
    base_url = f"http://{HOST}:{port}"
    children.wait_ready("bot", bot, base_url + "/healthz")

    before = fetch_metrics(base_url)
    baseline = total(before, "communitybot_deliveries_processed_total") + total(before, "communitybot_deliveries_failed_total")
    fake_cpu, bot_cpu = cpu_seconds(fake.pid), cpu_seconds(bot.pid)
    progress(f"bot: sending {deliveries.count} deliveries at concurrency {args.concurrency}")
    first_send = time.monotonic()
    load = asyncio.run(send_all(base_url + "/webhook", deliveries, args.concurrency, bot.pid, args.memory_samples, progress))
    fake_cpu_send = cpu_seconds(fake.pid) - fake_cpu
    children.check_alive("bot", bot)

    progress("bot: waiting for processing")
    done_at, complete, after = wait_processed(
        base_url, bot, children, baseline, deliveries.count, args.stall_timeout, args.timeout, progress
    )
    bot_cpu = cpu_seconds(bot.pid) - bot_cpu
    api = {labels: value for labels, value in after.get("communitybot_github_api_calls_total", {}).items() if value}
    run = BotRun(
        load=load,
        processed=int(total(after, "communitybot_deliveries_processed_total") - total(before, "communitybot_deliveries_processed_total")),
        failed=int(total(after, "communitybot_deliveries_failed_total") - total(before, "communitybot_deliveries_failed_total")),
        complete=complete,
        processed_seconds=done_at - first_send,
        bot_api_calls=sum(api.values()) - total(before, "communitybot_github_api_calls_total"),
        bot_api_by_label=api,
        fake=fake_stats(fake_url),
        fake_cpu=fake_cpu_send,
        cpu_total=bot_cpu,
        rss_after_kb=proc_status_kb(bot.pid, "VmRSS"),
        hwm_kb=proc_status_kb(bot.pid, "VmHWM"),
        log_tail="",
    )
    children.stop(bot)
    children.stop(fake)
    run.log_tail = children.log_tail("bot", 5)
    return run


def run_bare(args: argparse.Namespace, children: Children, deliveries: Deliveries, secret: str,
             progress: Callable[[str], None]) -> LoadResult:
    # The bot's run leaves dirty pages behind; their writeback must not land in this measurement.
    os.sync()
    port = free_port()
    bare = children.start(
        "bare", this_script("--serve-bare", port), core=SERVER_CORE, env=base_env() | {"BENCH_WEBHOOK_SECRET": secret}
    )
    base_url = f"http://{HOST}:{port}"
    children.wait_ready("bare", bare, base_url + "/healthz")
    progress(f"bare: sending {deliveries.count} deliveries at concurrency {args.concurrency}")
    load = asyncio.run(send_all(base_url + "/webhook", deliveries, args.concurrency, bare.pid, args.memory_samples, progress))
    children.stop(bare)
    return load


# The report -----------------------------------------------------------------------------


def rss_at(load: LoadResult, fraction: float) -> int:
    """RSS at the sample nearest to that fraction of deliveries answered (exact with K = 10)."""
    return min(load.rss_kb, key=lambda sample: abs(sample[0] - fraction))[1] if load.rss_kb else 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def latency_line(load: LoadResult) -> str:
    marks = " ".join(f"{name} {load.percentile_ms(q):.2f}" for name, q in (("p50", .5), ("p90", .9), ("p99", .99), ("p99.9", .999)))
    return f"answer latency ms: {marks} max {load.percentile_ms(1.0):.2f}"


def figures(args: argparse.Namespace, version: str, bot: BotRun, bare: LoadResult | None) -> dict[str, Any]:
    n = args.deliveries
    rss10, rss50, rss100 = (rss_at(bot.load, f) for f in (0.1, 0.5, 1.0))
    growth_kb = bot.rss_after_kb - rss10
    allowed_kb = max(TARGET_RSS_GROWTH * rss10, TARGET_RSS_GROWTH_MB * 1024)
    ratio = bot.load.acked_per_second / bare.acked_per_second if bare and bare.acked_per_second else None
    return {
        "code": version,
        "deliveries": n,
        "concurrency": args.concurrency,
        "database": (args.database or "sqlite").split(":", 1)[0],
        "workers": args.workers or "default",
        "bot": {
            "acked": bot.load.acked,
            "not_acked": bot.load.not_acked,
            "answers": {str(k): v for k, v in bot.load.answered.items()},
            "send_seconds": round(bot.load.seconds, 3),
            "acked_per_second": round(bot.load.acked_per_second, 1),
            "latency_ms": {name: round(bot.load.percentile_ms(q), 3) for name, q in
                           (("p50", .5), ("p90", .9), ("p99", .99), ("p99.9", .999), ("max", 1.0))},
            "processed": bot.processed,
            "failed": bot.failed,
            "processing_complete": bot.complete,
            "processed_per_second": round(n / bot.processed_seconds, 1) if bot.complete else None,
            "seconds_to_last_processed": round(bot.processed_seconds, 3),
            "api_calls_per_delivery_fake": round(bot.fake["calls"] / n, 3),
            "api_calls_per_delivery_fake_excluding_auth": round(bot.fake["api_calls"] / n, 3),
            "api_calls_per_delivery_bot_metrics": round(bot.bot_api_calls / n, 3),
            "api_calls_by_answer_bot_metrics": bot.bot_api_by_label,
            "api_calls_by_endpoint": bot.fake["by_endpoint"],
            "tokens_issued": bot.fake["tokens_issued"],
            "fake_violations": bot.fake["violations"],
            "cpu_busy_during_send": round(bot.load.server_cpu / bot.load.seconds, 3),
            "main_thread_cpu_busy_during_send": round(bot.load.server_main_cpu / bot.load.seconds, 3),
            "cpu_us_per_delivery": round(1e6 * bot.cpu_total / n, 1),
            "client_cpu_busy_during_send": round(bot.load.client_cpu / bot.load.seconds, 3),
            "fake_cpu_busy_during_send": round(bot.fake_cpu / bot.load.seconds, 3),
            "rss_mb": {f"{round(f * 100)}%": round(kb / 1024, 1) for f, kb in bot.load.rss_kb}
            | {"after processing": round(bot.rss_after_kb / 1024, 1)},
            "peak_rss_mb": round(bot.hwm_kb / 1024, 1),
        },
        "bare": None if bare is None else {
            "acked": bare.acked,
            "not_acked": bare.not_acked,
            "send_seconds": round(bare.seconds, 3),
            "acked_per_second": round(bare.acked_per_second, 1),
            "latency_ms": {name: round(bare.percentile_ms(q), 3) for name, q in (("p50", .5), ("p99", .99), ("max", 1.0))},
            "cpu_busy_during_send": round(bare.server_cpu / bare.seconds, 3),
            "cpu_us_per_delivery": round(1e6 * bare.server_cpu / n, 1),
            "client_cpu_busy_during_send": round(bare.client_cpu / bare.seconds, 3),
        },
        "targets": {
            "acked_ratio_vs_bare": {"value": None if ratio is None else round(ratio, 3), "target": TARGET_RATIO,
                                    "pass": None if ratio is None else ratio >= TARGET_RATIO},
            "p99_ms": {"value": round(bot.load.percentile_ms(0.99), 3), "target": TARGET_P99_MS,
                       "pass": bot.load.percentile_ms(0.99) < TARGET_P99_MS},
            "memory_flat": {"rss_10_mb": round(rss10 / 1024, 1), "rss_50_mb": round(rss50 / 1024, 1),
                            "rss_100_mb": round(rss100 / 1024, 1), "rss_end_mb": round(bot.rss_after_kb / 1024, 1),
                            "growth_mb": round(growth_kb / 1024, 1), "allowed_mb": round(allowed_kb / 1024, 1),
                            "pass": growth_kb <= allowed_kb},
            "all_acked": {"value": bot.load.not_acked, "pass": bot.load.not_acked == 0},
            "all_processed_none_failed": {"value": f"{bot.processed} processed, {bot.failed} failed",
                                          "pass": bot.complete and bot.failed == 0},
        },
    }


def print_report(f: dict[str, Any], bot: BotRun, bare: LoadResult | None, pinned: bool) -> None:
    b, t = f["bot"], f["targets"]
    print(f"\ncommunity-bot webhook load: {f['deliveries']} issues/opened deliveries, concurrency {f['concurrency']}, "
          f"database {f['database']}, WORKERS {f['workers']}; code {f['code']}")
    print("  bot and bare server on core 0, bench client and fake GitHub on core 1" if pinned
          else "  NOT pinned to cores (taskset missing or one core): figures are noisier")
    answers = f" {b['answers']}" if b["not_acked"] else ""
    print(f"bot   acked {b['acked']}/{f['deliveries']} (not 202: {b['not_acked']}{answers}) in {b['send_seconds']:.2f} s"
          f" = {b['acked_per_second']:.0f} acked/s")
    print(f"      {latency_line(bot.load)}")
    rate = f"{b['processed_per_second']:.0f} processed/s" if b["processing_complete"] else "INCOMPLETE"
    print(f"      processed {b['processed']}, failed {b['failed']}; last processed {b['seconds_to_last_processed']:.2f} s"
          f" after the first send = {rate}")
    print(f"      GitHub API calls per delivery: {b['api_calls_per_delivery_fake']:.3f} seen by the fake "
          f"({b['api_calls_per_delivery_fake_excluding_auth']:.3f} excluding auth; {b['tokens_issued']} tokens issued; "
          f"{b['fake_violations']} spec violations), {b['api_calls_per_delivery_bot_metrics']:.3f} in the bot's metrics")
    for endpoint, count in list(b["api_calls_by_endpoint"].items())[:8]:
        print(f"        {count / f['deliveries']:.3f}/delivery  {endpoint}")
    print(f"      CPU busy during send: bot {b['cpu_busy_during_send']:.0%} of core 0 "
          f"(event loop thread {b['main_thread_cpu_busy_during_send']:.0%}); "
          f"client {b['client_cpu_busy_during_send']:.0%} + fake {b['fake_cpu_busy_during_send']:.0%} of core 1")
    print(f"      bot CPU per delivery, receiving and processing: {b['cpu_us_per_delivery']:.0f} us")
    samples = " | ".join(f"{k} {v:.1f}" for k, v in b["rss_mb"].items())
    print(f"      RSS MB by deliveries answered: {samples} | peak (VmHWM) {b['peak_rss_mb']:.1f}")
    if bot.log_tail and (b["failed"] or b["not_acked"]):
        print("      the bot's log ends:\n        " + bot.log_tail.replace("\n", "\n        "))
    if bare is not None:
        a = f["bare"]
        print(f"bare  acked {a['acked']}/{f['deliveries']} (not 202: {a['not_acked']}) in {a['send_seconds']:.2f} s"
              f" = {a['acked_per_second']:.0f} acked/s")
        print(f"      {latency_line(bare)}")
        print(f"      CPU busy during send: bare {a['cpu_busy_during_send']:.0%} of core 0; "
              f"client {a['client_cpu_busy_during_send']:.0%} of core 1; {a['cpu_us_per_delivery']:.0f} us CPU per delivery")
        if a["cpu_busy_during_send"] < BARE_BUSY_ENOUGH:
            # A bare server that is not saturated measured the client or a noisy machine, not itself.
            print(f"      WARNING: the bare server was only {a['cpu_busy_during_send']:.0%} busy, so something else "
                  "(the client, or other load on the host) set its pace: the ratio below is unreliable; run again")
    print("targets")
    ratio = t["acked_ratio_vs_bare"]
    if ratio["value"] is None:
        print("  ----  acked/s >= 50% of the bare server's: not measured (--no-bare)")
    else:
        note = "" if f["concurrency"] == 16 else f" (the target is set at concurrency 16; this ran at {f['concurrency']})"
        print(f"  {verdict(ratio['pass'])}  acked/s >= {TARGET_RATIO:.0%} of the bare server's: "
              f"{b['acked_per_second']:.0f} / {f['bare']['acked_per_second']:.0f} = {ratio['value']:.2f}{note}")
    print(f"  {verdict(t['p99_ms']['pass'])}  p99 answer < {TARGET_P99_MS:.0f} ms: {t['p99_ms']['value']:.2f} ms")
    m = t["memory_flat"]
    print(f"  {verdict(m['pass'])}  memory flat: RSS {m['rss_10_mb']:.1f} MB at 10%, {m['rss_50_mb']:.1f} at 50%, "
          f"{m['rss_100_mb']:.1f} at 100%, {m['rss_end_mb']:.1f} after processing: "
          f"+{m['growth_mb']:.1f} MB (allowed {m['allowed_mb']:.1f})")
    print(f"  {verdict(t['all_acked']['pass'])}  every answer 202: {t['all_acked']['value']} were not")
    print(f"  {verdict(t['all_processed_none_failed']['pass'])}  every delivery processed, none failed: "
          f"{t['all_processed_none_failed']['value']}")


def endpoint_counts(calls: list[Any]) -> dict[str, int]:
    """Calls by method and path template, most frequent first."""
    counts: collections.Counter[str] = collections.Counter()
    for call in calls:
        path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}", call.path)
        counts[f"{call.method} {re.sub(r'/[0-9]+(?=/|$)', '/{n}', path)}"] += 1
    return dict(counts.most_common())


# Server modes (subprocesses of this script) ---------------------------------------------


def serve_fake(port: int) -> None:
    from tests.fakes import FakeGitHub

    fake = FakeGitHub(app_id=APP_ID, public_key_pem=os.environ["BENCH_PUBLIC_KEY"])

    # The fake routes every path as GitHub's API, so the bench's stats go in ahead of it.
    @web.middleware
    async def bench_stats(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != STATS_PATH:
            return await handler(request)
        return web.json_response({
            "calls": len(fake.calls),
            "api_calls": len(fake.api_calls()),
            "tokens_issued": fake.tokens_issued,
            "violations": len(fake.violations),
            "first_violations": fake.violations[:5],
            "by_endpoint": endpoint_counts(fake.calls),
        })

    fake.app.middlewares.append(bench_stats)
    web.run_app(fake.app, host=HOST, port=port, print=None, access_log=None)


def serve_bare(port: int) -> None:
    """The floor: aiohttp verifying the signature and decoding the JSON, as the bot must, and
    nothing else."""
    import gidgethub
    from gidgethub import sansio

    secret = os.environ["BENCH_WEBHOOK_SECRET"]

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = sansio.Event.from_http(request.headers, body, secret=secret)
        except (gidgethub.ValidationFailure, gidgethub.BadRequest) as exc:
            return web.json_response({"error": str(exc)}, status=401)
        return web.json_response({"delivery": event.delivery_id, "status": "accepted"}, status=202)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)


# Main -----------------------------------------------------------------------------------


def load_arguments(p: argparse.ArgumentParser, *, deliveries: int) -> None:
    """The options every benchmark of the bot under load takes."""
    p.add_argument("--deliveries", type=int, default=deliveries, metavar="N", help=f"deliveries to send (default {deliveries})")
    p.add_argument("--concurrency", type=int, default=16, metavar="C", help="requests in flight (default 16)")
    p.add_argument("--installations", type=int, default=200, help="installation ids to spread deliveries over")
    p.add_argument("--repos", type=int, default=1000, help="repositories to spread deliveries over")
    p.add_argument("--workers", type=int, help="each bot process's WORKERS (default: the bot's own default)")
    p.add_argument("--stall-timeout", type=float, default=60.0,
                   help="stop waiting for processing after this many seconds without progress (default 60)")
    p.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)


def parsed(p: argparse.ArgumentParser, argv: list[str] | None, *, positive: tuple[str, ...] = ()) -> argparse.Namespace:
    args = p.parse_args(argv)
    for name in ("deliveries", "concurrency", "installations", "repos", *positive):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    load_arguments(p, deliveries=20000)
    p.add_argument("--database", metavar="URL",
                   help="the bot's DATABASE_URL (default: a fresh SQLite file); on PostgreSQL, drop the tables "
                        "deliveries and marks first, or old pending rows are processed too")
    p.add_argument("--bare", action=argparse.BooleanOptionalAction, default=True,
                   help="also load a bare signature-checking server, for comparison (default on)")
    p.add_argument("--memory-samples", type=int, default=10, metavar="K",
                   help="read the bot's RSS after each 1/K of the deliveries is answered (default 10; the "
                        "report's 10%%/50%%/100%% figures take the nearest sample)")
    p.add_argument("--timeout", type=float, default=3600.0, help="stop waiting for processing after this many seconds")
    p.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    p.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parsed(p, argv, positive=("memory_samples",))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0

    return run_bench("webhook_load", "community-bot-bench-", args, lambda children, load, progress: measure(args, children, load, progress))


def measure(args: argparse.Namespace, children: Children, load: Load, progress: Callable[[str], None]) -> int:
    # Read before the bot starts: the bot imports its code then, and others may be editing it.
    version = code_version()
    bot = run_bot(args, children, load.deliveries, load.secret, load.private_pem, load.public_pem, load.fake_port, progress)
    bare = run_bare(args, children, load.deliveries, load.secret, progress) if args.bare else None
    results = figures(args, version, bot, bare)
    print_report(results, bot, bare, pinned=children.taskset is not None)
    if args.json:
        print(json.dumps(results))
    return 0


@dataclasses.dataclass(frozen=True)
class Load:
    """A benchmark's signed deliveries, the app's throwaway credentials, and the fake's port
    (fixed for the whole benchmark: the payloads' API URLs name it)."""

    deliveries: Deliveries
    secret: str
    private_pem: str
    public_pem: str
    fake_port: int

    @property
    def fake_url(self) -> str:
        return f"http://{HOST}:{self.fake_port}"


def run_bench(
    name: str, prefix: str, args: argparse.Namespace, body: Callable[[Children, Load, Callable[[str], None]], int]
) -> int:
    """Run a benchmark's ``body`` on a fresh load, with a scratch directory and the children it
    starts, itself on the senders' core; however it ends, every child is stopped and the
    directory removed."""
    from tests.fakes import make_private_key

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # Ctrl-C and SIGTERM both unwind through the finally below, which stops every server (SIGINT
    # too when started from a shell that ignores it in background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    children = Children(directory)
    try:
        if children.taskset:
            os.sched_setaffinity(0, {CLIENT_CORE})
        else:
            progress("warning: taskset is missing or there is one core; nothing is pinned")
        secret, (private_pem, public_pem), fake_port = secrets.token_hex(20), make_private_key(), free_port()
        started = time.perf_counter()
        deliveries = Deliveries(directory, args.deliveries, secret, f"http://{HOST}:{fake_port}", args.installations, args.repos)
        progress(f"built and signed {args.deliveries} deliveries in {time.perf_counter() - started:.1f} s")
        with contextlib.closing(deliveries):
            return body(children, Load(deliveries, secret, private_pem, public_pem, fake_port), progress)
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    finally:
        children.stop_all()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
