"""The CLA check end to end: real pull_request and issue_comment payloads, commit lists shaped
like GitHub's, signatures in the bot's database, the spec-checking fake GitHub."""

from __future__ import annotations

import copy

import pytest

from bot.commits import Person
from handlers import cla
from tests.conftest import bot_of, comment_event, deliver, installed, settle
from tests.fakes import commit, example

OWNER, REPO = "Codertocat", "Hello-World"
NUMBER = 2
PHRASE = "I have read the CLA Document and I hereby sign the CLA"
CONFIG = "cla:\n  enabled: true\n  document_url: https://example.org/cla\n"
MONA = {"login": "mona", "id": 583231, "type": "User"}
OCTO = {"login": "octo", "id": 2, "type": "User"}


def by(person: dict, message: str = "A change", **kwargs) -> dict:
    return commit(message=message, author_name=person["login"].title(), author_email=f"{person['login']}@example.com",
                  author_login=person["login"], author_id=person["id"], **kwargs)


def pull_request_event(number: int = NUMBER, *, sender: dict = MONA) -> dict:
    payload = copy.deepcopy(installed(example("pull_request", "synchronize")))
    payload["pull_request"] = payload["pull_request"] | {"number": number}
    payload["number"] = number
    payload["sender"] = sender
    return payload


@pytest.fixture
async def bot(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", CONFIG)
    # Pull request 2 is open, by octo: where people comment unless a test pushes its own commits.
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, [by(OCTO)])
    return await start_bot([cla.router], app_slug="community-bot")


async def push(client, fake, commits: list[dict], number: int = NUMBER) -> dict:
    """A pull request with these commits is opened or pushed to; its CLA check run."""
    fake.add_pull_request_commits(OWNER, REPO, number, commits)
    payload = pull_request_event(number)
    payload["pull_request"] = fake.pull_request(OWNER, REPO, number)
    await deliver(client, "pull_request", payload)
    await settle(client)
    return cla_run(fake, payload["pull_request"]["head"]["sha"])


def cla_run(fake, head_sha: str) -> dict:
    [run] = fake.check_runs(OWNER, REPO, head_sha=head_sha, name="CLA")
    return run


async def say(client, fake, body: str, commenter: dict, number: int = NUMBER) -> None:
    await deliver(client, "issue_comment", comment_event(fake, OWNER, REPO, number, body, login=commenter["login"], user_id=commenter["id"]))
    await settle(client)


def cla_comment(fake, number: int = NUMBER) -> str:
    [comment] = [c for c in fake.comments(OWNER, REPO, number) if "<!-- community-bot:cla -->" in c["body"]]
    return comment["body"]


# The decisions ---------------------------------------------------------------------------------


def test_sign_phrase_ignores_case_and_surrounding_whitespace():
    assert cla.is_sign_phrase(f"  {PHRASE.upper()}  \n", PHRASE)
    assert not cla.is_sign_phrase(f"{PHRASE}, I think", PHRASE)


def test_allowlist_globs_match_logins_or_an_unlinked_email():
    bot_person = Person("dependabot[bot]", "x@y", "dependabot[bot]", 1)
    assert cla.allowlisted(bot_person, ["*[bot]"])
    assert cla.allowlisted(Person("Mona", "mona@example.com", "Mona", 5), ["mona"])
    assert cla.allowlisted(Person("Intern", "intern@corp.example"), ["*@corp.example"])
    assert not cla.allowlisted(Person("Mona", "mona@example.com", "mona", 5), ["octo", "my-org/maintainers"])


