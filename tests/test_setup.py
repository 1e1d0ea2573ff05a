"""The setup page: registering the app through GitHub's manifest flow, against the fake GitHub
playing github.com (its pages) and api.github.com (the code's conversion).

These drive the pages with plain HTTP; tests/test_setup_browser.py drives them in Chromium.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.settings import load_environment, load_settings
from bot.setup import (
    PERMISSION_WORDS,
    SetupSettings,
    app_manifest,
    create_setup_app,
    form_problems,
    has_credentials,
    plain_events,
    plain_permissions,
    registration_manifest,
    registration_url,
    save_credentials,
)
from handlers import welcome
from tests.conftest import answers, free_port, headers_for, until
from tests.fakes import CREATE_APP_PATH, make_private_key
from tests.test_insights_web import sign_in
from tests.test_welcome import OWNER, REPO, bot_comments, opened_issue


@pytest.fixture
def setup_settings(tmp_path: Path, fake_github: Any, monkeypatch: pytest.MonkeyPatch) -> SetupSettings:
    # The bot that starts after registration reads its other settings as `serve` would.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return SetupSettings(
        github_url=fake_github.url,
        api_url=fake_github.url,
        host="127.0.0.1",
        port=free_port(),
        log_level="INFO",
        env_file=tmp_path / ".env",
        webhook_url="",
    )


@pytest.fixture
async def page(aiohttp_client: Any, setup_settings: SetupSettings) -> TestClient:
    app = create_setup_app(setup_settings, [welcome.router])
    return await aiohttp_client(app, server_kwargs={"port": setup_settings.port})


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in the page"
    return unescape(match.group(1))


async def start_registration(
    page: TestClient | aiohttp.ClientSession, organisation: str = "octo-org"
) -> tuple[str, dict[str, Any]]:
    """Fill in the setup page (through a test client, or a session with the server as its
    base_url): GitHub's form address and the manifest it would post there."""
    state = hidden(await (await page.get("/")).text(), "state")
    answer = await page.post(
        "/setup/register", data={"state": state, "organisation": organisation, "webhook_url": "https://bot.example.org/webhook"}
    )
    assert answer.status == 200
    html = await answer.text()
    action = unescape(re.search(r'<form id="to-github" method="post" action="([^"]+)"', html).group(1))
    return action, json.loads(hidden(html, "manifest"))


