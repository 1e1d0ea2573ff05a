"""Finding and asking again for the deliveries GitHub could not deliver."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.github import GitHubApp
from bot.inbox import Inbox, NewDelivery
from bot.redeliver import missed_deliveries, redeliver


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
