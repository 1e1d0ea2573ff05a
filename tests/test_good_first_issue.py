"""Good first issues end to end: real issue and issue_comment payloads, through the bot, to the
spec-checking fake GitHub."""

from __future__ import annotations

import copy

import pytest

from handlers import good_first_issue as gfi
from tests.conftest import comment_event, deliver, installed, settle
from tests.fakes import example

OWNER, REPO = "Codertocat", "Hello-World"
NUMBER = 1
MAINTAINER = {"login": "maintainer", "id": 77}
NEWBIE = {"login": "newbie", "id": 9001}


@pytest.fixture
async def bot(start_bot):
    gfi._swept.clear()  # each test's repository is looked over afresh
    return await start_bot([gfi.router], app_slug="community-bot")


async def say(client, fake, body: str, person: dict, number: int = NUMBER) -> None:
    await deliver(client, "issue_comment", comment_event(fake, OWNER, REPO, number, body, login=person["login"], user_id=person["id"]))
    await settle(client)


def labels_of(fake, number: int = NUMBER) -> list[str]:
    return sorted(label["name"] for label in fake.issue(OWNER, REPO, number)["labels"])


def bot_comments(fake, kind: str, number: int = NUMBER) -> list[str]:
    return [c["body"] for c in fake.comments(OWNER, REPO, number) if f"<!-- community-bot:{kind} -->" in c["body"]]


def reactions(fake) -> list[str]:
    return [r["content"] for r in fake.reactions]


# Decisions -------------------------------------------------------------------------------------


def test_candidate_rules():
    rules = {"keywords": ["typo"], "patterns": [r"\bdocs?\b"], "labels": ["documentation"], "max_body_length": 50}
    assert gfi.is_candidate({"title": "Fix a Typo", "body": ""}, rules)
    assert gfi.is_candidate({"title": "Improve the doc", "body": ""}, rules)
    assert gfi.is_candidate({"title": "x", "body": "", "labels": [{"name": "Documentation"}]}, rules)
    assert not gfi.is_candidate({"title": "Fix a typo", "body": "x" * 51}, rules)
    assert not gfi.is_candidate({"title": "Crash on start", "body": ""}, rules)
    assert not gfi.is_candidate({"title": "x(", "body": ""}, {"patterns": ["x("]})  # a broken pattern matches nothing


@pytest.mark.parametrize(
    ("issue", "held", "refusal"),
    [
        ({"state": "open", "labels": [{"name": "good first issue"}]}, 0, None),
        ({"state": "open", "labels": []}, 0, "not_good_first_issue"),
        ({"state": "closed", "labels": [{"name": "good first issue"}]}, 0, "closed"),
        ({"state": "open", "labels": [{"name": "good first issue"}], "assignees": [{"login": "Newbie"}]}, 1, "already_yours"),
        ({"state": "open", "labels": [{"name": "good first issue"}], "assignees": [{"login": "other"}]}, 0, "taken"),
        ({"state": "open", "labels": [{"name": "good first issue"}]}, 1, "limit"),
    ],
)
def test_who_may_claim(issue, held, refusal):
    assert gfi.claim_refusal(issue, "newbie", held, 1, "good first issue") == refusal


# Commands --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), [("admin", True), ("triage", True), ("read", False), ("none", False)])
async def test_only_triage_or_more_may_mark_an_issue(bot, fake_github, role, allowed):
    fake_github.add_issue(OWNER, REPO, number=NUMBER, title="Fix a typo")
    fake_github.set_permission(OWNER, REPO, "maintainer", role)
    await say(bot, fake_github, "Looks easy.\n/good-first-issue", MAINTAINER)
    if allowed:
        assert labels_of(fake_github) == ["good first issue", "help wanted"]
        assert len(bot_comments(fake_github, "good-first-issue-guide")) == 1
        assert reactions(fake_github) == ["+1"]
    else:
        assert labels_of(fake_github) == []
        [refusal] = bot_comments(fake_github, "good-first-issue-refused")
        assert "triage access" in refusal
        assert reactions(fake_github) == ["confused"]


