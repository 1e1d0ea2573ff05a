"""The code of conduct end to end: real payloads, through the bot, to the spec-checking fake."""

from __future__ import annotations

import copy

import pytest

from handlers import conduct
from tests.conftest import comment_event, deliver, installed, settle
from tests.fakes import example

OWNER, REPO = "Codertocat", "Hello-World"
NUMBER = 1
HEATED = "You are an idiot and you should quit."
CALM = "This code is garbage, honestly: the parser is broken again. Can we rewrite it?"
REMIND = "conduct:\n  remind_heated_threads: true\n"


@pytest.fixture
async def bot(start_bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=NUMBER)
    return await start_bot([conduct.router], app_slug="community-bot")


async def say(client, fake, body: str, login: str = "someone", number: int = NUMBER) -> None:
    await deliver(client, "issue_comment", comment_event(fake, OWNER, REPO, number, body, login=login))
    await settle(client)


def reminders(fake, number: int = NUMBER) -> list[str]:
    return [c["body"] for c in fake.comments(OWNER, REPO, number) if "<!-- community-bot:conduct-reminder -->" in c["body"]]


async def test_a_heated_comment_gets_one_reminder_and_a_calm_thread_none(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND)
    fake_github.set_community_profile(OWNER, REPO, code_of_conduct=True)
    await say(bot, fake_github, CALM)
    assert reminders(fake_github) == []
    await say(bot, fake_github, HEATED, login="angry")
    [reminder] = reminders(fake_github)
    assert "CODE_OF_CONDUCT.md" in reminder
    assert "angry" not in reminder and "idiot" not in reminder  # addressed to the thread, quoting no one
    await say(bot, fake_github, HEATED, login="angry")  # within the cooldown: nothing more
    assert len(reminders(fake_github)) == 1


async def test_reminders_are_off_by_default(bot, fake_github):
    await say(bot, fake_github, HEATED)
    assert reminders(fake_github) == []


async def test_a_thread_is_locked_after_repeated_heat(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND + "  lock_after: 2\n  public_reminder: false\n")
    await say(bot, fake_github, HEATED)
    assert not fake_github.issue(OWNER, REPO, NUMBER).get("locked")
    await say(bot, fake_github, HEATED)
    assert fake_github.issue(OWNER, REPO, NUMBER)["locked"]
    assert reminders(fake_github) == []  # public_reminder: false


@pytest.mark.parametrize(("role", "posted"), [("triage", True), ("admin", True), ("read", False)])
async def test_coc_command_needs_triage(bot, fake_github, role, posted):
    fake_github.set_permission(OWNER, REPO, "maintainer", role)
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "conduct:\n  notify_team: codertocat/moderators\n")
    await say(bot, fake_github, "Let's keep it kind.\n/coc", login="maintainer")
    found = reminders(fake_github)
    assert bool(found) is posted
    if posted:
        assert "@codertocat/moderators" in found[0]


async def test_the_code_of_conduct_is_found_in_the_organisation(bot, fake_github):
    fake_github.add_file(OWNER, ".github", "CODE_OF_CONDUCT.md", "Be kind.")
    fake_github.set_permission(OWNER, REPO, "maintainer", "triage")
    await say(bot, fake_github, "/coc", login="maintainer")
    assert f"https://github.com/{OWNER}/.github/blob/HEAD/CODE_OF_CONDUCT.md" in reminders(fake_github)[0]


def installation_event() -> dict:
    payload = copy.deepcopy(example("installation", "created"))
    payload["installation"]["id"] = 7
    return payload


async def test_a_repository_without_a_code_of_conduct_gets_one_suggestion_once(bot, fake_github):
    for _ in range(2):  # and a redelivery
        await deliver(bot, "installation", installation_event())
        await settle(bot)
    created = fake_github.calls_to("POST", f"/repos/{OWNER}/{REPO}/issues")
    assert len(created) == 1
    assert "community/code-of-conduct/new" in created[0].json["body"]


