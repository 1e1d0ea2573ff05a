"""The floor under issue 17's welcomes-per-second target: the least any bot on this stack can do.

An aiohttp server that checks X-Hub-Signature-256, parses the body, answers 202 and then makes
a welcome's two GitHub calls (``GET /search/issues``, ``POST .../comments``) with one aiohttp
``ClientSession``: no database (nothing durable before the 202), no gidgethub (unless asked), no config, no
templates, no queue, no logging. Whatever community-bot does on top only costs more, so the
welcomes per second this reaches to completion bound what the bot can reach on the same core.

Run it beside Probot in the peer bench (``../shared/peer-bench``, its README):

    LEVELS=16 DRAIN=90 LABEL=floor-aiohttp ./run_peer.sh probot-nothrottle \\
        "exec $CHECKOUT/.venv/bin/python $CHECKOUT/bench/peer_floor.py"

``FLOOR_GIDGETHUB=1`` makes the two calls through gidgethub, as a bot built on it must.
``FLOOR_UVLOOP=1`` serves on uvloop's loop instead of asyncio's. ``FLOOR_DURABLE=1`` also
writes each delivery to SQLite (WAL, synchronous=FULL) before its 202, committing whatever
arrived meanwhile in one transaction from one thread: the least that "durably recorded before
the 202" costs. ``FLOOR_ACK_ONLY=1`` makes no GitHub calls after the first delivery's (which the harness
checks the wiring with): with ``FLOOR_DURABLE=1``, the most
acknowledgements a second that any bot recording its deliveries durably gets on this core.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor

import gidgethub.aiohttp
from aiohttp import ClientSession, TCPConnector, web

SECRET = os.environ.get("WEBHOOK_SECRET", "bench-secret").encode()
API = os.environ.get("GITHUB_API_URL", "http://127.0.0.1:8900")
SESSION = web.AppKey("session", ClientSession)
_running: set[asyncio.Task[None]] = set()
_welcomed_once = False


class DurableLog:
    """Group commit: the deliveries that queue up while one commit is on disk go in the next."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1)
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._writing = False
        self._connection = self._thread.submit(self._open).result()

    @staticmethod
    def _open() -> sqlite3.Connection:
        path = os.path.join(tempfile.mkdtemp(prefix="peer-floor-"), "floor.db")
        connection = sqlite3.connect(path, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE deliveries (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        return connection

    def _write(self, bodies: list[bytes]) -> None:
        with self._connection:
            self._connection.executemany("INSERT INTO deliveries (body) VALUES (?)", [(body,) for body in bodies])

    async def record(self, body: bytes) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((body, done))
        if not self._writing:
            self._writing = True
            asyncio.ensure_future(self._drain())
        await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            await loop.run_in_executor(self._thread, self._write, [body for body, _ in batch])
            for _, done in batch:
                done.set_result(None)
        self._writing = False


LOG = web.AppKey("log", DurableLog)


async def welcome(session: ClientSession, event: dict) -> None:
    issue, repository = event["issue"], event["repository"]["full_name"]
    if os.environ.get("FLOOR_GIDGETHUB"):
        gh = gidgethub.aiohttp.GitHubAPI(session, "floor", oauth_token="floor", base_url=API)
        await gh.getitem("/search/issues{?q,per_page}", {"q": f"repo:{repository} author:{issue['user']['login']} is:issue", "per_page": 2})
        await gh.post(f"/repos/{repository}/issues/{issue['number']}/comments", data={"body": "Welcome!"})
        return
    query = {"q": f"repo:{repository} author:{issue['user']['login']} is:issue", "per_page": "2"}
    headers = {"Authorization": "token floor"}
    async with session.get(f"{API}/search/issues", params=query, headers=headers) as answer:
        await answer.json()
    url = f"{API}/repos/{repository}/issues/{issue['number']}/comments"
    async with session.post(url, json={"body": "Welcome!"}, headers=headers) as answer:
        await answer.json()


async def webhook(request: web.Request) -> web.Response:
    body = await request.read()
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return web.Response(status=401)
    if LOG in request.app:
        await request.app[LOG].record(body)
    global _welcomed_once
    if os.environ.get("FLOOR_ACK_ONLY") and _welcomed_once:
        return web.Response(status=202)
    _welcomed_once = True
    task = asyncio.ensure_future(welcome(request.app[SESSION], json.loads(body)))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return web.Response(status=202)


async def open_session(app: web.Application) -> None:
    app[SESSION] = ClientSession(connector=TCPConnector(limit=16))


def main() -> None:
    if os.environ.get("FLOOR_UVLOOP"):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    if os.environ.get("FLOOR_DURABLE"):
        app[LOG] = DurableLog()
    app.on_startup.append(open_session)
    app.router.add_post(os.environ.get("WEBHOOK_PATH", "/api/github/webhooks"), webhook)
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", 3000)), access_log=None, print=None)


if __name__ == "__main__":
    main()
