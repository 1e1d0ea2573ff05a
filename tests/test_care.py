"""Care for people waiting, end to end: a newcomer's issue left without a response is noticed
once, a response drops the timer, and a newcomer's first pull request gets a mentor in turn;
real payloads, through the bot and its timers, to the spec-checking fake GitHub."""

from __future__ import annotations

import asyncio
import copy
import time

import pytest

from bot.inbox import Inbox
from bot.timers import TimerBook
from handlers import care
from tests.conftest import (
    bot_of,
    comment_event,
    deliver,
    drop_tables,
    installed,
    own_postgres_database,
    postgres_answers,
    settle,
    until,
)
from tests.fakes import example

OWNER, REPO = "Codertocat", "Hello-World"
NEWBIE = "newbie"
DAY = 86400


@pytest.fixture
async def bot(start_bot):
    return await start_bot([care.router], app_slug="community-bot")


def configure(fake, text: str) -> None:
    fake.add_file(OWNER, REPO, ".github/community-bot.yml", text)


def issue_opened(fake, number: int, *, author: str = NEWBIE, association: str = "NONE") -> dict:
    fake.add_issue(OWNER, REPO, number=number, author=author, author_association=association)
    payload = copy.deepcopy(installed(example("issues", "opened")))
    payload["issue"] = fake.issue(OWNER, REPO, number)
    payload["sender"] = payload["issue"]["user"]
    return payload


def pull_opened(fake, number: int, *, author: str = NEWBIE, association: str = "FIRST_TIME_CONTRIBUTOR", action: str = "opened") -> dict:
    fake.add_issue(OWNER, REPO, number=number, author=author, pull_request=True, author_association=association)
    payload = copy.deepcopy(installed(example("pull_request", "opened")))
    payload["action"] = action
    payload["number"] = number
    payload["pull_request"].update(
        number=number, user=fake.issue(OWNER, REPO, number)["user"], author_association=association, draft=False, merged=False
    )
    payload["sender"] = payload["pull_request"]["user"]
    return payload


def pull_closed(opened: dict) -> dict:
    payload = copy.deepcopy(opened)
    payload["action"] = "closed"
    payload["pull_request"].update(state="closed", closed_at="2026-12-01T00:00:00Z")
    return payload


async def send(client, event: str, payload: dict) -> None:
    assert (await deliver(client, event, payload)).status == 202
    await settle(client)


async def time_passes(client, seconds: float) -> int:
    """Fire the timers due that much later, as the periodic round does; how many came due."""
    bot = bot_of(client)
    fired = await bot.timers.fire_due(now=time.time() + seconds)
    bot.pool.wake()
    await settle(client)
    return fired


def labels_of(fake, number: int) -> list[str]:
    return [label["name"] for label in fake.issue(OWNER, REPO, number)["labels"]]


def label_posts(fake) -> list[str]:
    return [call.path for call in fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")]


# Decisions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "waits"),
    [
        ({"user": {"login": "a"}, "author_association": "NONE"}, True),
        ({"user": {"login": "a"}, "author_association": "FIRST_TIMER"}, True),
        ({"user": {"login": "a"}, "author_association": "FIRST_TIME_CONTRIBUTOR"}, True),
        ({"user": {"login": "a"}, "author_association": "CONTRIBUTOR"}, False),
        ({"user": {"login": "a"}, "author_association": "MEMBER"}, False),
        ({"user": {"login": "a"}, "author_association": "NONE", "draft": True}, False),
        ({"user": {"login": "dependabot[bot]", "type": "Bot"}, "author_association": "NONE"}, False),
    ],
)
def test_who_is_waiting_for_a_first_response(item, waits):
    assert care.awaits_first_response(item) is waits


def test_what_counts_as_a_response():
    item = {"user": {"login": "Newbie"}}
    assert care.is_response(item, {"login": "maintainer", "type": "User"})
    assert not care.is_response(item, {"login": "newbie", "type": "User"})  # the author
    assert not care.is_response(item, {"login": "helper[bot]", "type": "Bot"})
    assert not care.is_response(item, None)


def test_mentors_in_turn_within_their_limit():
    mentors = ["ann", "bob", "cid"]
    assert care.pick_mentor(mentors, "newbie", {}, start=0, limit=1) == "ann"
    assert care.pick_mentor(mentors, "newbie", {}, start=4, limit=1) == "bob"
    assert care.pick_mentor(mentors, "newbie", {"bob": 1}, start=1, limit=1) == "cid"
    assert care.pick_mentor(mentors, "Ann", {}, start=0, limit=1) == "bob"  # never the author
    assert care.pick_mentor(mentors, "newbie", {"ann": 2, "bob": 2, "cid": 2}, start=0, limit=2) is None


