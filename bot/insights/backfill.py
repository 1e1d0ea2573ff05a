"""The backfill: a repository's history, or that of every repository an owner's installation
covers, read through the REST API into the activity log as the very rows the webhook handler
writes (``bot.insights.activity``'s builders), so the insights also cover the time before the
bot listened.

Four listings per repository, each read in an order that new activity only adds to or pushes
on, so that paging through them while people work reads some items twice (adding nothing) but
skips none (a deletion meanwhile may hide one, which the next run reads):

- issues and pull requests updated in the window, oldest created first (the issues API lists
  pull requests too, with ``pull_request.merged_at`` and their bodies): opened, closed, merged,
  the issues a merged pull request closes; and each pull request's reviews;
- comments on issues and pull requests, and review comments, updated in the window, oldest
  first;
- issue events, newest first, back to the window's start: good-first-issue labellings.

Rows are recorded page by page (the labellings once the events are read: the first labelling
of an issue is the one kept, and newest first it comes last). After each page, the repository's
checkpoint is saved in ``backfill_checkpoints``, so a run that stops (Ctrl-C, a crash, GitHub down)
continues from the next page when run again. A repository read to the end has its checkpoint
forgotten: a second run reads it again, and every row it makes is there already.

Waiting for GitHub's rate limit is the client's (``bot.github``); the backfill's waits up to an
hour, the limit's whole window, where the server's gives up after a minute.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import functools
import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import gidgethub
from gidgethub.abc import GitHubAPI as AbstractGitHubAPI
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import Column, Float, String, Table, Text, delete, select

from ..config import ConfigLoader
from ..github import ConditionalCache, GitHubAPI, GitHubApp, RetryPolicy, github_time, is_bot
from ..inbox import Inbox, metadata
from ..logs import fields
from ..metrics import Metrics
from .activity import (
    COMMENT,
    PR_OPENED,
    REVIEW,
    REVIEW_COMMENT,
    Activity,
    ActivityLog,
    activity,
    comment_row,
    item_rows,
    labeled_row,
)

log = logging.getLogger(__name__)

PER_PAGE = 100  # GitHub's most
# GitHub's primary rate limit resets within the hour: waiting that long is better than failing
# a backfill that has hours to go (the client adds a second past the reset).
RATE_LIMIT_MAX_WAIT = 3600 + 60
ITEMS, COMMENTS, REVIEW_COMMENTS, LABELLINGS = "issues and pull requests", "comments", "review comments", "labellings"
LISTINGS = (ITEMS, COMMENTS, REVIEW_COMMENTS, LABELLINGS)
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_TARGET = re.compile(rf"(?P<owner>{_OWNER})(?:/(?P<repo>[A-Za-z0-9._-]{{1,100}}))?")

# Where each repository's unfinished backfill stands (on the inbox's metadata: whoever opens an
# inbox after importing this module gets the table).
backfill_checkpoints = Table(
    "backfill_checkpoints",
    metadata,
    Column("repository", String(200), primary_key=True),  # owner/name, lower-case
    Column("since", Float, nullable=False),  # the start of the window it reads, epoch seconds
    Column("state", Text, nullable=False),  # JSON: see Checkpoint
    Column("updated_at", Float, nullable=False),
)


class NotInstalled(Exception):
    """The app has no installation where the backfill was asked to read."""


def parse_target(text: str) -> tuple[str, str | None]:
    """``OWNER/REPO`` or ``OWNER`` as (owner, repo or None); ValueError for anything else."""
    match = _TARGET.fullmatch(text.strip())
    if match is None or match["repo"] in (".", ".."):
        raise ValueError(f"{text!r} is neither OWNER/REPO nor OWNER")
    return match["owner"], match["repo"]


@dataclasses.dataclass
class Checkpoint:
    """How far one repository's backfill has read: per listing, the pages done, and which
    listings are done; the good-first-issue labellings found so far (by issue number, the
    earliest seen), recorded when the events are read to the window's start."""

    since: float
    pages: dict[str, int] = dataclasses.field(default_factory=dict)
    done: list[str] = dataclasses.field(default_factory=list)
    labellings: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def state(self) -> str:
        return json.dumps({"pages": self.pages, "done": self.done, "labellings": self.labellings})

    @classmethod
    def load(cls, since: float, state: str) -> Checkpoint:
        return cls(since=since, **json.loads(state))


