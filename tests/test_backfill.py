"""The backfill: a repository's history, read from the fake GitHub page by page, becomes the rows
the webhook handler would have written; a second run adds nothing; a stopped run continues from
its last page; a spent rate limit is waited for; an owner's installation covers its repositories."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import aiohttp
import gidgethub
import pytest
from rich.console import Console
from sqlalchemy import select

from bot.github import RetryPolicy, github_time
from bot.inbox import Inbox, metadata
from bot.insights import activity
from bot.insights.activity import COMMENT, REVIEW, REVIEW_COMMENT, comment_row, item_rows, labeled_row
from bot.insights.backfill import (
    LISTINGS,
    Backfill,
    NotInstalled,
    RichView,
    Summary,
    backfill_checkpoints,
    parse_target,
)
from tests.conftest import POSTGRES_URL, postgres_answers
from tests.fakes import FakeGitHub

OWNER, REPO = "octo-org", "widgets"
INSTALLATION = 7
NOW = time.time()
WINDOW = 365 * 86400
POSTGRES = pytest.param(
    POSTGRES_URL,
    id="postgresql",
    marks=pytest.mark.skipif(not postgres_answers(), reason="no PostgreSQL answers on 127.0.0.1:5432"),
)


def ago(days: float) -> float:
    return NOW - days * 86400


class RecordingView:
    """A view that remembers what it was shown."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, str, int, int]] = []  # repository, listing, page, items
        self.resumed: list[str] = []
        self.done: list[str] = []
        self.skips: list[tuple[str, str]] = []
        self.waits: list[float] = []

    def started(self, repository: str, resumed: bool) -> None:
        if resumed:
            self.resumed.append(repository)

    def page(self, repository: str, listing: str, pages: int, items: int, added: int) -> None:
        self.pages.append((repository, listing, pages, items))

    def listing_done(self, repository: str, listing: str) -> None:
        return None

    def finished(self, repository: str, added: int, already_there: int) -> None:
        self.done.append(repository)

    def skipped(self, repository: str, reason: str) -> None:
        self.skips.append((repository, reason))

    def waiting(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(params=["sqlite", POSTGRES])
async def inbox(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        inbox = Inbox(f"sqlite:///{tmp_path / 'bot.db'}")
    else:  # a clean slate in the shared test database
        inbox = Inbox(request.param)
        await inbox.open()
        await inbox.transaction(metadata.drop_all)
        await inbox.close()
    await inbox.open()
    yield inbox
    await inbox.close()


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after a 5xx come at once instead of after seconds of backoff."""
    monkeypatch.setattr(RetryPolicy, "backoff_delay", lambda self, attempt: 0.0)


async def backfill(
    fake: FakeGitHub,
    inbox: Inbox,
    private_key: str,
    target: str = f"{OWNER}/{REPO}",
    *,
    view: Any = None,
    per_page: int = 3,
) -> Summary:
    async with aiohttp.ClientSession() as session:
        run = Backfill(
            session,
            inbox,
            app_id="1",
            private_key=private_key,
            api_url=fake.url,
            since=NOW - WINDOW,
            view=view or RecordingView(),
            per_page=per_page,
        )
        return await run.run(*parse_target(target))


async def stored_rows(inbox: Inbox) -> list[dict[str, Any]]:
    table = activity.activity
    query = select(table).order_by(table.c.key)
    found = await inbox.transaction(lambda conn: conn.execute(query).mappings().all())
    return [{name: value for name, value in row.items() if name != "id"} for row in found]


async def checkpoints(inbox: Inbox) -> list[str]:
    query = select(backfill_checkpoints.c.repository)
    return await inbox.transaction(lambda conn: list(conn.execute(query).scalars()))


def history(fake: FakeGitHub, owner: str = OWNER, repo: str = REPO) -> list[activity.Activity]:
    """A year of a repository's life on the fake GitHub; returns the rows the webhook handler
    would have written had it heard it all, made from the objects its payloads carry."""
    full = f"{owner}/{repo}"
    fake.add_issue(owner, repo, number=1, author="newbie", title="It breaks", created_at=ago(100))
    fake.add_comment(owner, repo, 1, "Same here", login="someone", created_at=ago(99))
    fake.add_comment(owner, repo, 1, "Looking", login="maintainer", author_association="MEMBER", created_at=ago(98))
    fake.add_comment(owner, repo, 1, "Bumped", login="renovate[bot]", type="Bot", created_at=ago(97))
    fake.add_issue(owner, repo, number=2, author="someone", state="closed", created_at=ago(90))
    fake.add_issue(owner, repo, number=3, author="contributor", pull_request=True, merged=True, body="Fixes #1",
                   created_at=ago(80))
    fake.add_comment(owner, repo, 3, "Thanks!", login="maintainer", author_association="MEMBER", created_at=ago(79))
    fake.add_issue(owner, repo, number=4, author="newbie", pull_request=True, created_at=ago(60))
    fake.add_review(owner, repo, 4, login="maintainer", state="CHANGES_REQUESTED", submitted_at=ago(59))
    fake.add_review_comment(owner, repo, 4, "Rename this", login="maintainer", created_at=ago(58))
    fake.add_review_comment(owner, repo, 4, "And this", login="reviewer", created_at=ago(57))
    fake.add_review(owner, repo, 4, login="maintainer", state="APPROVED", submitted_at=ago(50))
    fake.add_issue(owner, repo, number=5, author="maintainer", created_at=ago(40))
    first_labelling = fake.label_issue(owner, repo, 5, "good first issue", actor="maintainer", at=ago(39))
    fake.unlabel_issue(owner, repo, 5, "good first issue", actor="maintainer", at=ago(38))
    fake.label_issue(owner, repo, 5, "Good First Issue", actor="triager", at=ago(30))  # again: the first stays
    fake.label_issue(owner, repo, 1, "bug", actor="maintainer", at=ago(35))
    fake.add_issue(owner, repo, number=6, author="oldtimer", created_at=ago(400))  # before the window: nothing
    fake.add_comment(owner, repo, 6, "Any news?", login="someone", created_at=ago(399))
    fake.label_issue(owner, repo, 6, "good first issue", actor="maintainer", at=ago(398))
    fake.label_issue(owner, repo, 6, "bug", actor="maintainer", at=ago(397))
    fake.add_issue(owner, repo, number=7, author="oldtimer", created_at=ago(500))  # old, but commented on lately
    fake.add_comment(owner, repo, 7, "Still happening", login="newbie", created_at=ago(20))
    fake.add_issue(owner, repo, number=8, author="dependabot[bot]", pull_request=True, created_at=ago(10))
    fake.label_issue(owner, repo, 8, "good first issue", actor="maintainer", at=ago(9))  # a pull request's: no

    rows = []
    for number in (1, 2, 5, 7):
        # A webhook's issue names no closer, as the issues listing does not.
        issue = {name: value for name, value in fake.issue(owner, repo, number).items() if name != "closed_by"}
        rows += item_rows(full, issue)
    for number in (3, 4, 8):
        rows += item_rows(full, fake.pull_request(owner, repo, number))
    for number, is_pull in ((1, False), (3, True), (7, False)):
        comments = fake.comments(owner, repo, number)
        rows += [comment_row(full, COMMENT, c, number=number, is_pull=is_pull) for c in comments]
    rows += [comment_row(full, REVIEW, review, number=4, is_pull=True) for review in fake.reviews(owner, repo, 4)]
    rows += [comment_row(full, REVIEW_COMMENT, c, number=4, is_pull=True) for c in fake.review_comments(owner, repo, 4)]
    at = github_time(first_labelling["created_at"])
    rows.append(labeled_row(full, first_labelling["issue"], "good first issue", at, first_labelling["actor"]))
    return rows


def as_stored(rows: list[activity.Activity]) -> list[dict[str, Any]]:
    return sorted((row.row() for row in rows), key=lambda row: row["key"])


@pytest.fixture
def installed(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    return fake_github


async def test_a_repository_is_read_page_by_page_into_the_webhooks_rows(installed, inbox, private_key):
    expected = history(installed)
    view = RecordingView()
    summary = await backfill(installed, inbox, private_key, view=view)
    assert await stored_rows(inbox) == as_stored(expected)
    kinds = {row.kind for row in expected}
    assert kinds == {
        activity.ISSUE_OPENED, activity.PR_OPENED, activity.CLOSED, activity.MERGED, activity.CLOSES,
        activity.COMMENT, activity.REVIEW, activity.REVIEW_COMMENT, activity.GFI_LABELED,
    }
    pages = {listing: max(page for _, name, page, _ in view.pages if name == listing) for listing in LISTINGS}
    assert pages == {"issues and pull requests": 3, "comments": 2, "review comments": 1, "labellings": 2}
    assert summary.repositories == 1 and summary.skipped == []
    assert (summary.added, summary.already_there) == (len(expected), 0)
    assert summary.api_calls == len(installed.calls) and summary.waited == 0
    assert view.done == [f"{OWNER}/{REPO}"] and await checkpoints(inbox) == [], "nothing left to continue"
    # Only what the window needs: the issues listing starts at its start, the events stop there
    # (their second page ends with one older; a third would hold the oldest).
    [listed] = {call.query["since"] for call in installed.calls_to("GET", "/repos/{owner}/{repo}/issues")}
    assert github_time(listed) == pytest.approx(NOW - WINDOW, abs=1)
    assert len(installed.calls_to("GET", "/repos/{owner}/{repo}/issues/events")) == 2


async def test_a_second_run_adds_nothing(installed, inbox, private_key):
    expected = history(installed)
    await backfill(installed, inbox, private_key)
    summary = await backfill(installed, inbox, private_key)
    assert (summary.added, summary.already_there) == (0, len(expected))
    assert await stored_rows(inbox) == as_stored(expected)


async def test_a_pending_review_is_not_a_review(installed, inbox, private_key):
    installed.add_issue(OWNER, REPO, number=1, pull_request=True, created_at=ago(5))
    submitted = installed.add_review(OWNER, REPO, 1, login="maintainer", submitted_at=ago(4))
    pending = {key: value for key, value in submitted.items() if key != "submitted_at"}
    listed = [submitted, {**pending, "id": 99, "state": "PENDING"}]
    installed.respond("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", json=listed)
    await backfill(installed, inbox, private_key)
    reviews = [row for row in await stored_rows(inbox) if row["kind"] == activity.REVIEW]
    assert [(row["key"], row["detail"]) for row in reviews] == [
        (f"{OWNER}/{REPO}:review:{submitted['id']}", "approved")
    ]


@pytest.mark.parametrize("remaining", [0, 4], ids=["spent-by-someone-else", "spent-by-the-backfill"])
async def test_a_spent_rate_limit_is_waited_for(installed, inbox, private_key, remaining):
    expected = history(installed)
    installed.set_rate_limit(remaining, installation_id=INSTALLATION, reset_in=1)
    view = RecordingView()
    summary = await backfill(installed, inbox, private_key, view=view)
    assert await stored_rows(inbox) == as_stored(expected)
    assert len(view.waits) == 1 and 0 < view.waits[0] <= 3
    assert summary.waited == view.waits[0]


async def test_progress_shows_on_a_terminal(installed, inbox, private_key):
    history(installed)
    screen = io.StringIO()
    with RichView(Console(file=screen, width=160, force_terminal=True)) as view:
        await backfill(installed, inbox, private_key, view=view)
        view.waiting(42)
        print('{"message": "a log line"}', file=view.log_stream)
    shown = screen.getvalue()
    assert f"{OWNER}/{REPO}" in shown and "done, 0 rows already there" in shown
    assert "GitHub's rate limit is spent: waiting 42 s, until" in shown and '{"message": "a log line"}' in shown
    assert "ghs_" not in shown


async def test_a_run_cancelled_midway_continues_from_its_last_page(fake_github, tmp_path, private_key):
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    history(fake_github)
    reference = Inbox(f"sqlite:///{tmp_path / 'reference.db'}")
    stopped = Inbox(f"sqlite:///{tmp_path / 'stopped.db'}")
    await reference.open()
    await stopped.open()
    try:
        before = len(fake_github.api_calls())
        await backfill(fake_github, reference, private_key, per_page=2)
        fresh_calls = len(fake_github.api_calls()) - before

        class Interrupting(RecordingView):
            """Ctrl-C after the third page: the task is cancelled wherever it is next."""

            def page(self, *shown: Any) -> None:
                super().page(*shown)
                if len(self.pages) == 3:
                    asyncio.current_task().cancel()

        with pytest.raises(asyncio.CancelledError):
            await backfill(fake_github, stopped, private_key, view=Interrupting(), per_page=2)
        assert await checkpoints(stopped) == [f"{OWNER}/{REPO}"]
        partial = await stored_rows(stopped)
        assert 0 < len(partial) < len(await stored_rows(reference))

        before = len(fake_github.api_calls())
        view = RecordingView()
        await backfill(fake_github, stopped, private_key, view=view, per_page=2)
        assert len(fake_github.api_calls()) - before < fresh_calls
        assert view.resumed == [f"{OWNER}/{REPO}"]
        assert view.pages[0][1:3] == ("issues and pull requests", 4), "the page after the last one done"
        assert await stored_rows(stopped) == await stored_rows(reference)
        assert await checkpoints(stopped) == []
    finally:
        await reference.close()
        await stopped.close()


async def test_a_run_github_stops_answering_continues_with_the_listing_it_was_on(
    installed, inbox, private_key, quick_retries
):
    expected = history(installed)
    installed.respond("GET", "/repos/{owner}/{repo}/pulls/comments", status=502, times=3)  # each of three attempts
    with pytest.raises(gidgethub.GitHubBroken):
        await backfill(installed, inbox, private_key)
    assert await checkpoints(inbox) == [f"{OWNER}/{REPO}"]
    installed.reset_calls()
    await backfill(installed, inbox, private_key)
    assert await stored_rows(inbox) == as_stored(expected)
    assert installed.calls_to("GET", "/repos/{owner}/{repo}/issues") == [], "read to the end before"
    assert installed.calls_to("GET", "/repos/{owner}/{repo}/issues/comments") == []


async def test_an_unfinished_run_over_a_shorter_window_starts_again(installed, inbox, private_key, quick_retries):
    """A checkpoint serves a run whose window it covers; asked to go further back, the run starts over."""
    expected = history(installed)
    installed.respond("GET", "/repos/{owner}/{repo}/pulls/comments", status=502, times=3)
    async with aiohttp.ClientSession() as session:
        shorter = Backfill(session, inbox, app_id="1", private_key=private_key, api_url=installed.url,
                           since=ago(30), view=RecordingView(), per_page=3)
        with pytest.raises(gidgethub.GitHubBroken):
            await shorter.run(OWNER, REPO)
    view = RecordingView()
    await backfill(installed, inbox, private_key, view=view)
    assert view.resumed == []
    assert await stored_rows(inbox) == as_stored(expected)


async def test_an_owner_covers_the_repositories_its_installation_does(fake_github, inbox, private_key):
    fake_github.add_installation(INSTALLATION, OWNER, [REPO, "gadgets", "secret"], private=["secret"])
    fake_github.add_installation(8, "someone-else", ["theirs"])
    expected = history(fake_github) + history(fake_github, OWNER, "gadgets")
    history(fake_github, "someone-else", "theirs")
    history(fake_github, OWNER, "secret")
    fake_github.add_file(OWNER, "secret", ".github/community-bot.yml", "insights:\n  enabled: false\n")
    view = RecordingView()
    summary = await backfill(fake_github, inbox, private_key, OWNER, view=view)
    assert await stored_rows(inbox) == as_stored(expected)
    assert summary.repositories == 2
    assert summary.skipped == [f"{OWNER}/secret: insights are off in its config"]
    assert view.done == [f"{OWNER}/{REPO}", f"{OWNER}/gadgets"]


async def test_a_persons_installation_is_found_too(fake_github, inbox, private_key):
    fake_github.add_installation(INSTALLATION, "mona", ["dotfiles"], account_type="User")
    expected = history(fake_github, "mona", "dotfiles")
    await backfill(fake_github, inbox, private_key, "mona")
    assert await stored_rows(inbox) == as_stored(expected)


@pytest.mark.parametrize("target", [f"{OWNER}/{REPO}", OWNER, "nobody"])
async def test_no_installation_no_backfill(fake_github, inbox, private_key, target):
    fake_github.add_installation(INSTALLATION, "someone-else", ["theirs"])
    with pytest.raises(NotInstalled, match=f"the app is not installed on {target}$"):
        await backfill(fake_github, inbox, private_key, target)


async def test_a_repository_the_app_may_not_read_is_skipped(installed, inbox, private_key):
    installed.add_installation(8, "octo-other", ["archived", "fine"])
    expected = history(installed, "octo-other", "fine")
    disabled = {"message": "Issues are disabled for this repo"}
    installed.respond("GET", "/repos/octo-other/archived/issues", status=410, json=disabled)
    summary = await backfill(installed, inbox, private_key, "octo-other")
    assert summary.skipped == ["octo-other/archived: GitHub answered 410: Issues are disabled for this repo"]
    assert await stored_rows(inbox) == as_stored(expected)


@pytest.mark.parametrize(
    ("target", "parsed"),
    [
        ("octo-org/widgets", ("octo-org", "widgets")),
        ("octo-org", ("octo-org", None)),
        (" a/b.c_d-e ", ("a", "b.c_d-e")),
    ],
)
def test_targets(target, parsed):
    assert parse_target(target) == parsed


@pytest.mark.parametrize("target", ["", "octo org", "octo/", "/widgets", "a/b/c", "-octo", "octo/..", "https://github.com/o/r"])
def test_bad_targets(target):
    with pytest.raises(ValueError, match="neither OWNER/REPO nor OWNER"):
        parse_target(target)
