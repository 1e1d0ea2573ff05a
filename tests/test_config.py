"""Repository config: default branch only, org fallback, _extends, bad files, caching."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.config import CONFIG_PATH, DEFAULTS, ConfigError, ConfigLoader, matches, parse, parse_extends
from bot.github import GitHubApp
from tests.fakes import example


@pytest.fixture
async def gh(fake_github, private_key):
    async with aiohttp.ClientSession() as session:
        yield GitHubApp(session, app_id="1", private_key=private_key, base_url=fake_github.url).installation_client(7)


def contents_calls(fake):
    return fake.calls_to("GET", "/repos/{owner}/{repo}/contents/{path}")


async def test_no_config_anywhere_gives_the_defaults(fake_github, gh):
    config = await ConfigLoader().load(gh, "octo", "hello")
    assert config == DEFAULTS
    assert config.enabled("welcome") and config.enabled("good_first_issue")
    assert not config.enabled("dco") and not config.enabled("cla")
    assert config.section("conduct")["link_in_welcome"] is True
    assert config.section("conduct")["remind_heated_threads"] is False
    assert config.section("good_first_issue")["suggest"]["enabled"] is False
    paths = [call.path for call in contents_calls(fake_github)]
    assert paths == [f"/repos/octo/hello/contents/{CONFIG_PATH}", f"/repos/octo/.github/contents/{CONFIG_PATH}"]


async def test_repository_config_is_read_from_the_default_branch_only(fake_github, gh):
    fake_github.add_file("octo", "hello", CONFIG_PATH, "dco:\n  enabled: true\n")
    fake_github.add_file("octo", "hello", CONFIG_PATH, "cla:\n  enabled: true\n", ref="feature")
    config = await ConfigLoader().load(gh, "octo", "hello")
    assert config.enabled("dco") and not config.enabled("cla")
    assert config.enabled("welcome")  # merged over the defaults
    assert all("ref" not in call.query for call in contents_calls(fake_github))


async def test_organisation_fallback(fake_github, gh):
    fake_github.add_file("octo", ".github", CONFIG_PATH, "welcome:\n  enabled: false\n")
    config = await ConfigLoader().load(gh, "octo", "hello")
    assert not config.enabled("welcome")
    assert config.source == f"octo/.github/{CONFIG_PATH}"


async def test_extends_same_owner_other_owner_and_path(fake_github, gh):
    fake_github.add_file("octo", "hello", CONFIG_PATH, "_extends: base\ndco:\n  enabled: false\n")
    fake_github.add_file("octo", "base", CONFIG_PATH, "_extends: shared/policies:bots/community.yml\ndco:\n  enabled: true\n  skip_members: true\n")
    fake_github.add_file("shared", "policies", "bots/community.yml", "cla:\n  enabled: true\n")
    config = await ConfigLoader().load(gh, "octo", "hello")
    assert config.section("dco")["enabled"] is False and config.section("dco")["skip_members"] is True
    assert config.enabled("cla")


async def test_extends_loop_is_reported_and_defaults_apply(fake_github, gh, caplog):
    fake_github.add_file("octo", "hello", CONFIG_PATH, "_extends: other\n")
    fake_github.add_file("octo", "other", CONFIG_PATH, "_extends: hello\n")
    with caplog.at_level(logging.ERROR):
        config = await ConfigLoader().load(gh, "octo", "hello")
    assert config == DEFAULTS
    assert "loops back" in config.errors[0]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("welcome: [unclosed", "not valid YAML"),
        ("welcome:\n  enabled: yes please\n", "welcome.enabled"),
        ("welcom:\n  enabled: true\n", "welcom"),
        ("- a list\n", "top level"),
    ],
)
async def test_bad_config_is_logged_with_repo_and_reason_and_defaults_apply(fake_github, gh, caplog, text, reason):
    fake_github.add_file("octo", "hello", CONFIG_PATH, text)
    with caplog.at_level(logging.ERROR):
        config = await ConfigLoader().load(gh, "octo", "hello")
    assert config == DEFAULTS
    assert reason in config.errors[0]
    record = next(r for r in caplog.records if "config ignored" in r.getMessage())
    assert record.fields["repository"] == "octo/hello"
    assert reason in record.fields["reason"]


async def test_config_is_cached_until_a_push_touches_it(fake_github, gh):
    loader = ConfigLoader()
    fake_github.add_file("octo", "hello", CONFIG_PATH, "dco:\n  enabled: true\n")
    await loader.load(gh, "octo", "hello")
    await loader.load(gh, "octo", "hello")
    assert len(contents_calls(fake_github)) == 1

    push = example("push")
    push["repository"].update(name="hello", full_name="octo/hello", default_branch="main")
    push["repository"]["owner"]["login"] = push["repository"]["owner"]["name"] = "octo"
    push["ref"] = "refs/heads/main"
    push["commits"] = [{"added": [], "modified": ["README.md"], "removed": []}]
    loader.invalidate_on_push(push)
    await loader.load(gh, "octo", "hello")
    assert len(contents_calls(fake_github)) == 1  # README.md does not matter

    push["commits"] = [{"added": [], "modified": [CONFIG_PATH], "removed": []}]
    fake_github.add_file("octo", "hello", CONFIG_PATH, "dco:\n  enabled: false\n")
    loader.invalidate_on_push(push)
    assert not (await loader.load(gh, "octo", "hello")).enabled("dco")


async def test_push_to_the_org_dot_github_clears_every_repository_of_the_owner(fake_github, gh):
    loader = ConfigLoader()
    await loader.load(gh, "octo", "hello")
    await loader.load(gh, "octo", "world")
    fake_github.add_file("octo", ".github", CONFIG_PATH, "welcome:\n  enabled: false\n")
    push = example("push")
    push["repository"].update(name=".github", default_branch="main")
    push["repository"]["owner"]["login"] = "octo"
    push["ref"] = "refs/heads/main"
    push["commits"] = [{"added": [CONFIG_PATH], "modified": [], "removed": []}]
    loader.invalidate_on_push(push)
    assert not (await loader.load(gh, "octo", "hello")).enabled("welcome")
    assert not (await loader.load(gh, "octo", "world")).enabled("welcome")


async def test_github_errors_are_not_mistaken_for_no_config(fake_github, gh):
    # Defaults would switch on what the maintainers switched off: fail, to be retried.
    fake_github.respond("GET", f"/repos/octo/hello/contents/{CONFIG_PATH}", status=403, json={"message": "Forbidden"})
    with pytest.raises(Exception):
        await ConfigLoader().load(gh, "octo", "hello")


async def test_repository_template_override(fake_github, gh):
    loader = ConfigLoader()
    fake_github.add_file("octo", "hello", ".github/community-bot/templates/welcome_issue.md", "Hi {{ author }}")
    assert await loader.template(gh, "octo", "hello", "welcome_issue.md") == "Hi {{ author }}"
    assert await loader.template(gh, "octo", "hello", "welcome_pr.md") is None
    await loader.template(gh, "octo", "hello", "welcome_pr.md")
    assert len(contents_calls(fake_github)) == 2


def test_parse_extends():
    assert parse_extends("base", "octo") == ("octo", "base", CONFIG_PATH)
    assert parse_extends("other/base", "octo") == ("other", "base", CONFIG_PATH)
    assert parse_extends("other/base:x/y.yml", "octo") == ("other", "base", "x/y.yml")


def test_empty_file_is_an_empty_config():
    assert parse("") == {}
    with pytest.raises(ConfigError):
        parse("_extends: 5\n")


@pytest.mark.parametrize(
    ("value", "pattern", "matched"),
    [("dependabot[bot]", "*[bot]", True), ("robot", "*[bot]", False), ("Mona", "mon?", True), ("a.b", "a?b", True), ("axb", "a.b", False)],
)
def test_config_patterns_know_only_two_wildcards(value, pattern, matched):
    assert matches(value, pattern) is matched


@pytest.mark.parametrize("threshold", ["0.7", "{issue: 0.6}", "{issue: 0.6, review: 1.2}"])
def test_a_conduct_threshold_is_one_number_or_one_per_kind(threshold):
    assert parse(f"conduct:\n  threshold: {threshold}\n")["conduct"]["threshold"]


@pytest.mark.parametrize("threshold", ["-1", "high", "{pr: 0.6}"])
def test_a_wrong_conduct_threshold_says_what_it_takes(threshold):
    with pytest.raises(ConfigError, match="conduct.threshold: .* is not valid here. The score from which"):
        parse(f"conduct:\n  threshold: {threshold}\n")
