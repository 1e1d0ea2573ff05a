"""``community-bot``: serve the app, or replay one payload through the handlers without GitHub."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web
from gidgethub import sansio

from . import __version__, logs
from .app import create_app, registered_routers
from .config import DEFAULTS, ConfigError, ConfigLoader, RepoConfig, merge, parse
from .context import Services
from .dispatch import Dispatcher
from .github import DryRunGitHubAPI
from .inbox import InboxUnavailable
from .render import Renderer
from .settings import SettingsError, load_environment, load_settings

SHUTDOWN_SECONDS = 25.0


def serve(_args: argparse.Namespace) -> int:
    env = load_environment()
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        print(f"community-bot: cannot start: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, secrets=settings.secrets)
    # aiohttp turns SIGTERM into a graceful stop: the socket closes first, then the workers
    # finish what they hold (bounded), then the database closes.
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            shutdown_timeout=SHUTDOWN_SECONDS,
            print=None,
            access_log=None,
        )
    except InboxUnavailable as exc:
        print(f"community-bot: cannot start: the database does not answer: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"community-bot: cannot start: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


async def _replay(payload: dict, event_name: str, config: RepoConfig | None, app_slug: str) -> list[str]:
    client = DryRunGitHubAPI()

    async def slug() -> str:
        return app_slug

    services = Services(
        config=ConfigLoader(),
        renderer=Renderer(),
        inbox=None,
        app_slug=slug,
        client_for=lambda _installation: client,
        fixed_config=config,
    )
    # An example saved from a repository's own webhook names no installation; the app's always do.
    payload.setdefault("installation", {"id": 1})
    event = sansio.Event(payload, event=event_name, delivery_id="replay")
    return await Dispatcher(registered_routers(), services).dispatch(event)


def replay(args: argparse.Namespace) -> int:
    logs.configure("WARNING")
    try:
        payload = json.loads(Path(args.payload).read_text())
    except (OSError, ValueError) as exc:
        print(f"community-bot: cannot read {args.payload}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(payload, dict):
        print(f"community-bot: {args.payload} is not a JSON object", file=sys.stderr)
        return 2
    config = None
    if args.config:
        try:
            config = RepoConfig(merge(DEFAULTS, parse(Path(args.config).read_text())), source=args.config)
        except (OSError, ConfigError) as exc:
            print(f"community-bot: config {args.config}: {exc}", file=sys.stderr)
            return 2
    failed = asyncio.run(_replay(payload, args.event, config, args.app_slug))
    if failed:
        print(f"community-bot: handlers failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    top.add_argument("--version", action="version", version=f"community-bot {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve GitHub's webhook deliveries (settings from the environment or .env)").set_defaults(run=serve)
    play = commands.add_parser(
        "replay", help="run the handlers on one payload and print each GitHub API call they would make, making none"
    )
    play.add_argument("payload", help="a webhook payload, as JSON")
    play.add_argument("--event", required=True, help="the event name GitHub would send in X-GitHub-Event")
    play.add_argument("--config", help="use this .github/community-bot.yml instead of reading the repository's")
    play.add_argument("--app-slug", default="community-bot", help="the app's slug, to recognise its own events")
    play.set_defaults(run=replay)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
