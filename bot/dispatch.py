"""Hands each event to every handler that subscribes to it, one by one, so one handler's
failure neither hides nor stops the others (gidgethub's ``Router.dispatch`` stops at the first
exception)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from gidgethub import routing, sansio

from .checks import rerequested_pull_request
from .config import touches_config
from .context import EventContext, Services, is_bot
from .inbox import RowWrite
from .metrics import Metrics

log = logging.getLogger(__name__)

Handler = Callable[..., Any]


def accepts_bots(handler: Handler) -> Handler:
    """Let events sent by other bots reach this handler (a check must finish on a Dependabot PR)."""
    handler.accepts_bots = True  # type: ignore[attr-defined]
    return handler


PullRequestCheck = Callable[[EventContext, dict[str, Any]], Awaitable[None]]


def pull_request_check(router: routing.Router, name: str, actions: Iterable[str]) -> Callable[[PullRequestCheck], PullRequestCheck]:
    """Make ``check(ctx, pull)`` the pull request check ``name``: run on these ``pull_request``
    actions, and again when someone re-runs its check run or suite. Bots' pull requests get
    it too: a required check that never reports would block their merge for ever."""

    def register(check: PullRequestCheck) -> PullRequestCheck:
        async def on_pull_request(event: sansio.Event, ctx: EventContext) -> None:
            await check(ctx, event.data["pull_request"])

        async def on_rerun(event: sansio.Event, ctx: EventContext) -> None:
            app_slug = await ctx.bot_slug()
            pull = await rerequested_pull_request(ctx.gh, owner=ctx.owner, repo=ctx.repo, event=event, name=name, app_slug=app_slug)
            if pull is not None:
                await check(ctx, pull)

        for handler in (on_pull_request, on_rerun):
            handler.__module__ = check.__module__  # named after the check in logs and metrics
            handler.__qualname__ = f"{check.__qualname__}.{handler.__name__}"
            accepts_bots(handler)
        for action in actions:
            router.add(on_pull_request, "pull_request", action=action)
        router.add(on_rerun, "check_run", action="rerequested")
        router.add(on_rerun, "check_suite", action="rerequested")
        return check

    return register


RepositoryCheck = Callable[[EventContext, str, str], Awaitable[None]]


def on_repository_setup(router: routing.Router) -> Callable[[RepositoryCheck], RepositoryCheck]:
    """Make ``check(ctx, owner, repo)`` run for each repository the app is installed on, as it
    is, and again after a push to a repository's default branch that may have changed its
    config (a section just turned on)."""

    def register(check: RepositoryCheck) -> RepositoryCheck:
        async def on_installed(event: sansio.Event, ctx: EventContext) -> None:
            repositories = event.data.get("repositories") or event.data.get("repositories_added") or []
            for repository in repositories:
                owner, _, name = repository["full_name"].partition("/")
                await check(ctx, owner, name)

        async def on_push(event: sansio.Event, ctx: EventContext) -> None:
            repository = event.data["repository"]
            if event.data.get("ref") == f"refs/heads/{repository.get('default_branch')}" and touches_config(event.data):
                await check(ctx, ctx.owner, ctx.repo)

        for handler in (on_installed, on_push):
            handler.__module__ = check.__module__
            handler.__qualname__ = f"{check.__qualname__}.{handler.__name__}"
        router.add(on_installed, "installation", action="created")
        router.add(on_installed, "installation_repositories", action="added")
        router.add(on_push, "push")
        return check

    return register


def handler_name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


class Dispatcher:
    def __init__(self, routers: Iterable[routing.Router], services: Services, metrics: Metrics | None = None) -> None:
        self.router = routing.Router(*routers)
        self.services = services
        self.metrics = metrics

    async def handlers_for(self, event: sansio.Event) -> list[Handler]:
        """The handlers this event reaches, in a stable order."""
        handlers = sorted(self.router.fetch(event), key=handler_name)
        payload = event.data if isinstance(event.data, dict) else {}
        if handlers and not (payload.get("installation") or {}).get("id"):
            # Sent by a repository's own webhook, not to the app: there is no installation to
            # act as, so nothing can be done.
            log.warning("event without an installation; no handler runs")
            return []
        sender = payload.get("sender")
        if handlers and is_bot(sender):
            if sender.get("login") == f"{await self.services.app_slug()}[bot]":
                return []  # our own doing: answering it could loop
            handlers = [h for h in handlers if getattr(h, "accepts_bots", False)]
        return handlers

    async def dispatch(self, event: sansio.Event, *, kept_rows: list[RowWrite] | None = None) -> list[str]:
        """Run the event's handlers; the names of those that raised. ``kept_rows``: see
        ``EventContext``."""
        if event.event == "push" and isinstance(event.data, dict):
            self.services.config.invalidate_on_push(event.data)
        if isinstance(event.data, dict):
            self.services.lookups.invalidate_on(event.event, event.data)
        failed = []
        context = EventContext(event, self.services, kept_rows=kept_rows)
        for handler in await self.handlers_for(event):
            name = handler_name(handler)
            try:
                await handler(event, context)
            except Exception:
                log.exception("handler %s failed", name, extra={"fields": {"handler": name}})
                if self.metrics is not None:
                    self.metrics.handler_errors.labels(name).inc()
                failed.append(name)
        return failed