def test_contributors_are_distinct_people_and_co_authors_by_account():
    from bot.commits import commit_from_api

    commits = [commit_from_api(c) for c in (
        by(MONA), by(MONA, "More\n\nCo-authored-by: Octo <2+octo@users.noreply.github.com>\n"
                         "Co-authored-by: Claude <noreply@anthropic.com>\nCo-authored-by: Mona <mona@example.com>"),
        commit(message="Old", author_name="Ghost", author_email="ghost@nowhere.example", author_login=None),
    )]
    people = cla.contributors(commits, co_authors=True)
    assert [(p.login, p.user_id) for p in people] == [("mona", 583231), ("octo", 2), (None, None)]
    assert [p.login for p in cla.contributors(commits, co_authors=False)] == ["mona", None]


# End to end -------------------------------------------------------------------------------------


async def test_unsigned_then_signed_by_comment_then_rechecked(bot, fake_github):
    run = await push(bot, fake_github, [by(MONA)])
    assert run["conclusion"] == "action_required"
    body = cla_comment(fake_github)
    assert "Still to sign: mona." in body and "@mona" not in body
    assert f"> {PHRASE}" in body and "https://example.org/cla" in body

    await say(bot, fake_github, f"  {PHRASE.lower()}  ", MONA)
    run = cla_run(fake_github, run["head_sha"])
    assert run["conclusion"] == "success"
    assert "has signed" in cla_comment(fake_github)  # the same comment, brought up to date
    [signature] = await bot_of(bot).dispatcher.services.signatures.all()
    assert (signature.user_id, signature.login, signature.version, signature.scope) == (583231, "mona", "v1", "org:codertocat")
    assert signature.comment_url.startswith(f"https://github.com/{OWNER}/{REPO}/")


async def test_signed_contributors_pass_and_get_no_comment(bot, fake_github):
    await say(bot, fake_github, PHRASE, MONA)  # signed on another occasion: someone else's pull request
    run = await push(bot, fake_github, [by(MONA)], number=3)
    assert run["conclusion"] == "success"
    assert fake_github.comments(OWNER, REPO, 3) == []


async def test_signing_rechecks_the_signers_other_open_pull_requests(bot, fake_github):
    first = await push(bot, fake_github, [by(MONA)], number=3)
    second = await push(bot, fake_github, [by(MONA)], number=4)
    assert first["conclusion"] == second["conclusion"] == "action_required"
    await say(bot, fake_github, PHRASE, MONA, number=3)
    assert cla_run(fake_github, first["head_sha"])["conclusion"] == "success"
    assert cla_run(fake_github, second["head_sha"])["conclusion"] == "success"
    assert len(fake_github.calls_to("GET", "/search/issues")) == 1


async def test_the_phrase_from_someone_who_is_not_an_author_is_recorded_and_acknowledged(bot, fake_github):
    run = await push(bot, fake_github, [by(MONA)])
    await say(bot, fake_github, PHRASE, OCTO)
    assert cla_run(fake_github, run["head_sha"])["conclusion"] == "action_required"  # still waiting for mona
    assert [r["content"] for r in fake_github.reactions] == ["+1"]
    assert [s.login for s in await bot_of(bot).dispatcher.services.signatures.all()] == ["octo"]


async def test_bots_are_allowlisted_by_default_and_globs_and_teams_work(bot, fake_github):
    dependabot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}
    assert (await push(bot, fake_github, [by(dependabot)], number=5))["conclusion"] == "success"
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", CONFIG + "  allowlist: ['*[bot]', 'mon?', 'Codertocat/core']\n")
    bot_of(bot).dispatcher.services.config.invalidate_on_push({"repository": pull_request_event()["repository"], "ref": "refs/heads/master"})
    fake_github.respond("GET", f"/orgs/{OWNER}/teams/core/memberships/octo", json={
        "url": f"https://api.github.com/orgs/{OWNER}/teams/core/memberships/octo", "role": "member", "state": "active"})
    assert (await push(bot, fake_github, [by(MONA), by(OCTO)], number=6))["conclusion"] == "success"


