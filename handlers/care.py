"""Care for people waiting: a newcomer's issue or pull request nobody has answered gets noticed,
and a newcomer's first pull request gets a mentor as reviewer.

First response: when a newcomer opens an issue or a pull request (ready for review), a timer is
kept for ``care.respond_within_hours``; a comment, review or review comment by anyone but the
author (bots' doings never reach this handler) drops it, and so does closing the item. A timer
that comes due puts the ``care.label`` on the item, or, with ``care.triage_team``, mentions
that team in one comment; the label goes as soon as someone responds. Nothing polls GitHub:
the timers wait in the database (``bot.timers``).

The bot never closes, locks or marks stale a newcomer's issue or pull request: that is for
people to decide.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router

from bot.config import RepoConfig
from bot.context import EventContext, is_bot
from bot.render import Mention
from bot.timers import TIMER_EVENT

log = logging.getLogger(__name__)
router = Router()

FIRST_RESPONSE = "first_response_due"
# Not (yet) a contributor of the repository: whoever GitHub does not know as a member,
# collaborator or contributor.
NEWCOMERS = {"FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "NONE"}
# A first pull request: GitHub knows no earlier commit of theirs in the repository.
FIRST_PULL = {"FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR"}
MENTOR_OF = "care.mentor-of"  # key: repository id and pull number; value: the mentor asked
MENTOR_OPEN = "care.mentor-open"  # key: repository id, mentor and pull number, while it is open
ANSWERED = "care.first-response"  # key: the item; value: the delivery that acted on it

RESPONSES = {"issue_comment": "comment", "pull_request_review": "review", "pull_request_review_comment": "comment"}


# Decisions ------------------------------------------------------------------------------


def first_response_on(config: RepoConfig) -> bool:
    return config.enabled("care") and config.enabled("welcome")


def awaits_first_response(item: dict[str, Any]) -> bool:
    """Whether this newly opened issue or pull request is a newcomer's, waiting for people."""
    if is_bot(item.get("user")) or item.get("draft") or item.get("state", "open") != "open":
        return False
    return item.get("author_association") in NEWCOMERS


def is_response(item: dict[str, Any], responder: dict[str, Any] | None) -> bool:
    """Whether this comment or review answers the item's author: someone else's, not a bot's."""
    login = (responder or {}).get("login") or ""
    author = ((item.get("user") or {}).get("login") or "").lower()
    return bool(login) and login.lower() != author and not is_bot(responder)


def item_key(repository: dict[str, Any], number: int) -> str:
    return f"{repository['id']}#{number}"  # ids: a renamed repository keeps its timers


def pick_mentor(candidates: list[str], author: str, open_counts: dict[str, int], *, start: int, limit: int) -> str | None:
    """Round-robin from ``start``: the first candidate who is not the author and has fewer than
    ``limit`` newcomer pull requests open; None when all are skipped."""
    for offset in range(len(candidates)):
        candidate = candidates[(start + offset) % len(candidates)]
        if candidate.lower() != author.lower() and open_counts.get(candidate.lower(), 0) < limit:
            return candidate
    return None


# First response ---------------------------------------------------------------------------


@router.register("issues", action="opened")
@router.register("pull_request", action="opened")
@router.register("pull_request", action="ready_for_review")
async def item_opened(event: sansio.Event, ctx: EventContext) -> None:
    item = event.data.get("pull_request") or event.data["issue"]
    if not awaits_first_response(item):
        return
    config = await ctx.config()
    if not first_response_on(config):
        return
    hours = float(config.section("care").get("respond_within_hours", 48))
    repository = event.data["repository"]
    payload = {
        "installation": {"id": ctx.installation_id},
        "repository": {
            "id": repository["id"],
            "name": repository["name"],
            "full_name": repository["full_name"],
            "owner": {"login": repository["owner"]["login"]},
        },
        "sender": item["user"],
        "item": {"number": item["number"], "user": item["user"], "is_pull": "pull_request" in event.data},
    }
    opened_at = time.time()  # a late delivery still gives people the whole time
    await ctx.schedule(FIRST_RESPONSE, item_key(repository, item["number"]), opened_at + hours * 3600, payload)


@router.register("issue_comment", action="created")
@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review_comment", action="created")
async def responded(event: sansio.Event, ctx: EventContext) -> None:
    item = event.data.get("pull_request") or event.data["issue"]
    if not is_response(item, event.data[RESPONSES[event.event]].get("user")):
        return
    await ctx.cancel_timer(FIRST_RESPONSE, item_key(event.data["repository"], item["number"]))
    label = (await ctx.config()).section("care").get("label")
    if label and any((found.get("name") or "").lower() == label.lower() for found in item.get("labels") or []):
        await ctx.remove_label(item["number"], label)


