"""The GitHub App client: tokens, renewal, retries, waits, pacing, conditional requests."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import gidgethub
import pytest

from bot import github as github_module
from bot.github import GitHubApp, GitHubUnreachable, TokenBucket, WritePacer
from bot.metrics import Metrics

INSTALLATION = 7
REPO = "/repos/octo/hello"


@pytest.fixture
def slept(monkeypatch):
    """Waits the client asked for, recorded instead of slept."""
    waits: list[float] = []

    async def sleep(self, seconds):
        waits.append(seconds)

    monkeypatch.setattr(github_module.GitHubAPI, "sleep", sleep)
    return waits


def repo_answer():
    return {"id": 1, "name": "hello", "full_name": "octo/hello"}


async def test_one_token_per_installation_until_it_nears_expiry(fake_github, github_app):
    fake_github.respond("GET", REPO, json=repo_answer())
    gh = github_app.installation_client(INSTALLATION)
    await asyncio.gather(*(gh.getitem(REPO) for _ in range(10)))
    assert fake_github.tokens_issued == 1
    assert github_app.installation_client(INSTALLATION) is gh


async def test_token_is_renewed_a_few_minutes_before_it_expires(fake_github, github_app):
    fake_github.respond("GET", REPO, json=repo_answer())
    fake_github.token_lifetime = 4 * 60  # inside the renewal margin from the start
    gh = github_app.installation_client(INSTALLATION)
    await gh.getitem(REPO)
    await gh.getitem(REPO)
    assert fake_github.tokens_issued == 2


async def test_a_401_renews_the_token_once_and_retries(fake_github, github_app):
    fake_github.respond("GET", REPO, json=repo_answer())
    gh = github_app.installation_client(INSTALLATION)
    await gh.getitem(REPO)
    fake_github.revoke_tokens()
    assert (await gh.getitem(REPO))["full_name"] == "octo/hello"
    assert fake_github.tokens_issued == 2


async def test_a_401_that_persists_is_not_retried_forever(fake_github, github_app):
    fake_github.respond("GET", REPO, status=401, json={"message": "Bad credentials"})
    gh = github_app.installation_client(INSTALLATION)
    with pytest.raises(gidgethub.BadRequest) as info:
        await gh.getitem(REPO)
    assert info.value.status_code == 401
    assert len(fake_github.calls_to("GET", REPO)) == 2


async def test_5xx_is_retried_with_backoff(fake_github, github_app, slept):
    fake_github.respond("GET", REPO, json=repo_answer())
    fake_github.respond("GET", REPO, status=502, times=2)
    gh = github_app.installation_client(INSTALLATION)
    assert (await gh.getitem(REPO))["id"] == 1
    assert len(slept) == 2
    assert slept[1] > slept[0] * 0.5


async def test_5xx_retries_are_bounded(fake_github, github_app, slept):
    fake_github.respond("GET", REPO, status=503)
    gh = github_app.installation_client(INSTALLATION)
    with pytest.raises(gidgethub.GitHubBroken):
        await gh.getitem(REPO)
    assert len(fake_github.calls_to("GET", REPO)) == 3


async def test_a_post_answered_5xx_is_not_repeated(fake_github, github_app, slept):
    # It may have been carried out: posting again could duplicate a comment.
    path = f"{REPO}/issues/1/comments"
    fake_github.respond("POST", path, status=502, times=1)
    gh = github_app.installation_client(INSTALLATION)
    with pytest.raises(gidgethub.GitHubBroken):
        await gh.post(path, data={"body": "hi"})
    assert len(fake_github.calls_to("POST", path)) == 1


@pytest.mark.parametrize("status", [403, 429])
async def test_secondary_limit_waits_as_asked_then_succeeds(fake_github, github_app, slept, status):
    fake_github.respond("GET", REPO, json=repo_answer())
    fake_github.respond(
        "GET", REPO, status=status, json={"message": "You have exceeded a secondary rate limit"}, headers={"retry-after": "7"}, times=1
    )
    gh = github_app.installation_client(INSTALLATION)
    assert (await gh.getitem(REPO))["id"] == 1
    assert slept == [7.0]


async def test_exhausted_primary_limit_waits_until_reset(fake_github, github_app, slept):
    fake_github.respond("GET", REPO, json=repo_answer())
    reset = int(time.time()) + 10
    fake_github.respond(
        "GET",
        REPO,
        status=403,
        json={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": str(reset)},
        times=1,
    )
    gh = github_app.installation_client(INSTALLATION)
    assert (await gh.getitem(REPO))["id"] == 1
    assert len(slept) == 1 and 8 <= slept[0] <= 12


async def test_a_wait_longer_than_the_bound_fails_at_once(fake_github, github_app, slept):
    fake_github.respond("GET", REPO, status=429, json={"message": "slow down"}, headers={"retry-after": "3600"})
    gh = github_app.installation_client(INSTALLATION)
    with pytest.raises(gidgethub.BadRequest):
        await gh.getitem(REPO)
    assert slept == []


async def test_a_plain_403_is_not_retried(fake_github, github_app, slept):
    fake_github.respond("GET", REPO, status=403, json={"message": "Resource not accessible by integration"})
    gh = github_app.installation_client(INSTALLATION)
    with pytest.raises(gidgethub.BadRequest):
        await gh.getitem(REPO)
    assert len(fake_github.calls_to("GET", REPO)) == 1


async def test_unreachable_github_is_retried_then_reported(private_key, slept):
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id="1", private_key=private_key, base_url="http://127.0.0.1:9", metrics=Metrics())
        with pytest.raises(GitHubUnreachable):
            await app.app_client.getitem("/app")
    assert len(slept) == 2


async def test_repeated_gets_are_conditional(fake_github, github_app):
    fake_github.add_file("octo", "hello", "README.md", "hello")
    gh = github_app.installation_client(INSTALLATION)
    path = f"{REPO}/contents/README.md"
    first = await gh.getitem(path)
    second = await gh.getitem(path)
    assert first == second
    calls = fake_github.calls_to("GET", path)
    assert "if-none-match" not in calls[0].headers
    assert "if-none-match" in calls[1].headers


async def test_the_conditional_cache_is_shared_bounded_and_keeps_no_searches(fake_github, github_app):
    fake_github.add_file("octo", "hello", "README.md", "hello")
    path = f"{REPO}/contents/README.md"
    await github_app.installation_client(INSTALLATION).getitem(path)
    await github_app.installation_client(INSTALLATION + 1).getitem(path)
    assert "if-none-match" in fake_github.calls_to("GET", path)[1].headers  # one cache for all
    await github_app.installation_client(INSTALLATION).getitem("/search/issues?q=repo:octo/hello")
    cache = github_app.installation_client(INSTALLATION)._cache
    assert len(cache) == 1 and cache.maxsize == 1_000


async def test_api_calls_are_counted_by_status(fake_github, github_app):
    fake_github.respond("GET", REPO, json=repo_answer())
    gh = github_app.installation_client(INSTALLATION)
    await gh.getitem(REPO)
    calls = github_app._metrics.api_calls
    assert calls.labels("GET", "200")._value.get() == 1
    assert calls.labels("POST", "201")._value.get() == 1  # the token


async def test_app_slug_is_asked_once(fake_github, github_app):
    assert await github_app.slug() == "community-bot"
    assert await github_app.slug() == "community-bot"
    assert len(fake_github.calls_to("GET", "/app")) == 1


def test_token_bucket_allows_a_burst_then_paces():
    bucket = TokenBucket(capacity=3, period=3)  # one a second
    assert [bucket.delay() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.delay() == pytest.approx(1.0, abs=0.05)
    assert bucket.delay() == pytest.approx(2.0, abs=0.05)


async def test_write_pacer_lifted_when_set_to_zero():
    pacer = WritePacer(0, 0)
    started = time.monotonic()
    for _ in range(1000):
        await pacer.acquire()
    assert time.monotonic() - started < 1


async def test_writes_are_paced_per_installation(fake_github, private_key, monkeypatch):
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(github_module.asyncio, "sleep", sleep)
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url, writes_per_minute=2, writes_per_hour=500)
        gh = app.installation_client(INSTALLATION)
        for n in range(3):
            await gh.post(f"{REPO}/issues/1/comments", data={"body": f"comment {n}"})
        other = app.installation_client(INSTALLATION + 1)
        await other.post(f"{REPO}/issues/1/comments", data={"body": "another installation"})
    assert len(waits) == 1 and waits[0] == pytest.approx(30, abs=1)
