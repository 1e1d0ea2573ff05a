"""Insights: remember the repository's community activity, one row per fact, for the CHAOSS
metrics (``bot.insights.metrics``). Bots' doings are recorded too, marked as bots', so the
metrics can leave them out; the bot's own outcomes are recorded where they happen.

Rows come from the objects in the payload, with the times GitHub gives them, through the same
functions the backfill applies to the REST API's objects, so a fact seen both ways is one row.
Nothing here calls GitHub, but for the config when an issue is labelled.
"""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from bot.context import EventContext
from bot.dispatch import accepts_bots
from bot.github import github_time
from bot.insights import activity

router = Router()


@router.register("issues", action="opened")
@router.register("issues", action="closed")
@router.register("pull_request", action="opened")
@router.register("pull_request", action="closed")
@accepts_bots
async def item_changed(event: sansio.Event, ctx: EventContext) -> None:
    item = event.data.get("pull_request") or event.data["issue"]
    await ctx.record_activity(activity.item_rows(ctx.full_name, item))


@router.register("issues", action="reopened")
@router.register("pull_request", action="reopened")
@accepts_bots
async def item_reopened(event: sansio.Event, ctx: EventContext) -> None:
    item = event.data.get("pull_request") or event.data["issue"]
    reopened = activity.reopened_row(ctx.full_name, item, event.data.get("sender"), github_time(item["updated_at"]))
    await ctx.record_activity([*activity.item_rows(ctx.full_name, item), reopened])


# Each event's comment, review or review comment: the kind of row it makes, and its payload key.
RESPONSES = {
    "issue_comment": (activity.COMMENT, "comment"),
    "pull_request_review": (activity.REVIEW, "review"),
    "pull_request_review_comment": (activity.REVIEW_COMMENT, "comment"),
}


@router.register("issue_comment", action="created")
@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review_comment", action="created")
@accepts_bots
async def responded(event: sansio.Event, ctx: EventContext) -> None:
    kind, key = RESPONSES[event.event]
    item = event.data.get("pull_request") or event.data["issue"]
    response = activity.comment_row(
        ctx.full_name, kind, event.data[key], number=item["number"], is_pull=activity.is_pull_request(item)
    )
    await ctx.record_activity([*activity.item_rows(ctx.full_name, item), response])


@router.register("issues", action="labeled")
@accepts_bots
async def labeled(event: sansio.Event, ctx: EventContext) -> None:
    label = (event.data.get("label") or {}).get("name") or ""
    if label.lower() != (await ctx.config()).label_names()["good_first_issue"].lower():
        return
    issue = event.data["issue"]
    at = github_time(issue["updated_at"])
    await ctx.record_activity([activity.labeled_row(ctx.full_name, issue, label, at, event.data.get("sender"))])
