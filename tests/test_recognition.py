"""Recognition end to end: /thank (and all-contributors' "@bot add") by permission, and
milestones of merged pull requests counted from the recorded activity; real payloads, through
the bot, to the spec-checking fake GitHub."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bot import allcontributors
from bot.commands import Command
from bot.insights.activity import MERGED, Activity
from handlers import recognition
from tests.conftest import bot_of, comment_event, deliver, installed, settle
from tests.fakes import example

OWNER, REPO = "Codertocat", "Hello-World"
ON = "recognition:\n  enabled: true\n"


@pytest.fixture
async def bot(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ON)
    fake_github.add_issue(OWNER, REPO, number=1)
    return await start_bot([recognition.router], app_slug="community-bot")


async def say(client, fake, body: str, login: str = "maintainer", delivery_id: str | None = None, payload: dict | None = None) -> dict:
    payload = payload or comment_event(fake, OWNER, REPO, 1, body, login=login)
    assert (await deliver(client, "issue_comment", payload, delivery_id=delivery_id)).status == 202
    await settle(client)
    return payload


def bot_comments(fake, number: int = 1) -> list[str]:
    return [c["body"] for c in fake.comments(OWNER, REPO, number) if c["user"]["login"].endswith("[bot]")]


async def recorded(client) -> list[tuple[str, tuple[str, ...], str]]:
    found = await bot_of(client).recognitions.for_repositories([f"{OWNER}/{REPO}"])
    return [(r.login, r.types, r.by_login) for r in found]


# Decisions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "parsed"),
    [
        (Command("thank", ("@alice", "for", "code,", "doc,", "review")), ("alice", ["code", "doc", "review"], [])),
        (Command("thank", ("@alice", "for", "docs", "and", "tests")), ("alice", ["doc", "test"], [])),
        (Command("please", ("add", "@jakebolam", "for", "infrastructure,", "tests", "and", "code"), True),
         ("jakebolam", ["infra", "test", "code"], [])),
        (Command("add", ("@alice", "for", "code", "cooking"), True), ("alice", ["code"], ["cooking"])),
        (Command("thank", ("@alice", "for", "user", "testing,", "code", "docs")), ("alice", ["userTesting", "code", "doc"], [])),
        (Command("thank", ("@alice",)), ("alice", [], [])),
        (Command("thank", ()), None),
        (Command("thank", ("alice", "for", "code")), None),  # a person is named with @
        (Command("please", ("merge",), True), None),
    ],
)
def test_reading_a_thank_you(command, parsed):
    assert recognition.parse_thanks(command) == parsed


@pytest.mark.parametrize(("count", "celebrated"), [(1, None), (2, None), (10, 10), (50, 50), (11, None)])
def test_milestones(count, celebrated):
    assert recognition.milestone_reached(count, [1, 10, 50, 100], first_merge_welcomed=True) == celebrated
    assert recognition.milestone_reached(1, [1, 10], first_merge_welcomed=False) == 1


def test_ordinals():
    assert [recognition.ordinal(n) for n in (1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 100, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "22nd", "100th", "101st", "111th",
    ]


# Commands --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "allowed"), [("admin", True), ("maintain", True), ("triage", True), ("read", False), ("none", False)])
async def test_thanks_need_triage_permission(bot, fake_github, role, allowed):
    fake_github.set_permission(OWNER, REPO, "maintainer", role)
    await say(bot, fake_github, "Great work!\n/thank @alice for code, doc")
    [answer] = bot_comments(fake_github)
    if allowed:
        assert answer.startswith("Thank you, @alice, for your contributions: 💻 Code, 📖 Documentation! :tada:")
        assert await recorded(bot) == [("alice", ("code", "doc"), "maintainer")]
    else:
        assert "needs triage access" in answer and "@" not in answer.split("<!--")[0]
        assert await recorded(bot) == []
        await say(bot, fake_github, "/thank @alice for code\n/thank @bob for doc")  # one refusal a comment
        assert len(bot_comments(fake_github)) == 2
    fake_github.assert_no_violations()


async def test_all_contributors_phrasing_and_one_answer_per_command(bot, fake_github):
    fake_github.set_permission(OWNER, REPO, "maintainer", "write")
    await say(bot, fake_github, "@community-bot please add @jakebolam for infrastructure, tests and code\n/thank @alice for review")
    assert await recorded(bot) == [("jakebolam", ("infra", "test", "code"), "maintainer"), ("alice", ("review",), "maintainer")]
    assert len(bot_comments(fake_github)) == 2


async def test_unknown_types_are_listed(bot, fake_github):
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    await say(bot, fake_github, "/thank @alice for code, cooking")
    [answer] = bot_comments(fake_github)
    assert "`cooking` is not a contribution type" in answer and "`a11y`" in answer and "`video`" in answer
    assert await recorded(bot) == []


async def test_a_redelivered_comment_thanks_once(bot, fake_github):
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    payload = await say(bot, fake_github, "/thank @alice for code")
    await say(bot, fake_github, "", payload=payload)
    assert len(bot_comments(fake_github)) == 1
    assert await recorded(bot) == [("alice", ("code",), "maintainer")]


async def test_quoted_commands_and_slash_add_are_ignored(bot, fake_github):
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    await say(bot, fake_github, "> /thank @alice for code\n```\n/thank @bob for code\n```\n/add @carol for code")
    assert bot_comments(fake_github) == []


async def test_off_by_default(start_bot, fake_github):
    fake_github.add_issue(OWNER, REPO, number=1)
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    client = await start_bot([recognition.router], app_slug="community-bot")
    await say(client, fake_github, "/thank @alice for code")
    assert bot_comments(fake_github) == []


# Milestones ------------------------------------------------------------------------------------


def merged(fake, number: int, author: str = "newbie") -> dict:
    fake.add_issue(OWNER, REPO, number=number, author=author, pull_request=True, merged=True)
    payload = copy.deepcopy(installed(example("pull_request", "closed")))
    payload["number"] = number
    payload["pull_request"].update(
        number=number, user=fake.issue(OWNER, REPO, number)["user"], merged=True, merged_at=f"2026-11-{number:02d}T12:00:00Z"
    )
    return payload


async def test_the_tenth_merge_is_celebrated_once(bot, fake_github):
    # Nine merges backfilled before (as the backfill records them), then the tenth arrives.
    author = fake_github.add_issue(OWNER, REPO, number=40, author="newbie")["user"]
    await bot_of(bot).activity.record(
        Activity(key=f"codertocat/hello-world#{100 + n}:merged", repository=f"{OWNER}/{REPO}", kind=MERGED, number=100 + n,
                 at=1_700_000_000 + n, actor=author["login"], is_pull=True)
        for n in range(9)
    )
    tenth = merged(fake_github, 10)
    for _ in range(2):  # delivered twice
        assert (await deliver(bot, "pull_request", tenth)).status == 202
        await settle(bot)
    [celebration] = bot_comments(fake_github, 10)
    assert "this is your 10th merged pull request" in celebration
    assert (await deliver(bot, "pull_request", merged(fake_github, 11))).status == 202
    await settle(bot)
    assert bot_comments(fake_github, 11) == []
    fake_github.assert_no_violations()


async def test_a_first_merge_is_left_to_welcome(bot, fake_github):
    assert (await deliver(bot, "pull_request", merged(fake_github, 5))).status == 202
    await settle(bot)
    assert bot_comments(fake_github, 5) == []


async def test_a_first_merge_is_celebrated_where_welcome_does_not(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ON + "welcome:\n  first_merge:\n    enabled: false\n")
    client = await start_bot([recognition.router], app_slug="community-bot")
    assert (await deliver(client, "pull_request", merged(fake_github, 5))).status == 202
    await settle(client)
    [celebration] = bot_comments(fake_github, 5)
    assert celebration.startswith("Congratulations, newbie, on your first merged pull request")


# all-contributors ------------------------------------------------------------------------------

ALL_CONTRIBUTORS = ON + "  all_contributors: true\n"
FIXTURES = Path(__file__).parent / "fixtures" / "allcontributors"
BRANCH = recognition.BRANCH
DEFAULT_BRANCH = example("issue_comment", "created")["repository"]["default_branch"]  # the payload's


def real(name: str) -> str:
    with open(FIXTURES / name, encoding="utf-8", newline="") as file:
        return file.read()


@pytest.fixture
async def keeper(start_bot, fake_github):
    """A repository with all-contributors' real files (all-contributors/app's own), and the bot
    told to keep them."""
    fake_github.set_default_branch(OWNER, REPO, DEFAULT_BRANCH)
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ALL_CONTRIBUTORS)
    fake_github.add_file(OWNER, REPO, ".all-contributorsrc", real("app.all-contributorsrc"))
    fake_github.add_file(OWNER, REPO, "README.md", real("app.README.md"))
    fake_github.add_issue(OWNER, REPO, number=1)
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    fake_github.add_user("new-person", name="New Person", blog="https://new.example")
    return await start_bot([recognition.router], app_slug="community-bot")


async def test_a_thank_you_is_proposed_in_one_pull_request_from_the_bots_branch(keeper, fake_github):
    main_head = fake_github.branch_head(OWNER, REPO, DEFAULT_BRANCH)
    await say(keeper, fake_github, "/thank @new-person for code, docs")
    [pull] = fake_github.pulls(OWNER, REPO)
    assert pull["head"]["ref"] == BRANCH and pull["base"]["ref"] == DEFAULT_BRANCH and pull["state"] == "open"
    rc = allcontributors.parse_rc(fake_github.file_text(OWNER, REPO, ".all-contributorsrc", BRANCH))
    added = rc["contributors"][-1]
    assert (added["login"], added["name"], added["profile"], added["contributions"]) == (
        "new-person", "New Person", "https://new.example", ["code", "doc"]
    )
    assert fake_github.file_text(OWNER, REPO, ".all-contributorsrc", BRANCH) == allcontributors.dump_rc(rc)
    readme = fake_github.file_text(OWNER, REPO, "README.md", BRANCH)
    assert readme == allcontributors.update_readme(real("app.README.md"), rc)
    assert 'alt="New Person"' in readme and readme != real("app.README.md")
    # The default branch is never written.
    assert fake_github.branch_head(OWNER, REPO, DEFAULT_BRANCH) == main_head
    assert fake_github.file_text(OWNER, REPO, "README.md") == real("app.README.md")
    assert "Thank you, @new-person" in bot_comments(fake_github)[0]

    # While it is open, the next thank-you goes on the same branch: no second pull request.
    fake_github.reset_calls()
    await say(keeper, fake_github, "/thank @new-person for review\n/thank @octocat for bug")
    assert len(fake_github.pulls(OWNER, REPO)) == 1
    rc = allcontributors.parse_rc(fake_github.file_text(OWNER, REPO, ".all-contributorsrc", BRANCH))
    assert [c["contributions"] for c in rc["contributors"] if c["login"] in ("new-person", "octocat")] == [
        ["code", "doc", "review"], ["bug"]
    ]
    repo = f"/repos/{OWNER}/{REPO}"
    one_thank_you = [
        ("GET", f"{repo}/pulls"), ("GET", f"{repo}/contents/.all-contributorsrc"), ("GET", "/users/{login}"),
        ("PUT", f"{repo}/contents/.all-contributorsrc"), ("GET", f"{repo}/contents/README.md"),
        ("PUT", f"{repo}/contents/README.md"), ("GET", f"{repo}/issues/1/comments"), ("POST", f"{repo}/issues/1/comments"),
    ]
    calls = [(call.method, call.path) for call in fake_github.api_calls() if "/templates/" not in call.path]
    assert calls == [
        *[(m, p.format(login="new-person")) for m, p in one_thank_you],
        *[(m, p.format(login="octocat")) for m, p in one_thank_you],
    ]
    fake_github.assert_no_violations()


async def test_a_merged_pull_request_leaves_the_branch_to_be_reset(keeper, fake_github):
    fake_github.add_branch(OWNER, REPO, BRANCH)  # left from an earlier, merged pull request
    fake_github.add_file(OWNER, REPO, "README.md", "stale", ref=BRANCH)
    await say(keeper, fake_github, "/thank @new-person for code")
    assert fake_github.branch_head(OWNER, REPO, BRANCH) != fake_github.branch_head(OWNER, REPO, DEFAULT_BRANCH)
    patches = fake_github.calls_to("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}")
    assert len(patches) == 1 and patches[0].json["force"] is True
    readme = fake_github.file_text(OWNER, REPO, "README.md", BRANCH)
    assert readme.startswith(real("app.README.md")[:200]) and "stale" not in readme
    assert len(fake_github.pulls(OWNER, REPO)) == 1


async def test_without_the_files_a_new_rc_is_proposed_and_the_readme_left_alone(start_bot, fake_github):
    fake_github.set_default_branch(OWNER, REPO, DEFAULT_BRANCH)
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ALL_CONTRIBUTORS)
    fake_github.add_file(OWNER, REPO, "README.md", "# Hello\n")
    fake_github.add_issue(OWNER, REPO, number=1)
    fake_github.set_permission(OWNER, REPO, "maintainer", "admin")
    client = await start_bot([recognition.router], app_slug="community-bot")
    await say(client, fake_github, "/thank @octocat for design")
    rc = allcontributors.parse_rc(fake_github.file_text(OWNER, REPO, ".all-contributorsrc", BRANCH))
    assert rc["projectOwner"] == OWNER and rc["projectName"] == REPO and rc["files"] == ["README.md"]
    assert [(c["login"], c["contributions"]) for c in rc["contributors"]] == [("octocat", ["design"])]
    assert fake_github.file_text(OWNER, REPO, "README.md", BRANCH) == "# Hello\n"
    assert fake_github.calls_to("PUT", "/repos/{owner}/{repo}/contents/{path}")[-1].json["message"].startswith("docs: add octocat")


async def test_without_write_access_the_thank_you_says_so(keeper, fake_github):
    fake_github.respond("POST", "/repos/{owner}/{repo}/git/refs", status=403,
                        json={"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com"})
    await say(keeper, fake_github, "/thank @new-person for code")
    [answer] = bot_comments(fake_github)
    assert "Thank you, @new-person" in answer and "could not be updated" in answer
    assert await recorded(keeper) == [("new-person", ("code",), "maintainer")]
    assert fake_github.pulls(OWNER, REPO) == []
