"""Finding and asking again for the deliveries GitHub could not deliver."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from bot.github import GitHubApp, RetryPolicy
from bot.inbox import Inbox, InboxUnavailable, NewDelivery
from bot.redeliver import MAX_ASKS, PeriodicRedelivery, missed_deliveries, redeliver
from tests.conftest import bot_of


@pytest.fixture
async def app_client(fake_github, private_key):
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url).app_client


@pytest.fixture
async def inbox(tmp_path):
    inbox = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    await inbox.open()
    yield inbox
    await inbox.close()


async def test_missed_are_those_no_attempt_delivered_and_the_inbox_lacks(fake_github, app_client, inbox):
    now = time.time()
    fake_github.add_hook_delivery("ok", status_code=202, delivered_at=now - 50)
    fake_github.add_hook_delivery("down", status_code=0, delivered_at=now - 40)  # timed out
    fake_github.add_hook_delivery("retried", status_code=503, delivered_at=now - 30)
    fake_github.add_hook_delivery("retried", status_code=202, delivered_at=now - 20, redelivery=True)
    fake_github.add_hook_delivery("late", status_code=0, delivered_at=now - 10)  # recorded, answered too late
    await inbox.record(NewDelivery(id="late", event="issues", payload="{}"))
    fake_github.add_hook_delivery("long-ago", status_code=500, delivered_at=now - 10 * 86400)
    missed = await missed_deliveries(app_client, inbox, since=now - 3600)
    assert [m.guid for m in missed] == ["down"]
    older = await missed_deliveries(app_client, inbox, since=now - 30 * 86400)
    assert [m.guid for m in older] == ["long-ago", "down"]
    assert [m.too_old for m in older] == [True, False]
    assert await redeliver(app_client, older) == 1
    assert fake_github.redeliveries == [older[1].delivery_id]


async def test_the_log_is_read_past_its_first_page(fake_github, app_client, inbox):
    now = time.time()
    for n in range(250):
        fake_github.add_hook_delivery(f"failed-{n}", status_code=502, delivered_at=now - n)
    missed = await missed_deliveries(app_client, inbox, since=now - 3600)
    assert len(missed) == 250
    assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) == 3


async def test_the_command_lists_then_asks(fake_github, private_key, tmp_path, monkeypatch, capsys):
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    for name, value in {
        "GITHUB_APP_ID": "1",
        "GITHUB_PRIVATE_KEY": private_key,
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": fake_github.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    fake_github.add_hook_delivery("down", status_code=0, delivered_at=time.time() - 60)
    assert await asyncio.to_thread(main, ["redeliver", "--since", "2h", "--dry-run"]) == 0
    assert fake_github.redeliveries == []
    assert "down issues.opened" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["redeliver", "--since", "2h"]) == 0
    assert len(fake_github.redeliveries) == 1
    assert "asked GitHub to redeliver 1" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse refuses a duration it cannot read
        main(["redeliver", "--since", "soon"])


# Rounds inside `serve` (REDELIVER_EVERY) ---------------------------------------------------


@pytest.fixture
async def quick_app_client(fake_github, private_key):
    """The app's client, retrying a 5xx after hundredths of a second rather than seconds."""
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url, retry=RetryPolicy(backoff=0.01))
        yield app.app_client


async def test_a_round_asks_for_the_missed_delivery_and_an_overlapping_round_not_again(fake_github, quick_app_client, inbox):
    now = time.time()
    fake_github.add_hook_delivery("ok", status_code=202, delivered_at=now - 50)
    down = fake_github.add_hook_delivery("down", status_code=0, delivered_at=now - 40)
    fake_github.add_hook_delivery("before", status_code=0, delivered_at=now - 1900)  # before this round's look-back
    rounds = PeriodicRedelivery(quick_app_client, inbox, every=900)
    assert rounds.look_back == 1800
    slot = int(now // 900)
    assert await rounds.round(slot) == 1
    assert fake_github.redeliveries == [down["id"]]
    # The next round looks back over this one's time too: GitHub has not redelivered yet, but
    # it was asked, and would deliver it twice if asked twice.
    assert await rounds.round(slot + 1) == 0
    assert fake_github.redeliveries == [down["id"]]
    assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) == 2