@dataclasses.dataclass
class Summary:
    """What a run did."""

    repositories: int = 0  # read to the end
    skipped: list[str] = dataclasses.field(default_factory=list)  # "owner/name: why"
    added: int = 0
    already_there: int = 0
    waited: float = 0.0  # seconds, for GitHub's rate limit
    api_calls: int = 0


class View(Protocol):
    """Where a run shows how it goes: progress bars on a terminal, log lines elsewhere."""

    def started(self, repository: str, resumed: bool) -> None: ...
    def page(self, repository: str, listing: str, pages: int, items: int, added: int) -> None: ...
    def listing_done(self, repository: str, listing: str) -> None: ...
    def finished(self, repository: str, added: int, already_there: int) -> None: ...
    def skipped(self, repository: str, reason: str) -> None: ...
    def waiting(self, seconds: float) -> None: ...


class BackfillClient(GitHubAPI):
    """An installation's client that tells the view when it waits for GitHub's rate limit, and
    adds up how long. The bot's client waits in two hooks, before a request whose limit is spent
    and after a refusal that names a wait; its other sleeps (retry backoff) are not counted."""

    def __init__(self, *args: Any, view: View, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waited = 0.0
        self._view = view
        self._for_rate_limit = False

    async def manage_rate_limit(self, *, method: str, url: str) -> None:
        self._for_rate_limit = True
        try:
            await super().manage_rate_limit(method=method, url=url)
        finally:
            self._for_rate_limit = False

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: gidgethub.HTTPException, attempt: int
    ) -> bool:
        self._for_rate_limit = exception.status_code in (403, 429)
        try:
            return await super().handle_rate_limit_error(method=method, url=url, exception=exception, attempt=attempt)
        finally:
            self._for_rate_limit = False

    async def sleep(self, seconds: float) -> None:
        if self._for_rate_limit:
            self.waited += seconds
            self._view.waiting(seconds)
        await super().sleep(seconds)


