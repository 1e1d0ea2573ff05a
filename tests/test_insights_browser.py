"""The insights pages in a real browser: Debian's Chromium, driven by Playwright, signs in with
GitHub (the fake's authorization page) to a real `community-bot serve` process whose SQLite
database holds months of a community's activity, and reads its charts. `.ci/run` installs
Chromium; without it this test is skipped and says why.

The screenshots (1-insights-overview.png, 2-insights-repository.png) land in the test's
tmp_path; `pytest --basetemp=/tmp/insights-shots` keeps them somewhere easy to open.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.inbox import Inbox
from bot.insights.activity import ActivityLog
from tests.conftest import answers, free_port
from tests.fakes import make_private_key
from tests.test_backfill import INSTALLATION, OWNER, REPO, history
from tests.test_insights_web import community_rows
from tests.test_setup_browser import CHROMIUM, CHROMIUM_ARGS, async_playwright

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or async_playwright is None,
    reason="no browser: the insights pages' test needs Debian's chromium (apt-get install chromium, as .ci/run does) "
    "and playwright",
)

ORG = "acme"
READABLE = ("widgets", "gadgets")
PRIVATE = "secret-plans"  # acme's too, and mona may not read it


async def _seed(database: Path) -> None:
    """Months of activity in three of acme's repositories, written before the server starts."""
    inbox = Inbox(f"sqlite:///{database}")
    await inbox.open()
    try:
        log = ActivityLog(inbox)
        now = time.time()
        await log.record(community_rows(f"{ORG}/widgets", now=now, months=8, seed=1, busy=2))
        await log.record(community_rows(f"{ORG}/gadgets", now=now, months=5, seed=2))
        await log.record(community_rows(f"{ORG}/{PRIVATE}", now=now, months=8, seed=3, busy=3))
    finally:
        await inbox.close()


