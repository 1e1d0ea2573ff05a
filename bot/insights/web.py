"""The insights pages: a community's health figures (CHAOSS metrics), for the people who may read them.

They live in a sub-application under ``/insights``, so that only these routes pay for sessions
(the webhook's hot path never reads a cookie):

- ``GET /insights``: every owner the visitor can read, with headline figures, a trend and
  links to its repositories;
- ``GET /insights/{owner}``: an owner's figures over the repositories the visitor can read
  there, and only those;
- ``GET /insights/{owner}/{repo}``: one repository's, or the same 404 whether it does not exist
  or the visitor cannot read it;
- ``GET /insights/_login``, ``GET /insights/_callback``, ``POST /insights/_logout``: "Sign in with
  GitHub", through the app's own OAuth client;
- ``GET /insights/_static/{name}``: plotly.js, from the installed plotly package, and the
  pages' chart script: nothing is fetched from another site.

``?days=`` (30, 90 or 365) sets the window the figures cover.

GitHub decides who reads what. Signing in reads, with the visitor's own token, the
installations of this app they can reach and the repositories of each they can read
(``GET /user/installations``, ``GET /user/installations/{id}/repositories``). The session
keeps that list and the login, nothing else (the token is dropped), for 8 hours; then the
visitor signs in again and access is read afresh. Every figure is computed over exactly the
repositories in that list.

The session is an encrypted, signed cookie (aiohttp-session's ``EncryptedCookieStorage``,
Fernet) whose key is derived from the app's private key, so restarts and every process share
it and nothing new needs configuring.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import gzip
import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import aiohttp_session
import gidgethub
import jinja2
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from gidgethub.aiohttp import GitHubAPI

from .. import __version__, logs
from ..inbox import InboxUnavailable
from . import metrics

if TYPE_CHECKING:
    from ..app import Bot

log = logging.getLogger(__name__)

PREFIX = "/insights"
# The pages' own routes start with "_", which no GitHub login does: /insights/{owner} stays free
# for an organisation named "login" or "static".
CALLBACK_PATH = f"{PREFIX}/_callback"
SESSION_COOKIE = "community_bot_insights"
SESSION_SECONDS = 8 * 3600
SESSION_KEY_INFO = b"community-bot insights session"
# Browsers drop a cookie longer than 4096 bytes, name and attributes included.
MAX_COOKIE_VALUE = 3800
WINDOWS = (30, 90, 365)
DEFAULT_WINDOW = 90
USER_AGENT = f"community-bot/{__version__}"
# The pages load nothing from another site; plotly needs inline styles for its charts.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",  # figures of private repositories: never kept on the way
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
STATIC_SECONDS = 86400


# The session ---------------------------------------------------------------------------------


def session_key(private_key: str) -> bytes:
    """The cookies' Fernet key (32 bytes), derived from the app's private key with HKDF-SHA256.

    The key's DER bytes are the input, so the same key written another way (one line, other
    wrapping) gives the same cookies."""
    key = serialization.load_pem_private_key(private_key.encode(), password=None)
    material = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SESSION_KEY_INFO).derive(material)


def _pack(data: Any) -> str:
    # Compressed: a visitor's repositories must fit in one cookie, and their names repeat a lot.
    return base64.b85encode(zlib.compress(json.dumps(data, separators=(",", ":")).encode())).decode("ascii")


def _unpack(text: str) -> Any:
    try:
        return json.loads(zlib.decompress(base64.b85decode(text)))
    except (ValueError, zlib.error):
        return {}  # not a session this code wrote: start a new one


def _is_https(url: str | None) -> bool:
    return (url or "").startswith("https://")


@dataclasses.dataclass(frozen=True)
class Visitor:
    """Who is signed in, and what GitHub said they may read."""

    login: str
    access: Mapping[str, tuple[str, ...]]  # owner -> repository names, lower-case
    csrf: str  # for the sign-out form
    left_out: int  # repositories they can read that did not fit in the session

    def repositories(self, owner: str) -> tuple[str, ...]:
        return tuple(f"{owner}/{name}" for name in self.access.get(owner, ()))


# Static files ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes
    etag: str


def _static_file(body: bytes) -> StaticFile:
    return StaticFile(body, gzip.compress(body, 6), '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def load_static_files() -> dict[str, StaticFile]:
    """plotly.js as the installed plotly package ships it, and the script that draws the charts."""
    return {
        "plotly.min.js": _static_file(
            importlib.resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()
        ),
        "insights.js": _static_file(importlib.resources.files("templates").joinpath("insights_charts.js").read_bytes()),
    }


# Formatting ----------------------------------------------------------------------------------


def hours(value: float | None) -> str:
    """A duration in hours, as people say it: 40 min, 5.5 h, 3.2 days."""
    if value is None:
        return "–"
    if value < 1:
        return f"{max(round(value * 60), 1)} min"
    if value < 48:
        return f"{value:.1f} h" if value < 10 else f"{round(value)} h"
    days = value / 24
    return f"{days:.1f} days" if days < 10 else f"{round(days)} days"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}".replace(",", "\u202f")  # a narrow space between thousands reads in every locale


def day(date: str) -> str:
    """``2026-05-30`` as ``30 May 2026``."""
    value = datetime.date.fromisoformat(date)
    return f"{value.day} {value:%b %Y}"


def month_labels(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Short names for the months of a chart (``Feb``), with the year under the first month and
    every January, so a year's worth of months fits side by side."""
    labels = []
    for index, row in enumerate(rows):
        month = datetime.date.fromisoformat(f"{row['month']}-01")
        labels.append(f"{month:%b}<br>{month.year}" if index == 0 or month.month == 1 else f"{month:%b}")
    return labels