class Backfill:
    """One run: reads a target's repositories since a time into the activity log."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        inbox: Inbox,
        *,
        app_id: str,
        private_key: str,
        api_url: str,
        since: float,
        view: View,
        per_page: int = PER_PAGE,
    ) -> None:
        self._session = session
        self._inbox = inbox
        self._log = ActivityLog(inbox)
        self._since = since
        self._view = view
        self._per_page = per_page
        self._metrics = Metrics()  # counts every request, the app's and the installation's
        self._retry = RetryPolicy(max_wait=RATE_LIMIT_MAX_WAIT)
        self._app = GitHubApp(
            session, app_id=app_id, private_key=private_key, base_url=api_url, metrics=self._metrics, retry=self._retry
        )
        self._config = ConfigLoader()
        self._gh: BackfillClient | None = None  # the installation's, once found
        self._summary = Summary()

    @property
    def summary(self) -> Summary:
        """What the run has done so far (also after it stopped half-way)."""
        self._summary.waited = self._gh.waited if self._gh is not None else 0.0
        counted = self._metrics.api_calls.collect()  # one count per method and status
        self._summary.api_calls = int(
            sum(sample.value for metric in counted for sample in metric.samples if sample.name.endswith("_total"))
        )
        return self._summary

    async def run(self, owner: str, repo: str | None = None) -> Summary:
        """Read ``owner/repo``, or every repository the app's installation on ``owner`` covers."""
        installation = await self._installation(owner, repo)
        gh = self._gh = BackfillClient(
            self._session,
            base_url=self._app.base_url,
            metrics=self._metrics,
            retry=self._retry,
            app=self._app,
            installation_id=installation["id"],
            cache=ConditionalCache(maxsize=1_000),
            view=self._view,
        )
        if repo is not None:
            repositories = [(owner, repo)]
        else:
            url = "/installation/repositories{?per_page}"
            listed = gh.getiter(url, {"per_page": PER_PAGE}, iterable_key="repositories")
            repositories = [(r["owner"]["login"], r["name"]) async for r in listed]
        for repository_owner, name in repositories:
            await self._repository(gh, repository_owner, name)
        return self.summary

    async def _installation(self, owner: str, repo: str | None) -> Mapping[str, Any]:
        app = self._app.app_client
        if repo is not None:
            where = [("/repos/{owner}/{repo}/installation", {"owner": owner, "repo": repo})]
        else:
            # GitHub looks an organisation's installation and a person's up apart.
            where = [
                ("/orgs/{org}/installation", {"org": owner}),
                ("/users/{username}/installation", {"username": owner}),
            ]
        for url, url_vars in where:
            try:
                return await app.getitem(url, url_vars)
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:
                    raise
        raise NotInstalled(f"the app is not installed on {owner if repo is None else f'{owner}/{repo}'}")

    async def _repository(self, gh: BackfillClient, owner: str, repo: str) -> None:
        repository = f"{owner}/{repo}"
        config = await self._config.load(gh, owner, repo)
        if not config.enabled("insights"):
            self._skip(repository, "insights are off in its config")
            return
        checkpoint = await self._checkpoint(repository)
        self._view.started(repository, resumed=bool(checkpoint.pages or checkpoint.done))
        added_before, already_before = self._summary.added, self._summary.already_there
        readers = {
            ITEMS: self._items,
            COMMENTS: self._comments,
            REVIEW_COMMENTS: self._review_comments,
            LABELLINGS: functools.partial(self._labellings, label=config.label_names()["good_first_issue"]),
        }
        try:
            for listing in LISTINGS:
                if listing not in checkpoint.done:
                    await readers[listing](gh, owner, repo, checkpoint)
                    checkpoint.done.append(listing)
                    await self._save(repository, checkpoint)
                self._view.listing_done(repository, listing)
        except gidgethub.BadRequest as exc:
            # A repository that went away or that the app may not read: the others go on. A
            # rate limit spent beyond the wait is no answer about the repository.
            if isinstance(exc, gidgethub.RateLimitExceeded) or exc.status_code not in (403, 404, 410):
                raise
            self._skip(repository, f"GitHub answered {exc.status_code}: {exc}")
            return
        await self._forget(repository)
        self._summary.repositories += 1
        self._view.finished(
            repository, self._summary.added - added_before, self._summary.already_there - already_before
        )

    def _skip(self, repository: str, reason: str) -> None:
        self._summary.skipped.append(f"{repository}: {reason}")
        self._view.skipped(repository, reason)

    # The listings ------------------------------------------------------------------------------

    async def _items(self, gh: AbstractGitHubAPI, owner: str, repo: str, checkpoint: Checkpoint) -> None:
        repository = f"{owner}/{repo}"
        url = "/repos/{owner}/{repo}/issues{?state,since,sort,direction,per_page,page}"
        # Oldest created first: an item updated meanwhile keeps its place (sorted by update, it
        # would move to the end and shift one not read yet onto a page already read).
        where = {"owner": owner, "repo": repo, "state": "all", "since": _iso(checkpoint.since)}
        where.update(sort="created", direction="asc")
        async for page in self._pages(gh, url, where, repository, ITEMS, checkpoint):
            rows = []
            for item in page:
                rows += item_rows(repository, item)
                if "pull_request" in item:
                    rows += await self._reviews(gh, owner, repo, item["number"])
            await self._record(repository, ITEMS, checkpoint, page, rows)

    async def _reviews(self, gh: AbstractGitHubAPI, owner: str, repo: str, number: int) -> list[Activity]:
        url = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews{?per_page}"
        where = {"owner": owner, "repo": repo, "pull_number": number, "per_page": self._per_page}
        repository = f"{owner}/{repo}"
        # GitHub's webhook names a review's state in lower case, its REST API in upper case: the
        # rows say it as the webhook handler records it. A pending review (shown to its author
        # alone) has not been submitted: nothing happened yet.
        return [
            comment_row(repository, REVIEW, review, number=number, is_pull=True)
            async for review in gh.getiter(url, where)
            if review.get("submitted_at")
        ]

    async def _comments(self, gh: AbstractGitHubAPI, owner: str, repo: str, checkpoint: Checkpoint) -> None:
        repository = f"{owner}/{repo}"
        # A comment does not say whether it is on a pull request. Its pull request, updated by it,
        # was listed with the items, so the activity log knows it by now (but for a comment made
        # before the window and edited in it, on a pull request idle since: counted an issue's).
        pulls = await self._pull_requests(repository)
        url = "/repos/{owner}/{repo}/issues/comments{?since,sort,direction,per_page,page}"
        where = {"owner": owner, "repo": repo, "since": _iso(checkpoint.since), "sort": "created", "direction": "asc"}
        async for page in self._pages(gh, url, where, repository, COMMENTS, checkpoint):
            rows = []
            for comment in page:
                number = _number_at_end(comment["issue_url"])
                rows.append(comment_row(repository, COMMENT, comment, number=number, is_pull=number in pulls))
            await self._record(repository, COMMENTS, checkpoint, page, rows)

    async def _review_comments(self, gh: AbstractGitHubAPI, owner: str, repo: str, checkpoint: Checkpoint) -> None:
        repository = f"{owner}/{repo}"
        url = "/repos/{owner}/{repo}/pulls/comments{?since,sort,direction,per_page,page}"
        where = {"owner": owner, "repo": repo, "since": _iso(checkpoint.since), "sort": "created", "direction": "asc"}
        async for page in self._pages(gh, url, where, repository, REVIEW_COMMENTS, checkpoint):
            rows = [
                comment_row(repository, REVIEW_COMMENT, c, number=_number_at_end(c["pull_request_url"]), is_pull=True)
                for c in page
            ]
            await self._record(repository, REVIEW_COMMENTS, checkpoint, page, rows)

    async def _labellings(
        self, gh: AbstractGitHubAPI, owner: str, repo: str, checkpoint: Checkpoint, *, label: str
    ) -> None:
        """Issues labelled good first issue in the window: newest first, each issue's earliest
        labelling kept in the checkpoint until the events are read back to the window's start."""
        repository = f"{owner}/{repo}"
        url = "/repos/{owner}/{repo}/issues/events{?per_page,page}"
        where = {"owner": owner, "repo": repo}
        async with contextlib.aclosing(self._pages(gh, url, where, repository, LABELLINGS, checkpoint)) as pages:
            async for page in pages:
                in_window = [event for event in page if github_time(event["created_at"]) >= checkpoint.since]
                for event in in_window:
                    issue = event.get("issue") or {}
                    name = (event.get("label") or {}).get("name") or ""
                    # The webhook hears issues' labels (a pull request's come as pull_request events).
                    if event["event"] == "labeled" and name.lower() == label.lower() and "pull_request" not in issue:
                        actor = event.get("actor") or {}
                        checkpoint.labellings[str(issue["number"])] = {
                            "at": github_time(event["created_at"]),
                            "label": name,
                            "actor": {"login": actor.get("login"), "type": "Bot" if is_bot(actor) else "User"},
                        }
                await self._record(repository, LABELLINGS, checkpoint, page, [])
                if len(in_window) < len(page):
                    break  # older than the window from here on
        rows = [
            labeled_row(repository, {"number": int(number)}, found["label"], found["at"], found["actor"])
            for number, found in checkpoint.labellings.items()
        ]
        await self._record(repository, LABELLINGS, checkpoint, [], rows)

    # Pages, rows and checkpoints --------------------------------------------------------------

    async def _pages(
        self,
        gh: AbstractGitHubAPI,
        url: str,
        where: dict[str, Any],
        repository: str,
        listing: str,
        checkpoint: Checkpoint,
    ) -> AsyncIterator[list[Any]]:
        """The listing's pages after those done, each as GitHub pages it: ``per_page`` items,
        fewer on the last. The next page is asked for only once this one is recorded."""
        page: list[Any] = []
        first = checkpoint.pages.get(listing, 0) + 1
        async for item in gh.getiter(url, {**where, "per_page": self._per_page, "page": first}):
            page.append(item)
            if len(page) == self._per_page:
                yield page
                page = []
        if page:
            yield page

    async def _record(
        self, repository: str, listing: str, checkpoint: Checkpoint, page: list[Any], rows: list[Activity]
    ) -> None:
        """Record a page's rows, then the page as done: a crash between the two reads the page
        again, and its rows, already there, add nothing."""
        added = await self._log.record(rows)
        self._summary.added += added
        self._summary.already_there += len({row.key for row in rows}) - added
        if page:
            checkpoint.pages[listing] = checkpoint.pages.get(listing, 0) + 1
            await self._save(repository, checkpoint)
            self._view.page(repository, listing, checkpoint.pages[listing], len(page), added)

    async def _pull_requests(self, repository: str) -> set[int]:
        """The numbers the activity log knows as the repository's pull requests."""
        query = select(activity.c.number).where(
            activity.c.repository == repository.lower(), activity.c.kind == PR_OPENED
        )
        return await self._inbox.transaction(lambda conn: set(conn.execute(query).scalars()))

    async def _checkpoint(self, repository: str) -> Checkpoint:
        """Where an unfinished run on the repository stopped, if it read at least this run's
        window; else a start from scratch."""
        query = select(backfill_checkpoints.c.since, backfill_checkpoints.c.state).where(
            backfill_checkpoints.c.repository == repository.lower()
        )
        saved = await self._inbox.transaction(lambda conn: conn.execute(query).first())
        if saved is not None and saved.since <= self._since:
            return Checkpoint.load(saved.since, saved.state)
        return Checkpoint(since=self._since)

    async def _save(self, repository: str, checkpoint: Checkpoint) -> None:
        values = {"repository": repository.lower(), "since": checkpoint.since, "state": checkpoint.state()}
        values["updated_at"] = time.time()
        upsert = self._inbox._insert(backfill_checkpoints).values(**values)
        upsert = upsert.on_conflict_do_update(index_elements=["repository"], set_=values)
        await self._inbox.transaction(lambda conn: conn.execute(upsert))

    async def _forget(self, repository: str) -> None:
        forget = delete(backfill_checkpoints).where(backfill_checkpoints.c.repository == repository.lower())
        await self._inbox.transaction(lambda conn: conn.execute(forget))


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number_at_end(url: str) -> int:
    """The issue or pull request a comment's ``issue_url`` or ``pull_request_url`` names."""
    return int(url.rstrip("/").rsplit("/", 1)[1])


