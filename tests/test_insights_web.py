"""The insights pages over plain HTTP: "Sign in with GitHub" against the fake GitHub (its
authorization page, code exchange and /user endpoints), who sees what, the session cookie, the
charts' script served from the bot itself. tests/test_insights_browser.py drives them in Chromium.
"""

from __future__ import annotations

import base64
import importlib.resources
import json
import random
import re
import time
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization

from bot.app import create_app
from bot.insights import activity, metrics
from bot.insights.activity import Activity, ActivityLog
from bot.insights.web import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    _pack,
    _safe_target,
    _unpack,
    hours,
    month_labels,
    session_key,
)
from bot.recognitions import Recognition, RecognitionBook
from tests.conftest import bot_of, headers_for, installed
from tests.fakes import example, make_private_key, new_private_key

HOUR = 3600.0
DAY = 86400.0
ORG = "acme"
PUBLIC, PRIVATE = "widgets", "secret-plans"  # both acme's; the visitor may read only the first

# aiohttp-session keys requests with strings; aiohttp ignores its own warning about that outside tests.
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")


# A community's story ---------------------------------------------------------------------------

MAINTAINERS = ("maintainer-a", "maintainer-b", "maintainer-c")
# How long the first answer takes, in hours: mostly soon, sometimes a week.
WAITS = (0.3, 0.8, 2, 3, 6, 10, 20, 30, 50, 90, 200)


def community_rows(repository: str, *, now: float, months: int = 6, seed: int = 1, busy: int = 1) -> list[Activity]:
    """Made-up but plausible activity for ``repository`` over the ``months`` before ``now``:
    issues and pull requests from a growing crowd, answers after waits of every length, merges,
    good first issues, DCO verdicts and the odd heated thread. ``busy`` scales how much happens,
    ``seed`` tells another community's story."""
    rnd = random.Random(seed)
    rows: list[Activity] = []
    people = [f"{repository.split('/')[1]}-fan{i}" for i in range(60)]

    def add(kind: str, number: int, at: float, actor: str | None, **fields: Any) -> None:
        if at < now:
            rows.append(Activity(key=f"{repository}#{number}:{kind}:{len(rows)}", repository=repository, kind=kind,
                                 number=number, at=at, actor=actor, **fields))

    number = 0
    for month in range(months):
        start = now - (months - month) * 30 * DAY
        crowd = people[: 8 + month * 6]  # more new names each month
        for _ in range(rnd.randint(5, 9) * busy):
            number += 1
            opened = start + rnd.uniform(0, 29 * DAY)
            author = rnd.choice(crowd)
            add(activity.ISSUE_OPENED, number, opened, author)
            if rnd.random() < 0.85:
                add(activity.COMMENT, number, opened + rnd.choice(WAITS) * HOUR, rnd.choice(MAINTAINERS))
                add(activity.COMMENT, number, opened + rnd.uniform(2, 60) * HOUR, author)
            if rnd.random() < 0.6:
                add(activity.CLOSED, number, opened + rnd.uniform(5, 400) * HOUR, rnd.choice(MAINTAINERS))
            if rnd.random() < 0.2:
                add(activity.GFI_LABELED, number, opened + 2 * HOUR, rnd.choice(MAINTAINERS), detail="good first issue")
                if rnd.random() < 0.7:
                    add(activity.GFI_CLAIMED, number, opened + rnd.uniform(3, 90) * HOUR, rnd.choice(people))
        for _ in range(rnd.randint(3, 7) * busy):
            number += 1
            opened = start + rnd.uniform(0, 29 * DAY)
            author = rnd.choice(crowd + list(MAINTAINERS))
            add(activity.PR_OPENED, number, opened, author, is_pull=True)
            passed = rnd.random() < 0.75
            verdict = "success" if passed else "action_required"
            add(activity.DCO, number, opened + 60, None, is_pull=True, detail=verdict)
            if not passed and rnd.random() < 0.7:
                add(activity.DCO, number, opened + rnd.uniform(1, 30) * HOUR, None, is_pull=True, detail="success")
            if rnd.random() < 0.9:
                add(activity.REVIEW, number, opened + rnd.choice(WAITS) * HOUR, rnd.choice(MAINTAINERS), is_pull=True,
                    detail="approved")
            outcome = rnd.random()
            if outcome < 0.7:
                add(activity.MERGED, number, opened + rnd.uniform(4, 240) * HOUR, author, is_pull=True)
            elif outcome < 0.85:
                closed = opened + rnd.uniform(24, 500) * HOUR
                add(activity.CLOSED, number, closed, rnd.choice(MAINTAINERS), is_pull=True)
        if rnd.random() < 0.5:
            add(activity.CONDUCT_REMINDER, number, start + rnd.uniform(0, 29 * DAY), None)
    return rows


