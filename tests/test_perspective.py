"""Perspective API as a second opinion: its real request and answer shapes, against a fake of
it; every failure falls back to the local detector, logged once, never in the way."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web

from bot import perspective
from bot.perspective import Perspective
from handlers import conduct
from tests.test_conduct import OWNER, REMIND, REPO, reminders, say

KEY = "perspective-test-key"
# A comment the local detector finds calm, that Perspective (here) finds toxic.
SUBTLE = "Maybe someone competent should have looked at this before shipping it."


class FakePerspective:
    """commentanalyzer.googleapis.com's comments:analyze, as Google documents it."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.toxicity = 0.91
        self.failure: tuple[int, dict] | None = None
        self.delay = 0.0
        self.app = web.Application()
        self.app.router.add_post("/v1alpha1/comments:analyze", self.analyze)

    async def analyze(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Goog-Api-Key") != KEY or "key" in request.query:
            return web.json_response({"error": {"code": 403, "message": "API key not valid.", "status": "PERMISSION_DENIED"}}, status=403)
        body = await request.json()
        self.requests.append(body)
        await asyncio.sleep(self.delay)
        if self.failure is not None:
            status, error = self.failure
            return web.json_response({"error": error}, status=status)
        score = {"value": self.toxicity, "type": "PROBABILITY"}
        return web.json_response(
            {
                "attributeScores": {
                    "TOXICITY": {"spanScores": [{"begin": 0, "end": len(body["comment"]["text"]), "score": score}], "summaryScore": score}
                },
                "languages": ["en"],
                "detectedLanguages": ["en"],
            }
        )


@pytest.fixture
async def fake_perspective(aiohttp_server):
    fake = FakePerspective()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("/v1alpha1/comments:analyze"))
    return fake


@pytest.fixture
async def client(fake_perspective):
    async with aiohttp.ClientSession() as session:
        yield Perspective(session, KEY, url=fake_perspective.url)


async def test_a_comment_is_scored_without_being_stored(client, fake_perspective):
    assert await client.toxicity("you absolute clown") == pytest.approx(0.91)
    [request] = fake_perspective.requests
    assert request == {
        "comment": {"text": "you absolute clown"},
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
        "doNotStore": True,
    }


async def test_a_refusal_is_no_opinion_and_is_logged_once(client, fake_perspective, caplog):
    fake_perspective.failure = (400, {"code": 400, "message": "Attribute TOXICITY does not support request languages: de", "status": "INVALID_ARGUMENT"})
    with caplog.at_level(logging.WARNING, logger="bot.perspective"):
        assert await client.toxicity("Das ist Unsinn") is None
        assert await client.toxicity("Das ist Unsinn") is None
    [logged] = [r for r in caplog.records if r.name == "bot.perspective"]
    assert "http 400" in logged.getMessage() and "does not support request languages" in logged.getMessage()
    assert KEY not in logged.getMessage()


async def test_a_slow_answer_is_not_waited_for(client, fake_perspective, monkeypatch):
    monkeypatch.setattr(perspective, "TIMEOUT_SECONDS", 0.05)
    fake_perspective.delay = 0.5
    assert await client.toxicity("hello") is None


async def test_an_unreachable_service_is_no_opinion(fake_perspective):
    async with aiohttp.ClientSession() as session:
        unreachable = Perspective(session, KEY, url="http://127.0.0.1:9/v1alpha1/comments:analyze")
        assert await unreachable.toxicity("hello") is None


@pytest.fixture
async def bot(start_bot, fake_github, fake_perspective):
    fake_github.add_issue(OWNER, REPO, number=1)
    return await start_bot([conduct.router], app_slug="community-bot", perspective_api_key=KEY, perspective_url=fake_perspective.url)


async def test_a_repository_that_opts_in_hears_perspective(bot, fake_github, fake_perspective):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND + "  perspective: true\n")
    await say(bot, fake_github, SUBTLE)
    assert len(reminders(fake_github)) == 1
    assert fake_perspective.requests[0]["comment"]["text"] == SUBTLE


async def test_without_opting_in_perspective_is_never_asked(bot, fake_github, fake_perspective):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND)
    await say(bot, fake_github, SUBTLE)
    assert fake_perspective.requests == [] and reminders(fake_github) == []


async def test_when_perspective_fails_the_local_detector_decides(bot, fake_github, fake_perspective):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND + "  perspective: true\n")
    fake_perspective.failure = (429, {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"})
    await say(bot, fake_github, SUBTLE)
    assert reminders(fake_github) == []  # calm to the local detector
    await say(bot, fake_github, "You are an idiot and you should quit.", login="angry")
    assert len(reminders(fake_github)) == 1
