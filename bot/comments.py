"""One bot comment of each kind per issue or pull request: created once, then edited in place."""

from __future__ import annotations

import logging
from typing import Any, Literal

from gidgethub.abc import GitHubAPI

from .render import marker, with_marker

log = logging.getLogger(__name__)

Outcome = Literal["created", "updated", "unchanged"]


async def find_comment(gh: GitHubAPI, *, owner: str, repo: str, number: int, kind: str, bot_login: str) -> dict[str, Any] | None:
    """The bot's earlier comment of this kind on the issue, if there is one."""
    tag = marker(kind)
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
        {"owner": owner, "repo": repo, "number": number, "per_page": 100},
    ):
        # Only our own comments count: anyone could paste a marker into theirs.
        if (comment.get("user") or {}).get("login") == bot_login and tag in (comment.get("body") or ""):
            return comment
    return None


async def post_comment(gh: GitHubAPI, *, owner: str, repo: str, number: int, kind: str, body: str) -> Outcome:
    """Post the bot's comment of this kind, marked so that it is found and edited later."""
    await gh.post(
        "/repos/{owner}/{repo}/issues/{number}/comments",
        {"owner": owner, "repo": repo, "number": number},
        data={"body": with_marker(body, kind)},
    )
    return "created"


async def upsert_comment(
    gh: GitHubAPI, *, owner: str, repo: str, number: int, kind: str, body: str, bot_login: str, create: bool = True
) -> Outcome | None:
    """Create the bot's comment of this kind (unless ``create`` is False), or bring the existing
    one up to date; what was done, None when nothing was there to update."""
    existing = await find_comment(gh, owner=owner, repo=repo, number=number, kind=kind, bot_login=bot_login)
    if existing is None:
        return await post_comment(gh, owner=owner, repo=repo, number=number, kind=kind, body=body) if create else None
    body = with_marker(body, kind)
    if existing.get("body") == body:
        return "unchanged"
    await gh.patch(
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        {"owner": owner, "repo": repo, "comment_id": existing["id"]},
        data={"body": body},
    )
    return "updated"