# Reading pages -------------------------------------------------------------------------------


def figures_of(html: str) -> dict[str, str]:
    """The figures a page shows, by name (``data-figure``)."""
    return dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', html))


def charts_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="insights-charts">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else {}


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name!r} in the page"
    return unescape(found.group(1))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def session_cookie(client: TestClient) -> str | None:
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/insights")).get(SESSION_COOKIE)
    return cookie.value if cookie else None


# The server and the sign-in --------------------------------------------------------------------


@pytest.fixture
def github(fake_github: Any) -> Any:
    """The fake GitHub with acme's installation: widgets public, secret-plans private; mona may
    read widgets only, and is signed in to GitHub."""
    fake_github.add_installation(70, ORG, [PUBLIC, PRIVATE], private=[PRIVATE])
    fake_github.grant_user_access("mona", 70, [PUBLIC])
    fake_github.signed_in_login = "mona"
    return fake_github


@pytest.fixture
async def insights(aiohttp_client: Any, make_settings: Any, github: Any) -> TestClient:
    """The bot, with its OAuth client registered on the fake GitHub."""
    client_id, client_secret = github.oauth_client()
    return await aiohttp_client(
        create_app(make_settings(github_url=github.url, client_id=client_id, client_secret=client_secret), [])
    )


async def to_github(client: TestClient, path: str = "/insights/_login") -> str:
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == 302, await answer.text()
    return answer.headers["Location"]


async def authorize_on_github(authorize_url: str, fake: Any) -> str:
    """What the browser does on GitHub: open the authorization page, press "Authorize"; where
    GitHub sends it back."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(authorize_url, allow_redirects=False) as page:
            assert page.status == 200, await page.text()
            html = await page.text()
        fields = {name: hidden(html, name) for name in ("client_id", "redirect_uri", "state")}
        confirm = f"{fake.url}/login/oauth/authorize/confirm"
        async with browser.post(confirm, data=fields, allow_redirects=False) as done:
            assert done.status == 302
            return done.headers["Location"]


async def sign_in(client: TestClient, fake: Any, path: str = "/insights") -> aiohttp.ClientResponse:
    """Ask for ``path``, sign in through GitHub's page, follow back: the last answer."""
    location = await to_github(client, path)
    if location.startswith("/insights/_login"):
        location = await to_github(client, location)
    back = await authorize_on_github(location, fake)
    return await client.get(path_of(back))


async def seed(client: TestClient, now: float | None = None) -> float:
    now = now or time.time()
    log = ActivityLog(bot_of(client).inbox)
    await log.record(community_rows(f"{ORG}/{PUBLIC}", now=now, seed=1))
    await log.record(community_rows(f"{ORG}/{PRIVATE}", now=now, seed=2, busy=2))
    return now


# The pure parts ------------------------------------------------------------------------------


def test_durations_read_as_people_say_them():
    assert [hours(value) for value in (None, 0.004, 0.5, 5.25, 30, 60, 24 * 30)] == [
        "–", "1 min", "30 min", "5.2 h", "30 h", "2.5 days", "30 days",
    ]


