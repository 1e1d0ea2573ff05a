"""``community-bot insights backfill`` and ``insights report``: settings as ``serve`` reads them,
a summary at the end, and one line (exit status 2, never a traceback) when they cannot work."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import pytest

import bot.__main__ as main_module
from bot.__main__ import main
from bot.github import RetryPolicy
from bot.inbox import Inbox
from bot.insights import activity, metrics, report
from bot.insights import backfill as backfill_module
from bot.insights.metrics import Scope
from tests.conftest import free_port
from tests.fakes import FakeGitHub
from tests.test_backfill import INSTALLATION, OWNER, REPO, history

SUMMARY = re.compile(
    r"community-bot: backfilled (?P<target>\S+) since \d{4}-\d\d-\d\d: (?P<repositories>\d+) repositor(?:y|ies) read, "
    r"(?P<added>\d+ rows added|nothing new), (?P<already>\d+) already there, (?P<calls>\d+) API calls, "
    r"(?P<waited>\d+) s waited for GitHub's rate limit\n"
)


@pytest.fixture(autouse=True)
def logging_restored() -> Any:
    """The commands send the root logger to this test's captured stderr, closed after it: the
    logging of the tests that follow is put back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def environment(fake_github: FakeGitHub, private_key: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The settings `serve` would read, from the environment."""
    monkeypatch.chdir(tmp_path)
    values = {
        "GITHUB_APP_ID": "1",
        "GITHUB_PRIVATE_KEY": private_key,
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": fake_github.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def one_line_error(stderr: str) -> str:
    """The command's own last line; log lines (JSON) may come before it, a traceback never."""
    assert "Traceback" not in stderr
    last = stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("community-bot: ")
    return last


async def test_a_backfill_says_what_it_did_and_a_second_run_that_it_found_nothing_new(
    fake_github, environment, capsys, private_key
):
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    rows = len({row.key for row in history(fake_github)})
    assert await run("insights", "backfill", f"{OWNER}/{REPO}", "--since", "365d") == 0
    out, err = capsys.readouterr()
    first = SUMMARY.fullmatch(out)
    assert first is not None, out
    assert (first["target"], first["repositories"], first["added"], first["already"]) == (
        f"{OWNER}/{REPO}", "1", f"{rows} rows added", "0"
    )
    assert int(first["calls"]) > 0 and first["waited"] == "0"
    lines = [json.loads(line) for line in err.splitlines()]
    assert any(line["message"] == "backfill page read" and line["repository"] == f"{OWNER}/{REPO}" for line in lines)
    assert private_key not in err and "ghs_" not in err and "ghs_" not in out

    assert await run("insights", "backfill", OWNER) == 0
    second = SUMMARY.fullmatch(capsys.readouterr().out)
    assert (second["target"], second["added"], second["already"]) == (OWNER, "nothing new", str(rows))


async def test_a_window_past_the_retention_is_cut_to_it(fake_github, environment, capsys, monkeypatch):
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    monkeypatch.setenv("ACTIVITY_RETENTION_DAYS", "30")
    assert await run("insights", "backfill", f"{OWNER}/{REPO}", "--since", "365d") == 0
    assert "reading the last 30 days only" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["octo org"], "cannot backfill: 'octo org' is neither OWNER/REPO nor OWNER"),
        (["octo-org/a/b"], "cannot backfill: 'octo-org/a/b' is neither OWNER/REPO nor OWNER"),
        (["nobody"], "cannot backfill: the app is not installed on nobody"),
        (["nobody/nothing"], "cannot backfill: the app is not installed on nobody/nothing"),
    ],
)
async def test_a_target_it_cannot_read(fake_github, environment, capsys, argv, message):
    assert await run("insights", "backfill", *argv) == 2
    assert one_line_error(capsys.readouterr().err) == f"community-bot: {message}"


