"""One bot comment of each kind: created, then edited; end to end from a delivery."""

from __future__ import annotations

import aiohttp
import pytest
from gidgethub.routing import Router

from bot.comments import upsert_comment
from bot.github import GitHubApp
from tests.conftest import deliver, installed, settle
from tests.fakes import example

BOT_LOGIN = "community-bot[bot]"


@pytest.fixture
async def gh(fake_github, private_key):
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url).installation_client(7)


async def upsert(gh, body, kind="welcome"):
    return await upsert_comment(gh, owner="octo", repo="hello", number=1, kind=kind, body=body, bot_login=BOT_LOGIN)


async def test_created_then_unchanged_then_updated(fake_github, gh):
    assert await upsert(gh, "Hello") == "created"
    assert await upsert(gh, "Hello") == "unchanged"
    assert await upsert(gh, "Hello again") == "updated"
    comments = fake_github.comments("octo", "hello", 1)
    assert len(comments) == 1
    assert comments[0]["body"].startswith("Hello again")
    assert "<!-- community-bot:welcome -->" in comments[0]["body"]


async def test_only_updated_when_asked_not_to_create(fake_github, gh):
    assert await upsert_comment(gh, owner="octo", repo="hello", number=1, kind="cla", body="All signed", bot_login=BOT_LOGIN, create=False) is None
    assert fake_github.comments("octo", "hello", 1) == []
    await upsert(gh, "Please sign", kind="cla")
    assert await upsert_comment(gh, owner="octo", repo="hello", number=1, kind="cla", body="All signed", bot_login=BOT_LOGIN, create=False) == "updated"


async def test_kinds_are_separate(fake_github, gh):
    await upsert(gh, "Hello", kind="welcome")
    await upsert(gh, "Sign off", kind="dco")
    assert len(fake_github.comments("octo", "hello", 1)) == 2


async def test_a_marker_in_someone_elses_comment_is_not_ours(fake_github, gh):
    fake_github.add_comment("octo", "hello", 1, "copied <!-- community-bot:welcome -->", login="mallory")
    assert await upsert(gh, "Hello") == "created"
    assert fake_github.comments("octo", "hello", 1)[0]["body"].startswith("copied")


async def test_finds_its_comment_past_the_first_page(fake_github, gh):
    await upsert(gh, "Hello")
    for n in range(150):
        fake_github.add_comment("octo", "hello", 1, f"comment {n}")
    # The bot's comment is first here; push it past the first page by listing order.
    assert await upsert(gh, "Hello") == "unchanged"
    assert len(fake_github.comments("octo", "hello", 1)) == 151


async def test_a_redelivered_event_edits_rather_than_repeats(start_bot, fake_github):
    router = Router()

    @router.register("issues", action="opened")
    async def greet(event, ctx):
        issue = event.data["issue"]
        await ctx.comment(issue["number"], "greeting", "greeting.md", author=issue["user"]["login"], title=issue["title"])

    payload = installed(example("issues", "opened"))
    owner, repo = payload["repository"]["full_name"].split("/")
    number = payload["issue"]["number"]
    fake_github.add_file(owner, repo, ".github/community-bot/templates/greeting.md", "Welcome {{ author }}: {{ title }}")
    client = await start_bot([router])
    await deliver(client, "issues", payload, delivery_id="first")
    await settle(client)
    # GitHub redelivers under a new id when asked to by hand; the comment is still one.
    await deliver(client, "issues", payload, delivery_id="second")
    await settle(client)
    comments = fake_github.comments(owner, repo, number)
    assert len(comments) == 1
    login = payload["issue"]["user"]["login"]
    assert comments[0]["body"].startswith(f"Welcome {login}: {payload['issue']['title']}")
    assert f"@{login}" not in comments[0]["body"]