def test_month_labels_carry_the_year_at_the_start_and_every_january():
    months = [{"month": month} for month in ("2025-11", "2025-12", "2026-01", "2026-02")]
    assert month_labels(months) == ["Nov<br>2025", "Dec", "Jan<br>2026", "Feb"]


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/insights/acme/widgets?days=30", True),
        ("/insights", True),
        ("https://evil.example/insights", False),
        ("//evil.example/insights", False),
        ("/insightsevil", False),
        ("/metrics", False),
        ("", False),
    ],
)
def test_after_sign_in_only_these_pages_are_a_destination(target, kept):
    assert _safe_target(target) == (target if kept else "/insights")


def test_the_session_key_comes_from_the_private_key_however_it_is_written():
    pem = make_private_key()[0]
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    traditional = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    assert "BEGIN RSA PRIVATE KEY" in traditional and traditional != pem
    assert session_key(pem) == session_key(traditional)
    assert len(session_key(pem)) == 32
    assert session_key(pem) != session_key(new_private_key()[0])


# Sign-in -------------------------------------------------------------------------------------


async def test_no_session_no_data_every_page_sends_to_sign_in(insights, github):
    for path in ("/insights", f"/insights/{ORG}", f"/insights/{ORG}/{PUBLIC}?days=30", f"/insights/{ORG}/{PRIVATE}"):
        answer = await insights.get(path, allow_redirects=False)
        assert answer.status == 302
        login = urlsplit(answer.headers["Location"])
        assert login.path == "/insights/_login" and parse_qs(login.query) == {"next": [path]}
    location = await to_github(insights)
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{github.url}/login/oauth/authorize"
    assert query["client_id"] == [bot_of(insights).settings.client_id]
    assert query["redirect_uri"] == [str(insights.make_url("/insights/_callback"))]
    assert len(query["state"][0]) >= 40
    assert query["state"] != parse_qs(urlsplit(await to_github(insights)).query)["state"], "a new state each time"


async def test_behind_a_public_https_address_sign_in_comes_back_there_and_the_cookie_is_secure(
    aiohttp_client, make_settings, github
):
    client_id, client_secret = github.oauth_client()
    settings = make_settings(github_url=github.url, client_id=client_id, client_secret=client_secret,
                             public_url="https://bot.example.org")
    client = await aiohttp_client(create_app(settings, []))
    answer = await client.get("/insights/_login", allow_redirects=False)
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_uri"] == [
        "https://bot.example.org/insights/_callback"
    ]
    assert answer.cookies[SESSION_COOKIE]["secure"]


async def test_sign_in_round_trip_lands_where_the_visitor_was_going(insights, github):
    await seed(insights)
    location = await to_github(insights, f"/insights/_login?next=/insights/{ORG}/{PUBLIC}")
    back = await authorize_on_github(location, github)
    assert back.startswith(str(insights.make_url("/insights/_callback?")))
    landed = await insights.get(path_of(back), allow_redirects=False)
    assert landed.status == 302 and landed.headers["Location"] == f"/insights/{ORG}/{PUBLIC}"
    cookie = landed.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/insights"
    assert cookie["max-age"] == str(SESSION_SECONDS) and not cookie["secure"]  # http here; https: Secure
    # The code was exchanged for mona's token, which read who she is and what she may read.
    assert [call.path for call in github.calls if call.user_login == "mona"] == [
        "/user", "/user/installations", "/user/installations/70/repositories",
    ]
    page = await insights.get(f"/insights/{ORG}/{PUBLIC}")
    assert page.status == 200 and "Signed in as <strong>mona</strong>" in await page.text()
    # The state was good once: GitHub's answer replayed is refused.
    replayed = await insights.get(path_of(back))
    assert replayed.status == 400 and "already used" in await replayed.text()