# First response -----------------------------------------------------------------------------


async def test_a_newcomer_left_waiting_is_labelled_once(bot, fake_github):
    opened = issue_opened(fake_github, 1)
    await send(bot, "issues", opened)
    assert await time_passes(bot, 47 * 3600) == 0  # not yet
    fake_github.reset_calls()
    assert await time_passes(bot, 49 * 3600) == 1
    assert labels_of(fake_github, 1) == ["needs-response"]
    work = [(c.method, c.path) for c in fake_github.api_calls() if "access_tokens" not in c.path and "/contents/" not in c.path]
    assert work == [("POST", f"/repos/{OWNER}/{REPO}/issues/1/labels")]
    # GitHub delivers the opening again (a day later, say): the item was noticed already.
    await send(bot, "issues", opened)
    assert await time_passes(bot, 3 * DAY) == 1
    assert label_posts(fake_github) == [f"/repos/{OWNER}/{REPO}/issues/1/labels"]
    assert fake_github.comments(OWNER, REPO, 1) == []
    fake_github.assert_no_violations()


async def test_an_item_deleted_meanwhile_is_let_go(bot, fake_github):
    await send(bot, "issues", issue_opened(fake_github, 1))
    fake_github.respond("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", status=410,
                        json={"message": "This issue was deleted", "documentation_url": "https://docs.github.com"})
    assert await time_passes(bot, 3 * DAY) == 1
    assert (await bot_of(bot).inbox.count_by_state()).get("failed", 0) == 0


async def test_members_and_contributors_are_not_watched(bot, fake_github):
    await send(bot, "issues", issue_opened(fake_github, 1, author="regular", association="CONTRIBUTOR"))
    await send(bot, "issues", issue_opened(fake_github, 2, author="staff", association="MEMBER"))
    assert await time_passes(bot, 3 * DAY) == 0


async def test_a_response_in_time_drops_the_timer(bot, fake_github):
    await send(bot, "issues", issue_opened(fake_github, 1))
    await send(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, 1, "Thanks, looking.", login="maintainer"))
    assert await time_passes(bot, 3 * DAY) == 0
    assert labels_of(fake_github, 1) == []


@pytest.mark.parametrize("responder", ["newbie", "helper[bot]"])
async def test_the_author_or_a_bot_answering_is_no_response(bot, fake_github, responder):
    await send(bot, "issues", issue_opened(fake_github, 1))
    await send(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, 1, "Any news?", login=responder))
    assert await time_passes(bot, 3 * DAY) == 1
    assert labels_of(fake_github, 1) == ["needs-response"]


async def test_the_label_goes_when_someone_responds(bot, fake_github):
    await send(bot, "issues", issue_opened(fake_github, 1))
    await time_passes(bot, 3 * DAY)
    await send(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, 1, "Sorry for the wait!", login="maintainer"))
    assert labels_of(fake_github, 1) == []


async def test_closing_drops_the_timer(bot, fake_github):
    payload = issue_opened(fake_github, 1)
    await send(bot, "issues", payload)
    closed = copy.deepcopy(payload) | {"action": "closed"}
    await send(bot, "issues", closed)
    assert await time_passes(bot, 3 * DAY) == 0


async def test_a_triage_team_is_mentioned_instead(bot, fake_github):
    configure(fake_github, "care:\n  respond_within_hours: 24\n  triage_team: codertocat/triage\n")
    await send(bot, "issues", issue_opened(fake_github, 1))
    assert await time_passes(bot, 25 * 3600) == 1
    [comment] = fake_github.comments(OWNER, REPO, 1)
    assert comment["body"].startswith("@codertocat/triage: this issue was opened by someone new")
    assert "<!-- community-bot:first-response -->" in comment["body"]
    assert labels_of(fake_github, 1) == []


async def test_off_with_care_or_with_welcome(bot, fake_github):
    configure(fake_github, "welcome:\n  enabled: false\n")
    await send(bot, "issues", issue_opened(fake_github, 1))
    assert await time_passes(bot, 3 * DAY) == 0


