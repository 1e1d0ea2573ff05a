"""First run: register the GitHub App from a page on this machine, through GitHub's manifest flow.

``community-bot serve`` with no app credentials, or ``community-bot setup``, serves the page at
``/``. It says what the app may do, in plain words, from ``app.yaml``, and asks for an
organisation and the public webhook URL. "Register on GitHub" posts the manifest to GitHub with
a random ``state``; GitHub sends the browser back to ``/setup/callback`` with a one-time
``code``, which is exchanged for the app's id, webhook secret, private key and OAuth client (for
"Sign in with GitHub" on the insights pages). Those go to ``.env`` and a key file that only the
owner can read; the secrets are never logged or shown. The same process then serves webhooks
and the insights pages, and the setup routes answer 404.

Whoever completes the flow decides which app this server acts as, so the page listens on
127.0.0.1 unless ``SETUP_HOST`` says otherwise, answers only requests addressed to the address
it listens on (a rebound DNS name cannot reach it), and accepts a registration only with a
``state`` it handed out itself.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib.resources
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import gidgethub
import jinja2
import yaml
from aiohttp import web
from cachetools import TTLCache
from gidgethub import routing
from gidgethub.aiohttp import GitHubAPI

from . import __version__, logs
from .app import Bot
from .inbox import InboxUnavailable
from .insights.web import CALLBACK_PATH, Insights, add_insights_routes
from .settings import (
    SettingsError,
    api_url,
    github_url,
    integer,
    is_web_url,
    load_environment,
    load_settings,
    log_level,
    web_url,
)
from .webhook import MAX_BODY

log = logging.getLogger(__name__)

CREDENTIALS = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET")
STATE_SECONDS = 3600  # GitHub's code is good for an hour; the state need not outlive it
_ORGANISATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")

# What each permission in app.yaml lets the app do, for people who have not read GitHub's docs.
PERMISSION_WORDS = {
    ("contents", "read"): "Read files in your repositories: the bot's config file, template overrides, "
    "CONTRIBUTING and CODE_OF_CONDUCT. It never changes a file.",
    ("metadata", "read"): "See your repositories and who has which access, to know who may run a command.",
    ("issues", "write"): "Comment on issues, add labels, assign an issue to whoever claims it, lock a heated "
    "conversation, and open one issue suggesting a code of conduct where there is none.",
    ("pull_requests", "write"): "Comment on pull requests and read their commits, for the DCO and CLA checks, "
    "and ask a mentor to review a newcomer's first pull request.",
    ("contents", "write"): "Read files in your repositories, and propose changes to the all-contributors files "
    "in a pull request from the bot's own branch. It never pushes to your default branch.",
    ("checks", "write"): "Show the DCO and CLA results as checks on pull requests.",
    ("members", "read"): "See who belongs to your organisation and its teams, for members-only rules.",
}
EVENT_WORDS = {
    "issues": "an issue is opened, labelled or closed",
    "issue_comment": "someone comments on an issue or pull request",
    "pull_request": "a pull request is opened, updated or merged",
    "pull_request_review": "someone reviews a pull request",
    "pull_request_review_comment": "someone comments on a pull request's code",
    "check_run": "someone re-runs one of its checks or presses its buttons",
    "check_suite": "someone re-runs all checks",
    "push": "someone pushes, so a changed config file is read again",
}


def has_credentials(env: Mapping[str, str]) -> bool:
    """Whether any app credential is configured (then ``serve`` serves, or says what is wrong)."""
    return any(env.get(name, "").strip() for name in CREDENTIALS)


@dataclasses.dataclass(frozen=True)
class SetupSettings:
    github_url: str
    api_url: str
    host: str
    port: int
    log_level: str
    env_file: Path
    webhook_url: str  # a suggestion for the form; empty when PUBLIC_URL is not set


def load_setup_settings(env: Mapping[str, str], env_file: Path | None = None) -> SetupSettings:
    public_url = web_url(env, "PUBLIC_URL")
    return SetupSettings(
        github_url=github_url(env),
        api_url=api_url(env),
        host=env.get("SETUP_HOST", "").strip() or "127.0.0.1",
        port=integer(env, "PORT", 3000, low=1, high=65535),
        log_level=log_level(env),
        env_file=env_file if env_file is not None else Path.cwd() / ".env",
        webhook_url=f"{public_url}/webhook" if public_url else "",
    )


# The manifest ------------------------------------------------------------------------------


def app_manifest() -> dict[str, Any]:
    """``app.yaml``, as shipped with the package."""
    return yaml.safe_load(importlib.resources.files("bot").joinpath("app.yaml").read_text(encoding="utf-8"))


def plain_permissions(manifest: Mapping[str, Any]) -> list[str]:
    words = []
    for name, level in manifest.get("default_permissions", {}).items():
        words.append(PERMISSION_WORDS.get((name, level), f"{name.replace('_', ' ').capitalize()}: {level}."))
    return words


def plain_events(manifest: Mapping[str, Any]) -> list[str]:
    return [EVENT_WORDS.get(event, event.replace("_", " ")) for event in manifest.get("default_events", [])]


def registration_manifest(manifest: Mapping[str, Any], *, webhook_url: str, callback_url: str) -> dict[str, Any]:
    """The manifest GitHub receives: app.yaml with this server's webhook and callback URLs."""
    filled = copy.deepcopy(dict(manifest))
    filled["hook_attributes"] = {**filled.get("hook_attributes", {}), "url": webhook_url, "active": True}
    filled["redirect_url"] = callback_url
    # "Sign in with GitHub" on the insights pages must come back to one of the app's callback
    # URLs: where GitHub reaches this server (the webhook's address), and where the setup page
    # was opened (to sign in from this machine).
    sign_in = [f"{_origin(url)}{CALLBACK_PATH}" for url in (webhook_url, callback_url)]
    filled["callback_urls"] = list(dict.fromkeys(sign_in))
    return filled


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def registration_url(github_url: str, organisation: str, state: str) -> str:
    """GitHub's "new app from a manifest" form, for an organisation or the signed-in account."""
    owner = f"/organizations/{quote(organisation)}" if organisation else ""
    return f"{github_url}{owner}/settings/apps/new?{urlencode({'state': state})}"


