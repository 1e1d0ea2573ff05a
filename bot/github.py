"""Talking to GitHub as a GitHub App: app JWT, cached installation tokens, and a client whose
requests renew tokens, retry, wait when GitHub asks, and pace writes.

Everything goes through gidgethub: its app client makes and reuses the JWT (``apps.get_jwt``)
that asks for installation tokens, its
conditional-request cache turns repeated GETs into 304s, and its ``handle_rate_limit_error`` /
``manage_rate_limit`` hooks carry the retry and waiting policy.
"""

from __future__ import annotations

import asyncio
import datetime
import http
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TextIO, TypeVar

import aiohttp
import cachetools
import gidgethub
import gidgethub.abc
import gidgethub.aiohttp
from cryptography.hazmat.primitives import serialization

from . import __version__
from .metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = f"community-bot/{__version__}"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
# Renew an installation token this long before GitHub says it expires.
TOKEN_RENEW_BEFORE = 5 * 60


class GitHubUnreachable(gidgethub.GitHubBroken):
    """No answer from GitHub (connection refused, reset, timed out) after the retries."""

    def __init__(self, message: str) -> None:
        super().__init__(http.HTTPStatus.GATEWAY_TIMEOUT, message)


class TokenBucket:
    """At most ``capacity`` acquisitions in a burst, refilled at ``capacity`` per ``period``."""

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self._tokens = float(capacity)
        self._updated = time.monotonic()

    def delay(self) -> float:
        """Take a token now if there is one (0.0), else reserve the next and say how long to wait."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class WritePacer:
    """GitHub's secondary limits on content-creating requests, per installation."""

    def __init__(self, per_minute: int, per_hour: int) -> None:
        self._buckets = [TokenBucket(n, period) for n, period in ((per_minute, 60), (per_hour, 3600)) if n > 0]

    async def acquire(self) -> None:
        wait = max((bucket.delay() for bucket in self._buckets), default=0.0)
        if wait > 0:
            await asyncio.sleep(wait)


class RetryPolicy:
    """How often and how long a request may be retried, and how long to wait when asked to."""

    def __init__(self, attempts: int = 3, backoff: float = 0.5, max_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait

    def backoff_delay(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())


def requested_wait(exc: gidgethub.HTTPException) -> float | None:
    """Seconds GitHub asked us to wait before trying again, or None if it asked nothing.

    gidgethub raises RateLimitExceeded for an exhausted primary limit, but reports a
    secondary-limit 403/429 as a plain BadRequest: its ``Retry-After`` header says how long.
    """
    headers = {k.lower(): v for k, v in exc.headers.items()}
    if "retry-after" in headers:
        try:
            return max(0.0, float(headers["retry-after"]))
        except ValueError:
            return None
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1
        except ValueError:
            return None
    if exc.status_code == 429:
        return 60.0  # GitHub's advice when a secondary limit names no time: wait a minute
    return None


class GitHubAPI(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client with the bot's policy on tokens, retries, waits and pacing."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        metrics: Metrics | None = None,
        retry: RetryPolicy | None = None,
        app: GitHubApp | None = None,
        installation_id: int | None = None,
        pacer: WritePacer | None = None,
        cache: cachetools.Cache | None = None,
        **auth: Any,
    ) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url, cache=cache, **auth)
        self._metrics = metrics
        self._retry = retry or RetryPolicy()
        self._app = app
        self.installation_id = installation_id
        self._pacer = pacer

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self._app is not None and self.installation_id is not None:
            # Asked for on every attempt, so a retry after a 401 carries the renewed token.
            token = await self._app.installation_token(self.installation_id)
            headers = {**headers, "authorization": f"token {token}"}
        if self._pacer is not None and method in WRITE_METHODS:
            await self._pacer.acquire()
        attempt = 0
        while True:
            attempt += 1
            try:
                status, response_headers, response_body = await super()._request(method, url, headers, body)
            except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
                self._count(method, "unreachable")
                # A POST that timed out may have been carried out: repeating it could post a
                # comment twice. Only a refused connection proves nothing was sent.
                may_retry = method in IDEMPOTENT_METHODS or isinstance(exc, aiohttp.ClientConnectorError)
                if not may_retry or attempt >= self._retry.attempts:
                    raise GitHubUnreachable(f"no answer from GitHub for {method} {url}: {exc!r}") from exc
                await self.sleep(self._retry.backoff_delay(attempt))
                continue
            self._count(method, str(status))
            return status, response_headers, response_body

    def _count(self, method: str, status: str) -> None:
        if self._metrics is not None:
            self._metrics.api_calls.labels(method, status).inc()

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: gidgethub.HTTPException, attempt: int
    ) -> bool:
        status = exception.status_code
        if attempt >= self._retry.attempts:
            return False
        if status == 401 and self._app is not None and self.installation_id is not None and attempt == 1:
            log.info("GitHub refused the installation token; renewing it once")
            self._app.forget_token(self.installation_id)
            return True
        if status in (403, 429):
            wait = requested_wait(exception)
            if wait is None or wait > self._retry.max_wait:
                return False
            log.warning("GitHub asked to wait %.1fs before %s %s", wait, method, url)
            await self.sleep(wait)
            return True
        if isinstance(exception, gidgethub.GitHubBroken) and method in IDEMPOTENT_METHODS:
            await self.sleep(self._retry.backoff_delay(attempt))
            return True
        return False

    async def manage_rate_limit(self, *, method: str, url: str) -> None:
        # gidgethub counts this request down before calling us: below zero, the primary
        # limit is spent until its reset.
        limit = self.rate_limit
        if limit is None or limit.remaining >= 0:
            return
        wait = (limit.reset_datetime - datetime.datetime.now(datetime.UTC)).total_seconds() + 1
        if wait <= 0:
            return
        if wait > self._retry.max_wait:
            raise gidgethub.RateLimitExceeded(limit, f"rate limit spent until {limit.reset_datetime}")
        log.warning("GitHub rate limit spent; waiting %.1fs", wait)
        await self.sleep(wait)


