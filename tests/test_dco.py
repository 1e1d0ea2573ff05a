"""The DCO check end to end: real pull_request and check_run payloads, commit lists shaped like
GitHub's, through the bot, to the spec-checking fake GitHub."""

from __future__ import annotations

import copy

import pytest

from handlers import cla, dco
from tests.conftest import deliver, installed, settle
from tests.fakes import commit, example

OWNER, REPO = "Codertocat", "Hello-World"
NUMBER = 2
BASE_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
ENABLED = "dco:\n  enabled: true\n"
SIGNED = "Fix a typo\n\nSigned-off-by: Mona Lisa <mona@example.com>"


def mona(message: str = SIGNED, **kwargs) -> dict:
    return commit(message=message, author_name="Mona Lisa", author_email="mona@example.com", author_login="mona", author_id=583231, **kwargs)


def pull_request_event(commits: list[dict], *, action: str = "synchronize", sender: dict | None = None, count: int | None = None) -> dict:
    payload = copy.deepcopy(installed(example("pull_request", "synchronize")))
    payload["action"] = action
    pull = payload["pull_request"]
    pull["head"]["sha"] = commits[-1]["sha"]
    pull["base"]["sha"] = BASE_SHA
    pull["commits"] = count if count is not None else len(commits)
    if sender is not None:
        payload["sender"] = sender
    return payload


@pytest.fixture
async def bot(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED)
    return await start_bot([dco.router], app_slug="community-bot")


async def check(client, fake, commits: list[dict], **kwargs) -> dict:
    fake.add_pull_request_commits(OWNER, REPO, NUMBER, commits, base_sha=BASE_SHA)
    response = await deliver(client, "pull_request", pull_request_event(commits, **kwargs))
    assert response.status == 202
    await settle(client)
    [run] = fake.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    return run


async def test_all_signed_off_passes(bot, fake_github):
    run = await check(bot, fake_github, [mona(), mona()])
    assert run["status"] == "completed" and run["conclusion"] == "success"
    assert run["output"]["title"] == "All 2 commits signed off"
    assert run["external_id"] == str(NUMBER)


async def test_one_unsigned_commit_asks_for_action_and_says_how_to_fix_it(bot, fake_github):
    unsigned = mona("Add a feature")
    run = await check(bot, fake_github, [mona(), unsigned, mona()])
    assert run["conclusion"] == "action_required"
    assert run["output"]["title"] == "1 of 3 commits not signed off"
    summary = run["output"]["summary"]
    assert f"[`{unsigned['sha'][:7]}`]({unsigned['html_url']})" in summary
    assert "`Signed-off-by: Mona Lisa <mona@example.com>`" in summary and "`no Signed-off-by`" in summary
    assert "git rebase --signoff HEAD~2" in summary and "git push --force-with-lease" in summary
    assert [action["identifier"] for action in run["actions"]] == ["override"]
    assert fake_github.comments(OWNER, REPO, NUMBER) == []  # no comment unless configured


async def test_a_wrong_email_fails_and_a_noreply_address_of_the_same_account_passes(bot, fake_github):
    wrong = await check(bot, fake_github, [mona("Fix\n\nSigned-off-by: Mona Lisa <mona@elsewhere.example>")])
    assert wrong["conclusion"] == "action_required"
    assert "`Signed-off-by: Mona Lisa <mona@elsewhere.example>`" in wrong["output"]["summary"]
    noreply = await check(bot, fake_github, [mona("Fix\n\nSigned-off-by: Mona Lisa <583231+mona@users.noreply.github.com>")])
    assert noreply["conclusion"] == "success"


async def test_merge_commits_and_bot_commits_are_skipped_and_said_so(bot, fake_github):
    merge = mona("Merge branch 'main' into changes", parents=2)
    bump = commit(message="Bump lodash", author_name="dependabot[bot]", author_email="49699333+dependabot[bot]@users.noreply.github.com",
                  author_login="dependabot[bot]", author_id=49699333)
    dependabot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}
    run = await check(bot, fake_github, [mona(), merge, bump], sender=dependabot)  # a bot's event still gets its check
    assert run["conclusion"] == "success"
    assert f"`{merge['sha'][:7]}` (merge commit)" in run["output"]["summary"]
    assert f"`{bump['sha'][:7]}` (authored by a bot)" in run["output"]["summary"]


