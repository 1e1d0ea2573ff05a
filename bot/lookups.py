"""Facts about people and repositories that several handlers ask GitHub for, cached.

Membership of the organisation decides who is greeted as a newcomer, and a person's role on a
repository who may run a slash command: asked through the API, never guessed from the payload
(``author_association`` shows a private organisation member as ``CONTRIBUTOR`` or ``NONE``).
Membership and roles change: ``invalidate_on`` drops what GitHub's membership events change.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import cachetools
import gidgethub
from gidgethub.abc import GitHubAPI

from .github import getitem_or_none

T = TypeVar("T")
_MISSING = object()

# GitHub's repository roles, weakest first.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
# An organisation's members are listed (a page of 100 a call) up to this many; past it, each
# person is asked about on their own.
MAX_LISTED_MEMBERS = 3_000
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
        self._roles: cachetools.TTLCache[tuple[str, ...], str] = cachetools.TTLCache(maxsize, permission_ttl)
        self._profiles: cachetools.TTLCache[tuple[str, ...], CommunityFiles] = cachetools.TTLCache(maxsize, profile_ttl)
        self._members: cachetools.TTLCache[tuple[str, ...], bool] = cachetools.TTLCache(maxsize, permission_ttl)
        self._teams: cachetools.TTLCache[tuple[str, ...], tuple[str, ...]] = cachetools.TTLCache(256, permission_ttl)
        # Each organisation's members, lower-case (None: too many to list). After the TTL the
        # pages are asked again with their ETags (gidgethub's cache): a 304 costs no rate limit.
        self._org_lists: cachetools.TTLCache[str, frozenset[str] | None] = cachetools.TTLCache(256, permission_ttl)
        self._listing: dict[str, asyncio.Task[frozenset[str] | None]] = {}

    async def role(self, gh: GitHubAPI, owner: str, repo: str, login: str) -> str:
        """The person's role on the repository: one of ``ROLES`` ("none" for a person who no
        longer exists)."""
        url = "/repos/{owner}/{repo}/collaborators/{username}/permission"
        where = {"owner": owner, "repo": repo, "username": login}
        return await _remembered(self._roles, (owner, repo, login), lambda: _get(gh, url, where, role_from))

    async def is_org_member(self, gh: GitHubAPI, org: str, login: str) -> bool:
        """Whether the person is a member of the organisation (a personal account has none):
        from the organisation's list of members, one list for everyone, or where it is too long
        to list, by asking about this person."""
        members = await self.org_members(gh, org)
        if members is not None:
            return login.lower() in members

        async def ask() -> bool:
            try:
                await gh.getitem("/orgs/{org}/members/{username}", {"org": org, "username": login})
            except gidgethub.BadRequest as exc:
                if exc.status_code != 404:  # 404: not a member, or the owner is no organisation
                    raise
                return False
            except gidgethub.RedirectionException:
                return False  # 302: GitHub will not say to this requester
            return True  # 204 (no body, so a 404 cannot be told apart by getitem_or_none)

        return await _remembered(self._members, (org, login), ask)

    async def org_members(self, gh: GitHubAPI, org: str) -> frozenset[str] | None:
        """The organisation's members' logins, lower-case, private members included (the app
        reads members); empty for a personal account; None past MAX_LISTED_MEMBERS. Lookups at
        the same time share one listing."""
        key = org.lower()
        if key in self._org_lists:
            return self._org_lists[key]
        task = self._listing.get(key)
        if task is None:
            task = self._listing[key] = asyncio.ensure_future(self._list_members(gh, org))
            task.add_done_callback(lambda _: self._listing.pop(key, None))
        members = await asyncio.shield(task)
        self._org_lists[key] = members
        return members

    async def _list_members(self, gh: GitHubAPI, org: str) -> frozenset[str] | None:
        # 404: the owner is a person, not an organisation.
        url = "/orgs/{org}/members{?per_page}"
        logins = await _list_logins(gh, url, {"org": org, "per_page": 100}, limit=MAX_LISTED_MEMBERS)
        return None if logins is None else frozenset(login.lower() for login in logins)

    def forget_org_members(self, org: str, login: str | None = None) -> None:
        """Drop what is known of the organisation's members (someone joined or left)."""
        self._org_lists.pop(org.lower(), None)
        if login is not None:
            self._members.pop((org.lower(), login.lower()), None)

    def invalidate_on(self, event: str, payload: Mapping[str, Any]) -> None:
        """Forget what a membership event changed, so that the next lookup asks GitHub: an
        ``organization`` event (a member added, removed or invited), a ``member`` event (a
        repository's collaborator added, removed or given another role)."""
        if event == "organization":
            org = _login(payload.get("organization"))
            if org:
                self.forget_org_members(org, _login((payload.get("membership") or {}).get("user")))
        elif event == "member":
            full_name = (payload.get("repository") or {}).get("full_name") or ""
            login = _login(payload.get("member"))
            if "/" in full_name and login:
                owner, repo = full_name.lower().split("/", 1)
                self._roles.pop((owner, repo, login.lower()), None)

    async def is_team_member(self, gh: GitHubAPI, org: str, team: str, login: str) -> bool:
        """Whether the person is an active member of the organisation's team (404: not in it, or
        no such team)."""
        url = "/orgs/{org}/teams/{team_slug}/memberships/{username}"
        where = {"org": org, "team_slug": team, "username": login}
        return await _remembered(self._members, (org, team, login), lambda: _get(gh, url, where, _is_active))

    async def team_members(self, gh: GitHubAPI, org: str, team: str) -> tuple[str, ...]:
        """The team's members' logins, in GitHub's order (empty: no such team), cached like roles."""

        async def listing() -> tuple[str, ...]:
            url = "/orgs/{org}/teams/{team_slug}/members{?per_page}"
            return tuple(await _list_logins(gh, url, {"org": org, "team_slug": team, "per_page": 100}) or ())

        return await _remembered(self._teams, (org, team), listing)

    async def community_files(self, gh: GitHubAPI, owner: str, repo: str) -> CommunityFiles:
        """CONTRIBUTING and CODE_OF_CONDUCT, from the community profile: one call, whatever folder
        (root, ``docs/``, ``.github/``, or the organisation's ``.github`` repository) holds them.
        Private repositories have no community profile (404)."""
        url = "/repos/{owner}/{repo}/community/profile"
        where = {"owner": owner, "repo": repo}
        return await _remembered(self._profiles, (owner, repo), lambda: _get(gh, url, where, community_files_from))