class GitHubApp:
    """The app's identity and its installations' tokens and clients, over one HTTP session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        app_id: str,
        private_key: str,
        base_url: str,
        metrics: Metrics | None = None,
        slug: str | None = None,
        writes_per_minute: int = 80,
        writes_per_hour: int = 500,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self.app_id = app_id
        self.base_url = base_url
        self._metrics = metrics
        self._slug = slug
        self._writes = (writes_per_minute, writes_per_hour)
        self._retry = retry or RetryPolicy()
        self._tokens: cachetools.TLRUCache[int, tuple[str, float]] = cachetools.TLRUCache(
            maxsize=10_000, ttu=lambda _key, value, _now: value[1] - TOKEN_RENEW_BEFORE, timer=time.time
        )
        self._pending: dict[Any, asyncio.Future[Any]] = {}
        # A client per installation keeps its rate-limit state and write pacing.
        self._clients: cachetools.LRUCache[int, GitHubAPI] = cachetools.LRUCache(maxsize=1_000)
        self._conditional_cache = ConditionalCache(maxsize=1_000)
        # The key is read once: parsing a PEM key costs 40-60 ms, and gidgethub's apps helper
        # would do it for every token, stalling every delivery meanwhile. Signing with the
        # parsed key costs 1 ms, and the app client reuses its JWT until it nears expiry.
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
        self.app_client = self._client(app_id=app_id, private_key=key)

    def _client(self, **kwargs: Any) -> GitHubAPI:
        return GitHubAPI(self._session, base_url=self.base_url, metrics=self._metrics, retry=self._retry, **kwargs)

    def installation_client(self, installation_id: int) -> GitHubAPI:
        client = self._clients.get(installation_id)
        if client is None:
            client = self._client(
                app=self,
                installation_id=installation_id,
                pacer=WritePacer(*self._writes),
                cache=self._conditional_cache,
            )
            self._clients[installation_id] = client
        return client

    async def installation_token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        return await self._shared(("token", installation_id), lambda: self._fetch_token(installation_id))

    async def _shared(self, key: Any, fetch: Callable[[], Awaitable[T]]) -> T:
        """Concurrent deliveries asking for the same thing share one request for it."""
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(fetch())
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(pending)

    async def _fetch_token(self, installation_id: int) -> str:
        answer = await self.app_client.post(f"/app/installations/{installation_id}/access_tokens", data=b"")
        expires_at = github_time(answer["expires_at"])
        self._tokens[installation_id] = (answer["token"], expires_at)
        log.info("installation token issued", extra={"fields": {"installation": installation_id}})
        return answer["token"]

    def forget_token(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)

    async def slug(self) -> str:
        """The app's slug: its events come from ``<slug>[bot]``."""
        if self._slug is None:
            self._slug = await self._shared("slug", self._fetch_slug)
        return self._slug

    async def _fetch_slug(self) -> str:
        return (await self.app_client.getitem("/app"))["slug"]


async def getitem_or_none(gh: gidgethub.abc.GitHubAPI, url: str, url_vars: Mapping[str, Any]) -> Any:
    """GitHub's answer to a GET, or None where GitHub says 404: no such thing (a file, a label, a
    person, a team member), which is an answer, not a failure."""
    try:
        return await gh.getitem(url, url_vars)
    except gidgethub.BadRequest as exc:
        if exc.status_code == 404:
            return None
        raise


def is_bot(user: Any) -> bool:
    """Whether a GitHub account (a payload's or the API's user object) is a bot's."""
    if not isinstance(user, dict):
        return False
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


def github_time(timestamp: str) -> float:
    """Epoch seconds of one of GitHub's ISO 8601 times (``2026-11-25T22:01:58Z``)."""
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class ConditionalCache(cachetools.LRUCache[str, Any]):
    """gidgethub's cache of answers by URL, for conditional requests (a 304 costs no rate limit).

    One for all installations, so memory stays bounded however many there are: a URL is one
    repository's, and GitHub answers another installation's conditional request with 304 only
    where it may read the same thing. Searches are not kept: each is asked once.
    """

    def __setitem__(self, url: str, answer: Any) -> None:
        if "/search/" not in url:
            super().__setitem__(url, answer)


class DryRunGitHubAPI(gidgethub.abc.GitHubAPI):
    """Prints each request it is asked to make, one JSON line each, and makes none.

    Every request is answered 200 with an empty JSON object, which handlers read as "nothing
    there": no file, no comments, no items.
    """

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(USER_AGENT, oauth_token="dry-run")
        self._out = out or sys.stdout

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        path = url.removeprefix(self.base_url)
        line: dict[str, Any] = {"method": method, "path": path}
        if body:
            line["body"] = json.loads(body)
        print(json.dumps(line), file=self._out, flush=True)
        return 200, {"content-type": "application/json"}, b"{}"

    async def sleep(self, seconds: float) -> None:
        return None
