"""Welcoming newcomers, end to end: real payloads with the author varied, through the bot, to
the spec-checking fake GitHub."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import pytest

from handlers import welcome
from tests.conftest import bot_of, deliver, installed, settle
from tests.fakes import example

OWNER, REPO = "Codertocat", "Hello-World"  # where GitHub's example payloads happen
NEWCOMER = {"login": "newbie", "id": 9001}


def person(login: str = NEWCOMER["login"], user_id: int = NEWCOMER["id"], kind: str = "User") -> dict[str, Any]:
    return {
        "login": login,
        "id": user_id,
        "node_id": "MDQ6VXNlcjkwMDE=",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": kind,
        "site_admin": False,
    }


def opened_issue(number: int, *, author: dict | None = None, association: str = "NONE", sender: dict | None = None) -> dict:
    payload = copy.deepcopy(installed(example("issues", "opened")))
    author = author or person()
    payload["issue"].update(number=number, user=author, author_association=association, title=f"Issue {number}")
    payload["sender"] = sender or author
    return payload


def pull_request(action: str, number: int, *, association: str = "NONE", draft: bool = False, merged: bool = False,
                 author: dict | None = None, sender: dict | None = None) -> dict:
    source = example("pull_request", "closed" if action == "closed" else "opened")
    payload = copy.deepcopy(installed(source))
    author = author or person()
    payload["action"] = action
    payload["number"] = number
    payload["pull_request"].update(
        number=number, user=author, author_association=association, draft=draft, merged=merged, title=f"PR {number}"
    )
    payload["sender"] = sender or author
    return payload


@pytest.fixture
async def bot(start_bot):
    return await start_bot([welcome.router])


async def send(client, event: str, payload: dict, delivery_id: str | None = None) -> None:
    response = await deliver(client, event, payload, delivery_id=delivery_id)
    assert response.status == 202
    await settle(client)


def bot_comments(fake, number: int) -> list[dict]:
    return [c for c in fake.comments(OWNER, REPO, number) if c["user"]["login"].endswith("[bot]")]


def work_calls(fake) -> list[tuple[str, str]]:
    return [(call.method, call.path) for call in fake.api_calls()]


# The decisions, on their own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "association", "include_members", "ruled_out"),
    [
        ("issue", "OWNER", False, True),
        ("issue", "MEMBER", False, True),
        ("issue", "COLLABORATOR", True, False),
        ("issue", "CONTRIBUTOR", False, True),
        ("pull_request", "CONTRIBUTOR", False, True),
        ("first_merge", "CONTRIBUTOR", False, False),  # the merge itself may have made them one
        ("issue", "NONE", False, False),
        ("pull_request", "FIRST_TIME_CONTRIBUTOR", False, False),
        ("pull_request", "FIRST_TIMER", False, False),
        ("issue", None, False, False),
    ],
)
def test_association_rules_out_members_and_returning_contributors(kind, association, include_members, ruled_out):
    assert welcome.ruled_out_by_association(kind, association, include_members=include_members) is ruled_out


def test_search_queries():
    assert welcome.search_query("issue", "o/r", "newbie") == "repo:o/r author:newbie"
    assert welcome.search_query("pull_request", "o/r", "newbie") == "repo:o/r author:newbie is:pr"
    assert welcome.search_query("first_merge", "o/r", "newbie") == "repo:o/r author:newbie is:pr is:merged"


@pytest.mark.parametrize(
    ("total", "numbers", "first"),
    [(0, [], True), (1, [5], True), (1, [3], False), (2, [3, 5], False), (2, [5, 3], False)],
)
def test_the_item_being_greeted_is_counted_out_whether_or_not_search_has_it(total, numbers, first):
    result = {"total_count": total, "items": [{"number": n} for n in numbers]}
    assert welcome.none_before(result, 5) is first


# Issues -----------------------------------------------------------------------------------


async def test_a_newcomers_first_issue_is_welcomed_once(bot, fake_github):
    fake_github.set_community_profile(OWNER, REPO, contributing=True, code_of_conduct=True)
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    [comment] = bot_comments(fake_github, 1)
    assert comment["body"].startswith("Thank you for opening your first issue in Codertocat/Hello-World, newbie")
    assert "@newbie" not in comment["body"]  # greeted, not pinged
    assert "CONTRIBUTING.md" in comment["body"] and "CODE_OF_CONDUCT.md" in comment["body"]
    assert "<!-- community-bot:welcome-issue -->" in comment["body"]
    [search] = fake_github.calls_to("GET", "/search/issues")
    assert search.query["q"] == "repo:Codertocat/Hello-World author:newbie"
    # What it costs: the config (repository, then organisation), one search, the organisation's
    # members (one list for everyone, cached), the community profile, the wording
    # (behaviorbot's file, an override), the comment: a new issue holds no earlier welcome.
    assert sorted(work_calls(fake_github)) == sorted([
        ("GET", f"/repos/{OWNER}/{REPO}/contents/.github/community-bot.yml"),
        ("GET", f"/repos/{OWNER}/.github/contents/.github/community-bot.yml"),
        ("GET", "/search/issues"),
        ("GET", f"/orgs/{OWNER}/members"),
        ("GET", f"/repos/{OWNER}/{REPO}/community/profile"),
        ("GET", f"/repos/{OWNER}/{REPO}/contents/.github/config.yml"),
        ("GET", f"/repos/{OWNER}/.github/contents/.github/config.yml"),
        ("GET", f"/repos/{OWNER}/{REPO}/contents/.github/community-bot/templates/welcome_issue.md"),
        ("POST", f"/repos/{OWNER}/{REPO}/issues/1/comments"),
    ])

    # A redelivery of the same event: still one comment.
    await send(bot, "issues", opened_issue(1))
    assert len(bot_comments(fake_github, 1)) == 1

    # Their second issue: not greeted, and not even a search to find that out.
    fake_github.reset_calls()
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(2))
    assert bot_comments(fake_github, 2) == []
    assert fake_github.calls_to("GET", "/search/issues") == []


async def test_no_second_welcome_after_the_first_is_deleted(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    [comment] = bot_comments(fake_github, 1)
    fake_github.delete_comment(comment["id"])
    # And the search index has not caught up with their first issue either.
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9001, in_search=False)
    await send(bot, "issues", opened_issue(2))
    assert bot_comments(fake_github, 2) == []


async def test_an_issue_not_yet_in_the_search_index_is_still_a_first(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001, in_search=False)
    await send(bot, "issues", opened_issue(1))
    assert len(bot_comments(fake_github, 1)) == 1


async def test_someone_with_earlier_issues_or_pull_requests_is_not_greeted(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001, pull_request=True, state="closed")
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(2))
    assert bot_comments(fake_github, 2) == []
    # Settled by the search: no permission lookup was needed.
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") == []


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR"])
async def test_members_and_contributors_are_not_greeted_and_cost_no_search(bot, fake_github, association):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1, association=association))
    assert bot_comments(fake_github, 1) == []
    assert fake_github.calls_to("GET", "/search/issues") == []


async def test_a_private_member_shown_as_an_outsider_is_not_greeted(bot, fake_github):
    fake_github.add_org_member(OWNER, "newbie")  # privately: the payload says NONE
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1, association="NONE"))
    assert bot_comments(fake_github, 1) == []


async def test_on_warm_caches_a_newcomers_welcome_costs_a_search_and_the_comment(bot, fake_github):
    fake_github.add_org_member(OWNER, "someone-else")
    fake_github.add_issue(OWNER, REPO, number=1, author="first", author_id=9001)
    await send(bot, "issues", opened_issue(1, author=person("first", 9001)))
    fake_github.reset_calls()
    fake_github.add_issue(OWNER, REPO, number=2, author="second", author_id=9002)
    await send(bot, "issues", opened_issue(2, author=person("second", 9002)))
    assert len(bot_comments(fake_github, 2)) == 1
    assert sorted(work_calls(fake_github)) == [("GET", "/search/issues"), ("POST", f"/repos/{OWNER}/{REPO}/issues/2/comments")]


async def test_a_member_who_joined_since_the_list_was_read_is_never_greeted(bot, fake_github):
    fake_github.add_org_member(OWNER, "someone-else")
    fake_github.add_issue(OWNER, REPO, number=1, author="first", author_id=9001)
    await send(bot, "issues", opened_issue(1, author=person("first", 9001)))  # the list is read and cached
    fake_github.add_org_member(OWNER, "newbie")
    joined = installed(example("organization", "member_added"))
    joined["organization"]["login"] = OWNER
    joined["membership"]["user"]["login"] = "newbie"
    await send(bot, "organization", joined)
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9002)
    await send(bot, "issues", opened_issue(2, author=person("newbie", 9002)))
    assert bot_comments(fake_github, 2) == []
    assert len(fake_github.calls_to("GET", "/orgs/{org}/members")) == 2  # read again after the event


async def test_a_second_try_at_a_welcome_finds_the_first_instead_of_posting_again(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1), delivery_id="first-try")
    await send(bot, "issues", opened_issue(1), delivery_id="second-try")  # the same event again, as a redelivery
    assert len(bot_comments(fake_github, 1)) == 1
    assert len(fake_github.calls_to("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == 1


async def test_members_are_greeted_when_configured(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "welcome:\n  include_members: true\n")
    fake_github.set_permission(OWNER, REPO, "newbie", "admin")
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1, association="MEMBER"))
    assert len(bot_comments(fake_github, 1)) == 1


async def test_bots_are_never_greeted(bot, fake_github):
    dependabot = person("dependabot[bot]", 49699333, kind="Bot")
    fake_github.add_issue(OWNER, REPO, number=1, author="dependabot[bot]", author_id=49699333)
    await send(bot, "issues", opened_issue(1, author=dependabot))
    # A human merging a bot's pull request is still no newcomer's first merge.
    fake_github.add_issue(OWNER, REPO, number=2, author="dependabot[bot]", author_id=49699333, pull_request=True, merged=True)
    await send(bot, "pull_request", pull_request("closed", 2, merged=True, author=dependabot, sender=person("maintainer", 1)))
    assert bot_comments(fake_github, 1) == [] and bot_comments(fake_github, 2) == []
    assert fake_github.calls_to("GET", "/search/issues") == []


async def test_two_first_issues_at_once_get_one_welcome(bot, fake_github):
    for number in (1, 2):
        fake_github.add_issue(OWNER, REPO, number=number, author="newbie", author_id=9001, in_search=False)
    responses = await asyncio.gather(*(deliver(bot, "issues", opened_issue(n)) for n in (1, 2)))
    assert [r.status for r in responses] == [202, 202]
    await settle(bot)
    assert len(bot_comments(fake_github, 1)) + len(bot_comments(fake_github, 2)) == 1


# Pull requests ------------------------------------------------------------------------------


async def test_a_first_pull_request_is_welcomed_with_the_checks_that_run(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "dco:\n  enabled: true\n")
    # An earlier issue does not make a first pull request any less a first.
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9001, pull_request=True)
    await send(bot, "pull_request", pull_request("opened", 2, association="FIRST_TIME_CONTRIBUTOR"))
    [comment] = bot_comments(fake_github, 2)
    assert comment["body"].startswith("Thank you for your first pull request to Codertocat/Hello-World, newbie")
    assert "Automated checks run on every push: DCO." in comment["body"]
    assert "git commit -s" in comment["body"]
    [search] = fake_github.calls_to("GET", "/search/issues")
    assert search.query["q"] == "repo:Codertocat/Hello-World author:newbie is:pr"


async def test_a_draft_is_greeted_when_it_is_ready_for_review(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=3, author="newbie", author_id=9001, pull_request=True, draft=True)
    await send(bot, "pull_request", pull_request("opened", 3, draft=True))
    assert bot_comments(fake_github, 3) == []
    await send(bot, "pull_request", pull_request("ready_for_review", 3))
    assert len(bot_comments(fake_github, 3)) == 1


async def test_drafts_are_greeted_at_once_when_configured(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "welcome:\n  pull_request:\n    include_drafts: true\n")
    fake_github.add_issue(OWNER, REPO, number=3, author="newbie", author_id=9001, pull_request=True, draft=True)
    await send(bot, "pull_request", pull_request("opened", 3, draft=True))
    assert len(bot_comments(fake_github, 3)) == 1


async def test_a_first_merge_is_congratulated_with_issues_to_take_next(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=10, title="Fix a typo", labels=["good first issue"])
    fake_github.add_issue(OWNER, REPO, number=11, title="Taken already", labels=["good first issue"], assignees=["someone"])
    fake_github.add_issue(OWNER, REPO, number=12, title="Document @everyone", labels=["help wanted"])
    fake_github.add_issue(OWNER, REPO, number=13, title="Closed", labels=["good first issue"], state="closed")
    fake_github.add_issue(OWNER, REPO, number=14, author="newbie", author_id=9001, pull_request=True, merged=True, state="closed")
    # The merge has made them a contributor already, as the payload may say.
    await send(bot, "pull_request", pull_request("closed", 14, association="CONTRIBUTOR", merged=True, sender=person("maintainer", 1)))
    [comment] = bot_comments(fake_github, 14)
    body = comment["body"]
    assert body.startswith("Congratulations on your first merged pull request in Codertocat/Hello-World, newbie")
    assert "#10: Fix a typo" in body and "#12: Document @\u200beveryone" in body
    assert "#11" not in body and "#13" not in body
    [search] = fake_github.calls_to("GET", "/search/issues")
    assert search.query["q"] == "repo:Codertocat/Hello-World author:newbie is:pr is:merged"


async def test_a_second_merge_is_not_congratulated(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=5, author="newbie", author_id=9001, pull_request=True, merged=True, state="closed")
    fake_github.add_issue(OWNER, REPO, number=6, author="newbie", author_id=9001, pull_request=True, merged=True, state="closed")
    await send(bot, "pull_request", pull_request("closed", 6, association="CONTRIBUTOR", merged=True))
    assert bot_comments(fake_github, 6) == []


async def test_a_pull_request_closed_unmerged_is_not_a_merge(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=6, author="newbie", author_id=9001, pull_request=True, state="closed")
    await send(bot, "pull_request", pull_request("closed", 6, merged=False))
    assert bot_comments(fake_github, 6) == []
    assert fake_github.calls_to("GET", "/search/issues") == []


# What maintainers configure ---------------------------------------------------------------


@pytest.mark.parametrize(
    "config", ["welcome:\n  enabled: false\n", "welcome:\n  issue:\n    enabled: false\n"]
)
async def test_welcomes_can_be_turned_off(bot, fake_github, config):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", config)
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    assert bot_comments(fake_github, 1) == []
    assert fake_github.calls_to("GET", "/search/issues") == []


async def test_an_inline_message_with_labels(bot, fake_github):
    fake_github.add_file(
        OWNER,
        REPO,
        ".github/community-bot.yml",
        "welcome:\n  issue:\n    message: 'Hi {{ author }}, thanks for {{ title }}! cc @maintainers'\n"
        "    add_labels: [first-time-contributor]\n",
    )
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    [comment] = bot_comments(fake_github, 1)
    # The maintainers' own mention is theirs to make; the bot adds none.
    assert comment["body"].startswith("Hi newbie, thanks for Issue 1! cc @maintainers")
    assert [label["name"] for label in fake_github.issue(OWNER, REPO, 1)["labels"]] == ["first-time-contributor"]


async def test_a_template_file_named_in_the_config(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "welcome:\n  issue:\n    template: hello.md\n")
    fake_github.add_file(OWNER, REPO, ".github/community-bot/templates/hello.md", "Hello {{ author }} from {{ repo }}")
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    [comment] = bot_comments(fake_github, 1)
    assert comment["body"].startswith("Hello newbie from Codertocat/Hello-World")


async def test_a_broken_template_falls_back_to_the_built_in_one(bot, fake_github, caplog):
    fake_github.add_file(OWNER, REPO, ".github/community-bot/templates/welcome_issue.md", "Hello {{ author ")
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    with caplog.at_level(logging.ERROR):
        await send(bot, "issues", opened_issue(1))
    [comment] = bot_comments(fake_github, 1)
    assert comment["body"].startswith("Thank you for opening your first issue")
    assert any("welcome_issue.md failed" in record.getMessage() for record in caplog.records)


async def test_behaviorbot_welcome_keys_keep_working(bot, fake_github):
    fake_github.add_file(
        OWNER,
        REPO,
        ".github/config.yml",
        "newIssueWelcomeComment: >\n  Thanks for opening your first issue here! {{ not a template }}\n"
        "newPRWelcomeComment: Thanks for opening this pull request!\n"
        "firstPRMergeComment: Congrats on merging your first pull request!\n",
    )
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    fake_github.add_issue(OWNER, REPO, number=2, author="newbie", author_id=9001, pull_request=True)
    await send(bot, "pull_request", pull_request("opened", 2))
    assert bot_comments(fake_github, 1)[0]["body"].startswith("Thanks for opening your first issue here! {{ not a template }}")
    assert bot_comments(fake_github, 2)[0]["body"].startswith("Thanks for opening this pull request!")


async def test_first_tries_are_forgotten_with_their_deliveries_but_welcomes_never(bot, fake_github, monkeypatch):
    fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
    await send(bot, "issues", opened_issue(1))
    inbox = bot_of(bot).inbox
    tries = await inbox.count_marks("comment.try", "", since=0)
    assert tries == 1
    later = time.time() + 8 * 86400  # past the 7 days deliveries are kept
    monkeypatch.setattr("bot.app.time.time", lambda: later)
    await bot_of(bot)._prune_records()
    assert await inbox.count_marks("comment.try", "", since=0) == 0
    assert await inbox.count_marks("welcome.issue", "", since=0) == 1
