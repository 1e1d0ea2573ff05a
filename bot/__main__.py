"""``community-bot``: serve the app (registering it on GitHub first, from a setup page, when
it has no credentials), replay one payload through the handlers without GitHub, export and
import the CLA signatures kept in the database, export the license waivers for an audit, check
config files, ask GitHub again for the deliveries it could not deliver, read repositories'
history into the insights' activity log, or report the insights' figures."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import gidgethub
from aiohttp import web
from gidgethub import sansio
from sqlalchemy.engine import make_url

from . import __version__, logs
from .app import create_app, registered_routers
from .config import CONFIG_PATH, DEFAULTS, ConfigError, ConfigLoader, RepoConfig, merge, parse
from .config_check import check
from .context import Services
from .dispatch import Dispatcher
from .github import DryRunGitHubAPI, GitHubApp
from .inbox import Inbox, InboxUnavailable
from .insights.backfill import Backfill, LogView, NotInstalled, RichView, Summary, parse_target
from .insights.metrics import Scope, compute
from .insights.metrics import repositories as recorded_repositories
from .insights.report import format_report
from .licensing.waivers import WaiverBook
from .licensing.waivers import to_csv as waivers_csv
from .licensing.waivers import to_json as waivers_json
from .redeliver import missed_deliveries, redeliver
from .render import Renderer
from .settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    database_url,
    duration,
    load_environment,
    load_settings,
)
from .setup import create_setup_app, has_credentials, load_setup_settings
from .signatures import SignatureBook, parse_export, to_csv, to_json

SHUTDOWN_SECONDS = 25.0
EXPORT_FORMATS = ("json", "csv")
REPORT_FORMATS = ("table", "markdown", "json", "csv")
T = TypeVar("T")


def _failed(message: str) -> int:
    """Say why a command cannot do its work, in one line; its exit status."""
    print(f"community-bot: {message}", file=sys.stderr)
    return 2


def serve(_args: argparse.Namespace) -> int:
    env = load_environment()
    if not has_credentials(env):
        return _serve_setup(env)
    try:
        settings = load_settings(env)
    except SettingsError as exc:
        return _failed(f"cannot start: {exc}")
    logs.configure(settings.log_level, secrets=settings.secrets)
    return _run(create_app(settings), settings.host, settings.port)


def setup(_args: argparse.Namespace) -> int:
    env = load_environment()
    if has_credentials(env):
        return _failed(
            "this server already has app credentials (GITHUB_APP_ID and the rest, in the environment "
            "or .env); `community-bot serve` runs it. Remove them to register another app."
        )
    return _serve_setup(env)


def _serve_setup(env: Mapping[str, str]) -> int:
    try:
        settings = load_setup_settings(env)
    except SettingsError as exc:
        return _failed(f"cannot start: {exc}")
    logs.configure(settings.log_level)
    print(
        f"community-bot: no GitHub App credentials yet. Open http://{settings.host}:{settings.port}/ to register the "
        "app on GitHub; this server starts serving webhooks as soon as that is done.",
        file=sys.stderr,
    )
    return _run(create_setup_app(settings), settings.host, settings.port)


def _run(app: web.Application, host: str, port: int) -> int:
    # aiohttp turns SIGTERM into a graceful stop: the socket closes first, then the workers
    # finish what they hold (bounded), then the database closes.
    _use_uvloop()
    try:
        web.run_app(app, host=host, port=port, shutdown_timeout=SHUTDOWN_SECONDS, print=None, access_log=None)
    except InboxUnavailable as exc:
        return _failed(f"cannot start: the database does not answer: {exc}")
    except OSError as exc:
        return _failed(f"cannot start: cannot listen on {host}:{port}: {exc.strerror}")
    return 0


def _use_uvloop() -> None:
    # uvloop's event loop answers webhooks and makes GitHub calls on less CPU than asyncio's;
    # it is not built for Windows, where the bot falls back to asyncio's loop.
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


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
        return _failed(f"cannot read {args.payload}: {exc}")
    if not isinstance(payload, dict):
        return _failed(f"{args.payload} is not a JSON object")
    config = None
    if args.config:
        try:
            config = RepoConfig(merge(DEFAULTS, parse(Path(args.config).read_text())), source=args.config)
        except (OSError, ConfigError) as exc:
            return _failed(f"config {args.config}: {exc}")
    failed = asyncio.run(_replay(payload, args.event, config, args.app_slug))
    if failed:
        print(f"community-bot: handlers failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _database_url(*, must_exist: bool) -> str:
    """DATABASE_URL as ``serve`` reads it, and nothing else: commands that only read or write
    the database need no GitHub settings. With ``must_exist``, a SQLite file that is not there
    is refused rather than created empty (an export or a report from the wrong directory would
    otherwise say "nothing there")."""
    env = load_environment()
    url = database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    parsed = make_url(url)
    if must_exist and parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise SettingsError(f"DATABASE_URL names {parsed.database}, which does not exist")
    return url


async def _with_inbox(url: str, work: Callable[[Inbox], Awaitable[T]]) -> T:
    inbox = Inbox(url)
    try:
        await inbox.open(take_back_unfinished=False)  # a server may be running beside us
        return await work(inbox)
    finally:
        await inbox.close()


def _in_database(work: Callable[[Inbox], Awaitable[T]], *, doing: str, must_exist: bool) -> T | None:
    """The outcome of ``work`` on the database, or None once the reason it could not run is
    printed."""
    try:
        return asyncio.run(_with_inbox(_database_url(must_exist=must_exist), work))
    except SettingsError as exc:
        print(f"community-bot: cannot {doing}: {exc}", file=sys.stderr)
    except InboxUnavailable as exc:
        print(f"community-bot: cannot {doing}: the database does not answer: {exc}", file=sys.stderr)
    return None


def _counted(count: int, noun: str = "signature") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def cla_export(args: argparse.Namespace) -> int:
    return _export(lambda inbox: SignatureBook(inbox).all(), to_csv if args.format == "csv" else to_json, args.output, "signature")


def license_waivers(args: argparse.Namespace) -> int:
    return _export(lambda inbox: WaiverBook(inbox).all(), waivers_csv if args.format == "csv" else waivers_json, args.output, "waiver")


def _export(read: Callable[[Inbox], Awaitable[list[Any]]], written: Callable[[list[Any]], str], output: str | None, noun: str) -> int:
    """Write out the records ``read`` from the database, as ``written`` formats them, to
    ``output`` or standard output."""
    logs.configure("WARNING")
    records = _in_database(read, doing="export", must_exist=True)
    if records is None:
        return 2
    text = written(records)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        return _failed(f"cannot write {output}: {exc.strerror}")
    print(f"community-bot: exported {_counted(len(records), noun)} to {output}")
    return 0


def cla_import(args: argparse.Namespace) -> int:
    logs.configure("WARNING")
    export_format = args.format or Path(args.file).suffix.lower().removeprefix(".")
    if export_format not in EXPORT_FORMATS:
        return _failed(f"cannot tell the format of {args.file} from its name: give --format csv or json")
    try:
        # utf-8-sig: a CSV saved by a spreadsheet often starts with a byte-order mark.
        signatures = parse_export(Path(args.file).read_text(encoding="utf-8-sig"), export_format)
    except OSError as exc:
        return _failed(f"cannot read {args.file}: {exc.strerror}")
    except ValueError as exc:
        return _failed(f"cannot import {args.file}: {exc}")
    new = _in_database(lambda inbox: SignatureBook(inbox).load(signatures), doing="import", must_exist=False)
    if new is None:
        return 2
    print(f"community-bot: imported {args.file}: {_counted(new)} new, {len(signatures) - new} already there")
    return 0


def config_check(args: argparse.Namespace) -> int:
    unreadable = invalid = False
    for name in args.files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"community-bot: cannot read {name}: {exc.strerror}", file=sys.stderr)
            unreadable = True
            continue
        except UnicodeDecodeError:
            print(f"community-bot: cannot read {name}: not UTF-8 text", file=sys.stderr)
            unreadable = True
            continue
        problems = check(text)
        for problem in problems:
            print(problem.format(name))
        if problems:
            invalid = True
        else:
            print(f"{name}: valid")
    return 2 if unreadable else 1 if invalid else 0


def _duration(text: str) -> float:
    """``90m``, ``24h``, ``3d`` (or plain seconds) as seconds, read as the settings read them."""
    try:
        return duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def _redeliver(settings: Settings, since: float, dry_run: bool) -> int:
    inbox = Inbox(settings.database_url)
    await inbox.open(take_back_unfinished=False)  # a server may be running beside us
    try:
        async with aiohttp.ClientSession() as session:
            app = GitHubApp(session, app_id=settings.app_id, private_key=settings.private_key, base_url=settings.api_url)
            missed = await missed_deliveries(app.app_client, inbox, since=time.time() - since)
            for delivery in missed:
                note = " (older than GitHub's redelivery window: not asked for)" if delivery.too_old else ""
                print(f"{delivery.guid} {delivery.event}{'.' + delivery.action if delivery.action else ''} {delivery.status}{note}")
            if dry_run:
                print(f"community-bot: {len(missed)} missed deliveries; none asked for (--dry-run)")
                return 0
            asked = await redeliver(app.app_client, missed)
            print(f"community-bot: {len(missed)} missed deliveries; asked GitHub to redeliver {asked}")
            return 0
    finally:
        await inbox.close()


def redeliver_command(args: argparse.Namespace) -> int:
    logs.configure("WARNING")
    try:
        settings = load_settings(load_environment())
    except SettingsError as exc:
        return _failed(f"cannot redeliver: {exc}")
    try:
        return asyncio.run(_redeliver(settings, args.since, args.dry_run))
    except InboxUnavailable as exc:
        return _failed(f"cannot redeliver: the database does not answer: {exc}")
    except (aiohttp.ClientError, gidgethub.GitHubException) as exc:
        return _failed(f"cannot redeliver: GitHub did not answer as expected: {exc!r}")


async def _backfill(
    settings: Settings, owner: str, repo: str | None, since: float, view: LogView | RichView, runs: list[Backfill]
) -> Summary:
    inbox = Inbox(settings.database_url)
    await inbox.open(take_back_unfinished=False)  # a server may be running beside us
    try:
        async with aiohttp.ClientSession() as session:
            backfill = Backfill(
                session,
                inbox,
                app_id=settings.app_id,
                private_key=settings.private_key,
                api_url=settings.api_url,
                since=since,
                view=view,
            )
            runs.append(backfill)  # its summary so far, should the run stop half-way
            return await backfill.run(owner, repo)
    finally:
        await inbox.close()


def insights_backfill(args: argparse.Namespace) -> int:
    try:
        owner, repo = parse_target(args.target)
        settings = load_settings(load_environment())
    except (ValueError, SettingsError) as exc:
        return _failed(f"cannot backfill: {exc}")
    longest = settings.activity_retention_days * 86400
    if args.since > longest:
        print(
            f"community-bot: reading the last {settings.activity_retention_days} days only: older activity is "
            "forgotten anyway (ACTIVITY_RETENTION_DAYS)",
            file=sys.stderr,
        )
    since = time.time() - min(args.since, longest)
    # A terminal gets progress bars, log lines printed above them (errors only: the bars say the
    # rest); anything else, such as a container's log, one JSON line per page.
    interactive = sys.stderr.isatty()
    view = RichView() if interactive else LogView()
    if isinstance(view, RichView):
        logs.configure("ERROR", secrets=settings.secrets, stream=view.log_stream)
    else:
        logs.configure("INFO", secrets=settings.secrets)
    runs: list[Backfill] = []
    target = args.target.strip()
    try:
        with view:
            summary = asyncio.run(_backfill(settings, owner, repo, since, view, runs))
    except KeyboardInterrupt:
        return _stopped(runs, "interrupted", 130)
    except NotInstalled as exc:
        return _failed(f"cannot backfill: {exc}")
    except InboxUnavailable as exc:
        return _stopped(runs, f"cannot backfill: the database does not answer: {exc}", 2)
    except gidgethub.BadRequest as exc:
        if exc.status_code == 401:
            return _failed("cannot backfill: GitHub refused the app's credentials (GITHUB_APP_ID, the private key)")
        return _stopped(runs, f"cannot backfill: GitHub did not answer as expected: {exc!r}", 2)
    except (aiohttp.ClientError, gidgethub.GitHubException) as exc:
        return _stopped(runs, f"cannot backfill: GitHub did not answer as expected: {exc!r}", 2)
    for skipped in summary.skipped:
        print(f"community-bot: skipped {skipped}", file=sys.stderr)
    day = datetime.datetime.fromtimestamp(since, datetime.UTC).date()
    print(f"community-bot: backfilled {target} since {day}: {_summary_line(summary)}")
    return 0


def _summary_line(summary: Summary) -> str:
    repositories = "1 repository" if summary.repositories == 1 else f"{summary.repositories} repositories"
    rows = f"{summary.added} rows added" if summary.added else "nothing new"
    return (
        f"{repositories} read, {rows}, {summary.already_there} already there, {summary.api_calls} API calls, "
        f"{summary.waited:.0f} s waited for GitHub's rate limit"
    )


def _stopped(runs: list[Backfill], why: str, status: int) -> int:
    """Why a run stopped, in one line; if it stopped half-way, what it did and that running it
    again continues."""
    summary = runs[0].summary if runs else None
    if summary is not None and (summary.repositories or summary.added or summary.already_there):
        why += f" after {_summary_line(summary)}; the same command continues where this one stopped"
    print(f"community-bot: {why}", file=sys.stderr)
    return status


def _report_scope(args: argparse.Namespace) -> tuple[str | None, tuple[str, ...] | None]:
    """The owner and repositories a report covers, lower-case: ``--org O`` is (o, None), ``--repo
    O/R`` (o, ("o/r",)); neither is (None, None), every repository. ValueError for a bad name."""
    if args.repo is not None:
        owner, repo = parse_target(args.repo)
        if repo is None:
            raise ValueError(f"--repo {args.repo!r} is not OWNER/REPO")
        return owner.lower(), (f"{owner}/{repo}".lower(),)
    if args.org is not None:
        owner, repo = parse_target(args.org)
        if repo is not None:
            raise ValueError(f"--org {args.org!r} is not an owner (--repo takes OWNER/REPO)")
        return owner.lower(), None
    return None, None


def insights_report(args: argparse.Namespace) -> int:
    logs.configure("WARNING")
    try:
        owner, named = _report_scope(args)
    except ValueError as exc:
        return _failed(f"cannot report: {exc}")
    until = time.time()

    async def figures(inbox: Inbox) -> dict:
        repositories = named if owner is not None else tuple(await recorded_repositories(inbox))
        return await compute(inbox, Scope(owner=owner, repositories=repositories, since=until - args.since, until=until))

    computed = _in_database(figures, doing="report", must_exist=True)
    if computed is None:
        return 2
    text = format_report(computed, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    top.add_argument("--version", action="version", version=f"community-bot {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="serve GitHub's webhook deliveries (settings from the environment or .env); with no app credentials, "
        "serve the setup page first",
    ).set_defaults(run=serve)
    commands.add_parser(
        "setup", help="register the GitHub App from a page on http://127.0.0.1:PORT/, then serve (no credentials yet)"
    ).set_defaults(run=setup)
    play = commands.add_parser(
        "replay", help="run the handlers on one payload and print each GitHub API call they would make, making none"
    )
    play.add_argument("payload", help="a webhook payload, as JSON")
    play.add_argument("--event", required=True, help="the event name GitHub would send in X-GitHub-Event")
    play.add_argument("--config", help="use this .github/community-bot.yml instead of reading the repository's")
    play.add_argument("--app-slug", default="community-bot", help="the app's slug, to recognise its own events")
    play.set_defaults(run=replay)
    cla = commands.add_parser("cla", help="export or import the CLA signatures kept in the database (DATABASE_URL only)")
    cla_commands = cla.add_subparsers(dest="cla_command", required=True)
    export = cla_commands.add_parser("export", help="write every signature, oldest first")
    _export_options(export, default="json")
    export.set_defaults(run=cla_export)
    load = cla_commands.add_parser("import", help="add an export's signatures; those already recorded stay as they are")
    load.add_argument("file", help="an export, as written by `cla export` or in the same shape")
    load.add_argument("--format", choices=EXPORT_FORMATS, help="default: from the file's extension, .csv or .json")
    load.set_defaults(run=cla_import)
    licensing = commands.add_parser("licenses", help="the license waivers maintainers granted (DATABASE_URL only)")
    licensing_commands = licensing.add_subparsers(dest="licenses_command", required=True)
    waivers = licensing_commands.add_parser("waivers", help="write every waiver, oldest first, for an audit")
    _export_options(waivers, default="csv")
    waivers.set_defaults(run=license_waivers)
    config = commands.add_parser("config", help=f"check {CONFIG_PATH} files")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    checking = config_commands.add_parser(
        "check",
        help="check config files against the bot's schema, printing FILE:LINE: KEY: problem for each problem",
        description=(
            f"Check each {CONFIG_PATH} against the bot's schema and print FILE:LINE: KEY: problem for each "
            "problem, or FILE: valid. Only the file itself is checked: _extends is not followed. "
            "Exit status: 0 all valid, 1 problems found, 2 a usage error or a file that could not be read."
        ),
    )
    checking.add_argument("files", nargs="+", metavar="FILE", help=f"a {CONFIG_PATH}")
    checking.set_defaults(run=config_check)
    again = commands.add_parser(
        "redeliver",
        help="ask GitHub again for the deliveries it could not deliver (after downtime)",
        description=(
            "Read the app's delivery log, list the deliveries that no attempt delivered and the database does "
            "not hold, and ask GitHub to deliver them again. Deliveries older than GitHub's redelivery window "
            "(3 days) are listed, not asked for."
        ),
    )
    again.add_argument("--since", type=_duration, default=_duration("24h"), help="how far back to look: 90m, 24h, 3d (default 24h)")
    again.add_argument("--dry-run", action="store_true", help="list them, ask for none")
    again.set_defaults(run=redeliver_command)
    insights = commands.add_parser(
        "insights", help="community health insights: fill in the history, report the figures"
    )
    insights_commands = insights.add_subparsers(dest="insights_command", required=True)
    backfill = insights_commands.add_parser(
        "backfill",
        help="read a repository's history (or an owner's repositories') from GitHub into the activity log",
        description=(
            "Read issues, pull requests, comments, reviews, review comments and good-first-issue labellings since a "
            "time through the app's installation, and record them as the webhooks would have. Idempotent: a second "
            "run adds nothing. An interrupted run (Ctrl-C, a crash) continues from its last page when run again. "
            "Waits for GitHub's rate limit when it is spent. Settings as `serve` reads them."
        ),
    )
    backfill.add_argument(
        "target", metavar="OWNER/REPO|OWNER", help="one repository, or every one the app's installation on OWNER covers"
    )
    backfill.add_argument(
        "--since", type=_duration, default=_duration("365d"), help="how far back: 90d, 365d (default 365d)"
    )
    backfill.set_defaults(run=insights_backfill)
    report = insights_commands.add_parser(
        "report",
        help="print the community health figures from the database (DATABASE_URL only)",
        description="Print the CHAOSS figures computed from the activity log, for an owner, one repository, or all.",
    )
    scope = report.add_mutually_exclusive_group()
    scope.add_argument("--org", metavar="OWNER", help="an organisation's (or a person's) repositories")
    scope.add_argument("--repo", metavar="OWNER/REPO", help="one repository")
    report.add_argument(
        "--since", type=_duration, default=_duration("90d"), help="the window, back from now (default 90d)"
    )
    report.add_argument("--format", choices=REPORT_FORMATS, default="table", help="default: table")
    report.set_defaults(run=insights_report)
    return top


def _export_options(command: argparse.ArgumentParser, *, default: str) -> None:
    command.add_argument("--format", choices=EXPORT_FORMATS, default=default, help=f"default: {default}")
    command.add_argument("--output", help="write to this file instead of standard output")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