async def test_two_processes_act_once(tmp_path):
    """Two processes look for due timers at once: each timer becomes one delivery."""
    url = f"sqlite:///{tmp_path / 'timers.db'}"
    if postgres_answers():
        url = await own_postgres_database("test_care_timers")
        await drop_tables(url, create_again=True)
    first, second = Inbox(url, owner="one"), Inbox(url, owner="two")
    await first.open()
    await second.open()
    try:
        payload = {"installation": {"id": 7}, "repository": {"full_name": f"{OWNER}/{REPO}"}}
        for number in range(50):
            assert await TimerBook(first).schedule(care.FIRST_RESPONSE, f"1#{number}", time.time() - 1, payload)
        assert not await TimerBook(second).schedule(care.FIRST_RESPONSE, "1#0", time.time() - 1, payload)
        fired = await asyncio.gather(TimerBook(first).fire_due(), TimerBook(second).fire_due())
        assert sum(fired) == 50
        assert (await first.count_by_state())["pending"] == 50
        claimed = await first.claim(100) + await second.claim(100)
        assert len({d.id for d in claimed}) == len(claimed) == 50
        assert {d.event for d in claimed} == {"timer"} and {d.action for d in claimed} == {care.FIRST_RESPONSE}
    finally:
        await first.close()
        await second.close()
        if url.startswith("postgresql"):
            await drop_tables(url)


# Mentors ----------------------------------------------------------------------------------


def review_requests(fake) -> list[tuple[int, list[str]]]:
    calls = fake.calls_to("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
    return [(int(call.path.split("/")[-2]), call.json["reviewers"]) for call in calls]


async def test_mentors_take_first_pull_requests_in_turn_within_their_limit(bot, fake_github):
    configure(fake_github, "care:\n  mentors: [ann, bob]\n  mentor_max_open: 1\n")
    first = pull_opened(fake_github, 1)
    await send(bot, "pull_request", first)
    await send(bot, "pull_request", pull_opened(fake_github, 2, author="other"))
    await send(bot, "pull_request", pull_opened(fake_github, 3, author="third"))  # both busy
    assert review_requests(fake_github) == [(1, ["ann"]), (2, ["bob"])]
    await send(bot, "pull_request", pull_closed(first))  # ann is free again
    fourth = pull_opened(fake_github, 4, author="fourth")
    await send(bot, "pull_request", fourth)
    assert review_requests(fake_github)[-1] == (4, ["ann"])
    # Marked ready for review after opening: asked once.
    await send(bot, "pull_request", fourth | {"action": "ready_for_review"})
    assert len(review_requests(fake_github)) == 3
    fake_github.assert_no_violations()


async def test_no_mentor_for_returning_contributors_or_oneself(bot, fake_github):
    configure(fake_github, "care:\n  mentors: [ann]\n")
    await send(bot, "pull_request", pull_opened(fake_github, 1, association="CONTRIBUTOR"))
    await send(bot, "pull_request", pull_opened(fake_github, 2, author="ann"))
    assert review_requests(fake_github) == []


async def test_a_team_of_mentors(bot, fake_github):
    configure(fake_github, "care:\n  mentors: [codertocat/mentors]\n")
    members = [{"login": login, "id": n, "type": "User"} for n, login in enumerate(["cy", "di"], start=1)]
    fake_github.respond("GET", "/orgs/codertocat/teams/mentors/members", json=members)
    await send(bot, "pull_request", pull_opened(fake_github, 1))
    await send(bot, "pull_request", pull_opened(fake_github, 2, author="other"))
    assert review_requests(fake_github) == [(1, ["cy"]), (2, ["di"])]



async def test_the_periodic_round_finds_due_timers(bot, fake_github):
    configure(fake_github, "care:\n  respond_within_hours: 0.0001\n")  # a third of a second
    await send(bot, "issues", issue_opened(fake_github, 1))
    running = bot_of(bot)
    rounds = asyncio.create_task(running.timers.run(running.pool.wake, every=0.1))
    try:
        await until(lambda: labels_of(fake_github, 1) == ["needs-response"])
    finally:
        rounds.cancel()


async def test_a_timer_kept_for_done_is_written_before_it_is_cancelled(tmp_path):
    # One delivery that keeps a timer (written with its "done") and then cancels it: the
    # cancel must find it, not run before the write and leave it to fire.
    from gidgethub import sansio

    from bot.context import EventContext, Services

    inbox = Inbox(f"sqlite:///{tmp_path / 'bot.db'}")
    await inbox.open()
    try:
        services = Services(config=None, renderer=None, inbox=inbox, app_slug=None, client_for=None, timers=TimerBook(inbox))
        kept: list = []
        ctx = EventContext(sansio.Event({}, event="issues", delivery_id="d-1"), services, kept_rows=kept)
        await ctx.schedule(care.FIRST_RESPONSE, "1#1", time.time() - 1, {"installation": {"id": 1}})
        assert len(kept) == 1 and await TimerBook(inbox).fire_due() == 0  # kept, not yet written
        assert await ctx.cancel_timer(care.FIRST_RESPONSE, "1#1") is True
        assert kept == [] and await TimerBook(inbox).fire_due() == 0
    finally:
        await inbox.close()
