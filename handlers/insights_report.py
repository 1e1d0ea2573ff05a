"""Insights: the organisation's community health report, one issue per month (or week) in the
repository named by ``insights.report_repo``, brought up to date in place, as the report an
OSPO writes by hand.

No timer: the first event of the day in any repository whose config names the report
repository refreshes that period's issue; the first of a new period opens the new issue and
gives the last one its whole period's figures. A report in a public repository counts public
repositories only: its figures must not tell outsiders about private work.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time

from gidgethub import sansio
from gidgethub.routing import Router

from bot.context import EventContext
from bot.insights.metrics import Scope
from bot.render import with_marker

log = logging.getLogger(__name__)
router = Router()

REPORT_KIND = "insights-report"  # the issue body's hidden marker
ISSUE_MARK = "insights.report.issue"  # report repository and period -> the issue's number
REFRESH_MARK = "insights.report.refresh"  # report repository, period and day -> the delivery refreshing it


@dataclasses.dataclass(frozen=True)
class Period:
    name: str  # 2026-11 or 2026-W47: part of the marks' keys
    title: str  # November 2026, or the week of 16 November 2026
    since: float
    until: float


def period_of(now: float, every: str) -> Period:
    """The calendar month or ISO week (UTC, from Monday) containing ``now``."""
    day = datetime.datetime.fromtimestamp(now, datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "weekly":
        start = day - datetime.timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return Period(
            f"{year}-W{week:02d}", f"the week of {start.day} {start:%B %Y}", start.timestamp(), (start + datetime.timedelta(days=7)).timestamp()
        )
    start = day.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return Period(f"{start:%Y-%m}", f"{start:%B %Y}", start.timestamp(), end.timestamp())


def previous(period: Period, every: str) -> Period:
    return period_of(period.since - 1, every)


@router.register("issues")
@router.register("pull_request")
@router.register("issue_comment")
@router.register("pull_request_review")
async def activity_seen(event: sansio.Event, ctx: EventContext) -> None:
    section = (await ctx.config()).section("insights")
    report_repo = section.get("report_repo")
    if not section.get("enabled") or not report_repo:
        return
    every = section.get("report_every", "monthly")
    now = time.time()
    period = period_of(now, every)
    key = f"{report_repo}:{period.name}".lower()
    delivery = event.delivery_id or ""
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    if await ctx.mark(REFRESH_MARK, f"{key}:{today}", delivery) != delivery:
        return  # refreshed today already, by this delivery or another
    owner, _, repo = report_repo.partition("/")
    try:
        scope_repositories = await reported_repositories(ctx, report_repo)
    except LookupError as exc:
        log.warning("no community health report: %s", exc)
        return
    last = previous(period, every)
    last_issue = await ctx.marked(ISSUE_MARK, f"{report_repo}:{last.name}".lower())
    if last_issue is not None and await ctx.marked(ISSUE_MARK, key) is None:
        # The first refresh of a new period: the last report gets its whole period's figures.
        await write_report(ctx, owner, repo, last, scope_repositories, int(last_issue))
    number = await ctx.marked(ISSUE_MARK, key)
    created = await write_report(ctx, owner, repo, period, scope_repositories, int(number) if number else None)
    if number is None:
        await ctx.mark(ISSUE_MARK, key, str(created))


async def reported_repositories(ctx: EventContext, report_repo: str) -> tuple[str, ...] | None:
    """None (every repository of the organisation) for a private report repository; for a
    public one, the installation's public repositories only. A report repository the
    installation cannot reach raises LookupError."""
    private, public = None, []
    async for repository in ctx.gh.getiter("/installation/repositories", iterable_key="repositories"):
        name = repository["full_name"].lower()
        if name == report_repo.lower():
            private = bool(repository.get("private"))
        if not repository.get("private"):
            public.append(name)
    if private is None:
        raise LookupError(f"insights.report_repo {report_repo} is not a repository this installation can write to")
    return None if private else tuple(public)


async def write_report(
    ctx: EventContext, owner: str, repo: str, period: Period, repositories: tuple[str, ...] | None, number: int | None
) -> int:
    """Open the period's report issue, or bring the one there up to date; its number."""
    scope = Scope(owner=ctx.owner.lower(), repositories=repositories, since=period.since, until=min(period.until, time.time()))
    figures = await ctx.community_figures(scope)
    body = with_marker(await ctx.render("insights_report.md", figures=figures, period=period.title), REPORT_KIND)
    where = {"owner": owner, "repo": repo}
    if number is None:
        title = f"Community health report: {period.title}"
        created = await ctx.gh.post("/repos/{owner}/{repo}/issues", where, data={"title": title, "body": body})
        log.info("community health report opened", extra={"fields": {"number": created["number"], "period": period.name}})
        return created["number"]
    await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", {**where, "issue_number": number}, data={"body": body})
    log.info("community health report updated", extra={"fields": {"number": number, "period": period.name}})
    return number
