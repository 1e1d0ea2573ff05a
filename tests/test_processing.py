"""After the answer: dispatch to handlers, isolation of failures, bots, crash recovery, shutdown."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging

from gidgethub.routing import Router
from sqlalchemy import text

from bot import logs
from bot.dispatch import accepts_bots, handler_name
from bot.inbox import Inbox, NewDelivery
from bot.worker import WorkerPool
from tests.conftest import SECRET, bot_of, deliver, installed, settle
from tests.fakes import example

ISSUE = installed(example("issues", "opened"))


def from_sender(payload, login, type_="User"):
    payload = copy.deepcopy(payload)
    payload["sender"] = dict(payload["sender"], login=login, type=type_)
    return payload


async def test_a_failing_handler_does_not_stop_the_others(start_bot):
    router = Router()
    ran = []

    @router.register("issues", action="opened")
    async def a_broken_handler(event, ctx):
        raise RuntimeError("boom")

    @router.register("issues", action="opened")
    async def b_working_handler(event, ctx):
        ran.append(event.delivery_id)

    client = await start_bot([router])
    await deliver(client, "issues", ISSUE, delivery_id="x")
    await settle(client)
    bot = bot_of(client)
    stored = await bot.inbox.get("x")
    assert ran == ["x"]
    assert stored["state"] == "failed"
    assert "a_broken_handler" in stored["error"]
    assert bot.metrics.handler_errors.labels(handler_name(a_broken_handler))._value.get() == 1
    assert bot.metrics.failed.labels("issues")._value.get() == 1


async def test_own_events_reach_no_handler_and_other_bots_only_those_that_ask(start_bot):
    router = Router()
    reached = []

    @router.register("issues")
    async def comments_on_issues(event, ctx):
        reached.append(("comments", event.data["sender"]["login"]))

    @router.register("issues")
    @accepts_bots
    async def checks_everything(event, ctx):
        reached.append(("checks", event.data["sender"]["login"]))

    client = await start_bot([router], app_slug="community-bot")
    await deliver(client, "issues", from_sender(ISSUE, "community-bot[bot]", "Bot"))
    await deliver(client, "issues", from_sender(ISSUE, "dependabot[bot]", "Bot"))
    await deliver(client, "issues", from_sender(ISSUE, "alice"))
    await settle(client)
    assert sorted(reached) == [
        ("checks", "alice"),
        ("checks", "dependabot[bot]"),
        ("comments", "alice"),
    ]


async def test_own_slug_is_learnt_from_github(start_bot, fake_github):
    router = Router()
    reached = []

    @router.register("issues")
    @accepts_bots
    async def handler(event, ctx):
        reached.append(event.data["sender"]["login"])

    client = await start_bot([router])  # no slug configured: GET /app tells it
    for _ in range(3):
        await deliver(client, "issues", from_sender(ISSUE, "community-bot[bot]", "Bot"))
    await settle(client)
    assert reached == []
    assert len(fake_github.calls_to("GET", "/app")) == 1


async def test_no_comment_in_answer_to_a_bot(start_bot, fake_github, tmp_path):
    router = Router()
    outcomes = []

    @router.register("issues", action="opened")
    @accepts_bots
    async def greet(event, ctx):
        outcomes.append(await ctx.comment(event.data["issue"]["number"], "greeting", "greeting.md"))

    client = await start_bot([router], app_slug="community-bot")
    await deliver(client, "issues", from_sender(ISSUE, "renovate[bot]", "Bot"))
    await settle(client)
    assert outcomes == [None]
    assert fake_github.api_calls() == []


async def test_crashed_worker_delivery_completes_once_after_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    started, completed = asyncio.Event(), []

    async def hangs(delivery):
        started.set()
        await asyncio.Event().wait()  # killed before it finishes

    inbox = Inbox(url)
    await inbox.open()
    await inbox.record(NewDelivery(id="d", event="issues", payload="{}"))
    pool = WorkerPool(inbox, hangs, poll_interval=0.05)
    pool.start()
    await asyncio.wait_for(started.wait(), 5)
    # The process dies: its tasks stop where they are, nothing is released or finished.
    for task in [*pool._tasks, *pool._in_hand.values()]:
        task.cancel()
    await inbox.close()

    async def completes(delivery):
        completed.append(delivery.id)
        return None

    restarted = Inbox(url)
    await restarted.open()
    pool = WorkerPool(restarted, completes, poll_interval=0.05)
    pool.start()
    for _ in range(100):
        if (await restarted.get("d"))["state"] == "done":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await pool.stop()
    assert completed == ["d"]
    assert (await restarted.get("d"))["attempts"] == 2
    await restarted.close()


async def test_stop_finishes_work_in_hand_and_gives_back_what_overruns(tmp_path):
    inbox = Inbox(f"sqlite:///{tmp_path / 'stop.db'}")
    await inbox.open()
    await inbox.record(NewDelivery(id="quick", event="e", payload="{}"))
    await inbox.record(NewDelivery(id="slow", event="e", payload="{}"))
    both_started = asyncio.Barrier(3)

    async def process(delivery):
        await both_started.wait()
        await asyncio.sleep(0.1 if delivery.id == "quick" else 60)

    pool = WorkerPool(inbox, process, poll_interval=0.05)
    pool.start()
    await asyncio.wait_for(both_started.wait(), 5)
    await pool.stop(timeout=1)
    assert (await inbox.get("quick"))["state"] == "done"
    assert (await inbox.get("slow"))["state"] == "pending"
    await inbox.close()


async def test_stop_gives_back_deliveries_claimed_ahead_as_untried(tmp_path):
    inbox = Inbox(f"sqlite:///{tmp_path / 'ahead.db'}")
    await inbox.open()
    for n in range(4):
        await inbox.record(NewDelivery(id=f"d{n}", event="e", payload="{}"))
    started = asyncio.Event()

    async def process(delivery):
        started.set()
        await asyncio.sleep(0.2)

    # Two workers: two deliveries in hand, the other two claimed ahead, waiting.
    pool = WorkerPool(inbox, process, concurrency=2, poll_interval=0.05)
    pool.start()
    await asyncio.wait_for(started.wait(), 5)
    assert await inbox.count_by_state() == {"processing": 4}
    await pool.stop(timeout=5)
    stored = [await inbox.get(f"d{n}") for n in range(4)]
    assert [(row["state"], row["attempts"]) for row in stored] == [("done", 1)] * 2 + [("pending", 0)] * 2
    await inbox.close()


async def test_a_delivery_that_keeps_killing_its_process_is_given_up(tmp_path):
    inbox = Inbox(f"sqlite:///{tmp_path / 'poison.db'}")
    await inbox.open()
    await inbox.record(NewDelivery(id="poison", event="e", payload="{}"))
    await inbox.transaction(lambda conn: conn.execute(text("UPDATE deliveries SET attempts = 5")))
    processed = []

    async def process(delivery):
        processed.append(delivery.id)

    pool = WorkerPool(inbox, process, poll_interval=0.05)
    pool.start()
    for _ in range(100):
        if (await inbox.get("poison"))["state"] != "pending":
            break
        await asyncio.sleep(0.02)
    await pool.stop()
    stored = await inbox.get("poison")
    assert processed == []
    assert stored["state"] == "failed"
    assert "given up" in stored["error"]
    await inbox.close()


async def test_logs_are_json_with_the_delivery_and_without_secrets(start_bot, fake_github, private_key):
    stream = io.StringIO()
    router = Router()

    @router.register("issues", action="opened")
    async def talks(event, ctx):
        await ctx.gh.getitem("/repos/{owner}/{repo}", {"owner": ctx.owner, "repo": ctx.repo})  # fetches a token
        logging.getLogger("handlers.test").info("a careless line: token ghs_%s", "a" * 36)
        raise RuntimeError(f"secret {SECRET} in an exception")

    fake_github.respond("GET", "/repos/{owner}/{repo}", json={"id": 1})
    client = await start_bot([router])
    logs.configure("DEBUG", secrets=bot_of(client).settings.secrets, stream=stream)
    try:
        await deliver(client, "issues", ISSUE, delivery_id="logged-1")
        await settle(client)
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "nothing was logged"
    about_it = [line for line in lines if line.get("delivery") == "logged-1"]
    assert any(line["message"] == "delivery failed" for line in about_it)
    failed = next(line for line in about_it if line["message"].startswith("handler"))
    assert failed["event"] == "issues" and failed["action"] == "opened"
    assert failed["repository"] == ISSUE["repository"]["full_name"]
    assert "traceback" in failed
    assert any(line["message"] == "a careless line: token [redacted]" for line in lines)
    text = stream.getvalue()
    assert SECRET not in text
    assert "ghs_" not in text
    assert "PRIVATE KEY" not in text
    assert private_key.splitlines()[1] not in text


async def test_processing_yields_to_receiving_but_is_never_starved(tmp_path):
    inbox = Inbox(f"sqlite:///{tmp_path / 'yield.db'}")
    await inbox.open()
    processed = []

    async def process(delivery):
        processed.append(asyncio.get_running_loop().time())

    pool = WorkerPool(inbox, process, poll_interval=0.05, max_yield=0.5)
    pool.start()
    loop = asyncio.get_running_loop()
    with pool.receiving():  # a delivery is being received all along
        started = loop.time()
        await inbox.record(NewDelivery(id="d", event="e", payload="{}"))
        pool.wake()
        await asyncio.sleep(0.25)
        assert processed == []  # answering GitHub comes first...
        for _ in range(100):
            if processed:
                break
            await asyncio.sleep(0.02)
    assert processed and processed[0] - started < 1.0  # ...but processing still gets its turn
    await inbox.record(NewDelivery(id="d2", event="e", payload="{}"))
    pool.wake()
    await asyncio.sleep(0.2)
    assert len(processed) == 2  # nothing being received: no waiting
    await pool.stop()
    await inbox.close()
