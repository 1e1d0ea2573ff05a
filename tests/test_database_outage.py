"""PostgreSQL goes away under load and comes back: deliveries that arrive meanwhile get 503
(GitHub marks them failed, to be redelivered), every delivery answered 2xx is processed exactly
once after it comes back, and the process carries on without a restart.

The outage is a TCP proxy between the bot and PostgreSQL that the test closes (dropping every
open connection and refusing new ones) and opens again: what a server restart looks like from
the bot, without touching the machine's PostgreSQL, which other tests use.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import time
import uuid

import pytest
from gidgethub.routing import Router

from bot.dispatch import accepts_bots
from tests.conftest import (
    bot_of,
    drop_tables,
    free_port,
    headers_for,
    installed,
    own_postgres_database,
    postgres_answers,
)
from tests.fakes import example

pytestmark = pytest.mark.skipif(not postgres_answers(), reason="no PostgreSQL answers on 127.0.0.1:5432")

CONCURRENCY = 8
BEFORE, AFTER = 200, 200  # deliveries sent before PostgreSQL goes away, and after it is back
OUTAGE_SECONDS = 3.0
SETTLE_TIMEOUT = 60.0


class Proxy:
    """127.0.0.1:port -> PostgreSQL, until ``down()``; ``up()`` listens on the same port again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # a reset, as a dying server's connections end
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _pipe(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}

        async def copy_from(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(copy_from(client_reader, server_writer), copy_from(server_reader, client_writer))


@pytest.fixture
async def database_url():
    url = await own_postgres_database("test_database_outage")
    await drop_tables(url, create_again=True)
    yield url
    await drop_tables(url)


async def test_postgres_going_away_under_load_loses_nothing_and_processes_each_delivery_once(start_bot, database_url):
    proxy = Proxy(free_port())
    await proxy.up()
    handled: collections.Counter[str] = collections.Counter()
    router = Router()

    @router.register("issues", action="opened")
    @accepts_bots
    async def count(event, ctx):
        handled[event.delivery_id] += 1
        await asyncio.sleep(0.05)  # slow enough that work is in hand when PostgreSQL goes away

    through_proxy = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    client = await start_bot([router], database_url=through_proxy)
    payload = installed(example("issues", "opened"))
    answers: dict[str, int] = {}
    numbers = iter(range(1, 10**6))

    async def send(count: int, *, pace: float = 0.0) -> list[int]:
        """``count`` deliveries over CONCURRENCY connections; their answers."""
        statuses: list[int] = []

        async def sender(share: int) -> None:
            for _ in range(share):
                body = copy.deepcopy(payload)
                body["issue"]["number"] = next(numbers)
                data = json.dumps(body).encode()
                delivery_id = str(uuid.uuid4())
                response = await client.post("/webhook", data=data, headers=headers_for("issues", data, delivery_id=delivery_id))
                await response.read()
                answers[delivery_id] = response.status
                statuses.append(response.status)
                await asyncio.sleep(pace)

        await asyncio.gather(*(sender(count // CONCURRENCY) for _ in range(CONCURRENCY)))
        return statuses

    before = await send(BEFORE)
    in_hand = BEFORE - len(handled)
    await proxy.down()
    during = await send(CONCURRENCY * int(OUTAGE_SECONDS / 0.1), pace=0.1)
    await proxy.up()
    after = await send(AFTER)

    assert set(before) == {202}, collections.Counter(before)
    assert in_hand > 0, "everything was processed before the outage: the test proved nothing about processing"
    assert set(during) == {503}, collections.Counter(during)  # not on disk: never acknowledged
    recovered = after[len(after) // 4 :]  # the first few may still meet a connection the outage broke
    assert set(recovered) == {202}, collections.Counter(after)
    statuses = collections.Counter(answers.values())
    assert set(statuses) <= {202, 503}, statuses  # never a 500, never a 2xx for what is not on disk
    acked = {d for d, status in answers.items() if status == 202}
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not acked <= set(handled) or set(await bot_of(client).inbox.count_by_state()) != {"done"}:
        assert time.monotonic() < deadline, f"not settled: {len(acked - set(handled))} acknowledged deliveries unprocessed"
        await asyncio.sleep(0.2)
    twice = {d: n for d, n in handled.items() if n != 1}
    assert not twice, f"processed more than once: {twice}"
    assert acked <= set(handled)
    states = await bot_of(client).inbox.count_by_state()
    assert states == {"done": len(handled)}, states
    assert (await client.get("/healthz")).status == 200
    print(f"\nPostgreSQL away for {OUTAGE_SECONDS}s: answers {dict(statuses)}, after it came back {dict(collections.Counter(after))}, processed {len(handled)}")
