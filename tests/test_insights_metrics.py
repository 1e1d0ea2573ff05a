"""The community health figures, on SQLite and on PostgreSQL, from a scripted history whose every
figure is worked out by hand below.

The window is January to March 2024 (``SINCE`` to ``UNTIL``, 91 days); "day 5, 6 h" is 6 a.m. on
6 January. The page is ``acme/app``; ``acme/lib`` joins it for the organisation's figures;
``acme/secret`` (outside the allow-list) and ``other/thing`` (another owner) hold activity
that would change every figure if it leaked in.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

import pytest
from sqlalchemy import delete

from bot.inbox import Inbox
from bot.insights.activity import (
    CLA,
    CLOSED,
    CLOSES,
    COMMENT,
    CONDUCT_LOCK,
    CONDUCT_REMINDER,
    DCO,
    GFI_CLAIMED,
    GFI_LABELED,
    ISSUE_OPENED,
    MERGED,
    PR_OPENED,
    REOPENED,
    REVIEW,
    REVIEW_COMMENT,
    Activity,
    ActivityLog,
    activity,
)
from bot.insights.metrics import Scope, compute, repositories
from bot.insights.report import format_report
from bot.recognitions import Recognition, RecognitionBook
from tests.conftest import POSTGRES_URL, postgres_answers

DAY, HOUR = 86400.0, 3600.0
SINCE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC).timestamp()
UNTIL = SINCE + 91 * DAY  # 1 April 2024
APP, LIB, SECRET, OTHER = "acme/app", "acme/lib", "acme/secret", "other/thing"
THE_APP = "community-bot[bot]"  # the bot's own comments are a bot's
DEPENDABOT, RENOVATE = "dependabot[bot]", "renovate[bot]"
MONTHS = ("2024-01", "2024-02", "2024-03")


def row(kind: str, repository: str, number: int, day: float, hour: float = 0.0, actor: str | None = None, *,
        pull: bool = False, detail: str | None = None) -> Activity:
    return Activity(
        key=f"{repository}#{number}:{kind}:{day}:{hour}:{actor}:{detail}", repository=repository, kind=kind,
        number=number, at=SINCE + day * DAY + hour * HOUR, actor=actor,
        is_bot=actor is not None and actor.endswith("[bot]"), is_pull=pull, detail=detail,
    )


def issue(repository: str, number: int, day: float, hour: float, author: str) -> Activity:
    return row(ISSUE_OPENED, repository, number, day, hour, author)


def pull(repository: str, number: int, day: float, hour: float, author: str) -> Activity:
    return row(PR_OPENED, repository, number, day, hour, author, pull=True)


def merged(repository: str, number: int, day: float, hour: float, author: str) -> Activity:
    return row(MERGED, repository, number, day, hour, author, pull=True)


def verdict(kind: str, repository: str, number: int, day: float, hour: float, conclusion: str) -> Activity:
    return row(kind, repository, number, day, hour, pull=True, detail=conclusion)


def closes(repository: str, issue_number: int, day: float, pull_number: int, author: str) -> Activity:
    return row(CLOSES, repository, issue_number, day, 0, author, detail=str(pull_number))


HISTORY = [
    # acme/app before the window: erin, alice, frank and bob have contributed already.
    issue(APP, 1, -20, 0, "erin"),
    row(COMMENT, APP, 1, -19, 0, "alice"),
    pull(APP, 2, -10, 0, "frank"),
    row(REVIEW, APP, 2, -9, 0, "bob", pull=True, detail="approved"),
    verdict(DCO, APP, 2, -10, 0, "action_required"),  # #2's first verdict: before the window
    *(issue(APP, number, day, 0, "alice") for number, day in ((30, -6), (31, -5), (33, -4), (34, -3))),
    row(GFI_LABELED, APP, 30, -2, 0, "alice"),  # labelled before the window
    row(CONDUCT_REMINDER, APP, 1, -15),
    # January.
    row(COMMENT, APP, 1, 0, 12, "jack"),  # jack's first contribution
    issue(APP, 10, 1, 0, "carol"),  # carol's first issue here
    row(COMMENT, APP, 10, 1, 0.1, THE_APP),  # the welcome: not a response
    row(COMMENT, APP, 10, 1, 1, "carol"),  # her own: not a response
    row(COMMENT, APP, 10, 1, 3, "alice"),  # the response: 3 h
    row(GFI_CLAIMED, APP, 30, 1, 0, "carol"),
    issue(APP, 11, 2, 0, "erin"),
    row(COMMENT, APP, 11, 2, 0.5, "bob"),  # 0.5 h
    row(GFI_LABELED, APP, 31, 2, 1, "alice"),
    verdict(DCO, APP, 2, 2, 0, "success"),
    merged(APP, 2, 3, 0, "frank"),  # 13 days after its opening: 312 h
    issue(APP, 12, 3, 0, "dave"),  # dave's first issue here: never answered
    row(COMMENT, APP, 12, 3, 0, THE_APP),
    row(COMMENT, APP, 12, 3, 2, "dave"),
    row(GFI_LABELED, APP, 33, 3, 0, "alice"),
    row(GFI_CLAIMED, APP, 31, 3, 1, "gina"),  # 24 h after its labelling
    row(GFI_CLAIMED, APP, 33, 3, 6, "frank"),  # 6 h
    issue(APP, 13, 4, 0, "erin"),
    row(CLOSED, APP, 13, 4, 2, "erin"),
    row(GFI_CLAIMED, APP, 33, 4, 0, "ivan"),  # a second claim: the first one counts
    row(CLOSED, APP, 11, 5, 0, "bob"),  # 72 h after its opening
    pull(APP, 20, 5, 0, "gina"),  # gina's first pull request here
    row(COMMENT, APP, 20, 5, 0, THE_APP, pull=True),
    verdict(DCO, APP, 20, 5, 0, "action_required"),
    verdict(CLA, APP, 20, 5, 0, "success"),
    row(COMMENT, APP, 20, 5, 1, "gina", pull=True),
    row(REVIEW, APP, 20, 5, 6, "bob", pull=True, detail="approved"),  # 6 h
    row(REVIEW_COMMENT, APP, 20, 5, 6, "bob", pull=True),
    verdict(DCO, APP, 20, 5, 10, "success"),  # fixed 10 h after failing
    row(REOPENED, APP, 13, 6, 0, "erin"),
    merged(APP, 20, 7, 0, "gina"),  # 48 h
    closes(APP, 31, 7, 20, "gina"),  # a good first issue closed by gina's first pull request
    row(CLOSED, APP, 31, 7, 0, "gina"),  # 12 days after its opening: 288 h
    row(CLOSED, APP, 1, 8, 0, "alice"),  # 28 days: 672 h
    pull(APP, 21, 10, 0, "frank"),
    verdict(DCO, APP, 21, 10, 0, "success"),
    verdict(CLA, APP, 21, 10, 0, "action_required"),
    row(REVIEW_COMMENT, APP, 21, 10, 1.5, "alice", pull=True),  # 1.5 h
    verdict(CLA, APP, 21, 10, 2, "success"),  # signed 2 h later
    row(CONDUCT_REMINDER, APP, 21, 10, 3),
    row(CLOSED, APP, 13, 10, 2, "erin"),  # closed again: 146 h after its opening
    merged(APP, 21, 11, 0, "frank"),  # 24 h
    closes(APP, 33, 11, 21, "frank"),  # frank's second pull request: not a newcomer's
    row(CLOSED, APP, 33, 11, 0, "frank"),  # 15 days: 360 h
    pull(APP, 22, 12, 0, "harry"),  # harry's first
    verdict(DCO, APP, 22, 12, 0, "action_required"),
    verdict(CLA, APP, 22, 12, 0, "action_required"),
    pull(APP, 23, 15, 0, DEPENDABOT),
    verdict(DCO, APP, 23, 15, 0, "success"),  # a bot's pull request: left out
    merged(APP, 23, 15, 1, DEPENDABOT),
    issue(APP, 14, 16, 0, RENOVATE),
    row(COMMENT, APP, 14, 16, 1, "alice"),
    row(CLOSED, APP, 14, 20, 0, "alice"),
    row(CLOSED, APP, 22, 20, 0, "alice", pull=True),
    row(REOPENED, APP, 22, 21, 0, "harry", pull=True),
    row(CLOSED, APP, 22, 22, 0, "alice", pull=True),  # abandoned, counted once
    issue(APP, 15, 30, 0, "frank"),  # 31 January
    # February.
    pull(APP, 24, 32, 0, "erin"),
    verdict(DCO, APP, 24, 32, 0, "neutral"),
    verdict(DCO, APP, 24, 32, 1, "success"),
    row(COMMENT, APP, 24, 33, 0, "bob", pull=True),  # 24 h
    row(COMMENT, APP, 15, 35, 0, "alice"),  # 120 h
    pull(APP, 25, 40, 0, "frank"),
    verdict(DCO, APP, 25, 40, 0, "failure"),
    verdict(DCO, APP, 25, 40, 4, "success"),  # fixed in 4 h
    row(CLOSED, APP, 15, 40, 0, "bob"),
    row(CONDUCT_REMINDER, APP, 24, 40, 5),
    row(CONDUCT_REMINDER, APP, 24, 40, 6),
    row(CONDUCT_LOCK, APP, 24, 41, 0),
    verdict(DCO, APP, 25, 41, 0, "action_required"),  # then failing again
    row(CLOSED, APP, 25, 45, 0, "frank", pull=True),  # and abandoned
    row(REOPENED, APP, 15, 50, 0, "frank"),  # #15 stands open at the end
    # March.
    issue(APP, 16, 60, 0, "carol"),  # carol again, on another issue
    row(GFI_LABELED, APP, 34, 60, 0, "alice"),
    row(COMMENT, APP, 16, 70, 0, "bob"),  # 240 h
    pull(APP, 26, 80, 0, "ivan"),  # ivan's first: never answered
    issue(APP, 17, 89, 0, "dave"),  # dave again, 86 days after his first
    row(COMMENT, APP, 16, 90, 13, "jack"),  # 90 days and an hour after jack's first
    # After the window: nothing of it counts.
    row(COMMENT, APP, 17, 92, 0, "alice"),
    row(COMMENT, APP, 21, 95, 0, "harry", pull=True),
    row(CONDUCT_REMINDER, APP, 1, 92),
    row(CLOSED, APP, 12, 93, 0, "alice"),
    # acme/lib: carol's issue before the window; kim's first pull request.
    issue(LIB, 5, -5, 0, "carol"),
    pull(LIB, 6, 20, 0, "kim"),
    verdict(DCO, LIB, 6, 20, 0, "success"),
    row(REVIEW, LIB, 6, 20, 2, "alice", pull=True, detail="approved"),  # 2 h
    merged(LIB, 6, 21, 0, "kim"),  # 24 h
    row(CONDUCT_LOCK, LIB, 6, 45, 0),
    # acme/secret, outside the allow-list: every kind of figure would move.
    row(COMMENT, SECRET, 1, -30, 0, "gina"),  # would make gina no newcomer to the organisation
    issue(SECRET, 1, 1, 0, "zed"),
    row(COMMENT, SECRET, 1, 1, 1, "alice"),
    pull(SECRET, 2, 2, 0, "zed"),
    verdict(DCO, SECRET, 2, 2, 0, "failure"),
    verdict(CLA, SECRET, 2, 2, 0, "success"),
    row(GFI_LABELED, SECRET, 1, 2, 0, "alice"),
    row(GFI_CLAIMED, SECRET, 1, 2, 5, "zed"),
    row(CONDUCT_REMINDER, SECRET, 1, 2, 0),
    row(CONDUCT_LOCK, SECRET, 1, 2, 1),
    merged(SECRET, 2, 3, 0, "zed"),
    closes(SECRET, 1, 3, 2, "zed"),
    row(CLOSED, SECRET, 1, 4, 0, "alice"),
    pull(SECRET, 3, 50, 0, "zed"),
    row(CLOSED, SECRET, 3, 51, 0, "alice", pull=True),
    # other/thing: another owner.
    pull(OTHER, 1, 2, 0, "frank"),
    merged(OTHER, 1, 2, 5, "frank"),
    issue(OTHER, 2, 3, 0, "yan"),
    row(COMMENT, OTHER, 2, 3, 1, "frank"),
]

POSTGRES = pytest.param(
    POSTGRES_URL,
    id="postgresql",
    marks=pytest.mark.skipif(not postgres_answers(), reason="no PostgreSQL answers on 127.0.0.1:5432"),
)


@pytest.fixture(params=["sqlite", POSTGRES])
async def inbox(request: Any, tmp_path: Any) -> Any:
    """An inbox holding nothing but the activity a test records: on PostgreSQL, in the shared
    test database, whose other tables the other tests own, so only ``activity`` is emptied."""
    url = f"sqlite:///{tmp_path / 't.db'}" if request.param == "sqlite" else request.param
    opened = Inbox(url)
    await opened.open()
    await opened.transaction(lambda conn: conn.execute(delete(activity)))
    yield opened
    await opened.transaction(lambda conn: conn.execute(delete(activity)))
    await opened.close()


@pytest.fixture
async def history(inbox: Inbox) -> Inbox:
    await ActivityLog(inbox).record(HISTORY)
    return inbox


def responses(count: int, responded: int, median: float | None, p90: float | None, waiting: int,
              buckets: tuple[int, ...]) -> dict[str, Any]:
    labels = ("< 1 h", "1–4 h", "4–24 h", "1–3 d", "3–7 d", "> 7 d")
    return {"count": count, "responded": responded, "median_hours": median, "p90_hours": p90, "waiting": waiting,
            "buckets": [{"label": label, "count": n} for label, n in zip(labels, buckets, strict=True)]}


def by_month(*figures: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"month": month, **values} for month, values in zip(MONTHS, figures, strict=True)]


def new_contributors(*counts: tuple[int, int, list[str]]) -> list[dict[str, Any]]:
    return by_month(*({"count": count, "returned": returned, "complete": False, "people": people,
                       "return_rate": round(returned / count, 3) if count else None} for count, returned, people in counts))


NO_RECOGNITIONS = by_month(*({"count": 0, "people": []} for _ in range(3)))


REPOSITORY_PAGE = {
    "scope": {"owner": None, "repositories": [APP], "since": "2024-01-01", "until": "2024-04-01", "days": 91},
    "first_response": {
        # Issues opened by people in the window: #10 (3 h), #11 (0.5 h), #12 (bots and its
        # author only: waiting), #13 (none, but closed), #15 (120 h), #16 (240 h), #17 (its
        # answer came after the window: waiting). Renovate's #14 is a bot's. Sorted 0.5, 3,
        # 120, 240: the median is the 2nd (ceil(0.5 * 4)), the 90th percentile the 4th.
        # Newcomers' (their author's first issue or pull request here): #10 and #12 only.
        "issues": {"all": responses(7, 4, 3.0, 240.0, 2, (1, 1, 0, 0, 1, 1)),
                   "newcomers": responses(2, 1, 3.0, 3.0, 1, (0, 1, 0, 0, 0, 0))},
        # Pull requests: #20 (6 h), #21 (1.5 h), #22 (closed, unanswered), #24 (24 h), #25
        # (closed, unanswered), #26 (waiting); Dependabot's #23 is a bot's. Sorted 1.5, 6, 24.
        # Newcomers': gina's #20, harry's #22, ivan's #26.
        "pulls": {"all": responses(6, 3, 6.0, 24.0, 1, (0, 1, 1, 1, 0, 0)),
                  "newcomers": responses(3, 1, 6.0, 6.0, 1, (0, 0, 1, 0, 0, 0))},
    },
    # Issues whose last closing in the window stood at the end: #11 72 h, #13 146 h (closed,
    # reopened, closed again), #31 288 h, #33 360 h, #1 672 h; #15 was reopened after it, #14 is
    # a bot's. Median: the 3rd of 5; 90th percentile: the 5th (ceil(4.5)).
    "time_to_close": {"count": 5, "median_hours": 288.0, "p90_hours": 672.0},
    # Merged in the window: #21 24 h, #20 48 h, #2 312 h (opened before the window); #23 a bot's.
    "time_to_merge": {"count": 3, "median_hours": 48.0, "p90_hours": 312.0},
    # Opened: #20, #21, #22, #24, #25, #26; merged: #2, #20, #21; closed unmerged: #22 (twice,
    # counted once), #25. (3 + 2) / 6.
    "change_requests": {"opened": 6, "merged": 3, "closed": 2, "closure_ratio": 0.833},
    # January's first contributions: jack (day 0), carol, dave, gina, harry; carol came back
    # (#16) and dave (#17, 86 days on); jack's second came 90 days and an hour after his first,
    # harry's after the window, gina's comment was on her own pull request. March: ivan.
    # Nothing is complete: 90 days after January's end is 1 May.
    "new_contributors": new_contributors((5, 2, ["carol", "dave", "gina", "harry", "jack"]), (0, 0, []), (1, 0, ["ivan"])),
    "recognitions": NO_RECOGNITIONS,
    # Labelled in the window: #31, #33, #34 (#30 before it); claimed 24 h and 6 h after (the
    # lower of two is the median, nearest rank); #31 closed by gina's first pull request, #33 by
    # frank's second.
    "good_first_issues": {"labeled": 3, "claimed": 2, "median_hours_to_claim": 6.0, "closed_by_newcomer": 1},
    # First verdicts in the window: #20 (failed, fixed 10 h later), #21 (passed), #22 (failed,
    # closed: abandoned), #24 (neutral, then passed), #25 (failed, fixed in 4 h, failed again,
    # closed: abandoned); #2's first verdict came before, #23 is Dependabot's.
    "dco": {"pulls": 5, "passed_first": 1, "passed_first_share": 0.2, "median_hours_to_fix": 4.0,
            "abandoned": 2, "abandoned_share": 0.4},
    # #20 passed, #21 signed 2 h after failing, #22 never signed and was closed.
    "cla": {"pulls": 3, "passed_first": 1, "passed_first_share": 0.333, "median_hours_to_fix": 2.0,
            "abandoned": 1, "abandoned_share": 0.333},
    "heated": by_month({"reminders": 1, "locks": 0}, {"reminders": 2, "locks": 1}, {"reminders": 0, "locks": 0}),
    # Merged by people: frank 2 (#2, #21), gina 1: frank alone has half.
    "absence_factor": {"value": 1, "merged": 3, "contributors": 2,
                       "top": [{"login": "frank", "merged": 2}, {"login": "gina", "merged": 1}]},
    # January: issues #10-#13 and #15; pulls #20-#22; merged #2, #20, #21; ten comments and
    # reviews by people (three of the bot's aside).
    "activity_by_month": by_month(
        {"issues_opened": 5, "pulls_opened": 3, "merged": 3, "comments": 10},
        {"issues_opened": 0, "pulls_opened": 2, "merged": 0, "comments": 2},
        {"issues_opened": 2, "pulls_opened": 1, "merged": 0, "comments": 2},
    ),
}

ORGANISATION = {
    **REPOSITORY_PAGE,
    "scope": {"owner": "acme", "repositories": [APP, LIB], "since": "2024-01-01", "until": "2024-04-01", "days": 91},
    "first_response": {
        "issues": REPOSITORY_PAGE["first_response"]["issues"],
        # With kim's #6 (2 h, his first): 1.5, 2, 6, 24. Newcomers': 2 and 6, of 4.
        "pulls": {"all": responses(7, 4, 2.0, 24.0, 1, (0, 2, 1, 1, 0, 0)),
                  "newcomers": responses(4, 2, 2.0, 6.0, 1, (0, 1, 1, 0, 0, 0))},
    },
    "time_to_merge": {"count": 4, "median_hours": 24.0, "p90_hours": 312.0},
    "change_requests": {"opened": 7, "merged": 4, "closed": 2, "closure_ratio": 0.857},
    # carol contributed to acme/lib before the window: January's are jack, dave, gina, harry and
    # kim; only dave came back.
    "new_contributors": new_contributors((5, 1, ["dave", "gina", "harry", "jack", "kim"]), (0, 0, []), (1, 0, ["ivan"])),
    "recognitions": NO_RECOGNITIONS,
    "dco": {"pulls": 6, "passed_first": 2, "passed_first_share": 0.333, "median_hours_to_fix": 4.0,
            "abandoned": 2, "abandoned_share": 0.333},
    "heated": by_month({"reminders": 1, "locks": 0}, {"reminders": 2, "locks": 2}, {"reminders": 0, "locks": 0}),
    # frank 2, gina 1, kim 1: frank's 2 of 4 is half.
    "absence_factor": {"value": 1, "merged": 4, "contributors": 3,
                       "top": [{"login": "frank", "merged": 2}, {"login": "gina", "merged": 1},
                               {"login": "kim", "merged": 1}]},
    "activity_by_month": by_month(
        {"issues_opened": 5, "pulls_opened": 4, "merged": 4, "comments": 11},
        *REPOSITORY_PAGE["activity_by_month"][1:],
    ),
}


async def test_a_repository_page(history: Inbox) -> None:
    figures = await compute(history, Scope(None, (APP,), SINCE, UNTIL))
    assert figures == REPOSITORY_PAGE
    assert json.loads(json.dumps(figures)) == REPOSITORY_PAGE  # plain numbers, no Decimal


async def test_an_organisation_through_its_allow_list(history: Inbox) -> None:
    """acme/secret is the organisation's but not on the list: nothing of it counts."""
    figures = await compute(history, Scope("acme", (APP, LIB), SINCE, UNTIL))
    assert json.loads(json.dumps(figures)) == figures == ORGANISATION
    assert await compute(history, Scope("ACME", ("Acme/App", "acme/lib"), SINCE, UNTIL)) == ORGANISATION