# Views ---------------------------------------------------------------------------------------


class LogView:
    """One JSON log line per page and per repository (``bot.logs``), for a log collector."""

    def __enter__(self) -> LogView:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def started(self, repository: str, resumed: bool) -> None:
        log.info("backfill continues" if resumed else "backfill starts", extra=fields(repository=repository))

    def page(self, repository: str, listing: str, pages: int, items: int, added: int) -> None:
        log.info(
            "backfill page read",
            extra=fields(repository=repository, listing=listing, page=pages, items=items, rows_added=added),
        )

    def listing_done(self, repository: str, listing: str) -> None:
        return None

    def finished(self, repository: str, added: int, already_there: int) -> None:
        log.info(
            "backfill done", extra=fields(repository=repository, rows_added=added, rows_already_there=already_there)
        )

    def skipped(self, repository: str, reason: str) -> None:
        log.warning("backfill skips a repository", extra=fields(repository=repository, reason=reason))

    def waiting(self, seconds: float) -> None:
        until = _iso(time.time() + seconds)
        log.warning("waiting for GitHub's rate limit", extra=fields(seconds=round(seconds, 1), until=until))


class RichView:
    """A progress bar per repository on a terminal: its listings read, pages, items, new rows."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=12),
            TextColumn("{task.fields[listing]}"),
            TextColumn("{task.fields[pages]} pages, {task.fields[items]} items, {task.fields[added]} new rows"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, collections.Counter[str]] = {}  # this run's pages, items, new rows

    def __enter__(self) -> RichView:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    @property
    def log_stream(self) -> io.TextIOBase:
        """A stream for log lines, printed above the bars rather than through them."""
        return _ConsoleStream(self.console)

    def started(self, repository: str, resumed: bool) -> None:
        self._counts[repository] = collections.Counter()
        self._tasks[repository] = self._progress.add_task(
            repository, total=len(LISTINGS), listing="continuing" if resumed else "", pages=0, items=0, added=0
        )

    def page(self, repository: str, listing: str, pages: int, items: int, added: int) -> None:
        counts = self._counts[repository]
        counts.update(pages=1, items=items, added=added)
        self._progress.update(self._tasks[repository], listing=listing, **counts)

    def listing_done(self, repository: str, listing: str) -> None:
        self._progress.advance(self._tasks[repository])

    def finished(self, repository: str, added: int, already_there: int) -> None:
        self._progress.update(self._tasks[repository], listing=f"done, {already_there} rows already there")

    def skipped(self, repository: str, reason: str) -> None:
        self.console.print(f"{repository}: skipped, {reason}", markup=False, highlight=False)

    def waiting(self, seconds: float) -> None:
        until = datetime.datetime.now().astimezone() + datetime.timedelta(seconds=seconds)
        notice = f"GitHub's rate limit is spent: waiting {seconds:.0f} s, until {until:%H:%M:%S}"
        self.console.print(notice, markup=False, highlight=False)


class _ConsoleStream(io.TextIOBase):
    """Written lines go through the console, which prints them above its live display."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def write(self, text: str) -> int:
        if text.strip():
            self._console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
        return len(text)