async def test_a_forged_state_is_refused_and_no_code_is_exchanged(insights, github):
    location = await to_github(insights)
    forged = re.sub(r"state=[^&]+", "state=forged", location)
    back = await authorize_on_github(forged, github)
    answer = await insights.get(path_of(back))
    html = await answer.text()
    assert answer.status == 400 and "does not belong to a sign-in started in this browser" in html
    assert "Traceback" not in html and "Sign in with GitHub" in html
    await to_github(insights)
    odd = await insights.get("/insights/_callback", params={"code": "c", "state": "état"})
    assert odd.status == 400, "a state that is not even ASCII is refused the same way"
    assert not [call for call in github.calls if call.user_login], "the code was not exchanged"
    assert (await insights.get("/insights", allow_redirects=False)).status == 302, "still signed out"


async def test_a_callback_in_a_browser_that_started_no_sign_in_is_refused(insights, github):
    back = await authorize_on_github(await to_github(insights), github)
    insights.session.cookie_jar.clear()  # GitHub's answer reaches another browser
    answer = await insights.get(path_of(back))
    assert answer.status == 400
    assert not [call for call in github.calls if call.user_login]


async def test_declined_bad_code_and_github_down_each_say_so(insights, github, aiohttp_client, make_settings):
    state = parse_qs(urlsplit(await to_github(insights)).query)["state"][0]
    declined = await insights.get("/insights/_callback", params={"error": "access_denied", "state": state})
    assert declined.status == 403 and "you declined" in await declined.text()

    state = parse_qs(urlsplit(await to_github(insights)).query)["state"][0]
    bad_code = await insights.get("/insights/_callback", params={"code": "not-a-code", "state": state})
    assert bad_code.status == 400 and "did not accept the sign-in code" in await bad_code.text()

    # GitHub does not answer at all (nothing listens where it should be).
    closed = f"http://127.0.0.1:{aiohttp.test_utils.unused_port()}"
    down = await aiohttp_client(create_app(make_settings(github_url=closed, api_url=closed, client_id="Iv1.x",
                                                         client_secret="secret"), []))
    state = parse_qs(urlsplit(await to_github(down)).query)["state"][0]
    answer = await down.get("/insights/_callback", params={"code": "a-code", "state": state})
    html = await answer.text()
    assert answer.status == 502 and "GitHub could not be asked who you are" in html and "Traceback" not in html


async def test_without_an_oauth_client_the_pages_say_how_to_set_one_and_show_nothing(start_bot):
    client = await start_bot()
    await seed(client)
    for path in ("/insights", f"/insights/{ORG}", "/insights/_login"):
        answer = await client.get(path, allow_redirects=False)
        html = await answer.text()
        assert answer.status == 503
        assert "GITHUB_CLIENT_ID" in html and "GITHUB_CLIENT_SECRET" in html and "setup page" in html
        assert str(client.make_url("/insights/_callback")) in html, "the callback URL to give GitHub"
        assert "data-figure" not in html and ORG not in html


async def test_sign_out_needs_the_pages_own_form(insights, github):
    await sign_in(insights, github)
    overview = await (await insights.get("/insights")).text()
    refused = await insights.post("/insights/_logout", data={"csrf": "guessed"})
    assert refused.status == 400
    assert (await insights.get("/insights", allow_redirects=False)).status == 200, "still signed in"
    signed_out = await insights.post("/insights/_logout", data={"csrf": hidden(overview, "csrf")})
    assert signed_out.status == 200 and "You are signed out" in await signed_out.text()
    assert session_cookie(insights) is None, "the cookie is gone"
    assert (await insights.get("/insights", allow_redirects=False)).status == 302


# The session -----------------------------------------------------------------------------------


