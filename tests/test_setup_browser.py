"""The setup page in a real browser: Debian's Chromium, driven by Playwright, registers the app
with a real `community-bot serve` process that has no credentials, the fake GitHub playing
github.com's pages and the API's code conversion. `.ci/run` installs Chromium; without it
this test is skipped and says why.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.settings import load_environment
from tests.conftest import answers, free_port, headers_for, until
from tests.test_welcome import OWNER, REPO, bot_comments, opened_issue

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root in a container, and on a machine whose network is closed: no sandbox, no GPU,
# and none of Chromium's own calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or async_playwright is None,
    reason="no browser: the setup-page test needs Debian's chromium (apt-get install chromium, as .ci/run does) and playwright",
)


async def _start_serve(tmp_path: Path, fake_url: str) -> tuple[asyncio.subprocess.Process, int]:
    """`community-bot serve` in an empty directory with no credentials: the setup page."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "GITHUB_URL": fake_url,
        "GITHUB_API_URL": fake_url,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "GITHUB_WRITES_PER_MINUTE": "0",
        "GITHUB_WRITES_PER_HOUR": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    if await answers(f"http://127.0.0.1:{port}/healthz"):
        return process, port
    process.kill()
    raise AssertionError(f"serve did not start: {(await process.stderr.read()).decode()}")


async def test_a_maintainer_registers_the_app_in_a_browser_and_the_same_process_serves_webhooks(tmp_path, fake_github):
    process, port = await _start_serve(tmp_path, fake_github.url)
    base = f"http://127.0.0.1:{port}"
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page()

            # An answer that claims to come from GitHub with a state this page never gave out.
            refused = await page.goto(f"{base}/setup/callback?code=stolen&state=forged")
            assert refused.status == 400
            assert "does not match" in await page.text_content("body")

            await page.goto(f"{base}/")
            assert await page.title() == "Set up community-bot"
            assert "Comment on pull requests and read their commits" in await page.text_content("body")
            await page.screenshot(path=str(tmp_path / "1-setup-page.png"), full_page=True)
            await page.fill("#organisation", "octo-org")
            await page.fill("#webhook_url", "https://bot.example.org/webhook")
            await page.get_by_role("button", name="Register on GitHub").click()

            # GitHub's page (the fake's), reached through the form the setup page posted.
            await page.get_by_role("heading", name="Create GitHub App for octo-org").wait_for()
            await page.screenshot(path=str(tmp_path / "2-github-confirms.png"), full_page=True)
            await page.get_by_role("button", name="Create GitHub App").click()

            # Back on the setup server, through /setup/callback.
            await page.get_by_role("heading", name="community-bot is registered").wait_for()
            await page.screenshot(path=str(tmp_path / "3-registered.png"), full_page=True)
            done = await page.text_content("body")
            install = await page.get_by_role("link", name="Install it on your repositories").get_attribute("href")
            await browser.close()

        [registration] = fake_github.registered_apps
        app = registration["app"]
        assert registration["owner"] == "octo-org"
        assert install == f"{app['html_url']}/installations/new"
        assert app["webhook_secret"] not in done and "PRIVATE KEY" not in done
        assert not fake_github.manifest_errors

        env_file = tmp_path / ".env"
        env = load_environment({}, env_file=env_file)
        assert env["GITHUB_APP_ID"] == str(app["id"]) and env["GITHUB_WEBHOOK_SECRET"] == app["webhook_secret"]
        key_file = Path(env["GITHUB_PRIVATE_KEY_PATH"])
        assert key_file.read_text().strip() == app["pem"].strip()
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600 and stat.S_IMODE(key_file.stat().st_mode) == 0o600

        # No restart: the same process takes a delivery signed with the new secret and acts
        # as the new app; the setup page is gone.
        fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
        body = json.dumps(opened_issue(1)).encode()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/webhook", data=body, headers=headers_for("issues", body, secret=app["webhook_secret"])) as answer:
                assert answer.status == 202
            async with session.get(f"{base}/") as answer:
                assert answer.status == 404
        await until(lambda: bot_comments(fake_github, 1))
    finally:
        process.terminate()
        stderr = (await process.stderr.read()).decode()
        await process.wait()

    assert "registered" in stderr
    for secret in (app["webhook_secret"], app["client_secret"], "PRIVATE KEY"):
        assert secret not in stderr, "a credential reached the log"
    log_lines = [line for line in stderr.splitlines() if line.startswith("{")]
    assert all(json.loads(line) for line in log_lines)
