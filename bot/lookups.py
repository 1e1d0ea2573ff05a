"""Facts about people and repositories that several handlers ask GitHub for, cached.

A person's role on a repository decides who is greeted as a newcomer and who may run a slash
command: asked through the API, never guessed from the payload (``author_association`` shows
a private organisation member as ``CONTRIBUTOR`` or ``NONE``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cachetools
import gidgethub
from gidgethub.abc import GitHubAPI

# GitHub's repository roles, weakest first.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
# What the permission endpoint's older ``permission`` field says, where ``role_name`` is absent.
_LEGACY_ROLES = {"admin": "admin", "write": "write", "read": "read", "none": "none"}


def at_least(role: str, needed: str) -> bool:
    """Whether ``role`` carries ``needed`` (``write`` carries ``triage``); unknown roles carry nothing."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


@dataclasses.dataclass(frozen=True)
class CommunityFiles:
    """Links to a repository's community health files, where it has them."""

    contributing_url: str | None = None
    code_of_conduct_url: str | None = None


class Lookups:
    def __init__(self, *, permission_ttl: float = 600, profile_ttl: float = 3600, maxsize: int = 10_000) -> None:
        # Ten minutes: someone just given write access is still greeted for that long, at worst.
        self._roles: cachetools.TTLCache[tuple[str, str, str], str] = cachetools.TTLCache(maxsize, permission_ttl)
        self._profiles: cachetools.TTLCache[tuple[str, str], CommunityFiles] = cachetools.TTLCache(maxsize, profile_ttl)
        self._members: cachetools.TTLCache[tuple[str, ...], bool] = cachetools.TTLCache(maxsize, permission_ttl)

    async def role(self, gh: GitHubAPI, owner: str, repo: str, login: str) -> str:
        """The person's role on the repository: one of ``ROLES``."""
        key = (owner.lower(), repo.lower(), login.lower())
        role = self._roles.get(key)
        if role is None:
            try:
                answer = await gh.getitem(
                    "/repos/{owner}/{repo}/collaborators/{username}/permission",
                    {"owner": owner, "repo": repo, "username": login},
                )
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:  # 404: no such user any more
                    raise
                answer = {}
            role = role_from(answer)
            self._roles[key] = role
        return role

    async def is_org_member(self, gh: GitHubAPI, org: str, login: str) -> bool:
        """Whether the person is a member of the organisation (a personal account has none)."""
        key = (org.lower(), login.lower())
        member = self._members.get(key)
        if member is None:
            try:
                await gh.getitem("/orgs/{org}/members/{username}", {"org": org, "username": login})
                member = True  # 204
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:  # 404: not a member, or the owner is no organisation
                    raise
                member = False
            except gidgethub.RedirectionException:
                member = False  # 302: GitHub will not say to this requester
            self._members[key] = member
        return member

    async def is_team_member(self, gh: GitHubAPI, org: str, team: str, login: str) -> bool:
        """Whether the person is an active member of the organisation's team."""
        key = (org.lower(), team.lower(), login.lower())
        member = self._members.get(key)
        if member is None:
            try:
                answer = await gh.getitem(
                    "/orgs/{org}/teams/{team_slug}/memberships/{username}", {"org": org, "team_slug": team, "username": login}
                )
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:  # 404: not in the team, or no such team
                    raise
                answer = {}
            member = isinstance(answer, dict) and answer.get("state") == "active"
            self._members[key] = member
        return member

    async def community_files(self, gh: GitHubAPI, owner: str, repo: str) -> CommunityFiles:
        """CONTRIBUTING and CODE_OF_CONDUCT, from the community profile: one call, whatever folder
        (root, ``docs/``, ``.github/``, or the organisation's ``.github`` repository) holds them."""
        key = (owner.lower(), repo.lower())
        files = self._profiles.get(key)
        if files is None:
            try:
                profile = await gh.getitem("/repos/{owner}/{repo}/community/profile", {"owner": owner, "repo": repo})
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:  # private repositories have no community profile
                    raise
                profile = {}
            files = community_files_from(profile)
            self._profiles[key] = files
        return files


def role_from(answer: Any) -> str:
    if not isinstance(answer, dict):
        return "none"
    role = answer.get("role_name")
    if role in ROLES:
        return str(role)
    return _LEGACY_ROLES.get(str(answer.get("permission")), "none")


def community_files_from(profile: Any) -> CommunityFiles:
    files = profile.get("files") if isinstance(profile, dict) else None
    if not isinstance(files, dict):
        return CommunityFiles()

    def url(name: str) -> str | None:
        entry = files.get(name)
        return entry.get("html_url") if isinstance(entry, dict) else None

    return CommunityFiles(
        contributing_url=url("contributing"),
        code_of_conduct_url=url("code_of_conduct_file") or url("code_of_conduct"),
    )