def charts_for(figures: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """What the chart script draws, keyed by the id of the element it draws in: series only,
    the look is the script's. A chart with nothing to draw is left out (the page says so)."""
    charts: dict[str, Any] = {}
    activity = figures["activity_by_month"]
    if any(row["issues_opened"] or row["pulls_opened"] or row["merged"] or row["comments"] for row in activity):
        charts[f"{prefix}activity"] = {
            "kind": "activity",
            "months": month_labels(activity),
            **{key: [row[key] for row in activity] for key in ("issues_opened", "pulls_opened", "merged", "comments")},
        }
    newcomers = figures["new_contributors"]
    if any(row["count"] for row in newcomers):
        charts[f"{prefix}newcomers"] = {
            "kind": "newcomers",
            "months": month_labels(newcomers),
            "count": [row["count"] for row in newcomers],
            "returned": [row["returned"] for row in newcomers],
            "return_rate": [row["return_rate"] for row in newcomers],
            "complete": [row["complete"] for row in newcomers],
        }
    heated = figures["heated"]
    if any(row["reminders"] or row["locks"] for row in heated):
        charts[f"{prefix}heated"] = {
            "kind": "heated",
            "months": month_labels(heated),
            "reminders": [row["reminders"] for row in heated],
            "locks": [row["locks"] for row in heated],
        }
    first_response = figures["first_response"]
    issues, pulls = first_response["issues"]["all"], first_response["pulls"]["all"]
    if issues["responded"] or pulls["responded"]:
        charts[f"{prefix}first_response"] = {
            "kind": "first_response",
            "labels": [bucket["label"] for bucket in issues["buckets"]],
            "issues": [bucket["count"] for bucket in issues["buckets"]],
            "pulls": [bucket["count"] for bucket in pulls["buckets"]],
        }
    return charts


def _pages() -> jinja2.Environment:
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(importlib.resources.files("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    pages.filters.update(hours=hours, percent=percent, ratio=ratio, number=number, day=day)
    return pages


# The pages -----------------------------------------------------------------------------------


class Insights:
    """The insights routes of one server. The setup page's server has no bot until the app is
    registered: until ``attach``, every insights route answers 404."""

    def __init__(self, bot: Bot | None = None) -> None:
        self._pages = _pages()
        self._bot: Bot | None = None
        self._sessions: Callable[[web.Request, Any], Awaitable[web.StreamResponse]] | None = None
        self._fernet: Fernet | None = None
        self._static: dict[str, StaticFile] | None = None
        self._static_lock = asyncio.Lock()
        # In the static files' addresses, so that an upgrade is fetched anew despite caching.
        self._static_version = f"{__version__}-{importlib.metadata.version('plotly')}"
        if bot is not None:
            self.attach(bot)

    def attach(self, bot: Bot) -> None:
        """Serve ``bot``'s figures, with sessions sealed by a key derived from its private key."""
        settings = bot.settings
        self._fernet = Fernet(base64.urlsafe_b64encode(session_key(settings.private_key)))
        storage = EncryptedCookieStorage(
            self._fernet,
            cookie_name=SESSION_COOKIE,
            path=PREFIX,  # never sent to /webhook or anywhere else
            max_age=SESSION_SECONDS,
            secure=True if _is_https(settings.public_url) else None,
            httponly=True,
            samesite="Lax",  # sent when GitHub sends the browser back to the callback, a top-level GET
            encoder=_pack,
            decoder=_unpack,
        )
        self._sessions = aiohttp_session.session_middleware(storage)
        self._bot = bot

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        # Fixed paths first: they win over an owner of the same name.
        app.router.add_get("", self.overview)
        app.router.add_get("/_login", self.login)
        app.router.add_get("/_callback", self.callback)
        app.router.add_post("/_logout", self.logout)
        app.router.add_get("/_static/{name}", self.static)
        app.router.add_get("/{owner}", self.owner_page)
        app.router.add_get("/{owner}/{repo}", self.repository_page)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._sessions is None:
            raise web.HTTPNotFound(text="This server has no GitHub App yet: open its setup page.")
        return await self._sessions(request, handler)

    @property
    def bot(self) -> Bot:
        assert self._bot is not None, "the middleware lets no request through before attach()"
        return self._bot

    # Rendering -------------------------------------------------------------------------------

    def _render(self, template: str, request: web.Request, **variables: Any) -> str:
        return self._pages.get_template(template).render(
            path=request.path,
            static=f"{PREFIX}/_static",
            static_version=self._static_version,
            windows=WINDOWS,
            **variables,
        )

    def _page(self, template: str, request: web.Request, status: int = 200, **variables: Any) -> web.Response:
        body = self._render(template, request, **variables)
        return web.Response(text=body, status=status, content_type="text/html", headers=PAGE_HEADERS)

    def _message(
        self, request: web.Request, title: str, message: str, *, visitor: Visitor | None = None, sign_in: bool = False,
        alert: bool = True, not_configured: bool = False,
    ) -> str:
        return self._render(
            "insights_message.html", request, title=title, message=message, visitor=visitor, sign_in=sign_in,
            alert=alert, not_configured=not_configured, callback_url=self._callback_url(request),
        )

    def _refusal(
        self, status: int, request: web.Request, title: str, message: str, **options: Any
    ) -> web.HTTPException:
        """A page to raise from deep in a handler: a clear sentence, never a traceback."""
        body = self._message(request, title, message, **options)
        return _HTTP_ERRORS[status](text=body, content_type="text/html", headers=PAGE_HEADERS)

    def _not_found(self, request: web.Request, visitor: Visitor) -> web.HTTPException:
        # The same answer for a repository that does not exist and one the visitor cannot read.
        return self._refusal(
            404, request, "Nothing here",
            "There is no organisation or repository by that name among those you can read.", visitor=visitor,
        )

    # Sign-in ---------------------------------------------------------------------------------

    def _check_sign_in_configured(self, request: web.Request) -> None:
        settings = self.bot.settings
        if not (settings.client_id and settings.client_secret):
            raise self._refusal(
                503, request, "Sign-in is not set up",
                "These pages show figures only to people who sign in with GitHub, and this server has no "
                "OAuth client for that yet.",
                not_configured=True,
            )

    async def _visitor(self, request: web.Request) -> Visitor:
        """The signed-in visitor; anyone else is sent to sign in, and comes back here after."""
        self._check_sign_in_configured(request)
        session = await aiohttp_session.get_session(request)
        if not session.get("login"):
            raise web.HTTPFound(f"{PREFIX}/_login?{urlencode({'next': request.path_qs})}")
        return Visitor(
            login=session["login"],
            access={owner: tuple(names) for owner, names in session["access"].items()},
            csrf=session["csrf"],
            left_out=session.get("left_out", 0),
        )

    def _callback_url(self, request: web.Request) -> str:
        return f"{self.bot.settings.public_url or request.url.origin()}{CALLBACK_PATH}"

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Off to GitHub's authorisation page, with a fresh random state kept in the session."""
        self._check_sign_in_configured(request)
        target = _safe_target(request.query.get("next", ""))
        if (await aiohttp_session.get_session(request)).get("login"):
            raise web.HTTPFound(target)
        session = await aiohttp_session.new_session(request)
        session["state"] = secrets.token_urlsafe(32)
        session["next"] = target
        settings = self.bot.settings
        query = urlencode(
            {"client_id": settings.client_id, "redirect_uri": self._callback_url(request), "state": session["state"]}
        )
        raise web.HTTPFound(f"{settings.github_url}/login/oauth/authorize?{query}")

    async def callback(self, request: web.Request) -> web.StreamResponse:
        """GitHub sends the browser back: check the state, exchange the code, read what the
        visitor may read, and keep that (not the token) in a new session."""
        self._check_sign_in_configured(request)
        session = await aiohttp_session.get_session(request)
        expected = session.pop("state", None)  # good once, whatever happens next
        target = session.pop("next", PREFIX)
        state = request.query.get("state", "")
        if not expected or not _same(state, expected):
            log.warning("insights sign-in refused: the state is not the one this browser was given")
            raise self._refusal(
                400, request, "Sign-in refused",
                "GitHub's answer does not belong to a sign-in started in this browser (or it was already used).",
                sign_in=True,
            )
        if request.query.get("error"):
            error = request.query["error"]
            log.warning("insights sign-in: GitHub answered with an error", extra=logs.fields(reason=error[:60]))
            reason = "you declined" if error == "access_denied" else "GitHub refused"
            raise self._refusal(403, request, "Not signed in", f"GitHub did not sign you in: {reason}.", sign_in=True)
        code = request.query.get("code", "")
        if not code:
            raise self._refusal(400, request, "Sign-in refused", "GitHub's answer has no code.", sign_in=True)
        try:
            token = await self._exchange_code(code, self._callback_url(request))
            login, access = await self._read_access(token)
        except _CodeRefused as exc:
            log.warning("insights sign-in: GitHub refused the code", extra=logs.fields(reason=exc.reason))
            raise self._refusal(
                400, request, "Sign-in refused",
                "GitHub did not accept the sign-in code: it may have expired or been used already.", sign_in=True,
            ) from None
        except (gidgethub.GitHubException, aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
            log.warning(
                "insights sign-in: GitHub did not answer as expected", extra=logs.fields(reason=type(exc).__name__)
            )
            raise self._refusal(
                502, request, "GitHub did not answer",
                f"GitHub could not be asked who you are and what you may read ({type(exc).__name__}). Try again in a "
                "moment.",
                sign_in=True,
            ) from None
        access, left_out = await self._fit_in_cookie(access)
        session = await aiohttp_session.new_session(request)  # a new session: nothing from before carries over
        session.update(login=login, access=access, csrf=secrets.token_urlsafe(24), left_out=left_out)
        repositories = sum(len(names) for names in access.values())
        log.info("insights: signed in", extra=logs.fields(login=login, repositories=repositories, left_out=left_out))
        raise web.HTTPFound(target)

    async def _exchange_code(self, code: str, redirect_uri: str) -> str:
        settings = self.bot.settings
        async with self._http.post(
            f"{settings.github_url}/login/oauth/access_token",
            data={
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        ) as answer:
            if answer.status >= 500:
                raise aiohttp.ClientResponseError(answer.request_info, (), status=answer.status)
            # GitHub answers 200 with {"error": ...} for a bad code.
            body = await answer.json(content_type=None)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise _CodeRefused(str(body.get("error", "no access_token")) if isinstance(body, dict) else "not JSON")
        return body["access_token"]

    async def _read_access(self, token: str) -> tuple[str, dict[str, list[str]]]:
        """The visitor's login, and the repositories of this app's installations they can read."""
        github = GitHubAPI(self._http, USER_AGENT, oauth_token=token, base_url=self.bot.settings.api_url)
        user = await github.getitem("/user")
        access: dict[str, set[str]] = {}
        async for installation in github.getiter("/user/installations", iterable_key="installations"):
            async for repository in github.getiter(
                "/user/installations/{installation_id}/repositories",
                {"installation_id": installation["id"]},
                iterable_key="repositories",
            ):
                owner, name = repository["full_name"].lower().split("/", 1)
                access.setdefault(owner, set()).add(name)
        return user["login"], {owner: sorted(names) for owner, names in sorted(access.items())}

    async def _fit_in_cookie(self, access: dict[str, list[str]]) -> tuple[dict[str, list[str]], int]:
        """As much of ``access`` as one cookie holds, and how many repositories were left out.
        Those with recorded activity are kept first: the others have no figures to show."""
        if self._fits(access):
            return access, 0
        try:
            recorded = set(await metrics.repositories(self.bot.inbox))
        except InboxUnavailable:
            recorded = set()  # then any will do
        everything = sorted(
            ((owner, name) for owner, names in access.items() for name in names),
            key=lambda item: (f"{item[0]}/{item[1]}" not in recorded, item),
        )

        def kept(count: int) -> dict[str, list[str]]:
            grouped: dict[str, list[str]] = {}
            for owner, name in sorted(everything[:count]):
                grouped.setdefault(owner, []).append(name)
            return grouped

        low, high = 0, len(everything)  # kept(low) fits, kept(high) does not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self._fits(kept(middle)) else (low, middle)
        return kept(low), len(everything) - low

    def _fits(self, access: dict[str, list[str]]) -> bool:
        """Whether a session holding ``access`` fits in a cookie; the login, the CSRF token and
        the session's wrapper are small beside the repositories, and a margin holds them."""
        assert self._fernet is not None
        sealed = self._fernet.encrypt(_pack({"created": int(time.time()), "session": {"access": access}}).encode())
        return len(sealed) <= MAX_COOKIE_VALUE - 200

    @property
    def _http(self) -> aiohttp.ClientSession:
        assert self.bot.session is not None, "the bot opens its HTTP session when it starts"
        return self.bot.session

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = await aiohttp_session.get_session(request)
        form = await request.post()
        expected = session.get("csrf")
        if not expected or not _same(str(form.get("csrf", "")), expected):
            raise self._refusal(400, request, "Not signed out", "This form did not come from these pages.")
        session.invalidate()
        body = self._message(request, "Signed out", "You are signed out.", sign_in=True, alert=False)
        return web.Response(text=body, content_type="text/html", headers=PAGE_HEADERS)

    # Figures ---------------------------------------------------------------------------------

    def _days(self, request: web.Request) -> int:
        raw = request.query.get("days", "")
        return int(raw) if raw.isdigit() and int(raw) in WINDOWS else DEFAULT_WINDOW

    async def _figures(
        self, request: web.Request, visitor: Visitor, owner: str, repositories: tuple[str, ...]
    ) -> tuple[dict[str, Any], set[str]]:
        """The figures over ``repositories`` in the requested window, and which of those
        repositories have any activity recorded at all."""
        until = time.time()
        scope = metrics.Scope(owner, repositories, since=until - self._days(request) * 86400, until=until)
        try:
            figures = await metrics.compute(self.bot.inbox, scope)
            recorded = set(await metrics.repositories(self.bot.inbox, owner)) & set(repositories)
        except InboxUnavailable:
            log.warning("insights: the database does not answer")
            raise self._refusal(
                503, request, "No figures now", "The bot's database does not answer; try again in a moment.",
                visitor=visitor,
            ) from None
        return figures, recorded

    async def overview(self, request: web.Request) -> web.Response:
        visitor = await self._visitor(request)
        owners = []
        for owner in visitor.access:
            repositories = visitor.repositories(owner)
            figures, recorded = await self._figures(request, visitor, owner, repositories)
            owners.append(
                {
                    "name": owner,
                    "figures": figures,
                    "repositories": [(full_name, full_name in recorded) for full_name in repositories],
                    "recorded": bool(recorded),
                }
            )
        charts = {}
        for index, owner in enumerate(owners):
            # Trends only: the details are on the owner's page.
            trends = charts_for(owner["figures"], prefix=f"owner{index}-")
            charts.update({key: chart for key, chart in trends.items() if chart["kind"] in ("activity", "newcomers")})
        return self._page(
            "insights_overview.html", request, visitor=visitor, days=self._days(request), owners=owners, charts=charts,
            title="Community insights",
        )

    async def owner_page(self, request: web.Request) -> web.Response:
        visitor = await self._visitor(request)
        owner = request.match_info["owner"].lower()
        repositories = visitor.repositories(owner)
        if not repositories:
            raise self._not_found(request, visitor)
        return await self._dashboard(request, visitor, owner, repositories, title=owner, one_repository=False)

    async def repository_page(self, request: web.Request) -> web.Response:
        visitor = await self._visitor(request)
        owner = request.match_info["owner"].lower()
        full_name = f"{owner}/{request.match_info['repo'].lower()}"
        if full_name not in visitor.repositories(owner):
            raise self._not_found(request, visitor)
        return await self._dashboard(request, visitor, owner, (full_name,), title=full_name, one_repository=True)

    async def _dashboard(
        self, request: web.Request, visitor: Visitor, owner: str, repositories: tuple[str, ...], *, title: str,
        one_repository: bool,
    ) -> web.Response:
        figures, recorded = await self._figures(request, visitor, owner, repositories)
        return self._page(
            "insights_dashboard.html", request, visitor=visitor, days=self._days(request), owner=owner, title=title,
            repositories=repositories, one_repository=one_repository, figures=figures, charts=charts_for(figures),
            recorded=bool(recorded),
        )

    # Static files ----------------------------------------------------------------------------

    async def static(self, request: web.Request) -> web.Response:
        if self._static is None:
            async with self._static_lock:
                if self._static is None:
                    # Read and compressed once, off the event loop: plotly.js is some 5 MB.
                    self._static = await asyncio.to_thread(load_static_files)
        served = self._static.get(request.match_info["name"])
        if served is None:
            raise web.HTTPNotFound()
        headers = {
            "Cache-Control": f"public, max-age={STATIC_SECONDS}",
            "ETag": served.etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("If-None-Match") == served.etag:
            return web.Response(status=304, headers=headers)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=served.gzipped, content_type="text/javascript", charset="utf-8", headers=headers)
        return web.Response(body=served.body, content_type="text/javascript", charset="utf-8", headers=headers)


class _CodeRefused(Exception):
    """GitHub answered the code exchange with an error (bad_verification_code and the like)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_HTTP_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    502: web.HTTPBadGateway,
    503: web.HTTPServiceUnavailable,
}


def _same(given: str, expected: str) -> bool:
    """Whether a state or token from the browser is the one handed out, in constant time."""
    return secrets.compare_digest(given.encode(), expected.encode())


def _safe_target(target: str) -> str:
    """Where to go after signing in: one of these pages, never another site."""
    parts = urlsplit(target)
    ours = parts.path == PREFIX or parts.path.startswith(f"{PREFIX}/")
    return target if ours and not parts.scheme and not parts.netloc else PREFIX


def add_insights_routes(app: web.Application, insights: Insights) -> None:
    """Serve ``insights`` under /insights, its session middleware on those routes only."""
    app.add_subapp(PREFIX, insights.application())