async def test_the_session_is_sealed_and_holds_the_access_list_not_the_token(insights, github, private_key):
    await sign_in(insights, github)
    sealed = session_cookie(insights)
    assert sealed and "mona" not in sealed and PUBLIC not in sealed
    assert "mona" not in base64.urlsafe_b64decode(sealed + "==").decode("latin-1")
    with pytest.raises(InvalidToken):
        Fernet(base64.urlsafe_b64encode(session_key(new_private_key()[0]))).decrypt(sealed.encode())
    opened = _unpack(Fernet(base64.urlsafe_b64encode(session_key(private_key))).decrypt(sealed.encode()).decode())
    assert opened["session"] == {
        "login": "mona", "access": {ORG: [PUBLIC]}, "csrf": opened["session"]["csrf"], "left_out": 0,
    }
    assert "ghu_" not in json.dumps(opened), "the token is not kept"


async def test_a_restart_or_another_process_reads_the_same_session(insights, github, aiohttp_client, make_settings):
    await sign_in(insights, github)
    settings = bot_of(insights).settings
    other = await aiohttp_client(create_app(make_settings(github_url=github.url, client_id=settings.client_id,
                                                          client_secret=settings.client_secret), []))
    other.session.cookie_jar.update_cookies({SESSION_COOKIE: session_cookie(insights)}, other.make_url("/insights"))
    answer = await other.get("/insights", allow_redirects=False)
    assert answer.status == 200 and "mona" in await answer.text()


async def test_a_session_ends_after_eight_hours(insights, github, private_key):
    fernet = Fernet(base64.urlsafe_b64encode(session_key(private_key)))
    nine_hours_ago = int(time.time() - 9 * 3600)
    stale = {"created": nine_hours_ago, "session": {"login": "mona", "access": {ORG: [PUBLIC]}, "csrf": "c"}}
    insights.session.cookie_jar.update_cookies(
        {SESSION_COOKIE: fernet.encrypt_at_time(_pack(stale).encode(), nine_hours_ago).decode()},
        insights.make_url("/insights"),
    )
    assert (await insights.get("/insights", allow_redirects=False)).status == 302
    fresh = fernet.encrypt(_pack(stale | {"created": int(time.time())}).encode()).decode()
    insights.session.cookie_jar.update_cookies({SESSION_COOKIE: fresh}, insights.make_url("/insights"))
    assert (await insights.get("/insights", allow_redirects=False)).status == 200, "the same cookie, sealed now, opens"


async def test_the_webhook_never_touches_the_session(insights, github, monkeypatch):
    touched: list[str] = []
    for name in ("load_session", "save_session"):
        original = getattr(EncryptedCookieStorage, name)

        async def counted(self: Any, *args: Any, _original: Any = original, _name: str = name) -> Any:
            touched.append(_name)
            return await _original(self, *args)

        monkeypatch.setattr(EncryptedCookieStorage, name, counted)
    await sign_in(insights, github)
    assert touched, "the insights pages do use it"
    touched.clear()
    # A browser sends the cookie to /insights only (its path); send it along anyway.
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_cookie(insights)}"}
    body = json.dumps(installed(example("issues", "opened"))).encode()
    delivered = await insights.post("/webhook", data=body, headers=headers_for("issues", body) | cookie)
    assert delivered.status == 202 and "Set-Cookie" not in delivered.headers
    for path in ("/healthz", "/metrics"):
        answer = await insights.get(path, headers=cookie)
        assert answer.status == 200 and "Set-Cookie" not in answer.headers
    assert touched == []
    assert not insights.app.middlewares, "no middleware on the webhook's application"


async def test_someone_who_can_read_thousands_of_repositories_still_gets_a_session(
    aiohttp_client, make_settings, fake_github
):
    names = [f"service-{index:04d}-with-a-long-name" for index in range(2000)]
    fake_github.add_installation(71, "big-org", names)
    fake_github.grant_user_access("mona", 71)
    fake_github.signed_in_login = "mona"
    client_id, client_secret = fake_github.oauth_client()
    client = await aiohttp_client(
        create_app(make_settings(github_url=fake_github.url, client_id=client_id, client_secret=client_secret), [])
    )
    # The one with activity is kept, whatever its place in the alphabet.
    await ActivityLog(bot_of(client).inbox).record(community_rows(f"big-org/{names[-1]}", now=time.time(), months=1))
    answer = await sign_in(client, fake_github)
    html = await answer.text()
    assert answer.status == 200
    assert len(session_cookie(client)) < 4000
    left_out = int(re.search(r"You can read ([\d\u202f]+) more repositories", html).group(1).replace("\u202f", ""))
    assert 0 < left_out < len(names)
    assert f'href="/insights/big-org/{names[-1]}?days=90"' in html