async def test_a_remediation_commit_when_allowed(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  allow_remediation_commits: true\n")
    unsigned = mona("Add a feature")
    remedy = mona(f"Sign off\n\nI, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: {unsigned['sha']}\n\n"
                  "Signed-off-by: Mona Lisa <mona@example.com>")
    run = await check(bot, fake_github, [unsigned, remedy])
    assert run["conclusion"] == "success"
    assert f"`{unsigned['sha'][:7]}` (by `{remedy['sha'][:7]}`)" in run["output"]["summary"]


async def test_more_than_250_commits_are_all_checked(bot, fake_github):
    commits = [mona() for _ in range(300)]
    commits[280] = mona("Unsigned, past the 250th")
    run = await check(bot, fake_github, commits)
    assert run["conclusion"] == "action_required" and run["output"]["title"] == "1 of 300 commits not signed off"
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits") == []
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/compare/{basehead}")


async def test_a_new_push_is_a_new_check_and_a_rerun_updates_the_same_one(bot, fake_github):
    first = await check(bot, fake_github, [mona("Unsigned")])
    assert first["conclusion"] == "action_required"
    # Signed off and pushed again: a new head, a new run.
    fixed = [mona()]
    assert (await check(bot, fake_github, fixed))["conclusion"] == "success"
    # The same event again (a redelivery) does not add a second run for that head.
    await deliver(bot, "pull_request", pull_request_event(fixed))
    await settle(bot)
    assert len(fake_github.check_runs(OWNER, REPO, head_sha=fixed[-1]["sha"], name="DCO")) == 1


def check_run_event(run: dict, action: str, sender: dict, **extra) -> dict:
    payload = copy.deepcopy(installed(example("check_run", "rerequested")))
    payload["action"] = action
    payload["repository"] = pull_request_event([mona()])["repository"]
    payload["check_run"].update(id=run["id"], name="DCO", head_sha=run["head_sha"], external_id=run["external_id"], pull_requests=[],
                                output=run["output"])
    payload["check_run"]["app"]["slug"] = "community-bot"
    payload["sender"] = sender
    payload.update(extra)
    return payload


async def test_a_rerequested_check_is_computed_again(bot, fake_github):
    commits = [mona("Unsigned", verified=True)]
    run = await check(bot, fake_github, commits)
    # Meanwhile the maintainers let members' (verified) commits through, and mona is one.
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  skip_members: true\n")
    fake_github.add_org_member(OWNER, "mona")
    await deliver(bot, "push", {**pull_request_event(commits), "ref": "refs/heads/master", "commits": [
        {"added": [], "removed": [], "modified": [".github/community-bot.yml"]}]})
    await settle(bot)
    await deliver(bot, "check_run", check_run_event(run, "rerequested", {"login": "mona", "id": 583231, "type": "User"}))
    await settle(bot)
    [rerun] = fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    assert rerun["id"] == run["id"] and rerun["conclusion"] == "success"
    assert "(exempt: verified commit by an organisation member)" in rerun["output"]["summary"]


async def test_a_rerequested_suite_reruns_its_dco_check(bot, fake_github):
    commits = [mona()]
    run = await check(bot, fake_github, commits)
    payload = copy.deepcopy(installed(example("check_suite", "rerequested")))
    payload["repository"] = pull_request_event(commits)["repository"]
    payload["check_suite"]["head_sha"] = commits[-1]["sha"]
    fake_github.reset_calls()
    await deliver(bot, "check_suite", payload)
    await settle(bot)
    assert fake_github.calls_to("PATCH", f"/repos/{OWNER}/{REPO}/check-runs/{run['id']}")


@pytest.mark.parametrize(("role", "passes"), [("write", True), ("maintain", True), ("triage", False), ("read", False)])
async def test_only_a_maintainer_can_set_the_check_to_pass(bot, fake_github, role, passes):
    commits = [mona("Unsigned")]
    run = await check(bot, fake_github, commits)
    fake_github.set_permission(OWNER, REPO, "maintainer", role)
    event = check_run_event(run, "requested_action", {"login": "maintainer", "id": 77, "type": "User"},
                            requested_action={"identifier": "override"})
    await deliver(bot, "check_run", event)
    await settle(bot)
    [after] = fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    assert (after["conclusion"] == "success") is passes
    if passes:
        assert after["output"]["title"] == "Set to pass by maintainer"


async def test_github_failing_leaves_a_neutral_check_not_a_waiting_one(bot, fake_github):
    fake_github.respond("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", status=502)
    commits = [mona()]
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, commits, base_sha=BASE_SHA)
    await deliver(bot, "pull_request", pull_request_event(commits))
    await settle(bot, timeout=30)
    [run] = fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    assert run["status"] == "completed" and run["conclusion"] == "neutral"
    assert "Re-run" in run["output"]["summary"]


