"""Insights' activity log: GitHub's real payloads, through the bot, become one row per fact, with
the facts' own times; bots' doings are marked; the bot's outcomes are recorded where they happen;
a redelivery adds nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from bot.github import github_time
from bot.insights import activity
from handlers import activity as activity_handler
from handlers import dco, welcome
from tests import test_dco as dco_test
from tests.conftest import bot_of, deliver, installed, settle
from tests.fakes import commit, example
from tests.test_welcome import opened_issue, person, pull_request

OWNER, REPO = "Codertocat", "Hello-World"
FULL = "codertocat/hello-world"


async def rows(client: Any) -> list[dict[str, Any]]:
    inbox = bot_of(client).inbox
    table = activity.activity
    query = select(table).order_by(table.c.at, table.c.key)
    return [dict(row) for row in await inbox.transaction(lambda conn: conn.execute(query).mappings().all())]


async def send(client: Any, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> None:
    assert (await deliver(client, event, payload, delivery_id=delivery_id)).status == 202
    await settle(client)


@pytest.fixture
async def bot(start_bot: Any) -> Any:
    return await start_bot([activity_handler.router])


# Pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "numbers"),
    [
        ("Fixes #12", [12]),
        ("closes: #3 and resolves #4, fixes #3 again", [3, 4]),
        ("Closes Codertocat/Hello-World#7", [7]),
        ("Closes someone/else#7", []),
        ("Refs #9; see issue #10", []),
        ("prefixes#5 is not a keyword", []),
        (None, []),
    ],
)
def test_closing_references(body: str | None, numbers: list[int]) -> None:
    assert activity.closing_references(body, "Codertocat/Hello-World") == numbers


def test_rows_of_a_rest_issue_and_a_webhook_pull_request_agree_on_keys() -> None:
    """The issues API lists a merged pull request with ``pull_request.merged_at``; its webhook
    object has ``merged_at``: both give the same facts."""
    author = person()
    as_listed = {
        "number": 5, "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-01-02T00:00:00Z", "user": author,
        "author_association": "NONE", "pull_request": {"merged_at": "2026-01-02T00:00:00Z"}, "body": "fixes #1",
    }
    as_delivered = {
        "number": 5, "created_at": "2026-01-01T00:00:00Z", "closed_at": "2026-01-02T00:00:00Z", "user": author,
        "author_association": "NONE", "merged_at": "2026-01-02T00:00:00Z", "merged": True, "body": "fixes #1",
    }
    listed = activity.item_rows(f"{OWNER}/{REPO}", as_listed)
    assert listed == activity.item_rows(f"{OWNER}/{REPO}", as_delivered)
    assert [(row.kind, row.number, row.is_pull) for row in listed] == [
        (activity.PR_OPENED, 5, True), (activity.MERGED, 5, True), (activity.CLOSES, 1, False),
    ]


# Through the bot ------------------------------------------------------------------------------


async def test_an_issue_its_comments_and_its_close(bot: Any) -> None:
    payload = opened_issue(21)
    await send(bot, "issues", payload)
    comment = copy.deepcopy(installed(example("issue_comment", "created")))
    comment["issue"] = payload["issue"]
    comment["comment"].update(id=555, user=person("maintainer", 2), author_association="MEMBER")
    await send(bot, "issue_comment", comment)
    from_a_bot = copy.deepcopy(comment)
    from_a_bot["comment"].update(id=556, user=person("renovate[bot]", 3, kind="Bot"))
    from_a_bot["sender"] = from_a_bot["comment"]["user"]
    await send(bot, "issue_comment", from_a_bot)
    closed = copy.deepcopy(payload)
    closed["action"] = "closed"
    closed["issue"].update(state="closed", closed_at="2026-03-01T10:00:00Z")
    await send(bot, "issues", closed)

    got = [(r["kind"], r["number"], r["actor"], r["is_bot"], r["is_pull"]) for r in await rows(bot)]
    assert sorted(got, key=str) == sorted(
        [
            (activity.ISSUE_OPENED, 21, "newbie", False, False),
            (activity.COMMENT, 21, "maintainer", False, False),
            (activity.COMMENT, 21, "renovate[bot]", True, False),
            (activity.CLOSED, 21, None, False, False),
        ],
        key=str,
    )
    by_kind = {r["kind"]: r for r in await rows(bot)}
    assert by_kind[activity.ISSUE_OPENED]["at"] == github_time(payload["issue"]["created_at"])
    assert by_kind[activity.ISSUE_OPENED]["repository"] == FULL
    assert by_kind[activity.ISSUE_OPENED]["owner"] == "codertocat"
    assert by_kind[activity.CLOSED]["month"] == "2026-03"


async def test_a_redelivery_adds_nothing(bot: Any) -> None:
    payload = opened_issue(22)
    await send(bot, "issues", payload, delivery_id="first")
    before = await rows(bot)
    await send(bot, "issues", payload, delivery_id="again")  # GitHub's redelivery has a new id
    assert await rows(bot) == before and len(before) == 1


async def test_reviews_review_comments_and_a_merge(bot: Any) -> None:
    review = copy.deepcopy(installed(example("pull_request_review", "submitted")))
    await send(bot, "pull_request_review", review)
    review_comment = copy.deepcopy(installed(example("pull_request_review_comment", "created")))
    await send(bot, "pull_request_review_comment", review_comment)
    merged = pull_request("closed", 30, merged=True)
    merged["pull_request"].update(merged_at="2026-02-03T04:05:06Z", closed_at="2026-02-03T04:05:06Z", body="Fixes #21")
    await send(bot, "pull_request", merged)

    got = {(r["kind"], r["number"]) for r in await rows(bot)}
    number = review["pull_request"]["number"]
    assert (activity.REVIEW, number) in got
    assert (activity.REVIEW_COMMENT, review_comment["pull_request"]["number"]) in got
    assert (activity.PR_OPENED, number) in got  # the pull request itself, though opened before we listened
    assert {(activity.PR_OPENED, 30), (activity.MERGED, 30), (activity.CLOSES, 21)} <= got
    review_row = next(r for r in await rows(bot) if r["kind"] == activity.REVIEW)
    assert review_row["at"] == github_time(review["review"]["submitted_at"])
    assert review_row["detail"] == review["review"]["state"]


async def test_good_first_issue_labelling_is_kept_once(bot: Any, fake_github: Any) -> None:
    labeled = copy.deepcopy(installed(example("issues", "labeled")))
    labeled["label"] = dict(labeled["label"], name="Good First Issue")
    labeled["issue"]["updated_at"] = "2026-04-01T00:00:00Z"
    await send(bot, "issues", labeled)
    again = copy.deepcopy(labeled)
    again["issue"]["updated_at"] = "2026-04-09T00:00:00Z"  # relabelled later: the first stays
    await send(bot, "issues", again)
    other = copy.deepcopy(labeled)
    other["label"] = dict(other["label"], name="bug")
    await send(bot, "issues", other)
    labels = [r for r in await rows(bot) if r["kind"] == activity.GFI_LABELED]
    assert [(r["at"], r["detail"]) for r in labels] == [(github_time("2026-04-01T00:00:00Z"), "Good First Issue")]


async def test_nothing_is_recorded_where_insights_are_off(bot: Any, fake_github: Any) -> None:
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "insights:\n  enabled: false\n")
    await send(bot, "issues", opened_issue(23))
    assert await rows(bot) == []


# The bot's outcomes ------------------------------------------------------------------------


async def test_a_welcome_is_recorded_once(start_bot: Any, fake_github: Any) -> None:
    client = await start_bot([welcome.router])
    payload = opened_issue(40)
    fake_github.add_issue(OWNER, REPO, number=40, author="newbie", author_id=person()["id"])
    await send(client, "issues", payload)
    await send(client, "issues", payload, delivery_id="redelivered")
    outcomes = [(r["kind"], r["number"], r["detail"], r["actor"]) for r in await rows(client)]
    assert outcomes == [(activity.WELCOME, 40, "issue", "newbie")]


async def test_each_check_verdict_is_recorded_per_head(start_bot: Any, fake_github: Any) -> None:
    client = await start_bot([dco.router], app_slug="community-bot")
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "dco:\n  enabled: true\n")
    verdicts = []
    for message in ("Add a thing", "Add a thing\n\nSigned-off-by: Mona <mona@example.com>"):
        pushed = commit(message=message)
        fake_github.add_pull_request_commits(OWNER, REPO, dco_test.NUMBER, [pushed], base_sha=dco_test.BASE_SHA)
        event = dco_test.pull_request_event([pushed])
        await send(client, "pull_request", event)
        await send(client, "pull_request", event)  # redelivered: the same verdict on the same head
        verdicts.append(pushed["sha"])
    got = [(r["kind"], r["number"], r["detail"], r["is_pull"], r["key"].split(":")[-2]) for r in await rows(client)]
    assert got == [
        (activity.DCO, dco_test.NUMBER, "action_required", True, verdicts[0]),
        (activity.DCO, dco_test.NUMBER, "success", True, verdicts[1]),
    ]


async def test_no_outcome_is_recorded_where_insights_are_off(start_bot: Any, fake_github: Any) -> None:
    client = await start_bot([welcome.router])
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "insights:\n  enabled: false\n")
    fake_github.add_issue(OWNER, REPO, number=41, author="newbie", author_id=person()["id"])
    await send(client, "issues", opened_issue(41))
    assert len(fake_github.comments(OWNER, REPO, 41)) == 1  # welcomed all the same
    assert await rows(client) == []