def form_problems(organisation: str, webhook_url: str) -> list[str]:
    problems = []
    if organisation and not _ORGANISATION.fullmatch(organisation):
        problems.append(f"{organisation!r} is not an organisation's login: letters, digits and hyphens, up to 39.")
    if not is_web_url(webhook_url):
        problems.append("The webhook URL must be an http(s) address GitHub can reach, ending in /webhook.")
    return problems


# The credentials ---------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, whole or not at all."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _env_line(name: str, value: str) -> str:
    return f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def save_credentials(env_file: Path, app: Mapping[str, Any]) -> Path:
    """Write the new app's credentials beside the other settings; the key file's path."""
    # GitHub's slugs are lower-case words and hyphens; nothing else reaches a file name.
    key_file = env_file.with_name(f"{re.sub(r'[^a-z0-9-]', '-', str(app['slug']))}.{int(app['id'])}.private-key.pem")
    _write_private(key_file, app["pem"])
    values = {
        "GITHUB_APP_ID": str(app["id"]),
        "GITHUB_APP_SLUG": app["slug"],
        "GITHUB_WEBHOOK_SECRET": app["webhook_secret"],
        "GITHUB_PRIVATE_KEY_PATH": str(key_file),
        # The app's OAuth client: "Sign in with GitHub" on the insights pages.
        "GITHUB_CLIENT_ID": app["client_id"],
        "GITHUB_CLIENT_SECRET": app["client_secret"],
    }
    kept = []
    if env_file.is_file():
        owned = re.compile(rf"\s*(?:export\s+)?({'|'.join(values)})\s*=")
        kept = [line for line in env_file.read_text(encoding="utf-8").splitlines() if not owned.match(line)]
    added = ["# Written by community-bot's setup page: the GitHub App's credentials.", *(_env_line(k, v) for k, v in values.items())]
    _write_private(env_file, "\n".join([*kept, *added]) + "\n")
    return key_file