async def test_a_failure_comment_when_configured(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  comment_on_failure: true\n")
    await check(bot, fake_github, [mona("Unsigned")])
    [comment] = fake_github.comments(OWNER, REPO, NUMBER)
    assert "git rebase --signoff HEAD~1" in comment["body"] and "<!-- community-bot:dco -->" in comment["body"]


async def test_off_by_default(start_bot, fake_github):
    client = await start_bot([dco.router])
    commits = [mona("Unsigned")]
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, commits, base_sha=BASE_SHA)
    await deliver(client, "pull_request", pull_request_event(commits))
    await settle(client)
    assert fake_github.check_runs(OWNER, REPO) == []


async def test_the_dco_and_the_cla_read_the_commits_once_between_them(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "cla:\n  enabled: true\n  document_url: https://example.org/cla\n")
    client = await start_bot([dco.router, cla.router], app_slug="community-bot")
    commits = [mona(), mona()]
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, commits, base_sha=BASE_SHA)
    assert (await deliver(client, "pull_request", pull_request_event(commits))).status == 202
    await settle(client)
    assert fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    assert fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="CLA")
    assert len(fake_github.calls_to("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")) == 1


# --- what dcoapp's tests showed (issue 20) ---------------------------------------------------


async def test_a_forged_member_email_is_checked_and_a_verified_member_commit_is_exempt(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  skip_members: true\n")
    fake_github.add_org_member(OWNER, "mona")
    # An outsider writes mona's email into an unsigned commit; GitHub links it to mona's account.
    forged = await check(bot, fake_github, [mona("Sneak this in")])
    assert forged["conclusion"] == "action_required"
    assert fake_github.calls_to("GET", "/orgs/{org}/members/{username}") == []  # nothing verified to ask about
    verified = await check(bot, fake_github, [mona("Fix", verified=True)])
    assert verified["conclusion"] == "success"
    assert "(exempt: verified commit by an organisation member)" in verified["output"]["summary"]


async def test_a_remediation_chain_passes_end_to_end(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  allow_remediation_commits: true\n")
    first = mona("Add a feature")
    second = mona(f"More\n\nI, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: {first['sha']}")
    third = mona(f"Sign off\n\nI, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: {second['sha']}\n\n"
                 "Signed-off-by: Mona Lisa <mona@example.com>")
    run = await check(bot, fake_github, [first, second, third])
    assert run["conclusion"] == "success" and run["output"]["title"] == "All 3 commits signed off"
    summary = run["output"]["summary"]
    assert f"`{first['sha'][:7]}` (by `{second['sha'][:7]}`)" in summary and f"`{second['sha'][:7]}` (by `{third['sha'][:7]}`)" in summary


async def test_a_chain_that_stays_broken_names_only_the_commits_that_still_fail(bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", ENABLED + "  allow_remediation_commits: true\n")
    first = mona("Add a feature")
    second = mona("Unrelated, unsigned")
    third = mona(f"Sign off\n\nI, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: {first['sha']}\n\n"
                 "Signed-off-by: Mona Lisa <mona@example.com>")
    run = await check(bot, fake_github, [first, second, third])
    assert run["output"]["title"] == "1 of 3 commits not signed off"
    table = run["output"]["summary"].split("### How to fix it")[0]
    assert f"`{second['sha'][:7]}`" in table and f"[`{first['sha'][:7]}`]" not in table


@pytest.mark.parametrize(("listed", "reason"), [(0, "GitHub returned 0 of 3 commits"), (1, "GitHub returned 1 of 3 commits")])
async def test_commits_github_did_not_list_are_never_passed(bot, fake_github, caplog, listed, reason):
    commits = [mona(), mona(), mona()]
    fake_github.add_pull_request_commits(OWNER, REPO, NUMBER, commits, base_sha=BASE_SHA)
    answer = [c for c in commits[:listed]]
    fake_github.respond("GET", f"/repos/{OWNER}/{REPO}/pulls/{NUMBER}/commits", json=answer)
    await deliver(bot, "pull_request", pull_request_event(commits))
    await settle(bot)
    [run] = fake_github.check_runs(OWNER, REPO, head_sha=commits[-1]["sha"], name="DCO")
    assert run["conclusion"] == "neutral" and run["output"]["title"] == "The DCO could not be checked"
    assert f"{reason}; re-run the check" in run["output"]["summary"]
    assert "signed off" not in run["output"]["summary"]
    assert any(reason in r.getMessage() for r in caplog.records)


async def test_a_sign_off_without_a_name_fails_end_to_end(bot, fake_github):
    run = await check(bot, fake_github, [mona("Fix\n\nSigned-off-by: <mona@example.com>")])
    assert run["conclusion"] == "action_required"
    assert "`Signed-off-by:  <mona@example.com>`" in run["output"]["summary"]
    other_name = await check(bot, fake_github, [mona("Fix\n\nSigned-off-by: M. L. <mona@example.com>")])
    assert other_name["conclusion"] == "success"
