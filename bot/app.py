"""The running bot: one aiohttp application wiring the webhook, the inbox, the worker pool,
the GitHub App client and the handlers together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

import aiohttp
import orjson
from aiohttp import web
from gidgethub import routing, sansio

from . import __version__, heat
from .config import ConfigLoader
from .context import COMMENT_TRY, Services
from .dispatch import Dispatcher
from .github import GitHubApp
from .inbox import ClaimedDelivery, Inbox
from .insights.activity import ActivityLog
from .insights.web import Insights, add_insights_routes
from .licensing.waivers import WaiverBook
from .logs import delivery_context
from .metrics import Metrics
from .perspective import Perspective
from .recognitions import RecognitionBook
from .redeliver import PeriodicRedelivery
from .render import Renderer
from .settings import Settings
from .signatures import SignatureBook
from .timers import ROUND_MARK, TimerBook
from .webhook import MAX_BODY, make_webhook_view
from .worker import WorkerPool

log = logging.getLogger(__name__)

BOT = web.AppKey("bot", "Bot")


def registered_routers() -> list[routing.Router]:
    """The handlers' routers: the one place in ``bot/`` that knows the handlers."""
    from handlers import ROUTERS

    return list(ROUTERS)


class Bot:
    """Everything one bot process holds, opened on start-up and closed on shutdown."""

    def __init__(self, settings: Settings, routers: Iterable[routing.Router] | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.inbox = Inbox(settings.database_url, lease_seconds=settings.lease_seconds)
        self.activity = ActivityLog(self.inbox, retention_days=settings.activity_retention_days)
        self.timers = TimerBook(self.inbox)
        self.recognitions = RecognitionBook(self.inbox)
        self._routers = list(routers) if routers is not None else registered_routers()
        self.session: aiohttp.ClientSession | None = None
        self.github: GitHubApp | None = None
        self.dispatcher: Dispatcher | None = None
        self.redelivery: PeriodicRedelivery | None = None  # with REDELIVER_EVERY, once started
        self._redelivery_task: asyncio.Task[None] | None = None
        self._timers_task: asyncio.Task[None] | None = None
        self.pool = WorkerPool(
            self.inbox,
            self.process,
            concurrency=settings.workers,
            metrics=self.metrics,
            retention_days=settings.retention_days,
            prune_also=self._prune_records,
        )

    async def _prune_records(self) -> int:
        """Forget what is kept past its use: old activity, comments' first tries once their
        deliveries are gone (a try is only looked up when its delivery is retried), and the
        claims on past rounds of looking for due timers."""
        before = time.time() - self.settings.retention_days * 86400
        forgotten = await self.inbox.forget_marks(COMMENT_TRY, before=before)
        forgotten += await self.inbox.forget_marks(ROUND_MARK, before=time.time() - 86400)
        return await self.activity.prune() + forgotten

    async def start(self, _app: web.Application | None = None) -> None:
        await self.inbox.open()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))
        self.github = GitHubApp(
            self.session,
            app_id=self.settings.app_id,
            private_key=self.settings.private_key,
            base_url=self.settings.api_url,
            metrics=self.metrics,
            slug=self.settings.app_slug,
            writes_per_minute=self.settings.writes_per_minute,
            writes_per_hour=self.settings.writes_per_hour,
        )
        services = Services(
            config=ConfigLoader(),
            renderer=Renderer(),
            inbox=self.inbox,
            app_slug=self.github.slug,
            client_for=self.github.installation_client,
            signatures=SignatureBook(self.inbox),
            waivers=WaiverBook(self.inbox),
            perspective=(
                Perspective(self.session, self.settings.perspective_api_key, url=self.settings.perspective_url)
                if self.settings.perspective_api_key
                else None
            ),
            activity=self.activity,
            timers=self.timers,
            recognitions=self.recognitions,
        )
        self.dispatcher = Dispatcher(self._routers, services, self.metrics)
        # The tone model takes a second to load: in a thread now, not on the loop at the first comment.
        asyncio.get_running_loop().run_in_executor(None, heat.load_model)
        # Deliveries recorded but unfinished when the last process stopped are claimed now.
        self.pool.start()
        self._timers_task = asyncio.create_task(self.timers.run(self.pool.wake), name="timers")
        if self.settings.redeliver_every > 0:
            self.redelivery = PeriodicRedelivery(self.github.app_client, self.inbox, self.settings.redeliver_every)
            self._redelivery_task = asyncio.create_task(self.redelivery.run(), name="redelivery")
        log.info(
            "community-bot %s started",
            __version__,
            extra={
                "fields": {
                    "database": self.inbox.url.split(":", 1)[0],
                    "lease_seconds": self.inbox.lease_seconds,
                    "redeliver_every": self.settings.redeliver_every or None,
                }
            },
        )

    async def stop_workers(self, _app: web.Application | None = None) -> None:
        await self._stop_feeders()
        await self.pool.stop()

    async def _stop_feeders(self) -> None:
        """Stop the periodic tasks that feed the inbox: redelivery rounds and due timers."""
        tasks, self._redelivery_task, self._timers_task = [self._redelivery_task, self._timers_task], None, None
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)

    async def close(self, _app: web.Application | None = None) -> None:
        await self._stop_feeders()  # in case the workers were never stopped
        if self.session is not None:
            await self.session.close()
        await self.inbox.close()

    async def process(self, delivery: ClaimedDelivery) -> str | None:
        """Run the handlers on one claimed delivery; the error to record, if any failed."""
        assert self.dispatcher is not None
        started = time.monotonic()
        event = sansio.Event(orjson.loads(delivery.payload), event=delivery.event, delivery_id=delivery.id)
        with delivery_context(
            delivery=delivery.id,
            event=delivery.event,
            action=delivery.action,
            installation=delivery.installation_id,
            repository=delivery.repository,
        ):
            try:
                failed = await self.dispatcher.dispatch(event, kept_rows=delivery.kept_rows)
            except Exception as exc:
                log.exception("delivery could not be dispatched")
                failed = [f"dispatch: {exc!r}"]
            if failed:
                self.metrics.failed.labels(delivery.event).inc()
                log.error("delivery failed", extra={"fields": {"failed_handlers": failed}})
                return "handlers failed: " + ", ".join(failed)
            self.metrics.processed.labels(delivery.event).inc()
            log.info("delivery processed", extra={"fields": {"seconds": round(time.monotonic() - started, 4)}})
            return None

    # Routes -----------------------------------------------------------------------------

    def webhook_view(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        return make_webhook_view(self.inbox, self.settings.webhook_secrets, self.metrics, self.pool)

    async def healthz(self, _request: web.Request) -> web.Response:
        database = await self.inbox.ping()
        return web.json_response(
            {"ok": database, "version": __version__, "database": database}, status=200 if database else 503
        )

    async def metrics_view(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": self.metrics.content_type})


def create_app(settings: Settings, routers: Iterable[routing.Router] | None = None) -> web.Application:
    bot = Bot(settings, routers)
    # Room for GitHub's largest delivery; the webhook answers 413 past it.
    app = web.Application(client_max_size=MAX_BODY)
    app[BOT] = bot
    app.router.add_route("*", "/webhook", bot.webhook_view())
    app.router.add_get("/healthz", bot.healthz)
    app.router.add_get("/metrics", bot.metrics_view)
    add_insights_routes(app, Insights(bot))
    app.on_startup.append(bot.start)
    app.on_shutdown.append(bot.stop_workers)
    app.on_cleanup.append(bot.close)
    return app