async def test_no_suggestion_where_there_is_a_code_of_conduct(bot, fake_github):
    fake_github.set_community_profile(OWNER, REPO, code_of_conduct=True)
    await deliver(bot, "installation", installation_event())
    await settle(bot)
    assert fake_github.calls_to("POST", f"/repos/{OWNER}/{REPO}/issues") == []


def test_cooldown_decision():
    reminder = {"updated_at": "2026-01-01T00:00:00Z"}
    start = conduct.github_time("2026-01-01T00:00:00Z")
    assert conduct.recently_reminded(reminder, 24, start + 3600)
    assert not conduct.recently_reminded(reminder, 24, start + 25 * 3600)
    assert not conduct.recently_reminded(None, 24, start)


async def test_first_interaction_where_welcomes_are_off(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "welcome:\n  enabled: false\nconduct:\n  on_first_interaction: true\n")
    fake_github.set_community_profile(OWNER, REPO, code_of_conduct=True)
    payload = copy.deepcopy(installed(example("issues", "opened")))
    payload["issue"]["author_association"] = "NONE"
    for _ in range(2):  # and a redelivery
        await deliver(bot, "issues", payload)
        await settle(bot)
    [comment] = [c["body"] for c in fake_github.comments(OWNER, REPO, payload["issue"]["number"])]
    assert "code of conduct" in comment and "<!-- community-bot:code-of-conduct -->" in comment


async def test_flagged_comments_are_listed_for_moderators_in_a_daily_private_issue(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND + "  report_to: Codertocat/moderation\n  public_reminder: false\n")
    await say(bot, fake_github, HEATED, login="angry")
    first = comment_event(fake_github, OWNER, REPO, NUMBER, "Shut up, you moron.", login="angry")
    for _ in range(2):  # the same comment twice (an edit, or a redelivery): listed once
        await deliver(bot, "issue_comment", first)
        await settle(bot)
    await say(bot, fake_github, CALM)
    [opened] = fake_github.calls_to("POST", "/repos/Codertocat/moderation/issues")
    assert opened.json["title"].startswith("Flagged comments, ")
    entries = fake_github.comments("Codertocat", "moderation", 1)
    assert len(entries) == 2
    assert "score" in entries[0]["body"] and "idiot" in entries[0]["body"]
    assert reminders(fake_github) == []  # nothing public


async def test_a_push_that_turns_the_section_on_suggests_a_code_of_conduct(bot, fake_github):
    push = copy.deepcopy(installed(example("push")))
    push["ref"] = f"refs/heads/{push['repository']['default_branch']}"
    push["commits"] = [{"added": [".github/community-bot.yml"], "removed": [], "modified": []}]
    await deliver(bot, "push", push)
    await settle(bot)
    owner, name = push["repository"]["full_name"].split("/")
    assert len(fake_github.calls_to("POST", f"/repos/{owner}/{name}/issues")) == 1


def test_thresholds_by_where_the_comment_is_written():
    assert conduct.threshold_for({}, "issue") == 0.5 and conduct.threshold_for({}, "review") == 1.0
    assert conduct.threshold_for({"threshold": 0.8}, "issue") == conduct.threshold_for({"threshold": 0.8}, "review") == 0.8
    assert conduct.threshold_for({"threshold": {"review": 1.5}}, "review") == 1.5
    assert conduct.threshold_for({"threshold": {"review": 1.5}}, "issue") == 0.5  # the other kind keeps its default
    assert conduct.thread_kind(example("issues", "opened")["issue"]) == "issue"
    assert conduct.thread_kind(example("issue_comment", "created")["issue"] | {"pull_request": {}}) == "review"
    assert conduct.thread_kind(example("pull_request", "opened")["pull_request"]) == "review"


async def test_weaker_heat_is_enough_in_an_issue_thread_but_not_in_a_pull_requests(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", REMIND)
    fake_github.set_community_profile(OWNER, REPO, code_of_conduct=True)
    fake_github.add_issue(OWNER, REPO, number=2, pull_request=True)
    weak = "You are being unprofessional."  # one half-weight term: 0.5
    await say(bot, fake_github, weak, number=2)
    assert reminders(fake_github, 2) == []
    await say(bot, fake_github, weak)
    assert len(reminders(fake_github)) == 1