async def test_the_whole_organisation_counts_what_the_list_left_out(history: Inbox) -> None:
    whole = await compute(history, Scope("acme", None, SINCE, UNTIL))
    assert whole["change_requests"]["opened"] == 9  # zed's #2 and #3
    assert whole["absence_factor"]["merged"] == 5
    # gina had commented in acme/secret; zed is new and came back.
    assert whole["new_contributors"][0] == {"month": "2024-01", "count": 5, "returned": 2, "return_rate": 0.4,
                                            "complete": False, "people": ["dave", "harry", "jack", "kim", "zed"]}
    other = await compute(history, Scope("other", None, SINCE, UNTIL))
    assert other["absence_factor"] == {"value": 1, "merged": 1, "contributors": 1,
                                       "top": [{"login": "frank", "merged": 1}]}


@pytest.mark.parametrize("scope", [Scope(None, (), SINCE, UNTIL), Scope("acme", (), SINCE, UNTIL),
                                   Scope("nobody", None, SINCE, UNTIL)])
async def test_an_empty_scope_counts_nothing(history: Inbox, scope: Scope) -> None:
    figures = await compute(history, scope)
    nothing = responses(0, 0, None, None, 0, (0, 0, 0, 0, 0, 0))
    assert figures["first_response"] == {"issues": {"all": nothing, "newcomers": nothing},
                                         "pulls": {"all": nothing, "newcomers": nothing}}
    assert figures["time_to_close"] == figures["time_to_merge"] == {"count": 0, "median_hours": None, "p90_hours": None}
    assert figures["change_requests"] == {"opened": 0, "merged": 0, "closed": 0, "closure_ratio": None}
    assert figures["new_contributors"] == new_contributors((0, 0, []), (0, 0, []), (0, 0, []))
    assert figures["good_first_issues"] == {"labeled": 0, "claimed": 0, "median_hours_to_claim": None,
                                            "closed_by_newcomer": 0}
    assert figures["dco"] == figures["cla"] == {"pulls": 0, "passed_first": 0, "passed_first_share": None,
                                                "median_hours_to_fix": None, "abandoned": 0, "abandoned_share": None}
    assert figures["heated"] == by_month(*({"reminders": 0, "locks": 0},) * 3)
    assert figures["absence_factor"] == {"value": None, "merged": 0, "contributors": 0, "top": []}
    assert figures["activity_by_month"] == by_month(
        *({"issues_opened": 0, "pulls_opened": 0, "merged": 0, "comments": 0},) * 3
    )
    json.dumps(figures)