async def exchange_code(session: aiohttp.ClientSession, api_url: str, code: str) -> dict[str, Any]:
    """The new app's credentials, for the one-time code GitHub handed the browser."""
    github = GitHubAPI(session, f"community-bot/{__version__}", base_url=api_url)
    return await github.post("/app-manifests/{code}/conversions", url_vars={"code": code}, data=b"")


# The page ----------------------------------------------------------------------------------


class Setup:
    """The setup routes, and the bot they start once the app is registered."""

    def __init__(self, settings: SetupSettings, routers: Iterable[routing.Router] | None = None) -> None:
        self.settings = settings
        self._routers = routers
        self._manifest = app_manifest()
        self._states: TTLCache[str, bool] = TTLCache(maxsize=64, ttl=STATE_SECONDS)
        self._lock = asyncio.Lock()
        self._pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(importlib.resources.files("templates"))),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.registered = False
        self.bot: Bot | None = None
        self._webhook: Any = None
        self.insights = Insights()  # 404 until the bot starts

    def _page(self, template: str, status: int = 200, **variables: Any) -> web.Response:
        body = self._pages.get_template(template).render(variables)
        return web.Response(text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})

    def _problem(self, status: int, message: str) -> web.Response:
        return self._page("setup_problem.html", status, message=message)

    def _check_request(self, request: web.Request) -> None:
        if self.registered:
            raise web.HTTPNotFound(text="This server is registered; the setup page is gone.")
        # Only requests addressed to where we listen: a page on another site that rebinds its
        # own name to 127.0.0.1 would otherwise read a state and complete the flow.
        port = self.settings.port
        allowed = {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]", self.settings.host)}
        if request.host not in allowed:
            raise web.HTTPMisdirectedRequest(text=f"Open the setup page at http://127.0.0.1:{port}/.")

    async def page(self, request: web.Request) -> web.Response:
        self._check_request(request)
        state = secrets.token_urlsafe(32)
        self._states[state] = True
        return self._form(state, webhook_url=self.settings.webhook_url)

    def _form(self, state: str, status: int = 200, *, organisation: str = "", webhook_url: str, problems: Iterable[str] = ()) -> web.Response:
        return self._page(
            "setup_page.html",
            status,
            state=state,
            name=self._manifest.get("name", "community-bot"),
            permissions=plain_permissions(self._manifest),
            events=plain_events(self._manifest),
            github_url=self.settings.github_url,
            port=self.settings.port,
            organisation=organisation,
            webhook_url=webhook_url,
            problems=list(problems),
        )

    async def register(self, request: web.Request) -> web.Response:
        """Check the form, then hand the browser a form that posts the manifest to GitHub."""
        self._check_request(request)
        form = await request.post()
        state = str(form.get("state", ""))
        if state not in self._states:
            return self._problem(400, "This form did not come from this page, or it is more than an hour old.")
        organisation = str(form.get("organisation", "")).strip()
        webhook_url = str(form.get("webhook_url", "")).strip()
        problems = form_problems(organisation, webhook_url)
        if not os.access(self.settings.env_file.parent, os.W_OK):
            # Found out before GitHub creates the app, whose key can be handed over only once.
            problems.append(f"This server cannot write its credentials to {self.settings.env_file.parent}.")
        if problems:
            return self._form(state, 400, organisation=organisation, webhook_url=webhook_url, problems=problems)
        manifest = registration_manifest(
            self._manifest, webhook_url=webhook_url, callback_url=f"{request.scheme}://{request.host}/setup/callback"
        )
        return self._page(
            "setup_to_github.html",
            action=registration_url(self.settings.github_url, organisation, state),
            manifest=manifest,
            owner=organisation or "your account",
        )

    async def callback(self, request: web.Request) -> web.Response:
        """GitHub's redirect: exchange the code, save the credentials, start serving."""
        self._check_request(request)
        state = request.query.get("state", "")
        if self._states.pop(state, None) is None:
            log.warning("setup callback refused: the state is not one this page handed out")
            return self._problem(400, "GitHub's answer does not match a registration started on this page. Nothing was saved.")
        code = request.query.get("code", "")
        if not code:
            return self._problem(400, "GitHub's answer has no code. Nothing was saved.")
        async with self._lock:
            self._check_request(request)  # again: another answer may have registered meanwhile
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                    app = await exchange_code(session, self.settings.api_url, code)
            except (gidgethub.GitHubException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.warning("setup: GitHub did not exchange the code", extra=logs.fields(reason=type(exc).__name__))
                return self._problem(502, f"GitHub did not turn the code into an app ({type(exc).__name__}). Nothing was saved.")
            logs.add_secrets((app["webhook_secret"], app["pem"], app["client_secret"]))
            try:
                key_file = save_credentials(self.settings.env_file, app)
            except OSError as exc:
                log.error("setup: the credentials could not be saved", extra=logs.fields(reason=exc.strerror))
                return self._problem(
                    500,
                    f"GitHub created app {app['id']}, but its credentials could not be saved here ({exc.strerror}). "
                    f"On GitHub, open the app's settings ({app['html_url']}), generate a private key and set a webhook "
                    "secret, then put them in .env as the README's Settings say.",
                )
            self.registered = True
            log.info("setup: the app is registered", extra=logs.fields(app_id=app["id"], slug=app["slug"]))
            started, reason = await self._start_bot()
        return self._page(
            "setup_done.html",
            name=app.get("name") or app["slug"],
            app_id=app["id"],
            env_file=str(self.settings.env_file),
            key_file=str(key_file),
            install_url=f"{app['html_url']}/installations/new",
            started=started,
            reason=reason,
        )

    async def _start_bot(self) -> tuple[bool, str]:
        """Serve webhooks with the saved credentials, in this process."""
        try:
            settings = load_settings(load_environment(env_file=self.settings.env_file))
        except SettingsError as exc:
            return False, str(exc)
        bot = Bot(settings, self._routers)
        try:
            await bot.start()
        except InboxUnavailable as exc:
            await bot.close()
            return False, f"the database does not answer: {exc}"
        self.bot, self._webhook = bot, bot.webhook_view()
        self.insights.attach(bot)
        return True, ""

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        if self._webhook is None:
            return web.json_response({"error": "this server is not registered yet: open its setup page"}, status=503)
        return await self._webhook(request)

    async def healthz(self, request: web.Request) -> web.Response:
        if self.bot is None:
            return web.json_response({"ok": True, "version": __version__, "registered": False})
        return await self.bot.healthz(request)

    async def metrics(self, request: web.Request) -> web.Response:
        if self.bot is None:
            raise web.HTTPNotFound()
        return await self.bot.metrics_view(request)

    async def stop_workers(self, _app: web.Application) -> None:
        if self.bot is not None:
            await self.bot.stop_workers()

    async def close(self, _app: web.Application) -> None:
        if self.bot is not None:
            await self.bot.close()


def create_setup_app(settings: SetupSettings, routers: Iterable[routing.Router] | None = None) -> web.Application:
    setup = Setup(settings, routers)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/", setup.page)
    app.router.add_post("/setup/register", setup.register)
    app.router.add_get("/setup/callback", setup.callback)
    app.router.add_route("*", "/webhook", setup.webhook)
    app.router.add_get("/healthz", setup.healthz)
    app.router.add_get("/metrics", setup.metrics)
    add_insights_routes(app, setup.insights)
    app.on_shutdown.append(setup.stop_workers)
    app.on_cleanup.append(setup.close)
    return app
