"""Roles, organisation members and community files, as GitHub's answers give them."""

from __future__ import annotations

import asyncio

import pytest

from bot import lookups as lookups_module
from bot.lookups import Lookups, at_least, community_files_from, role_from
from tests.fakes import example


@pytest.mark.parametrize(
    ("answer", "role"),
    [
        ({"permission": "write", "role_name": "maintain"}, "maintain"),
        ({"permission": "read", "role_name": "triage"}, "triage"),
        ({"permission": "admin", "role_name": "security-manager"}, "admin"),  # a custom role: its base
        ({"permission": "write"}, "write"),  # GitHub Enterprise Server before role_name
        ({"permission": "none", "role_name": "none"}, "none"),
        ({}, "none"),
        (None, "none"),
    ],
)
def test_role_from_the_permission_answer(answer, role):
    assert role_from(answer) == role


def test_roles_carry_the_weaker_ones():
    assert at_least("maintain", "triage") and at_least("triage", "triage")
    assert not at_least("read", "triage") and not at_least("none", "read")
    assert not at_least("security-manager", "read")


def test_community_files():
    profile = {
        "files": {
            "contributing": {"html_url": "https://github.com/o/r/blob/main/CONTRIBUTING.md"},
            "code_of_conduct": {"key": "contributor_covenant", "html_url": None},
            "code_of_conduct_file": {"html_url": "https://github.com/o/r/blob/main/CODE_OF_CONDUCT.md"},
        }
    }
    files = community_files_from(profile)
    assert files.contributing_url.endswith("CONTRIBUTING.md")
    assert files.code_of_conduct_url.endswith("CODE_OF_CONDUCT.md")
    assert community_files_from({"files": {"contributing": None}}).contributing_url is None
    assert community_files_from({}) == community_files_from(None)


# --- organisation members, listed once and dropped when they change ----------------------------

ORG = "octo-org"


async def test_one_listing_of_members_answers_everyone_and_lookups_at_once_share_it(fake_github, github_app):
    for login in ("mona", "Hubot"):
        fake_github.add_org_member(ORG, login)
    gh = github_app.installation_client(7)
    lookups = Lookups()
    answers = await asyncio.gather(*(lookups.is_org_member(gh, ORG, login) for login in ("MONA", "hubot", "newbie", "mona")))
    assert answers == [True, True, False, True]
    assert len(fake_github.calls_to("GET", "/orgs/{org}/members")) == 1
    assert fake_github.calls_to("GET", "/orgs/{org}/members/{username}") == []


async def test_a_personal_account_has_no_members(fake_github, github_app):
    lookups = Lookups()
    assert await lookups.org_members(github_app.installation_client(7), "octocat") == frozenset()
    assert not await lookups.is_org_member(github_app.installation_client(7), "octocat", "octocat")


async def test_past_the_listing_limit_each_person_is_asked_about(fake_github, github_app, monkeypatch):
    monkeypatch.setattr(lookups_module, "MAX_LISTED_MEMBERS", 2)
    for login in ("a", "b", "c"):
        fake_github.add_org_member(ORG, login)
    gh = github_app.installation_client(7)
    lookups = Lookups()
    assert await lookups.org_members(gh, ORG) is None
    assert await lookups.is_org_member(gh, ORG, "c") and not await lookups.is_org_member(gh, ORG, "d")
    assert len(fake_github.calls_to("GET", "/orgs/{org}/members/{username}")) == 2


async def test_a_membership_event_drops_what_it_changes(fake_github, github_app):
    gh = github_app.installation_client(7)
    lookups = Lookups()
    assert not await lookups.is_org_member(gh, ORG, "newbie")
    fake_github.add_org_member(ORG, "newbie")
    assert not await lookups.is_org_member(gh, ORG, "newbie")  # cached: GitHub has not said yet
    joined = example("organization", "member_added")
    joined["organization"]["login"] = ORG.upper()
    joined["membership"]["user"]["login"] = "newbie"
    lookups.invalidate_on("organization", joined)
    assert await lookups.is_org_member(gh, ORG, "newbie")

    fake_github.set_permission("octo-org", "hello", "newbie", "write")
    assert await lookups.role(gh, "octo-org", "hello", "newbie") == "write"
    fake_github.set_permission("octo-org", "hello", "newbie", "read")
    removed = example("member", "added") | {"repository": {"full_name": "Octo-Org/Hello"}, "member": {"login": "NewBie"}}
    lookups.invalidate_on("member", removed)
    assert await lookups.role(gh, "octo-org", "hello", "newbie") == "read"
    lookups.invalidate_on("member", {})  # a payload without what is needed changes nothing
