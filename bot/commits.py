"""A pull request's commits, and the people named in them: what the DCO and CLA checks read.

GitHub's ``pulls/N/commits`` lists at most 250 commits; past that, the comparison of base
and head lists them all.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from gidgethub.abc import GitHubAPI

PULL_COMMITS_LIMIT = 250

_TRAILER = r"^[ \t]*{key}[ \t]*:[ \t]*(?P<name>[^<\n]*?)[ \t]*<(?P<email>[^<>\n]+)>[ \t]*$"
CO_AUTHOR = re.compile(_TRAILER.format(key="co-authored-by"), re.IGNORECASE | re.MULTILINE)
NOREPLY = re.compile(r"^(?:(?P<id>\d+)\+)?(?P<login>[^@+]+)@users\.noreply\.github\.com$", re.IGNORECASE)
# Co-authors that are tools, not people who can certify or sign anything.
ASSISTANT_EMAILS = {
    "noreply@anthropic.com",
    "noreply@openai.com",
    "cursoragent@cursor.com",
    "devin-ai-integration[bot]@users.noreply.github.com",
}
ASSISTANT_NAMES = {"copilot", "claude", "chatgpt", "codex", "cursor agent", "devin ai", "gemini", "aider"}


def trailer_pattern(key: str) -> re.Pattern[str]:
    """``Key: Name <email>`` lines, anywhere in a message, any letter case."""
    return re.compile(_TRAILER.format(key=re.escape(key)), re.IGNORECASE | re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Person:
    """Someone named in a commit: a name, an email, and the GitHub account it is linked to."""

    name: str
    email: str
    login: str | None = None
    user_id: int | None = None
    is_bot: bool = False

    @property
    def linked(self) -> bool:
        """Whether GitHub links this name and email to an account."""
        return self.user_id is not None


@dataclasses.dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: Person
    committer: Person
    parents: int
    html_url: str = ""
    # Whether GitHub verified the commit's signature as its author's: the one thing in a commit
    # an outsider cannot copy (anyone can write a member's email into a commit).
    verified: bool = False

    @property
    def short_sha(self) -> str:
        return self.sha[:7]


def trailers(pattern: re.Pattern[str], message: str) -> list[tuple[str, str]]:
    """(name, email) of each trailer of this kind, anywhere in the message."""
    text = message.replace("\r\n", "\n").replace("\r", "\n")
    return [(m.group("name").strip(), m.group("email").strip()) for m in pattern.finditer(text)]


def commit_from_api(item: dict[str, Any]) -> Commit:
    """A commit as GitHub's pulls/N/commits (or compare) lists it."""
    git = item.get("commit") or {}

    def person(role: str) -> Person:
        signature = git.get(role) or {}
        account = item.get(role) or {}
        login = account.get("login")
        return Person(
            name=signature.get("name") or "",
            email=signature.get("email") or "",
            login=login,
            user_id=account.get("id"),
            is_bot=account.get("type") == "Bot" or bool(login and login.endswith("[bot]")),
        )

    return Commit(
        sha=item["sha"],
        message=git.get("message") or "",
        author=person("author"),
        committer=person("committer"),
        parents=len(item.get("parents") or []),
        html_url=item.get("html_url") or "",
        verified=(git.get("verification") or {}).get("verified") is True,
    )


async def pull_request_commits(gh: GitHubAPI, owner: str, repo: str, pull: dict[str, Any]) -> list[Commit]:
    """The pull request's commits, oldest first."""
    where = {"owner": owner, "repo": repo}
    if (pull.get("commits") or 0) <= PULL_COMMITS_LIMIT:
        url = "/repos/{owner}/{repo}/pulls/{pull_number}/commits{?per_page}"
        items = gh.getiter(url, {**where, "pull_number": pull["number"], "per_page": 100})
    else:
        basehead = f"{pull['base']['sha']}...{pull['head']['sha']}"
        url = "/repos/{owner}/{repo}/compare/{basehead}{?per_page}"
        items = gh.getiter(url, {**where, "basehead": basehead, "per_page": 100}, iterable_key="commits")
    return [commit_from_api(item) async for item in items]


def commits_not_read(pull: dict[str, Any], commits: list[Commit]) -> str:
    """Why the commits read cannot be judged as the whole pull request, or "" when they can: a
    check never passes commits it did not read."""
    expected = pull.get("commits")
    if isinstance(expected, int) and len(commits) < expected:
        return f"GitHub returned {len(commits)} of {expected} commits; re-run the check"
    if not commits:
        return "GitHub returned no commits for this pull request; re-run the check"
    return ""


def known_accounts(commits: Iterable[Commit]) -> dict[str, int]:
    """Emails GitHub linked to an account somewhere in these commits: verified emails of it."""
    accounts: dict[str, int] = {}
    for commit in commits:
        for person in (commit.author, commit.committer):
            if person.user_id is not None and person.email:
                accounts[person.email.strip().lower()] = person.user_id
    return accounts


def is_assistant(name: str, email: str) -> bool:
    email = email.strip().lower()
    return (
        email in ASSISTANT_EMAILS
        or "[bot]" in email
        or "[bot]" in name.lower()
        or name.strip().lower() in ASSISTANT_NAMES
    )