async def confirm_on_github(action: str, manifest: dict[str, Any]) -> str:
    """What the browser does on GitHub: post the manifest, press "Create GitHub App"; the
    address GitHub sends it back to."""
    async with aiohttp.ClientSession() as browser:
        confirm = await browser.post(action, data={"manifest": json.dumps(manifest)})
        assert confirm.status == 200, await confirm.text()
        html = await confirm.text()
        fields = {"manifest_reference": hidden(html, "manifest_reference"), "state": hidden(html, "state"), "name": manifest["name"]}
        created = await browser.post(f"{str(confirm.url.origin())}{CREATE_APP_PATH}", data=fields, allow_redirects=False)
        assert created.status == 302
        return created.headers["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


# The pure parts ------------------------------------------------------------------------------


def test_every_permission_and_event_in_app_yaml_is_said_in_plain_words():
    manifest = app_manifest()
    assert plain_permissions(manifest) == [PERMISSION_WORDS[item] for item in manifest["default_permissions"].items()]
    assert len(plain_events(manifest)) == len(manifest["default_events"])
    assert "_" not in " ".join(plain_events(manifest))


def test_the_manifest_carries_this_servers_webhook_and_callback_and_app_yaml_stays_as_it_is():
    manifest = app_manifest()
    filled = registration_manifest(manifest, webhook_url="https://bot.example.org/webhook", callback_url="http://127.0.0.1:3000/setup/callback")
    assert filled["hook_attributes"] == {"url": "https://bot.example.org/webhook", "active": True}
    assert filled["redirect_url"] == "http://127.0.0.1:3000/setup/callback"
    assert filled["callback_urls"] == ["https://bot.example.org/insights/_callback", "http://127.0.0.1:3000/insights/_callback"]
    assert filled["default_permissions"] == manifest["default_permissions"]
    assert manifest["hook_attributes"]["url"] == "https://bot.example.com/webhook"


def test_the_registration_address_for_an_organisation_or_the_signed_in_account():
    assert registration_url("https://github.com", "", "s1") == "https://github.com/settings/apps/new?state=s1"
    assert registration_url("https://ghe.example.com", "octo-org", "s 2") == (
        "https://ghe.example.com/organizations/octo-org/settings/apps/new?state=s+2"
    )


@pytest.mark.parametrize(
    ("organisation", "webhook_url", "problem"),
    [
        ("", "https://bot.example.org/webhook", None),
        ("octo-org", "http://127.0.0.1:3000/webhook", None),
        ("octo org", "https://bot.example.org/webhook", "not an organisation"),
        ("-" * 40, "https://bot.example.org/webhook", "not an organisation"),
        ("", "bot.example.org/webhook", "webhook URL"),
        ("", "", "webhook URL"),
    ],
)
def test_the_form_is_checked_before_anything_goes_to_github(organisation, webhook_url, problem):
    problems = form_problems(organisation, webhook_url)
    assert (problem is None and not problems) or (problem is not None and problem in " ".join(problems))


def test_has_credentials_is_any_of_them():
    assert not has_credentials({"PORT": "3000", "GITHUB_APP_ID": "  "})
    assert has_credentials({"GITHUB_WEBHOOK_SECRET": "x"})


def test_saved_credentials_are_for_the_owner_only_and_other_settings_are_kept(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        'DATABASE_URL=postgresql://db/bot\nGITHUB_APP_SLUG=old\nexport GITHUB_CLIENT_SECRET=stale\n# a comment\n'
    )
    pem = make_private_key()[0]
    app = {"id": 1234, "slug": "my-bot", "webhook_secret": 'a"b\\c', "pem": pem, "client_id": "Iv1.0123456789abcdef",
           "client_secret": "0123456789abcdef0123456789abcdef01234567"}
    key_file = save_credentials(env_file, app)
    assert key_file == tmp_path / "my-bot.1234.private-key.pem"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == pem
    text = env_file.read_text()
    assert "DATABASE_URL=postgresql://db/bot" in text and "# a comment" in text
    assert "old" not in text and "stale" not in text, "the settings setup owns are replaced, not repeated"
    settings = load_settings(load_environment({"GITHUB_WEBHOOK_SECRET_PREVIOUS": ""}, env_file=env_file))
    assert (settings.app_id, settings.app_slug, settings.webhook_secrets) == ("1234", "my-bot", ('a"b\\c',))
    assert (settings.client_id, settings.client_secret) == (app["client_id"], app["client_secret"])
    assert settings.private_key.strip() == pem.strip()
    assert not list(tmp_path.glob(".*.env.*")), "no temporary file is left behind"
    odd = save_credentials(env_file, app | {"slug": "../../etc/x"})
    assert odd.parent == tmp_path and odd.name == "------etc-x.1234.private-key.pem"


# The pages -----------------------------------------------------------------------------------


async def test_the_page_says_what_the_app_may_do_and_offers_to_register(page):
    answer = await page.get("/")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    html = await answer.text()
    for sentence in plain_permissions(app_manifest()):
        assert sentence.replace("'", "&#39;") in html
    assert "Register on GitHub" in html and 'name="organisation"' in html
    assert len(hidden(html, "state")) >= 40
    assert hidden(html, "state") != hidden(await (await page.get("/")).text(), "state"), "a state for each visit"


async def test_the_whole_flow_saves_the_credentials_and_the_same_process_serves_webhooks(page, fake_github, setup_settings):
    action, manifest = await start_registration(page, "octo-org")
    assert action.startswith(f"{fake_github.url}/organizations/octo-org/settings/apps/new?state=")
    assert manifest["redirect_url"] == f"http://127.0.0.1:{setup_settings.port}/setup/callback"
    assert (await page.post("/webhook", data=b"{}")).status == 503  # not registered yet
    assert (await (await page.get("/healthz")).json())["registered"] is False

    done = await page.get(callback_path(await confirm_on_github(action, manifest)))
    html = await done.text()
    assert done.status == 200, html
    [registration] = fake_github.registered_apps
    app = registration["app"]
    assert registration["owner"] == "octo-org" and registration["manifest"]["hook_attributes"]["url"] == "https://bot.example.org/webhook"
    assert f"{app['html_url']}/installations/new" in html
    assert app["webhook_secret"] not in html and app["client_secret"] not in html and "PRIVATE KEY" not in html
    env = load_environment({}, env_file=setup_settings.env_file)
    assert env["GITHUB_APP_ID"] == str(app["id"]) and env["GITHUB_WEBHOOK_SECRET"] == app["webhook_secret"]
    assert (env["GITHUB_CLIENT_ID"], env["GITHUB_CLIENT_SECRET"]) == (app["client_id"], app["client_secret"])
    assert stat.S_IMODE(setup_settings.env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(env["GITHUB_PRIVATE_KEY_PATH"]).stat().st_mode) == 0o600

    # The setup page is gone; the webhook takes deliveries signed with the new secret, and the
    # bot acts as the new app (the fake now accepts only the new key's JWT).
    assert (await page.get("/")).status == 404
    assert (await page.get("/setup/callback?code=late&state=late")).status == 404
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    body = json.dumps(opened_issue(1)).encode()
    assert (await page.post("/webhook", data=body, headers=headers_for("issues", body, secret="old-secret"))).status == 401
    assert (await page.post("/webhook", data=body, headers=headers_for("issues", body, secret=app["webhook_secret"]))).status == 202
    await until(lambda: bot_comments(fake_github, 1))
    assert (await (await page.get("/healthz")).json())["ok"] is True


@pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
async def test_once_registered_the_same_process_serves_the_insights_pages_with_sign_in(
    page, fake_github, setup_settings, monkeypatch
):
    monkeypatch.setenv("GITHUB_URL", fake_github.url)  # GitHub's sign-in pages, for the bot that starts
    assert (await page.get("/insights", allow_redirects=False)).status == 404, "no app yet"
    action, manifest = await start_registration(page)
    assert f"http://127.0.0.1:{setup_settings.port}/insights/_callback" in manifest["callback_urls"]
    assert (await page.get(callback_path(await confirm_on_github(action, manifest)))).status == 200

    # GitHub knows the new app's OAuth client and callback URLs from the manifest; the bot read
    # the client from the .env that setup wrote.
    fake_github.add_installation(70, "octo-org", ["hello"])
    fake_github.grant_user_access("mona", 70)
    fake_github.signed_in_login = "mona"
    landed = await sign_in(page, fake_github)
    assert landed.status == 200 and "Signed in as <strong>mona</strong>" in await landed.text()
    assert 'href="/insights/octo-org?days=90"' in await landed.text()


async def test_a_wrong_state_is_refused_and_the_code_is_not_spent(page, fake_github, setup_settings):
    action, manifest = await start_registration(page, "")
    location = await confirm_on_github(action.replace("state=", "state=forged"), manifest)
    answer = await page.get(callback_path(location))
    assert answer.status == 400
    assert "does not match" in await answer.text()
    assert not setup_settings.env_file.exists()
    assert not fake_github.calls_to("POST", "/app-manifests/{code}/conversions")
    # The page still works, and the genuine state completes.
    assert (await page.get("/")).status == 200


async def test_a_state_is_good_once(page, fake_github, setup_settings):
    action, manifest = await start_registration(page)
    location = await confirm_on_github(action, manifest)
    assert (await page.get(callback_path(location))).status == 200
    assert (await page.get(callback_path(location))).status == 404  # registered: the page is gone


async def test_a_code_github_does_not_know_saves_nothing(page, fake_github, setup_settings):
    action, manifest = await start_registration(page)
    location = await confirm_on_github(action, manifest)
    query = parse_qs(urlsplit(location).query)
    answer = await page.get(f"/setup/callback?code=not-a-code&state={query['state'][0]}")
    assert answer.status == 502
    assert "Nothing was saved" in await answer.text()
    assert not setup_settings.env_file.exists()
    assert (await page.get("/")).status == 200


async def test_a_form_that_did_not_come_from_the_page_is_refused(page, fake_github):
    answer = await page.post("/setup/register", data={"state": "guessed", "webhook_url": "https://bot.example.org/webhook"})
    assert answer.status == 400
    assert not fake_github.registered_apps


async def test_a_bad_form_is_shown_again_with_its_problems(page):
    state = hidden(await (await page.get("/")).text(), "state")
    answer = await page.post("/setup/register", data={"state": state, "organisation": "no spaces", "webhook_url": "nope"})
    assert answer.status == 400
    html = await answer.text()
    assert "not an organisation" in html and "webhook URL must be" in html
    assert 'value="no spaces"' in html


async def test_a_request_addressed_to_another_name_is_refused(page):
    # A page elsewhere that rebinds its own name to 127.0.0.1 must not read a state.
    answer = await page.get("/", headers={"Host": "evil.example:80"})
    assert answer.status == 421


# The commands --------------------------------------------------------------------------------


def _environ_without_credentials(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")} | extra


async def test_serve_with_no_credentials_serves_the_setup_page_on_localhost(tmp_path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=_environ_without_credentials(PORT=str(port), HOST="0.0.0.0"),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        first = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert first.startswith(f"community-bot: no GitHub App credentials yet. Open http://127.0.0.1:{port}/")
        assert await answers(f"http://127.0.0.1:{port}/"), "the setup page never answered"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as answer:
                assert "Register on GitHub" in await answer.text()
    finally:
        process.terminate()
        await process.wait()


def test_setup_refuses_once_credentials_exist(tmp_path):
    (tmp_path / ".env").write_text("GITHUB_APP_ID=12\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "setup"], cwd=tmp_path, env=_environ_without_credentials(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "already has app credentials" in result.stderr


def test_a_bad_setting_stops_the_setup_page_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "setup"], cwd=tmp_path, env=_environ_without_credentials(LOG_LEVEL="LOUD"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "community-bot: cannot start: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"
    ]