async def test_a_delivery_whose_redelivery_failed_too_is_asked_for_again_a_few_times(fake_github, quick_app_client, inbox):
    now = time.time()
    fake_github.add_hook_delivery("down", status_code=0, delivered_at=now - 60)
    rounds = PeriodicRedelivery(quick_app_client, inbox, every=900)
    slot = int(now // 900)
    for attempt in range(1, MAX_ASKS + 2):
        assert await rounds.round(slot + attempt) == (1 if attempt <= MAX_ASKS else 0)
        # GitHub tried again as asked, and could not deliver it this time either.
        fake_github.add_hook_delivery("down", status_code=502, delivered_at=now - 60 + attempt, redelivery=True)
    assert len(fake_github.redeliveries) == MAX_ASKS
    assert len(set(fake_github.redeliveries)) == MAX_ASKS  # each a different failed attempt


async def test_of_two_processes_one_runs_each_round(fake_github, private_key, quick_app_client, inbox):
    now = time.time()
    down = fake_github.add_hook_delivery("down", status_code=0, delivered_at=now - 40)
    # Two processes on one database: two runners of rounds, each its own client, one inbox.
    async with aiohttp.ClientSession() as session:
        other_client = GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url).app_client
        first = PeriodicRedelivery(quick_app_client, inbox, every=900)
        second = PeriodicRedelivery(other_client, inbox, every=900)
        slot = int(now // 900)
        # Both wake at the slot's start.
        outcomes = await asyncio.gather(first.round(slot), second.round(slot))
        assert sorted(outcomes, key=lambda n: n is None) == [1, None]
        assert fake_github.redeliveries == [down["id"]]
        assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) == 1  # the other did not even look
        # The next slot goes to whichever wakes first: it asks for what failed since, and not
        # again for what the other process asked for.
        down_too = fake_github.add_hook_delivery("down-too", status_code=0)
        assert await second.round(slot + 1) == 1
        assert await first.round(slot + 1) is None
        assert fake_github.redeliveries == [down["id"], down_too["id"]]


async def test_a_failed_round_is_logged_and_the_next_one_works(fake_github, quick_app_client, inbox, caplog):
    now = time.time()
    down = fake_github.add_hook_delivery("down", status_code=0, delivered_at=now - 40)
    rounds = PeriodicRedelivery(quick_app_client, inbox, every=900)
    slot = int(now // 900)
    fake_github.respond("GET", "/app/hook/deliveries", status=502, times=3)  # each of the client's three attempts
    with caplog.at_level(logging.WARNING, logger="bot.redeliver"):
        assert await rounds.round(slot) is None
    [failed] = [r for r in caplog.records if r.name == "bot.redeliver"]
    assert failed.levelno == logging.WARNING
    assert failed.message == "redelivery round failed; the next one tries again"
    assert failed.fields["slot"] == slot and failed.fields["status"] == 502
    assert fake_github.redeliveries == []
    assert await rounds.round(slot + 1) == 1
    assert fake_github.redeliveries == [down["id"]]


async def test_a_round_the_database_cannot_serve_is_logged_and_the_next_one_works(fake_github, quick_app_client, inbox, monkeypatch, caplog):
    fake_github.add_hook_delivery("down", status_code=0, delivered_at=time.time() - 40)
    rounds = PeriodicRedelivery(quick_app_client, inbox, every=900)
    real_mark = inbox.mark

    async def unavailable(*_args, **_kwargs):
        raise InboxUnavailable("connection refused")

    monkeypatch.setattr(inbox, "mark", unavailable)
    with caplog.at_level(logging.WARNING, logger="bot.redeliver"):
        assert await rounds.round(1) is None
    assert any("InboxUnavailable" in r.fields["reason"] for r in caplog.records if r.name == "bot.redeliver")
    assert fake_github.calls_to("GET", "/app/hook/deliveries") == []
    monkeypatch.setattr(inbox, "mark", real_mark)
    assert await rounds.round(2) == 1


async def test_serve_runs_rounds_until_it_stops(fake_github, start_bot):
    # Stamped ahead: the log keeps whole seconds, and a 0.2 s round looks back 0.4 s.
    down = fake_github.add_hook_delivery("down", status_code=0, delivered_at=time.time() + 60)
    client = await start_bot(redeliver_every=0.2)
    bot = bot_of(client)
    assert bot.redelivery is not None and bot.redelivery.look_back == pytest.approx(0.4)
    for _ in range(100):
        if fake_github.redeliveries:
            break
        await asyncio.sleep(0.05)
    assert fake_github.redeliveries == [down["id"]]
    rounds = len(fake_github.calls_to("GET", "/app/hook/deliveries"))
    await asyncio.sleep(0.5)
    assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) > rounds  # it goes on
    assert fake_github.redeliveries == [down["id"]]  # asked for once
    task = bot._redelivery_task
    await bot.stop_workers()
    assert task.cancelled()
    stopped = len(fake_github.calls_to("GET", "/app/hook/deliveries"))
    await asyncio.sleep(0.5)
    assert len(fake_github.calls_to("GET", "/app/hook/deliveries")) == stopped


async def test_a_failing_github_does_not_stop_the_rounds_or_the_server(fake_github, start_bot):
    fake_github.respond("GET", "/app/hook/deliveries", status=503)  # until further notice
    client = await start_bot(redeliver_every=0.2)
    await asyncio.sleep(0.6)
    assert fake_github.calls_to("GET", "/app/hook/deliveries")
    assert not bot_of(client)._redelivery_task.done()
    assert (await client.get("/healthz")).status == 200


async def test_no_rounds_by_default(fake_github, start_bot):
    fake_github.add_hook_delivery("down", status_code=0)
    client = await start_bot()
    assert bot_of(client).redelivery is None
    await asyncio.sleep(0.3)
    assert fake_github.calls_to("GET", "/app/hook/deliveries") == []