async def test_a_later_end_reads_what_came_after(history: Inbox) -> None:
    """Until 19 July: alice's answer to #17 (72 h) and harry's comment on #21 (83 days after
    his first) count now, and January's newcomers have had their 90 days."""
    figures = await compute(history, Scope(None, (APP,), SINCE, SINCE + 200 * DAY))
    assert [month["month"] for month in figures["new_contributors"]] == [
        "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07"
    ]
    assert figures["new_contributors"][0] == {"month": "2024-01", "count": 5, "returned": 3, "return_rate": 0.6,
                                              "complete": True, "people": ["carol", "dave", "gina", "harry", "jack"]}
    # 90 days after March's end is 30 June; after April's, 30 July.
    assert [month["complete"] for month in figures["new_contributors"]] == [True, True, True, False, False, False,
                                                                            False]
    issues = figures["first_response"]["issues"]["all"]
    # #12 was closed on day 93: no longer waiting; #17 answered. 0.5, 3, 72, 120, 240.
    assert (issues["responded"], issues["waiting"], issues["median_hours"]) == (5, 0, 72.0)
    assert figures["heated"][3] == {"month": "2024-04", "reminders": 1, "locks": 0}


async def test_a_window_starting_mid_month(history: Inbox) -> None:
    """From 10 January: the months still start with January, counting only what lies within."""
    figures = await compute(history, Scope(None, (APP,), SINCE + 9 * DAY, UNTIL))
    assert figures["scope"] == {"owner": None, "repositories": [APP], "since": "2024-01-10", "until": "2024-04-01",
                                "days": 82}
    assert figures["activity_by_month"][0] == {"month": "2024-01", "issues_opened": 1, "pulls_opened": 2,
                                               "merged": 1, "comments": 2}
    # jack, carol, dave and gina contributed before the 10th; harry is January's newcomer.
    assert figures["new_contributors"][0]["count"] == 1