@router.register("issues", action="closed")
@router.register("pull_request", action="closed")
async def item_closed(event: sansio.Event, ctx: EventContext) -> None:
    item = event.data.get("pull_request") or event.data["issue"]
    await ctx.cancel_timer(FIRST_RESPONSE, item_key(event.data["repository"], item["number"]))
    if "pull_request" in event.data:
        await release_mentor(ctx, event.data["repository"], item["number"])


@router.register(TIMER_EVENT, action=FIRST_RESPONSE)
async def first_response_due(event: sansio.Event, ctx: EventContext) -> None:
    config = await ctx.config()
    if not first_response_on(config):
        return
    item, repository = event.data["item"], event.data["repository"]
    delivery = event.delivery_id or ""
    if await ctx.mark(ANSWERED, item_key(repository, item["number"]), delivery) != delivery:
        return  # noticed before (the item's opening was delivered again after its timer)
    section = config.section("care")
    hours = section.get("respond_within_hours", 48)
    if section.get("triage_team"):
        await ctx.comment(item["number"], "first-response", "care_first_response.md", team=Mention(section["triage_team"]), hours=hours, is_pull=item["is_pull"])
    elif section.get("label"):
        try:
            await ctx.add_labels(item["number"], [section["label"]])
        except gidgethub.BadRequest as exc:
            if exc.status_code not in (404, 410):
                raise
            log.info("the item waiting for a response is gone", extra={"fields": {"number": item["number"]}})
            return  # deleted or transferred meanwhile: nobody is waiting here any more
    log.info("a newcomer is still waiting for a first response", extra={"fields": {"number": item["number"]}})


# Mentors ----------------------------------------------------------------------------------


@router.register("pull_request", action="opened")
@router.register("pull_request", action="ready_for_review")
async def first_pull_opened(event: sansio.Event, ctx: EventContext) -> None:
    pull, repository = event.data["pull_request"], event.data["repository"]
    if pull.get("draft") or is_bot(pull.get("user")) or pull.get("author_association") not in FIRST_PULL:
        return
    config = await ctx.config()
    section = config.section("care")
    if not config.enabled("care") or not section.get("mentors"):
        return
    key = item_key(repository, pull["number"])
    if await ctx.marked(MENTOR_OF, key) is not None:
        return  # asked already (opened, then marked ready for review)
    candidates = await mentor_candidates(ctx, section["mentors"])
    open_counts = {c.lower(): await ctx.count_marks(MENTOR_OPEN, f"{repository['id']}:{c.lower()}:", since=0) for c in candidates}
    # The turn goes round with every newcomer pull request the repository has had a mentor for.
    start = await ctx.count_marks(MENTOR_OF, f"{repository['id']}#", since=0)
    mentor = pick_mentor(candidates, pull["user"]["login"], open_counts, start=start, limit=int(section.get("mentor_max_open", 2)))
    if mentor is None:
        log.info("no mentor free for a newcomer's first pull request", extra={"fields": {"number": pull["number"]}})
        return
    if await ctx.mark(MENTOR_OF, key, mentor) != mentor:
        return  # another process chose first
    await ctx.mark(MENTOR_OPEN, f"{repository['id']}:{mentor.lower()}:{pull['number']}", mentor)
    await ctx.gh.post(
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        {"owner": ctx.owner, "repo": ctx.repo, "pull_number": pull["number"]},
        data={"reviewers": [mentor]},
    )
    log.info("mentor asked to review a first pull request", extra={"fields": {"number": pull["number"], "mentor": mentor}})


async def mentor_candidates(ctx: EventContext, mentors: list[str]) -> list[str]:
    """The configured mentors in order, teams expanded to their members, each person once."""
    found: dict[str, str] = {}
    for entry in mentors:
        org, _, team = entry.partition("/")
        for login in await ctx.team_members(org, team) if team else (entry,):
            found.setdefault(login.lower(), login)
    return list(found.values())


async def release_mentor(ctx: EventContext, repository: dict[str, Any], number: int) -> None:
    mentor = await ctx.marked(MENTOR_OF, item_key(repository, number))
    if mentor is not None:
        await ctx.forget_mark(MENTOR_OPEN, f"{repository['id']}:{mentor.lower()}:{number}")