async def test_a_new_version_must_be_signed_again(bot, fake_github):
    await say(bot, fake_github, PHRASE, MONA)
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", CONFIG + "  version: v2\n")
    bot_of(bot).dispatcher.services.config.invalidate_on_push({"repository": pull_request_event()["repository"], "ref": "refs/heads/master"})
    run = await push(bot, fake_github, [by(MONA)], number=3)
    assert run["conclusion"] == "action_required" and "(version v2)" in cla_comment(fake_github, 3)


async def test_a_renamed_login_stays_signed(bot, fake_github):
    await say(bot, fake_github, PHRASE, MONA)
    renamed = {"login": "mona-lisa", "id": MONA["id"], "type": "User"}
    assert (await push(bot, fake_github, [by(renamed)], number=3))["conclusion"] == "success"


async def test_a_commit_email_linked_to_no_account_is_named_with_how_to_fix_it(bot, fake_github):
    await say(bot, fake_github, PHRASE, MONA)
    ghost = commit(message="Old laptop", author_name="Mona at home", author_email="mona@home.example", author_login=None)
    run = await push(bot, fake_github, [by(MONA), ghost], number=3)
    assert run["conclusion"] == "action_required"
    body = cla_comment(fake_github, 3)
    assert "Mona at home <mona@home.example>" in body and "git commit --amend --reset-author" in body
    assert "Still to sign" not in body


async def test_recheck_and_repository_scope(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", CONFIG + "  scope: repository\n")
    await say(bot, fake_github, PHRASE, MONA)
    [signature] = await bot_of(bot).dispatcher.services.signatures.all()
    assert signature.scope == "repo:codertocat/hello-world"
    run = await push(bot, fake_github, [by(MONA)], number=3)
    assert run["conclusion"] == "success"
    fake_github.reset_calls()
    await say(bot, fake_github, "recheck", OCTO, number=3)
    assert fake_github.calls_to("PATCH", f"/repos/{OWNER}/{REPO}/check-runs/{run['id']}")


async def test_two_signing_comments_at_once_make_one_signature(bot, fake_github):
    await push(bot, fake_github, [by(MONA)])
    for _ in range(2):
        await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, PHRASE, login=MONA["login"], user_id=MONA["id"]))
    await settle(bot)
    assert len(await bot_of(bot).dispatcher.services.signatures.all()) == 1


async def test_a_closed_pull_request_is_left_as_it_stands(bot, fake_github):
    await push(bot, fake_github, [by(MONA)])
    before = cla_comment(fake_github)
    closed = fake_github.pull_request(OWNER, REPO, NUMBER) | {"state": "closed"}
    fake_github.respond("GET", f"/repos/{OWNER}/{REPO}/pulls/{NUMBER}", json=closed)
    await say(bot, fake_github, PHRASE, MONA)  # signed after the pull request was closed
    assert cla_comment(fake_github) == before
    assert len(await bot_of(bot).dispatcher.services.signatures.all()) == 1


async def test_no_document_no_signing_and_nothing_blocked(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "cla:\n  enabled: true\n")
    client = await start_bot([cla.router], app_slug="community-bot")
    run = await push(client, fake_github, [by(MONA)])
    assert run["conclusion"] == "neutral" and "document_url" in run["output"]["summary"]
    assert fake_github.comments(OWNER, REPO, NUMBER) == []


async def test_commits_github_did_not_list_are_never_called_signed(bot, fake_github):
    commits = [by(MONA), by(OCTO)]
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, commits)
    fake_github.respond("GET", f"/repos/{OWNER}/{REPO}/pulls/{NUMBER}/commits", json=[])
    payload = pull_request_event()
    payload["pull_request"] = fake_github.pull_request(OWNER, REPO, NUMBER)
    await deliver(bot, "pull_request", payload)
    await settle(bot)
    run = cla_run(fake_github, commits[-1]["sha"])
    assert run["conclusion"] == "neutral" and run["output"]["title"] == "The CLA could not be checked"
    assert "GitHub returned 0 of 2 commits; re-run the check" in run["output"]["summary"]