@pytest.mark.parametrize(
    ("merges", "value", "top"),
    [
        # 3 + 3 = 6 of 10 is the first pair to reach half, whichever of the tied two comes first.
        ({"ann": 3, "bea": 3, "cid": 2, "dot": 2}, 2, [("ann", 3), ("bea", 3), ("cid", 2), ("dot", 2)]),
        # Exactly half is enough.
        ({"ann": 2, "bea": 1, "cid": 1}, 1, [("ann", 2), ("bea", 1), ("cid", 1)]),
        # Twelve alike: six of them; the top ten by login.
        ({f"p{n:02d}": 1 for n in range(12)}, 6, [(f"p{n:02d}", 1) for n in range(10)]),
    ],
)
async def test_absence_factor(inbox: Inbox, merges: dict[str, int], value: int, top: list[tuple[str, int]]) -> None:
    rows = [merged(APP, 100 * index + n, 5, n, login) for index, (login, count) in enumerate(merges.items())
            for n in range(count)]
    rows.append(merged(APP, 999, 5, 0, DEPENDABOT))
    await ActivityLog(inbox).record(rows)
    figures = await compute(inbox, Scope(None, (APP,), SINCE, UNTIL))
    assert figures["absence_factor"] == {
        "value": value, "merged": sum(merges.values()), "contributors": len(merges),
        "top": [{"login": login, "merged": count} for login, count in top],
    }