async def test_without_settings(environment, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_APP_ID")
    assert await run("insights", "backfill", OWNER) == 2
    assert one_line_error(capsys.readouterr().err) == "community-bot: cannot backfill: GITHUB_APP_ID is not set"


async def test_github_down(environment, capsys, monkeypatch):
    monkeypatch.setattr(RetryPolicy, "backoff_delay", lambda self, attempt: 0.0)
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    assert await run("insights", "backfill", OWNER) == 2
    assert one_line_error(capsys.readouterr().err).startswith(
        "community-bot: cannot backfill: GitHub did not answer as expected: GitHubUnreachable("
    )


async def test_github_refusing_the_app(fake_github, environment, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_APP_ID", "2")  # not the app whose key signs the JWT
    assert await run("insights", "backfill", OWNER) == 2
    assert one_line_error(capsys.readouterr().err) == (
        "community-bot: cannot backfill: GitHub refused the app's credentials (GITHUB_APP_ID, the private key)"
    )


async def test_database_down(environment, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    assert await run("insights", "backfill", OWNER) == 2
    assert one_line_error(capsys.readouterr().err).startswith(
        "community-bot: cannot backfill: the database does not answer: "
    )


async def test_interrupted_it_says_how_far_it_got_and_the_next_run_continues(
    fake_github, environment, capsys, monkeypatch
):
    fake_github.add_installation(INSTALLATION, OWNER, [REPO])
    rows = len({row.key for row in history(fake_github)})
    original = backfill_module.LogView.page

    def ctrl_c_after_the_first_page_of_comments(
        view: Any, repository: str, listing: str, pages: int, items: int, added: int
    ) -> None:
        original(view, repository, listing, pages, items, added)
        if listing == backfill_module.COMMENTS:
            raise KeyboardInterrupt

    monkeypatch.setattr(backfill_module.LogView, "page", ctrl_c_after_the_first_page_of_comments)
    assert await run("insights", "backfill", f"{OWNER}/{REPO}") == 130
    last = one_line_error(capsys.readouterr().err)
    assert re.fullmatch(
        r"community-bot: interrupted after 0 repositories read, \d+ rows added, 0 already there, \d+ API calls, "
        r"0 s waited for GitHub's rate limit; the same command continues where this one stopped",
        last,
    ), last
    added = int(re.search(r"(\d+) rows added", last)[1])

    monkeypatch.setattr(backfill_module.LogView, "page", original)
    assert await run("insights", "backfill", f"{OWNER}/{REPO}") == 0
    resumed = SUMMARY.fullmatch(capsys.readouterr().out)
    assert resumed["added"] == f"{rows - added} rows added"


# insights report ---------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL alone, as `cla export` reads it: the report needs no GitHub settings."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return url


async def record(url: str, *rows: activity.Activity) -> None:
    inbox = Inbox(url)
    await inbox.open()
    try:
        await activity.ActivityLog(inbox).record(rows)
    finally:
        await inbox.close()


def opened(repository: str, number: int, days_ago: float) -> activity.Activity:
    return activity.Activity(
        key=f"{repository}#{number}:opened", repository=repository, kind=activity.ISSUE_OPENED, number=number,
        at=time.time() - days_ago * 86400, actor="newbie",
    )


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, str]]:
    """What the report command formats, and how (formatted for real)."""
    calls: list[tuple[dict, str]] = []

    def format_report(figures: dict, fmt: str) -> str:
        calls.append((figures, fmt))
        return report.format_report(figures, fmt)

    monkeypatch.setattr(main_module, "format_report", format_report)
    return calls


@pytest.fixture
def scopes(monkeypatch: pytest.MonkeyPatch) -> list[Scope]:
    """The scopes the report command computes its figures for (computed for real)."""
    seen: list[Scope] = []

    async def compute(inbox: Inbox, scope: Scope) -> dict:
        seen.append(scope)
        return await metrics.compute(inbox, scope)

    monkeypatch.setattr(main_module, "compute", compute)
    return seen


async def test_a_report_of_one_repository(database, formatted, scopes, capsys):
    await record(database, opened("octo-org/widgets", 1, 10), opened("octo-org/gadgets", 1, 10))
    assert await run("insights", "report", "--repo", "Octo-Org/Widgets", "--since", "30d", "--format", "json") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["scope"]["repositories"] == ["octo-org/widgets"]
    assert printed["first_response"]["issues"]["all"]["count"] == 1  # gadgets' issue is not counted
    [scope] = scopes
    assert (scope.owner, scope.repositories) == ("octo-org", ("octo-org/widgets",))
    assert scope.until - scope.since == 30 * 86400 and abs(scope.until - time.time()) < 60
    [(figures, fmt)] = formatted
    assert fmt == "json"
    inbox = Inbox(database)
    await inbox.open()
    try:
        assert figures == await metrics.compute(inbox, scope)
    finally:
        await inbox.close()


async def test_a_report_of_an_organisation_and_of_everything(database, formatted, scopes):
    await record(database, opened("octo-org/widgets", 1, 10), opened("someone/else", 1, 10))
    assert await run("insights", "report", "--org", "Octo-Org") == 0
    assert await run("insights", "report") == 0
    assert [(scope.owner, scope.repositories) for scope in scopes] == [
        ("octo-org", None),
        (None, ("octo-org/widgets", "someone/else")),
    ]
    assert [fmt for _, fmt in formatted] == ["table", "table"]
    assert scopes[0].until - scopes[0].since == 90 * 86400


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repo", "octo-org"], "cannot report: --repo 'octo-org' is not OWNER/REPO"),
        (
            ["--org", "octo-org/widgets"],
            "cannot report: --org 'octo-org/widgets' is not an owner (--repo takes OWNER/REPO)",
        ),
        (["--org", "octo org"], "cannot report: 'octo org' is neither OWNER/REPO nor OWNER"),
    ],
)
async def test_a_report_of_what_cannot_be_named(database, formatted, capsys, argv, message):
    assert await run("insights", "report", *argv) == 2
    assert one_line_error(capsys.readouterr().err) == f"community-bot: {message}"


async def test_a_report_from_a_database_that_is_not_there(database, formatted, capsys):
    assert await run("insights", "report") == 2
    assert one_line_error(capsys.readouterr().err).startswith("community-bot: cannot report: DATABASE_URL names ")
    assert formatted == []


async def test_a_report_from_a_database_that_does_not_answer(database, formatted, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    assert await run("insights", "report") == 2
    assert one_line_error(capsys.readouterr().err).startswith(
        "community-bot: cannot report: the database does not answer"
    )