async def test_missing_labels_are_created_and_existing_ones_kept(bot, fake_github):
    fake_github.add_label(OWNER, REPO, "help wanted", color="123456")
    fake_github.add_issue(OWNER, REPO, number=NUMBER)
    fake_github.set_permission(OWNER, REPO, "maintainer", "write")
    await say(bot, fake_github, "/good-first-issue", MAINTAINER)
    looks = {label["name"]: label["color"] for label in fake_github.labels(OWNER, REPO)}
    assert looks == {"help wanted": "123456", "good first issue": "7057ff"}


async def test_remove_and_help(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER, labels=["good first issue", "help wanted", "bug"])
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    await say(bot, fake_github, "/remove-good-first-issue", MAINTAINER)
    assert labels_of(fake_github) == ["bug"]
    await say(bot, fake_github, "/help", MAINTAINER)
    assert labels_of(fake_github) == ["bug", "help wanted"]


async def test_commands_in_code_quotes_or_pull_requests_and_unknown_ones_are_ignored(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER)
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    await say(bot, fake_github, "> /good-first-issue\n```\n/good-first-issue\n```\n/frobnicate\nsee /good-first-issue", MAINTAINER)
    assert labels_of(fake_github) == [] and fake_github.reactions == []
    fake_github.add_issue(OWNER, REPO, number=2, pull_request=True)
    await say(bot, fake_github, "/good-first-issue", MAINTAINER, number=2)
    assert labels_of(fake_github, 2) == []


async def test_labelling_by_hand_posts_the_guide_once(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER, labels=["good first issue"])
    payload = copy.deepcopy(installed(example("issues", "labeled")))
    payload["issue"] = fake_github.issue(OWNER, REPO, NUMBER)
    payload["label"] = fake_github.issue(OWNER, REPO, NUMBER)["labels"][0]
    for _ in range(2):  # and a redelivery
        await deliver(bot, "issues", payload)
        await settle(bot)
    [guide] = bot_comments(fake_github, "good-first-issue-guide")
    assert "/assign" in guide and "/unassign" in guide


# Claims ------------------------------------------------------------------------------------------


async def test_a_newcomer_claims_then_releases(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER, labels=["good first issue"])
    await say(bot, fake_github, "/assign", NEWBIE)
    assert fake_github.issue(OWNER, REPO, NUMBER)["assignees"][0]["login"] == "newbie"
    [note] = bot_comments(fake_github, "good-first-issue-claim")
    assert "assigned to newbie" in note and "@newbie" not in note
    await say(bot, fake_github, "/unassign", NEWBIE)
    assert fake_github.issue(OWNER, REPO, NUMBER)["assignees"] == []
    [note] = bot_comments(fake_github, "good-first-issue-claim")  # the same comment, edited
    assert "released" in note


async def test_one_claim_at_a_time_and_no_taking_a_taken_issue(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1, labels=["good first issue"], assignees=["newbie"])
    fake_github.add_issue(OWNER, REPO, number=2, labels=["good first issue"])
    fake_github.add_issue(OWNER, REPO, number=3, labels=["good first issue"], assignees=["someone"])
    await say(bot, fake_github, "/claim", NEWBIE, number=2)
    assert fake_github.issue(OWNER, REPO, 2)["assignees"] == []
    assert "You already hold 1 open good first issue here" in bot_comments(fake_github, "good-first-issue-refused", 2)[0]
    await say(bot, fake_github, "/assign", {"login": "other", "id": 5}, number=3)
    assert [a["login"] for a in fake_github.issue(OWNER, REPO, 3)["assignees"]] == ["someone"]
    assert "already assigned to someone else" in bot_comments(fake_github, "good-first-issue-refused", 3)[0]