@pytest.mark.parametrize(("hours", "median", "p90"), [
    ((5,), 5.0, 5.0),
    ((1, 2), 1.0, 2.0),
    ((4, 1, 3, 2), 2.0, 4.0),
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 5.0, 9.0),
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 6.0, 10.0),
    ((2, 2, 2, 7), 2.0, 7.0),
])
async def test_percentiles_are_nearest_rank(inbox: Inbox, hours: tuple[float, ...], median: float, p90: float) -> None:
    """The value ranked ceil(p * n): PostgreSQL's percentile_disc."""
    rows = []
    for number, taken in enumerate(hours, start=1):
        rows += [pull(APP, number, 1, 0, "ann"), merged(APP, number, 1, taken, "ann")]
    await ActivityLog(inbox).record(rows)
    figures = await compute(inbox, Scope(None, (APP,), SINCE, UNTIL))
    assert figures["time_to_merge"] == {"count": len(hours), "median_hours": median, "p90_hours": p90}


async def test_repositories_with_activity(history: Inbox) -> None:
    assert await repositories(history) == [APP, LIB, SECRET, OTHER]
    assert await repositories(history, "ACME") == [APP, LIB, SECRET]
    assert await repositories(history, "nobody") == []


def test_a_scope_names_what_it_reads() -> None:
    with pytest.raises(ValueError):
        Scope(None, None, SINCE, UNTIL)
    with pytest.raises(ValueError):
        Scope("acme", None, UNTIL, SINCE)