async def _remembered(cache: cachetools.TTLCache[tuple[str, ...], T], key: tuple[str, ...], ask: Callable[[], Awaitable[T]]) -> T:
    """The cached answer for these names (letter case aside), or GitHub's, then cached."""
    key = tuple(name.lower() for name in key)
    answer = cache.get(key, _MISSING)
    if answer is _MISSING:
        answer = cache[key] = await ask()
    return answer  # type: ignore[return-value]


async def _get(gh: GitHubAPI, url: str, url_vars: dict[str, str], read: Callable[[Any], T]) -> T:
    return read(await getitem_or_none(gh, url, url_vars))


async def _list_logins(gh: GitHubAPI, url: str, url_vars: dict[str, Any], *, limit: int | None = None) -> list[str] | None:
    """The logins of a listing of people, in GitHub's order, each once; empty where GitHub says
    404 (no such team or organisation); None past ``limit``."""
    logins: dict[str, None] = {}
    try:
        async for person in gh.getiter(url, url_vars):
            logins[str(person["login"])] = None
            if limit is not None and len(logins) > limit:
                return None
    except gidgethub.BadRequest as exc:
        if exc.status_code != 404:
            raise
        return []
    return list(logins)


def _login(account: Any) -> str | None:
    login = account.get("login") if isinstance(account, Mapping) else None
    return login if isinstance(login, str) else None


def _is_active(membership: Any) -> bool:
    return isinstance(membership, dict) and membership.get("state") == "active"


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