# Who sees what --------------------------------------------------------------------------------


async def test_a_private_repository_the_visitor_cannot_read_is_never_seen_nor_counted(insights, github):
    await seed(insights)
    await sign_in(insights, github)

    org = await (await insights.get(f"/insights/{ORG}")).text()
    repository = await (await insights.get(f"/insights/{ORG}/{PUBLIC}")).text()
    assert figures_of(org) == figures_of(repository), "the organisation's figures are widgets' alone"
    assert charts_of(org) == charts_of(repository)
    shown = figures_of(org)
    assert int(shown["first_response.issues.all.count"]) > 0 and "activity" in charts_of(org)
    # Counting secret-plans too would have changed them.
    now = time.time()
    both = await metrics.compute(
        bot_of(insights).inbox, metrics.Scope(ORG, (f"{ORG}/{PUBLIC}", f"{ORG}/{PRIVATE}"), now - 90 * DAY, now)
    )
    assert int(shown["first_response.issues.all.count"]) != both["first_response"]["issues"]["all"]["count"]

    hidden_page = await insights.get(f"/insights/{ORG}/{PRIVATE}")
    missing_page = await insights.get(f"/insights/{ORG}/no-such-repository")
    assert hidden_page.status == missing_page.status == 404
    assert await hidden_page.text() == await missing_page.text(), "not even whether it exists"
    assert (await insights.get("/insights/elsewhere")).status == 404

    pages = [org, repository, await hidden_page.text()]
    for days in (30, 90, 365):
        for path in ("/insights", f"/insights/{ORG}", f"/insights/{ORG}/{PUBLIC}"):
            answer = await insights.get(path, params={"days": str(days)})
            assert answer.status == 200
            pages.append(await answer.text())
    for html in pages:
        assert PRIVATE not in html and f"{PRIVATE}-fan" not in html


async def test_a_page_names_each_months_new_contributors_and_those_thanked(insights, github):
    now = await seed(insights)
    book = RecognitionBook(bot_of(insights).inbox)
    await book.record(Recognition(f"{ORG}/{PUBLIC}", "helpful-hana", ("doc", "review"), "maintainer", 3, now - DAY, comment_id=1))
    await book.record(Recognition(f"{ORG}/{PRIVATE}", "hidden-hugo", ("code",), "maintainer", 3, now - DAY, comment_id=2))
    await sign_in(insights, github)
    html = await (await insights.get(f"/insights/{ORG}/{PUBLIC}")).text()
    assert "Who, month by month" in html
    assert "helpful-hana (doc, review)" in html and "hidden-hugo" not in html
    names = (await metrics.compute(bot_of(insights).inbox, metrics.Scope(None, (f"{ORG}/{PUBLIC}",), now - 90 * DAY, now + 1)))
    newcomers = [login for month in names["new_contributors"] for login in month["people"]]
    assert newcomers and all(login in html for login in newcomers)


