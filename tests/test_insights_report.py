"""The organisation's community health report issue: one per period, opened by the first event
of a day, brought up to date in place, the last period's finished when a new one begins; in a
public repository it counts public repositories only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from bot.insights import activity
from bot.insights.activity import Activity, ActivityLog
from handlers import insights_report
from handlers.insights_report import ISSUE_MARK, period_of, previous
from tests.conftest import bot_of, deliver, settle
from tests.test_welcome import opened_issue

OWNER, REPO = "Codertocat", "Hello-World"
CONFIG = "insights:\n  report_repo: Codertocat/health\n"


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


@pytest.mark.parametrize(
    ("now", "every", "name", "title", "since", "until"),
    [
        ("2026-11-17 15:00", "monthly", "2026-11", "November 2026", "2026-11-01", "2026-12-01"),
        ("2026-12-31 23:59", "monthly", "2026-12", "December 2026", "2026-12-01", "2027-01-01"),
        ("2026-11-18 09:00", "weekly", "2026-W47", "the week of 16 November 2026", "2026-11-16", "2026-11-23"),
        ("2027-01-01 09:00", "weekly", "2026-W53", "the week of 28 December 2026", "2026-12-28", "2027-01-04"),
    ],
)
def test_periods(now: str, every: str, name: str, title: str, since: str, until: str) -> None:
    period = period_of(at(now), every)
    assert (period.name, period.title, period.since, period.until) == (name, title, at(since), at(until))


def test_the_period_before() -> None:
    assert previous(period_of(at("2026-01-10 00:00"), "monthly"), "monthly").name == "2025-12"
    assert previous(period_of(at("2026-01-07 00:00"), "weekly"), "weekly").name == "2026-W01"


@pytest.fixture
async def bot(start_bot: Any, fake_github: Any) -> Any:
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", CONFIG)
    fake_github.add_installation(7, OWNER, [REPO, "health", "secret"], private=["secret"])
    client = await start_bot([insights_report.router])
    log = ActivityLog(bot_of(client).inbox)
    this_month = period_of(datetime.datetime.now(datetime.UTC).timestamp(), "monthly")
    rows = []
    for repository in (f"{OWNER}/{REPO}", f"{OWNER}/secret"):
        for number in (1, 2):
            rows.append(
                Activity(key=f"{repository}#{number}", repository=repository, kind=activity.ISSUE_OPENED,
                         number=number, at=this_month.since + 3600 * number, actor=f"person{number}")
            )
    await log.record(rows)
    return client


async def send(client: Any, number: int) -> None:
    assert (await deliver(client, "issues", opened_issue(number))).status == 202
    await settle(client)


def reports(fake: Any) -> list[Any]:
    return [call for call in fake.api_calls() if "/repos/Codertocat/health/issues" in call.path]


async def test_the_first_event_of_the_day_opens_the_report_and_the_next_ones_wait(bot: Any, fake_github: Any) -> None:
    await send(bot, 10)
    await send(bot, 11)
    [opened] = reports(fake_github)
    assert opened.method == "POST"
    month = period_of(datetime.datetime.now(datetime.UTC).timestamp(), "monthly")
    assert opened.json["title"] == f"Community health report: {month.title}"
    assert "<!-- community-bot:insights-report -->" in opened.json["body"]
    assert "@" not in opened.json["body"].replace("<!--", "")
    assert await bot_of(bot).inbox.marked(ISSUE_MARK, f"codertocat/health:{month.name}") is not None


async def test_a_public_report_counts_public_repositories_only(bot: Any, fake_github: Any, monkeypatch: Any) -> None:
    scopes = []
    real = insights_report.write_report

    async def spy(ctx: Any, owner: str, repo: str, period: Any, repositories: Any, number: Any) -> int:
        scopes.append(repositories)
        return await real(ctx, owner, repo, period, repositories, number)

    monkeypatch.setattr(insights_report, "write_report", spy)
    await send(bot, 12)
    assert scopes == [("codertocat/hello-world", "codertocat/health")]
    body = reports(fake_github)[0].json["body"]
    assert "secret" not in body.lower()


async def test_a_new_period_finishes_the_last_report_and_updates_in_place(bot: Any, fake_github: Any) -> None:
    inbox = bot_of(bot).inbox
    month = period_of(datetime.datetime.now(datetime.UTC).timestamp(), "monthly")
    last = previous(month, "monthly")
    last_issue = fake_github.add_issue(OWNER, "health", title=f"Community health report: {last.title}", author="community-bot[bot]")
    await inbox.mark(ISSUE_MARK, f"codertocat/health:{last.name}", str(last_issue["number"]))
    await send(bot, 13)
    calls = [(call.method, call.path) for call in reports(fake_github)]
    assert calls == [
        ("PATCH", f"/repos/Codertocat/health/issues/{last_issue['number']}"),
        ("POST", "/repos/Codertocat/health/issues"),
    ]


async def test_a_report_repository_out_of_reach_is_logged_not_raised(start_bot: Any, fake_github: Any, caplog: Any) -> None:
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "insights:\n  report_repo: elsewhere/health\n")
    fake_github.add_installation(7, OWNER, [REPO])
    client = await start_bot([insights_report.router])
    await send(client, 14)
    assert reports(fake_github) == []
    assert "not a repository this installation can write to" in caplog.text
    assert (await bot_of(client).inbox.count_by_state()) == {"done": 1}