async def test_recognitions_by_month_within_the_scope(history: Inbox) -> None:
    book = RecognitionBook(history)
    thanks = [(APP, "gina", ("code",), 5), (APP, "dave", ("doc", "review"), 40), (SECRET, "zed", ("code",), 41),
              (OTHER, "yan", ("bug",), 42), (APP, "late", ("code",), 95)]
    for number, (repository, login, types, day) in enumerate(thanks):
        await book.record(Recognition(repository, login, types, "alice", 1, SINCE + day * DAY, comment_id=number))
    page = await compute(history, Scope(None, (APP,), SINCE, UNTIL))
    assert page["recognitions"] == by_month(
        {"count": 1, "people": [{"login": "gina", "types": ["code"], "repository": APP}]},
        {"count": 1, "people": [{"login": "dave", "types": ["doc", "review"], "repository": APP}]},
        {"count": 0, "people": []},
    )
    organisation = await compute(history, Scope("acme", None, SINCE, UNTIL))
    assert [person["login"] for month in organisation["recognitions"] for person in month["people"]] == ["gina", "dave", "zed"]


# Reports ------------------------------------------------------------------------------------


def test_json_report_round_trips() -> None:
    assert json.loads(format_report(ORGANISATION, "json")) == ORGANISATION


def test_csv_report_has_a_row_per_metric() -> None:
    rows = list(csv.reader(io.StringIO(format_report(REPOSITORY_PAGE, "csv"))))
    assert rows[0] == ["section", "metric", "value"]
    found = {(section, metric): value for section, metric, value in rows[1:]}
    assert len(found) == len(rows) - 1
    assert found[("first_response.issues.all", "median_hours")] == "3.0"
    assert found[("first_response.pulls.newcomers", "buckets.4–24 h")] == "1"
    assert found[("change_requests", "closure_ratio")] == "0.833"
    assert found[("good_first_issues", "median_hours_to_claim")] == "6.0"
    assert found[("dco", "abandoned")] == "2"
    assert found[("new_contributors.2024-02", "return_rate")] == ""  # None
    assert found[("absence_factor", "top.frank")] == "2"
    assert found[("activity_by_month.2024-03", "comments")] == "2"
    assert found[("scope", "repositories")] == APP


