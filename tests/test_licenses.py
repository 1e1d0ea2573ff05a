"""The Licenses check end to end: real pull_request, issue_comment and installation payloads,
through the bot, to the spec-checking fake GitHub's dependency review, files and license."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest

from bot.__main__ import main
from bot.inbox import Inbox, metadata
from bot.licensing.waivers import Waiver, WaiverBook
from handlers import licenses
from tests.conftest import bot_of, comment_event, deliver, installed, settle
from tests.fakes import commit, dependency_change, example, pull_file
from tests.test_inbox import POSTGRES

OWNER, REPO = "Codertocat", "Hello-World"
NUMBER = 2
BASE_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
POLICY = """\
licenses:
  enabled: true
  allow: [MIT, Apache-2.0, BSD-3-Clause, ISC]
"""
DEPENDABOT = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}


@pytest.fixture
async def bot(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", POLICY)
    return await start_bot([licenses.router], app_slug="community-bot")


def open_pull_request(fake, message: str = "Add a dependency") -> dict:
    return fake.add_pull_request_commits(
        OWNER, REPO, NUMBER, [commit(message=message, author_login="mona", author_id=583231)], base_sha=BASE_SHA
    )


def pull_request_event(pull: dict, *, action: str = "synchronize", sender: dict | None = None) -> dict:
    payload = copy.deepcopy(installed(example("pull_request", "synchronize")))
    payload["action"] = action
    payload["pull_request"] = pull
    if sender is not None:
        payload["sender"] = sender
    return payload


async def check(client, fake, changes=(), files=(), *, sender: dict | None = None, pull: dict | None = None) -> dict:
    """A push to the pull request (a new one unless given) adding ``changes`` (dependency
    review) and ``files``; the Licenses check run on its head."""
    pull = pull or open_pull_request(fake)
    fake.set_dependency_changes(OWNER, REPO, (BASE_SHA, pull["head"]["sha"]), list(changes))
    fake.add_pull_request_files(OWNER, REPO, NUMBER, list(files))
    response = await deliver(client, "pull_request", pull_request_event(pull, sender=sender))
    assert response.status == 202
    await settle(client)
    [run] = fake.check_runs(OWNER, REPO, head_sha=pull["head"]["sha"], name="Licenses")
    return run


def bot_comments(fake) -> list[dict]:
    return [c for c in fake.comments(OWNER, REPO, NUMBER) if c["user"]["login"] == "community-bot[bot]"]


async def test_allowed_dependencies_pass_and_are_listed(bot, fake_github):
    run = await check(bot, fake_github, [dependency_change("left-pad", "1.3.0", license="MIT"), dependency_change("chalk", "5.3.0", license="MIT OR GPL-3.0-only")])
    assert run["conclusion"] == "success"
    assert run["output"]["title"] == "2 new dependencies, all allowed"
    summary = run["output"]["summary"]
    assert "| left-pad | 1.3.0 | npm | package-lock.json | MIT | allowed | allowed by the policy |" in summary
    assert "(taken as MIT)" in summary
    assert bot_comments(fake_github) == []
    fake_github.assert_no_violations()


async def test_a_denied_dependency_fails_and_one_comment_says_what_to_do(bot, fake_github):
    changes = [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only"), dependency_change("left-pad", "1.3.0")]
    run = await check(bot, fake_github, changes)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "1 dependency not allowed"
    assert "| gpl-thing | 2.0.0 | npm | package-lock.json | GPL-3.0-only | denied | GPL-3.0-only is not on the allow list |" in run["output"]["summary"]
    [comment] = bot_comments(fake_github)
    assert "**gpl-thing 2.0.0** (npm, in `package-lock.json`): GPL-3.0-only is not on the allow list." in comment["body"]
    assert "`/license-allow pkg:npm/gpl-thing <reason>`" in comment["body"]
    # Pushed again, still failing: the same comment, edited, not a second one.
    await check(bot, fake_github, changes)
    assert len(bot_comments(fake_github)) == 1
    fake_github.assert_no_violations()


async def test_removed_dependencies_are_not_judged(bot, fake_github):
    run = await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only", change_type="removed")])
    assert (run["conclusion"], run["output"]["title"]) == ("success", "No new dependencies to judge")


async def test_an_unknown_license_is_listed_not_blocking_unless_configured(bot, fake_github):
    changes = [dependency_change("mystery", "0.1.0", license=None), dependency_change("odd", "1.0.0", license="NOASSERTION")]
    run = await check(bot, fake_github, changes)
    assert run["conclusion"] == "neutral"
    assert run["output"]["title"] == "2 dependencies to look at"
    assert "| mystery | 0.1.0 | npm | package-lock.json | none declared | unknown | no license declared |" in run["output"]["summary"]
    assert bot_comments(fake_github) == []


@pytest.mark.parametrize(("setting", "conclusion"), [("fail", "failure"), ("allow", "success")])
async def test_unknown_licenses_fail_or_pass_as_configured(start_bot, fake_github, setting, conclusion):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", POLICY + f"  unknown: {setting}\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    run = await check(client, fake_github, [dependency_change("mystery", "0.1.0", license="BSD")])
    assert run["conclusion"] == conclusion
    assert "BSD is not an SPDX license id the policy knows" in run["output"]["summary"]


async def test_development_dependencies_are_listed_not_judged(bot, fake_github):
    run = await check(bot, fake_github, [dependency_change("gpl-test-tool", "1.0.0", license="GPL-3.0-only", scope="development")])
    assert run["conclusion"] == "success"
    assert "| not judged | development dependency (the policy judges runtime) |" in run["output"]["summary"]


async def test_ignored_packages_by_package_url_glob(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", POLICY + "  ignore: ['pkg:npm/@acme/*', 'internal-*']\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    changes = [
        dependency_change("@acme/ui", "3.1.0", license="LicenseRef-acme-proprietary"),
        dependency_change("internal-tool", "1.0.0", license=None, ecosystem="pip"),
        dependency_change("@other/ui", "1.0.0", license="SSPL-1.0"),
    ]
    run = await check(client, fake_github, changes)
    summary = run["output"]["summary"]
    # Scoped names mention no one: "@acme" is no @-mention.
    assert "| @\u200bacme/ui | 3.1.0 | npm | package-lock.json | LicenseRef-acme-proprietary | ignored | on the ignore list |" in summary
    assert "| internal-tool | 1.0.0 | pip | requirements.txt | none declared | ignored |" in summary
    assert run["conclusion"] == "failure" and run["output"]["title"] == "1 dependency not allowed"
    comment = bot_comments(fake_github)[0]["body"]
    assert "**@\u200bother/ui 1.0.0**" in comment and "`/license-allow pkg:npm/@other/ui <reason>`" in comment


@pytest.mark.parametrize("status", [403, 404])
async def test_the_dependency_graph_off_is_neutral_and_says_how_to_turn_it_on(bot, fake_github, status):
    fake_github.disable_dependency_graph(OWNER, REPO, status=status)
    run = await check(bot, fake_github)
    assert run["conclusion"] == "neutral"
    assert run["output"]["title"] == "Dependencies not checked: the dependency graph is off"
    assert "turn it on in the repository's [security settings](https://github.com/Codertocat/Hello-World/settings/security_analysis)" in run["output"]["summary"]
    fake_github.assert_no_violations()


async def test_a_maintainers_waiver_is_recorded_and_the_check_runs_again(bot, fake_github):
    changes = [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")]
    first = await check(bot, fake_github, changes)
    assert first["conclusion"] == "failure"
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    payload = comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow pkg:npm/gpl-thing used only by the build, never shipped", login="maintainer")
    await deliver(bot, "issue_comment", payload)
    await settle(bot)
    [run] = fake_github.check_runs(OWNER, REPO, head_sha=first["head_sha"], name="Licenses")  # the same run, updated
    assert run["conclusion"] == "success"
    assert "| waived | waived by maintainer on #2: used only by the build, never shipped |" in run["output"]["summary"]
    [comment] = bot_comments(fake_github)
    assert "passes now" in comment["body"]
    assert fake_github.reactions[-1]["content"] == "+1"
    # Redelivered: nothing more is recorded.
    await deliver(bot, "issue_comment", payload)
    await settle(bot)
    waivers = await bot_of(bot).dispatcher.services.waivers.all()
    assert [(w.package, w.scope, w.granted_by, w.pull_number, w.reason) for w in waivers] == [
        ("pkg:npm/gpl-thing", "repo:codertocat/hello-world", "maintainer", 2, "used only by the build, never shipped")
    ]
    fake_github.assert_no_violations()


async def test_a_waiver_from_someone_without_maintain_is_politely_refused(bot, fake_github):
    first = await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    fake_github.set_permission(OWNER, REPO, "writer", "write")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow gpl-thing please", login="writer"))
    await settle(bot)
    assert await bot_of(bot).dispatcher.services.waivers.all() == []
    [run] = fake_github.check_runs(OWNER, REPO, head_sha=first["head_sha"], name="Licenses")
    assert run["conclusion"] == "failure"
    [refusal] = [c for c in bot_comments(fake_github) if "records a license waiver" in c["body"]]
    assert "maintain access" in refusal["body"]


async def test_an_organisation_waiver_needs_admin_and_covers_every_repository(bot, fake_github):
    await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow --org gpl-thing", login="maintainer"))
    await settle(bot)
    assert await bot_of(bot).dispatcher.services.waivers.all() == []
    fake_github.set_permission(OWNER, REPO, "owner", "admin")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow gpl-thing --org vetted by legal", login="owner"))
    await settle(bot)
    [waiver] = await bot_of(bot).dispatcher.services.waivers.all()
    assert (waiver.scope, waiver.reason) == ("org:codertocat", "vetted by legal")
    assert [w.package for w in await bot_of(bot).dispatcher.services.waivers.for_repository(OWNER, "another-repo")] == ["gpl-thing"]


HEADERS = POLICY + "  spdx_headers: require\n  exclude_paths: ['vendor/**']\n"


def source(path: str, first_line: str | None) -> dict:
    body = ([first_line] if first_line else []) + ["print('hello')"]
    return pull_file(path, patch="@@ -0,0 +1,%d @@\n" % len(body) + "\n".join("+" + line for line in body))


async def test_new_files_need_an_allowed_spdx_header_where_required(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", HEADERS)
    client = await start_bot([licenses.router], app_slug="community-bot")
    files = [
        source("src/good.py", "# SPDX-License-Identifier: MIT"),
        source("src/bare.py", None),
        source("src/gpl.py", "# SPDX-License-Identifier: GPL-3.0-only"),
        source("vendor/lib.py", None),  # excluded
        pull_file("docs/guide.md", patch="@@ -0,0 +1 @@\n+# Guide"),  # not source
        source("src/old.py", None) | {"status": "modified"},  # not new
    ]
    run = await check(client, fake_github, files=files)
    assert run["conclusion"] == "failure"
    assert run["output"]["title"] == "2 new files not allowed"
    summary = run["output"]["summary"]
    assert "| `src/good.py` | MIT | header | allowed |" in summary
    assert "| `src/bare.py` | none | – | unknown | no SPDX-License-Identifier near the top, and no REUSE.toml annotation |" in summary
    assert "| `src/gpl.py` | GPL-3.0-only | header | denied |" in summary
    assert "vendor/lib.py" not in summary and "docs/guide.md" not in summary and "old.py" not in summary
    assert "`SPDX-License-Identifier: MIT`" in bot_comments(fake_github)[0]["body"]


async def test_reuse_toml_at_the_head_covers_new_files(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", HEADERS)
    client = await start_bot([licenses.router], app_slug="community-bot")
    pull = open_pull_request(fake_github)
    reuse = 'version = 1\n[[annotations]]\npath = "src/generated/**"\nSPDX-License-Identifier = "Apache-2.0"\n'
    fake_github.add_file(OWNER, REPO, "REUSE.toml", reuse, ref=pull["head"]["sha"])
    run = await check(client, fake_github, files=[source("src/generated/api.py", None)], pull=pull)
    assert run["conclusion"] == "success"
    assert "| `src/generated/api.py` | Apache-2.0 | REUSE.toml | allowed |" in run["output"]["summary"]


async def test_missing_headers_only_warn_where_configured(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", POLICY + "  spdx_headers: warn\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    run = await check(client, fake_github, files=[source("src/bare.py", None)])
    assert (run["conclusion"], run["output"]["title"]) == ("neutral", "1 new file to look at")
    assert bot_comments(fake_github) == []


async def test_with_headers_off_no_file_is_read(bot, fake_github):
    run = await check(bot, fake_github, files=[source("src/bare.py", None)])
    assert run["conclusion"] == "success" and "New files" not in run["output"]["summary"]
    reads = fake_github.calls_to("GET", "/repos/{owner}/{repo}/contents/{path}")
    assert [call.path for call in reads if "/contents/.github/" not in call.path] == []  # config and templates only


async def test_a_license_text_change_is_pointed_out_and_labelled_if_configured(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", POLICY + "  license_change_label: license-change\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    run = await check(client, fake_github, files=[pull_file("LICENSE", status="modified", patch="@@ -1 +1 @@\n-MIT\n+GPL"), pull_file("NOTICE")])
    assert "- `LICENSE` (modified)" in run["output"]["summary"] and "- `NOTICE` (added)" in run["output"]["summary"]
    assert "license-change" in fake_github.issue(OWNER, REPO, NUMBER)["labels"][0]["name"]


async def test_a_redelivery_keeps_one_check_run_per_head(bot, fake_github):
    pull = open_pull_request(fake_github)
    fake_github.set_dependency_changes(OWNER, REPO, (BASE_SHA, pull["head"]["sha"]), [dependency_change("left-pad", "1.3.0")])
    event = pull_request_event(pull)
    for _ in range(2):
        await deliver(bot, "pull_request", event)
        await settle(bot)
    assert len(fake_github.check_runs(OWNER, REPO, head_sha=pull["head"]["sha"], name="Licenses")) == 1


async def test_a_bots_pull_request_gets_its_check_but_no_comment(bot, fake_github):
    run = await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")], sender=DEPENDABOT)
    assert run["conclusion"] == "failure"
    assert bot_comments(fake_github) == []


async def test_the_organisations_policy_is_inherited(start_bot, fake_github):
    fake_github.add_file(OWNER, ".github", ".github/community-bot.yml", "licenses:\n  enabled: true\n  deny: [AGPL-3.0-or-later]\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    run = await check(client, fake_github, [dependency_change("agpl-thing", "1.0.0", license="AGPL-3.0-only")])
    assert run["conclusion"] == "failure"
    assert "AGPL-3.0-only is on the deny list" in run["output"]["summary"]


async def test_a_policy_with_both_lists_is_reported_not_applied(start_bot, fake_github):
    fake_github.add_file(OWNER, ".github", ".github/base.yml", "licenses:\n  enabled: true\n  deny: [AGPL-3.0-or-later]\n")
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "_extends: .github:.github/base.yml\nlicenses:\n  allow: [MIT]\n")
    client = await start_bot([licenses.router], app_slug="community-bot")
    run = await check(client, fake_github, [dependency_change("left-pad", "1.3.0")])
    assert (run["conclusion"], run["output"]["title"]) == ("neutral", "The license policy cannot be applied")
    assert "either allow or deny" in run["output"]["summary"]


def installation_event(repositories: list[str]) -> dict:
    payload = copy.deepcopy(installed(example("installation", "created")))
    payload["repositories"] = [{"id": i, "node_id": f"R{i}", "name": r, "full_name": f"{OWNER}/{r}", "private": False} for i, r in enumerate(repositories, 1)]
    return payload


async def test_a_repository_without_a_license_gets_one_issue_once(start_bot, fake_github):
    fake_github.add_file(OWNER, ".github", ".github/community-bot.yml", "licenses:\n  enabled: true\n")
    fake_github.set_repository_license(OWNER, "licensed", "MIT")
    client = await start_bot([licenses.router], app_slug="community-bot")
    payload = installation_event(["unlicensed", "licensed"])
    for _ in range(2):  # redelivered
        await deliver(client, "installation", payload)
        await settle(client)
    created = fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues")
    assert [call.path for call in created] == [f"/repos/{OWNER}/unlicensed/issues"]
    assert "choosealicense.com" in created[0].json["body"] and created[0].json["title"] == "Add a license"


async def test_no_license_issue_where_the_section_is_off(start_bot, fake_github):
    client = await start_bot([licenses.router], app_slug="community-bot")
    await deliver(client, "installation", installation_event(["unlicensed"]))
    await settle(client)
    assert fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues") == []
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/license") == []


async def test_waivers_export_for_an_audit(bot, fake_github, make_settings, monkeypatch, capsys):
    await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow gpl-thing build only", login="maintainer"))
    await settle(bot)
    monkeypatch.setenv("DATABASE_URL", bot_of(bot).settings.database_url)
    # The command runs its own event loop: beside the test's, in a thread.
    assert await asyncio.to_thread(main, ["licenses", "waivers", "--format", "json"]) == 0
    [exported] = json.loads(capsys.readouterr().out)
    assert exported["package"] == "gpl-thing" and exported["granted_by"] == "maintainer" and exported["granted_at"].endswith("Z")
    assert await asyncio.to_thread(main, ["licenses", "waivers", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "package,scope,granted_by,granted_at,repository,pull_number,reason,comment_id,comment_url"
    assert lines[1].startswith("gpl-thing,repo:codertocat/hello-world,maintainer,")


async def test_githubs_own_example_answer_is_judged(bot, fake_github):
    # GitHub's example of the dependency review (tests/fixtures/dependency-graph-diff.json)
    # lacks `scope`, which its own schema requires: such a dependency is judged.
    with open("tests/fixtures/dependency-graph-diff.json", encoding="utf-8") as example_answer:
        changes = json.load(example_answer)
    run = await check(bot, fake_github, changes)
    summary = run["output"]["summary"]
    assert "| helmet | 5.0.0 | npm | package.json | MIT | allowed |" in summary
    assert "4.6.0" not in summary  # the removed version is not judged
    assert "| ruby-openid | 2.7.0 | rubygems | Gemfile | none declared | unknown | no license declared |" in summary
    assert run["conclusion"] == "neutral"


async def test_a_large_pull_requests_files_are_all_read_and_a_diff_left_out_is_read_at_the_head(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", HEADERS)
    client = await start_bot([licenses.router], app_slug="community-bot")
    pull = open_pull_request(fake_github)
    files = [source(f"src/module_{i}.py", "# SPDX-License-Identifier: MIT") for i in range(230)]
    files.append(pull_file("src/huge.py"))  # no patch: GitHub leaves a large file's diff out
    fake_github.add_file(OWNER, REPO, "src/huge.py", "#!/usr/bin/env python3\n# SPDX-License-Identifier: Apache-2.0\n", ref=pull["head"]["sha"])
    files.append(source("src/last.py", None))
    run = await check(client, fake_github, files=files, pull=pull)
    summary = run["output"]["summary"]
    assert "| `src/huge.py` | Apache-2.0 | header | allowed |" in summary
    assert "| `src/last.py` | none |" in summary and run["output"]["title"] == "1 new file not allowed"
    pages = fake_github.calls_to("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
    assert len(pages) == 3 and pages[0].query["per_page"] == "100"


async def test_a_license_file_beside_a_new_file_is_its_header(start_bot, fake_github):
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", HEADERS)
    client = await start_bot([licenses.router], app_slug="community-bot")
    files = [source("src/data_tool.py", None), pull_file("src/data_tool.py.license", patch="@@ -0,0 +1,2 @@\n+SPDX-FileCopyrightText: 2026 Acme\n+SPDX-License-Identifier: BSD-3-Clause")]
    run = await check(client, fake_github, files=files)
    assert run["conclusion"] == "success"
    assert "| `src/data_tool.py` | BSD-3-Clause | src/data_tool.py.license | allowed |" in run["output"]["summary"]


async def test_a_waiver_without_a_package_is_met_with_confusion(bot, fake_github):
    await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "/license-allow", login="maintainer"))
    await settle(bot)
    assert fake_github.reactions[-1]["content"] == "confused"
    assert await bot_of(bot).dispatcher.services.waivers.all() == []


async def test_a_command_in_a_quote_or_on_an_issue_is_no_waiver(bot, fake_github):
    await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    fake_github.set_permission(OWNER, REPO, "maintainer", "maintain")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, NUMBER, "> /license-allow gpl-thing", login="maintainer"))
    fake_github.add_issue(OWNER, REPO, number=9, title="An issue")
    await deliver(bot, "issue_comment", comment_event(fake_github, OWNER, REPO, 9, "/license-allow gpl-thing", login="maintainer"))
    await settle(bot)
    assert await bot_of(bot).dispatcher.services.waivers.all() == []
    assert fake_github.calls_to("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") == []


async def test_turning_the_section_on_by_a_push_asks_for_a_license(start_bot, fake_github):
    client = await start_bot([licenses.router], app_slug="community-bot")
    fake_github.add_file(OWNER, REPO, ".github/community-bot.yml", "licenses:\n  enabled: true\n")
    push = copy.deepcopy(installed(example("push")))
    push["ref"] = f"refs/heads/{push['repository']['default_branch']}"
    push["commits"] = [{**push["commits"][0], "added": [], "removed": [], "modified": [".github/community-bot.yml"]}] if push["commits"] else []
    await deliver(client, "push", push)
    await settle(client)
    [created] = fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues")
    assert created.path == f"/repos/{OWNER}/{REPO}/issues"


async def test_a_rerequested_check_is_computed_again(bot, fake_github):
    fake_github.disable_dependency_graph(OWNER, REPO)
    run = await check(bot, fake_github, [dependency_change("gpl-thing", "2.0.0", license="GPL-3.0-only")])
    assert run["conclusion"] == "neutral"
    fake_github.disable_dependency_graph(OWNER, REPO, status=None)  # a maintainer turns the graph on
    payload = copy.deepcopy(installed(example("check_run", "rerequested")))
    payload["repository"] = pull_request_event(fake_github.pull_request(OWNER, REPO, NUMBER))["repository"]
    payload["check_run"].update(id=run["id"], name="Licenses", head_sha=run["head_sha"], external_id=run["external_id"], pull_requests=[])
    payload["check_run"]["app"]["slug"] = "community-bot"
    payload["sender"] = {"login": "mona", "id": 583231, "type": "User"}
    await deliver(bot, "check_run", payload)
    await settle(bot)
    [rerun] = fake_github.check_runs(OWNER, REPO, head_sha=run["head_sha"], name="Licenses")
    assert rerun["id"] == run["id"] and rerun["conclusion"] == "failure"


def test_a_bare_off_in_yaml_means_off():
    from bot.config import parse

    section = parse("licenses:\n  spdx_headers: off\n")["licenses"]
    assert section["spdx_headers"] is False and licenses.headers_mode(section) == "off"


def test_a_waiver_request_reads_package_scope_and_reason():
    assert licenses.waiver_request(("pkg:npm/left-pad", "build", "only")) == ("pkg:npm/left-pad", False, "build only")
    assert licenses.waiver_request(("left-pad", "--org")) == ("left-pad", True, "")
    assert licenses.waiver_request(("--org",)) is None
    assert licenses.waiver_request(("x" * 501,)) is None


@pytest.fixture(params=["sqlite", POSTGRES])
async def waiver_book(request, tmp_path):
    """A waiver book on SQLite and on PostgreSQL; the shared PostgreSQL database keeps nothing."""
    inbox = Inbox(f"sqlite:///{tmp_path / 'bot.db'}" if request.param == "sqlite" else request.param)
    await inbox.open()
    await inbox.transaction(metadata.drop_all)
    await inbox.transaction(metadata.create_all)
    yield WaiverBook(inbox)
    await inbox.transaction(metadata.drop_all)
    await inbox.close()


def waiver(package: str, scope: str, comment_id: int, at: float) -> Waiver:
    return Waiver(package, scope, "maintainer", at, "acme/widgets", 7, "vetted", comment_id, None)


async def test_waivers_are_kept_once_per_command_and_found_by_scope(waiver_book):
    first = waiver("pkg:npm/left-pad", "repo:acme/widgets", 1, 100.0)
    assert await waiver_book.grant(first) is True
    assert await waiver_book.grant(first) is False  # a redelivered command
    await waiver_book.grant(waiver("gpl-thing", "org:acme", 2, 200.0))
    await waiver_book.grant(waiver("other", "repo:acme/gadgets", 3, 300.0))
    await waiver_book.grant(waiver("elsewhere", "org:globex", 4, 400.0))
    found = await waiver_book.for_repository("Acme", "Widgets")
    assert [w.package for w in found] == ["pkg:npm/left-pad", "gpl-thing"]
    assert [w.package for w in await waiver_book.all()] == ["pkg:npm/left-pad", "gpl-thing", "other", "elsewhere"]