async def test_the_overview_shows_each_owner_with_headline_figures_and_links(insights, github):
    github.add_installation(72, "octo-org", ["docs", "quiet"])
    github.grant_user_access("mona", 72)
    await seed(insights)
    await ActivityLog(bot_of(insights).inbox).record(community_rows("octo-org/docs", now=time.time(), seed=3))
    await sign_in(insights, github)
    html = await (await insights.get("/insights?days=365")).text()
    assert 'href="/insights/acme?days=365"' in html and 'href="/insights/octo-org?days=365"' in html
    assert 'href="/insights/acme/widgets?days=365"' in html and 'href="/insights/octo-org/docs?days=365"' in html
    assert 'href="/insights/octo-org/quiet' not in html and "quiet" in html, "listed, with nothing to open"
    figures = figures_of(html)
    assert figures["acme.change_requests.merged"] != "0" and figures["octo-org.change_requests.merged"] != "0"
    assert {"owner0-activity", "owner0-newcomers", "owner1-activity", "owner1-newcomers"} <= set(charts_of(html))
    assert 'href="/insights?days=30"' in html and 'href="/insights?days=365" aria-current="page"' in html


async def test_a_repository_with_nothing_recorded_says_how_to_backfill(insights, github):
    await sign_in(insights, github)
    answer = await insights.get(f"/insights/{ORG}/{PUBLIC}")
    html = await answer.text()
    assert answer.status == 200
    assert f"No activity recorded yet: run <code>community-bot insights backfill {ORG}/{PUBLIC}</code>" in html
    assert "data-figure" not in html and "plotly" not in html
    organisation = await (await insights.get(f"/insights/{ORG}")).text()
    assert f"run <code>community-bot insights backfill {ORG}</code>" in organisation


async def test_pages_load_nothing_from_another_site(insights, github):
    await seed(insights)
    await sign_in(insights, github)
    for path in ("/insights", f"/insights/{ORG}", f"/insights/{ORG}/{PUBLIC}"):
        answer = await insights.get(path)
        html = await answer.text()
        assert "'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
        addresses = re.findall(r'(?:src|href|action)="([^"]*)"', html)
        assert addresses and all(address.startswith("/") or address == "data:," for address in addresses), addresses
        assert "//" not in " ".join(addresses)
        assert '<script src="/insights/_static/plotly.min.js?v=' in html


async def test_someone_who_can_read_none_of_the_apps_repositories_is_told_so(insights, github):
    github.grant_user_access("mona", 70, [])
    html = await (await sign_in(insights, github)).text()
    assert "No repositories to show" in html and "data-figure" not in html


async def test_a_database_that_does_not_answer_gives_a_page_not_a_traceback(insights, github):
    await sign_in(insights, github)
    await bot_of(insights).inbox.close()
    answer = await insights.get(f"/insights/{ORG}")
    html = await answer.text()
    assert answer.status == 503 and "database does not answer" in html and "Traceback" not in html


# The charts' script ----------------------------------------------------------------------------


async def test_plotly_is_served_by_the_bot_from_the_installed_package(insights):
    shipped = importlib.resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()
    answer = await insights.get("/insights/_static/plotly.min.js")  # no sign-in needed: it is public code
    assert answer.status == 200 and await answer.read() == shipped
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert answer.headers["Content-Encoding"] == "gzip", "5 MB is worth compressing, once"
    assert "max-age=" in answer.headers["Cache-Control"]
    again = await insights.get("/insights/_static/plotly.min.js", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304
    script = await insights.get("/insights/_static/insights.js")
    assert script.status == 200 and "Plotly.newPlot" in await script.text()
    assert (await insights.get("/insights/_static/nothing.js")).status == 404



async def test_organisations_named_login_or_static_have_their_pages(insights, github):
    """The pages' own routes start with "_", which no GitHub login does."""
    for number, name in enumerate(("login", "static", "callback", "logout"), start=80):
        github.add_installation(number, name, ["site"])
        github.grant_user_access("mona", number)
        await ActivityLog(bot_of(insights).inbox).record(community_rows(f"{name}/site", now=time.time(), seed=number))
    await sign_in(insights, github)
    for name in ("login", "static", "callback", "logout"):
        for path in (f"/insights/{name}", f"/insights/{name}/site"):
            page = await insights.get(path, allow_redirects=False)
            assert page.status == 200, path
            assert f"{name}" in await page.text()