def _environment(tmp_path: Path, fake: Any, port: int, client_id: str, client_secret: str) -> dict[str, str]:
    """The app's credentials and OAuth client, against the fake, with a SQLite file in tmp_path."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_SLUG": "community-bot",
        "GITHUB_PRIVATE_KEY": make_private_key()[0],
        "GITHUB_WEBHOOK_SECRET": "insights-browser-test",
        "GITHUB_URL": fake.url,
        "GITHUB_API_URL": fake.url,
        "GITHUB_CLIENT_ID": client_id,
        "GITHUB_CLIENT_SECRET": client_secret,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }


async def _start_serve(tmp_path: Path, fake: Any, port: int, client_id: str, client_secret: str) -> Any:
    """`community-bot serve` with those settings."""
    env = _environment(tmp_path, fake, port, client_id, client_secret)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    if await answers(f"http://127.0.0.1:{port}/healthz"):
        return process
    process.kill()
    raise AssertionError(f"serve did not start: {(await process.stderr.read()).decode()}")


async def _charts_drawn(page: Any, ids: list[str]) -> None:
    for chart in ids:
        await page.locator(f"#{chart} svg.main-svg").first.wait_for()
        assert await page.locator(f"#{chart} .bars .point path, #{chart} .scatterlayer .trace").count() > 0, chart


async def test_a_maintainer_signs_in_and_reads_the_charts_in_a_browser(tmp_path, fake_github):
    await _seed(tmp_path / "bot.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client_id, client_secret = fake_github.oauth_client(callback_urls=[f"{base}/insights/_callback"])
    fake_github.add_installation(70, ORG, [*READABLE, PRIVATE], private=[PRIVATE])
    fake_github.grant_user_access("mona", 70, list(READABLE))
    fake_github.signed_in_login = "mona"
    process = await _start_serve(tmp_path, fake_github, port, client_id, client_secret)
    requested: list[str] = []
    problems: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))

            # No session: the pages send the browser to GitHub, which asks mona.
            await page.goto(f"{base}/insights")
            await page.get_by_role("heading", name="Authorize Community Bot").wait_for()
            await page.get_by_role("button", name="Authorize Community Bot").click()

            # Back on the bot, signed in: the overview of acme, its headline figures and trends.
            await page.get_by_role("heading", name="Community insights").wait_for()
            assert urlsplit(page.url).path == "/insights"
            assert "Signed in as mona" in " ".join((await page.text_content(".who")).split())
            await _charts_drawn(page, ["owner0-activity", "owner0-newcomers"])
            await page.screenshot(path=str(tmp_path / "1-insights-overview.png"), full_page=True)
            overview = await page.content()

            # A repository's page, a year of it.
            await page.get_by_role("link", name="widgets").click()
            await page.get_by_role("heading", name=f"{ORG}/widgets").wait_for()
            await page.get_by_role("link", name="365 days").click()
            await page.wait_for_url(f"{base}/insights/{ORG}/widgets?days=365")
            await _charts_drawn(page, ["first_response", "activity", "newcomers", "heated"])
            await page.screenshot(path=str(tmp_path / "2-insights-repository.png"), full_page=True)
            repository = await page.content()
            assert not problems, f"the pages' scripts failed, or were refused: {problems}"

            # The private repository is not there, whoever asks for it by name.
            refused = await page.goto(f"{base}/insights/{ORG}/{PRIVATE}")
            assert refused.status == 404

            # Signing out, then in again with the button (GitHub asks no more: mona authorized the app).
            await page.goto(f"{base}/insights")
            await page.get_by_role("button", name="Sign out").click()
            await page.get_by_role("heading", name="Signed out").wait_for()
            fake_github.auto_authorize = True
            await page.get_by_role("link", name="Sign in with GitHub").click()
            await page.get_by_role("heading", name="Community insights").wait_for()
            await browser.close()

        hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
        assert hosts == {"127.0.0.1"}, f"a request left the machine: {sorted(hosts)}"
        assert f"{base}/insights/_static/plotly.min.js" in {url.split("?")[0] for url in requested}
        for html in (overview, repository):
            assert PRIVATE not in html
    finally:
        process.terminate()
        stderr = (await process.stderr.read()).decode()
        await process.wait()

    assert "insights: signed in" in stderr
    assert client_secret not in stderr and "ghu_" not in stderr, "a secret reached the log"
    assert all(json.loads(line) for line in stderr.splitlines() if line.startswith("{"))


async def test_a_maintainer_installs_backfills_signs_in_and_sees_the_health_at_a_glance(tmp_path, fake_github):
    """The whole journey: the app installed on an organisation with a year of history, the
    history backfilled by the command line, then a maintainer signs in and reads it."""
    expected_rows = history(fake_github)
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    fake_github.grant_user_access("mona", INSTALLATION)
    fake_github.signed_in_login = "mona"
    fake_github.auto_authorize = True
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client_id, client_secret = fake_github.oauth_client(callback_urls=[f"{base}/insights/_callback"])
    env = _environment(tmp_path, fake_github, port, client_id, client_secret)

    backfill = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "insights", "backfill", f"{OWNER}/{REPO}", "--since", "365d",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await backfill.communicate()
    assert backfill.returncode == 0, err.decode()
    summary = (out + err).decode()
    assert f"{len(expected_rows)} rows added" in summary, summary

    report = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "insights", "report", "--repo", f"{OWNER}/{REPO}", "--since", "365d",
        "--format", "json", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
    )
    figures = json.loads((await report.communicate())[0])
    issues = figures["first_response"]["issues"]["all"]
    assert issues["count"] > 0 and issues["responded"] > 0

    process = await _start_serve(tmp_path, fake_github, port, client_id, client_secret)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/insights/{OWNER}/{REPO}?days=365")
            await page.get_by_role("heading", name=f"{OWNER}/{REPO}").wait_for()
            await _charts_drawn(page, ["first_response", "activity"])
            row = " ".join((await page.locator("tr", has_text="Issues").first.inner_text()).split())
            assert row.startswith(f"Issues {issues['count']} {issues['responded']} "), row
            await page.screenshot(path=str(tmp_path / "3-after-backfill.png"), full_page=True)
            await browser.close()
    finally:
        process.terminate()
        await process.wait()
