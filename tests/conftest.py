"""Shared fixtures: the spec-checking fake GitHub, a bot wired to it, and signed deliveries."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from gidgethub import routing

from bot.app import BOT, Bot, create_app
from bot.github import GitHubApp, RetryPolicy
from bot.inbox import Inbox, metadata
from bot.metrics import Metrics
from bot.settings import Settings
from tests.fakes import FakeGitHub, example, make_private_key, sign

SECRET = "test-webhook-secret"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A port nothing listens on now, for a server a test starts in another process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_answers() -> bool:
    """Whether the PostgreSQL the storage tests use answers (CI has one; a laptop may not)."""
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


async def own_postgres_database(name: str) -> str:
    """A database of the test's own on the same server, when the user may create one.

    The rest of the suite drops the inbox's tables in `test` as it goes; a test that runs
    a server for many seconds beside it would meet "relation does not exist".
    """
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.PostgresError:
        return POSTGRES_URL  # not allowed to: the shared database, as the rest of the suite
    finally:
        await connection.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


async def drop_tables(url: str, *, create_again: bool = False) -> None:
    """Drop the bot's tables (and make them again: nothing left from an earlier run)."""
    inbox = Inbox(url)
    await inbox.open()
    try:
        await inbox.transaction(metadata.drop_all)
        if create_again:
            await inbox.transaction(metadata.create_all)
    finally:
        await inbox.close()


@pytest.fixture
def private_key() -> str:
    return make_private_key()[0]


@pytest.fixture
async def fake_github(aiohttp_server: Any) -> Any:
    fake = FakeGitHub(app_id=1, public_key_pem=make_private_key()[1])
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    fake.assert_no_violations()


@pytest.fixture
async def github_app(fake_github: FakeGitHub, private_key: str) -> Any:
    """The app's client on the fake GitHub, retrying quickly."""
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(
            session,
            app_id="1",
            private_key=private_key,
            base_url=fake_github.url,
            metrics=Metrics(),
            retry=RetryPolicy(attempts=3, backoff=0.01, max_wait=30),
        )


@pytest.fixture
def make_settings(tmp_path: Any, fake_github: FakeGitHub, private_key: str) -> Any:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_id": "1",
            "private_key": private_key,
            "webhook_secrets": (SECRET,),
            "api_url": fake_github.url,
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "app_slug": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def start_bot(aiohttp_client: Any, make_settings: Any) -> Any:
    """Start the bot's aiohttp app with the given routers; returns its test client."""

    async def start(routers: Iterable[routing.Router] = (), **settings: Any) -> TestClient:
        return await aiohttp_client(create_app(make_settings(**settings), list(routers)))

    return start


def bot_of(client: TestClient) -> Bot:
    return client.app[BOT]


def headers_for(event: str, body: bytes, *, delivery_id: str | None = None, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
    }


async def deliver(
    client: TestClient, event: str, payload: dict[str, Any], *, delivery_id: str | None = None, secret: str = SECRET
) -> Any:
    """POST a payload to /webhook as GitHub would, signed; returns the response."""
    body = json.dumps(payload).encode()
    return await client.post("/webhook", data=body, headers=headers_for(event, body, delivery_id=delivery_id, secret=secret))


async def settle(client: TestClient, timeout: float = 10.0) -> None:
    """Wait until every recorded delivery is finished."""
    bot = bot_of(client)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        counts = await bot.inbox.count_by_state()
        if not counts.get("pending") and not counts.get("processing") and bot.pool.in_hand == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"deliveries not finished in {timeout}s: {await bot.inbox.count_by_state()}")


async def until(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> None:
    """Wait until ``condition()`` holds (a comment arrives, a container turns healthy)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"not in {timeout} s"
        await asyncio.sleep(interval)


async def answers(url: str, timeout: float = 30.0) -> bool:
    """Whether ``url`` answers 200 within ``timeout`` (a server starting in another process)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            try:
                async with session.get(url) as answer:
                    if answer.status == 200:
                        return True
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    return False


def comment_event(fake: FakeGitHub, owner: str, repo: str, number: int, body: str, *, login: str = "someone", user_id: int | None = None) -> dict[str, Any]:
    """Someone comments on issue or pull request ``number`` (which the fake must hold): the
    comment as the fake keeps it, in GitHub's real ``issue_comment.created`` event."""
    comment = fake.add_comment(owner, repo, number, body, login=login)
    if user_id is not None:
        comment = comment | {"user": comment["user"] | {"id": user_id}}
    payload = copy.deepcopy(installed(example("issue_comment", "created")))
    payload["issue"] = fake.issue(owner, repo, number)
    payload["comment"] = comment
    payload["sender"] = comment["user"]
    return payload


def installed(payload: dict[str, Any], installation_id: int = 7) -> dict[str, Any]:
    """A real repository-webhook example as an app receives it: with its installation."""
    payload = dict(payload)
    payload.setdefault("installation", {"id": installation_id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNw=="})
    return payload