def test_markdown_report_reads_as_a_report() -> None:
    text = format_report(ORGANISATION, "markdown")
    assert text.startswith("## Community health: acme, 2024-01-01 to 2024-04-01\n")
    assert "| Issues | 7 | 4 | 3 h | 10 d | 2 |" in text  # hours up to two days, then days
    assert "| Newcomers' pull requests | 4 | 2 | 2 h | 6 h | 1 |" in text
    assert "| 2024-01 * | 5 | 1 | 20% |" in text  # * still within its 90 days
    assert "| DCO | 6 | 2 (33%) | 4 h | 2 (33%) |" in text
    assert "| frank | 2 |" in text
    assert "@" not in text
    # The repositories of an organisation's report are named; none other's are.
    assert "acme/app, acme/lib" in text and SECRET not in text


def test_markdown_report_of_an_empty_scope() -> None:
    nothing = {**ORGANISATION, "absence_factor": {"value": None, "merged": 0, "contributors": 0, "top": []}}
    assert "No pull requests were merged" in format_report(nothing, "markdown")


def test_table_report_is_aligned_text() -> None:
    text = format_report(REPOSITORY_PAGE, "table")
    lines = text.splitlines()
    assert lines[0] == "Community health: acme/app, 2024-01-01 to 2024-04-01 (91 days)"
    assert any(line.split() == ["Issues", "7", "4", "3.0", "240.0", "2"] for line in lines)
    assert any(line.split() == ["Change", "request", "closure", "ratio", "0.833"] for line in lines)
    assert "|" not in text


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError):
        format_report(REPOSITORY_PAGE, "yaml")
