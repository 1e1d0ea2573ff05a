"""CPU time per processed delivery: a backlog of newcomers' issues, processed with nothing arriving.

Records N deliveries of the peer benchmark's pool (``../shared/peer-bench``, its README: each
a distinct newcomer's first issue) into a fresh SQLite inbox, starts ``community-bot serve`` on
CPU 0 against the peer benchmark's fake GitHub, waits until none is pending, and prints the
bot's CPU time (user + system, from ``/proc``) per delivery, the wall time and the rate. Start
the fake first, on the other core:

    (cd /tmp/peer-bench && taskset -c 1 .venv/bin/python fake_github.py --port 8900 &)
    .venv/bin/python bench/drain_cpu.py --pool /tmp/peer-pool/pool-*.txt --deliveries 6000

Start-up (imports, the tone model) is included: use a few thousand deliveries. Machines
with neighbours vary by ±15 % from run to run: compare medians of several runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.inbox import Inbox, NewDelivery  # noqa: E402


async def record(inbox: Inbox, pool: Path, count: int) -> None:
    with pool.open("rb") as lines:
        # Record 0 is the harness's wiring check; a newcomer each after it.
        for n, line in enumerate(itertools.islice(lines, 1, count + 1)):
            body = line.rstrip(b"\n").partition(b"\t")[2]
            data = orjson.loads(body)
            await inbox.record(NewDelivery(
                id=f"drain-{n}", event="issues", payload=body.decode(), action=data.get("action"),
                installation_id=data["installation"]["id"], repository=data["repository"]["full_name"],
            ))


async def drain(args: argparse.Namespace, folder: str) -> tuple[float, float]:
    """The wall time and the bot's CPU time to process the recorded backlog."""
    url = f"sqlite:///{folder}/drain.db"
    inbox = Inbox(url)  # records the backlog, then watches it go down beside the bot
    await inbox.open()
    try:
        await record(inbox, args.pool, args.deliveries)
        urllib.request.urlopen(urllib.request.Request(f"{args.fake}/__reset", method="POST")).read()
        env = {
            **os.environ, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": str(args.key),
            "GITHUB_WEBHOOK_SECRET": "bench-secret", "DATABASE_URL": url, "GITHUB_API_URL": args.fake,
            "LOG_LEVEL": "WARNING", "PORT": "3000", "GITHUB_WRITES_PER_MINUTE": "0", "GITHUB_WRITES_PER_HOUR": "0",
        }
        started = time.monotonic()
        bot = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env)
        try:
            while True:
                await asyncio.sleep(0.2)
                if bot.poll() is not None:
                    sys.exit(f"the bot stopped (exit status {bot.returncode})")
                counts = await inbox.count_by_state()
                if not counts.get("pending") and not counts.get("processing"):
                    return time.monotonic() - started, cpu_seconds(bot.pid)
        finally:
            bot.terminate()
            bot.wait(30)
    finally:
        await inbox.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, required=True, help="the peer benchmark's pool file (pool-*.txt)")
    parser.add_argument("--deliveries", type=int, default=6000)
    parser.add_argument("--fake", default="http://127.0.0.1:8900", help="the peer benchmark's fake GitHub")
    parser.add_argument("--key", type=Path, default=Path("/tmp/peer-bench/bench-app-key.pem"), help="its app key")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})  # beside the fake, off the bot's core
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = asyncio.run(drain(args, folder))
    calls = json.load(urllib.request.urlopen(f"{args.fake}/__stats"))
    print(json.dumps({
        "deliveries": args.deliveries,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_delivery": round(cpu * 1000 / args.deliveries, 3),
        "processed_per_s": round(args.deliveries / wall, 1),
        "comments": calls.get("comments"),
    }))


if __name__ == "__main__":
    main()
