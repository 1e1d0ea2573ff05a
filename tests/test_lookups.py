"""Roles and community files, as GitHub's answers give them."""

from __future__ import annotations

import pytest

from bot.lookups import at_least, community_files_from, role_from


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