async def test_only_good_first_issues_can_be_claimed(bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER)
    await say(bot, fake_github, "/assign", NEWBIE)
    assert fake_github.issue(OWNER, REPO, NUMBER)["assignees"] == []
    assert reactions(fake_github) == ["confused"]


def test_last_claim_activity():
    bot_login = "community-bot[bot]"
    note = {"user": {"login": bot_login}, "body": "assigned\n<!-- community-bot:good-first-issue-claim -->",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"}
    said = {"user": {"login": "Newbie"}, "body": "working on it", "created_at": "2026-01-05T00:00:00Z", "updated_at": "2026-01-05T00:00:00Z"}
    other = {"user": {"login": "someone"}, "body": "+1", "created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z"}
    assert gfi.last_claim_activity([note, said, other], ["newbie"], bot_login) == gfi.github_time("2026-01-05T00:00:00Z")
    assert gfi.last_claim_activity([note, other], ["newbie"], bot_login) == gfi.github_time("2026-01-02T00:00:00Z")
    assert gfi.last_claim_activity([said], ["newbie"], bot_login) is None  # assigned by hand: left alone


@pytest.mark.parametrize("linked_pull_request", [False, True])
async def test_a_quiet_claim_is_released_on_a_later_event(bot, fake_github, monkeypatch, linked_pull_request):
    import time

    fake_github.add_issue(OWNER, REPO, number=NUMBER, labels=["good first issue"])
    await say(bot, fake_github, "/assign", NEWBIE)
    if linked_pull_request:
        fake_github.add_issue(OWNER, REPO, number=2, pull_request=True, body=f"Fixes #{NUMBER}", author="newbie")
    fifteen_days_on = time.time() + 15 * 86400
    monkeypatch.setattr(gfi.time, "time", lambda: fifteen_days_on)
    gfi._swept.clear()
    fake_github.add_issue(OWNER, REPO, number=3)
    await say(bot, fake_github, "Any news on the other one?", MAINTAINER, number=3)  # any later event in the repository
    assignees = [a["login"] for a in fake_github.issue(OWNER, REPO, NUMBER)["assignees"]]
    if linked_pull_request:
        assert assignees == ["newbie"]
    else:
        assert assignees == []
        [note] = bot_comments(fake_github, "good-first-issue-claim")
        assert "free again" in note and "nothing has happened here for 14 days" in note


# Suggestions -----------------------------------------------------------------------------------


def opened(fake, number: int, title: str) -> dict:
    fake.add_issue(OWNER, REPO, number=number, title=title, author="newbie")
    payload = copy.deepcopy(installed(example("issues", "opened")))
    payload["issue"] = fake.issue(OWNER, REPO, number)
    return payload


SUGGEST = "good_first_issue:\n  suggest:\n    enabled: true\n    keywords: [typo]\n"


@pytest.mark.parametrize("mode", ["suggest", "apply"])
async def test_suggestions_in_both_modes(bot, fake_github, mode):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", SUGGEST + f"    mode: {mode}\n")
    await deliver(bot, "issues", opened(fake_github, 1, "A typo in the README"))
    await deliver(bot, "issues", opened(fake_github, 2, "Crash when saving"))
    await settle(bot)
    if mode == "suggest":
        [suggestion] = bot_comments(fake_github, "good-first-issue-suggestion")
        assert "/good-first-issue" in suggestion and "@" not in suggestion
        assert labels_of(fake_github) == []
    else:
        assert labels_of(fake_github) == ["good first issue", "help wanted"]
        assert len(bot_comments(fake_github, "good-first-issue-guide")) == 1
    assert fake_github.comments(OWNER, REPO, 2) == [] and labels_of(fake_github, 2) == []


async def test_no_suggestions_unless_turned_on(bot, fake_github):
    await deliver(bot, "issues", opened(fake_github, 1, "A typo in the README"))
    await settle(bot)
    assert fake_github.comments(OWNER, REPO, 1) == []
