"""Code of conduct: met when people arrive, recalled when a thread turns heated, suggested to
repositories that have none.

Reminders must be rare, kind and precise, or people learn to ignore them: one per thread per
``cooldown_hours``, addressed to the thread, never naming or quoting anyone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot.commands import commands
from bot.config import RepoConfig, fetch_file
from bot.context import EventContext, is_bot
from bot.dispatch import on_repository_setup
from bot.github import github_time
from bot.heat import DEFAULT_THRESHOLDS, Heat, measure, strip_quoted_and_code
from bot.insights import activity
from bot.lookups import at_least
from bot.render import Mention

log = logging.getLogger(__name__)
router = Router()

REMINDER = "conduct-reminder"
COVENANT_URL = "https://www.contributor-covenant.org/"
CODE_OF_CONDUCT_FILE = "CODE_OF_CONDUCT.md"


# Decisions ------------------------------------------------------------------------------


def thread_key(repository: dict[str, Any], number: int) -> str:
    return f"{repository['id']}#{number}:"


async def heat_of(ctx: EventContext, text: str, section: dict[str, Any]) -> Heat:
    """How heated the comment is; with Perspective's opinion too where the repository asks."""
    prose = strip_quoted_and_code(text)  # Perspective is sent only the author's own words
    toxicity = await ctx.toxicity(prose) if section.get("perspective") and prose.strip() else None
    return measure(text, extra_terms=section.get("extra_terms") or (), ignore_terms=section.get("ignore_terms") or (), toxicity=toxicity)


def threshold_for(section: dict[str, Any], kind: str) -> float:
    """The repository's threshold for comments of this kind ("issue", or "review" for pull
    request threads): one number for both, or one per kind."""
    threshold = section.get("threshold")
    if isinstance(threshold, dict):
        threshold = threshold.get(kind)
    return float(threshold) if isinstance(threshold, int | float) else DEFAULT_THRESHOLDS[kind]


def is_heated(heat: Heat, section: dict[str, Any], kind: str) -> bool:
    return heat.score >= threshold_for(section, kind)


def thread_kind(thread: dict[str, Any]) -> str:
    """Where a comment is written: an issue thread, or a pull request's ("review")."""
    return "review" if "pull_request" in thread or "head" in thread else "issue"


def recently_reminded(reminder: dict[str, Any] | None, cooldown_hours: float, now: float) -> bool:
    """Whether the thread's reminder was posted or renewed within the cooldown."""
    return reminder is not None and now - github_time(reminder["updated_at"]) < cooldown_hours * 3600


# Events ------------------------------------------------------------------------------------


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
@router.register("pull_request_review_comment", action="created")
@router.register("pull_request_review_comment", action="edited")
async def comment_written(event: sansio.Event, ctx: EventContext) -> None:
    thread = event.data.get("issue") or event.data["pull_request"]
    comment = event.data["comment"]
    config = await ctx.config()
    if not config.enabled("conduct"):
        return
    if any(c.name == "coc" for c in commands(comment.get("body") or "", known={"coc"})):
        await coc_command(ctx, config, thread["number"], comment)
    await watch_heat(ctx, config, event.data["repository"], thread["number"], comment, thread_kind(thread))


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="edited")
async def review_written(event: sansio.Event, ctx: EventContext) -> None:
    config = await ctx.config()
    if config.enabled("conduct"):
        await watch_heat(ctx, config, event.data["repository"], event.data["pull_request"]["number"], event.data["review"], "review")


@router.register("issues", action="opened")
@router.register("pull_request", action="opened")
async def first_interaction(event: sansio.Event, ctx: EventContext) -> None:
    """Where welcomes are off, a newcomer still meets the code of conduct (where welcomes are
    on, the welcome links it: one message, not two)."""
    config = await ctx.config()
    section = config.section("conduct")
    if not section.get("enabled") or not section.get("on_first_interaction") or config.enabled("welcome"):
        return
    item = event.data.get("issue") or event.data["pull_request"]
    if is_bot(item.get("user")) or item.get("author_association") not in ("FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "NONE"):
        return
    person = f"{event.data['repository']['id']}:{item['user']['id']}"
    if await ctx.mark("conduct.first_interaction", person, str(item["number"])) != str(item["number"]):
        return
    url = await code_of_conduct_url(ctx, config)
    if url:
        await ctx.comment(item["number"], "code-of-conduct", "code_of_conduct.md", code_of_conduct_url=url, repo=ctx.full_name)


# Acting -------------------------------------------------------------------------------------


async def watch_heat(
    ctx: EventContext, config: RepoConfig, repository: dict[str, Any], number: int, comment: dict[str, Any], kind: str
) -> None:
    section = config.section("conduct")
    if not section.get("remind_heated_threads"):
        return
    heat = await heat_of(ctx, comment.get("body") or "", section)
    if not is_heated(heat, section, kind):
        return
    now = time.time()
    thread = thread_key(repository, number)
    cooldown = float(section.get("cooldown_hours", 24))
    await ctx.mark("conduct.flag", f"{thread}{comment['id']}", f"{heat.score:.2f} {' '.join(heat.terms)}")
    log.info("heated comment", extra={"fields": {"number": number, "score": heat.score, "terms": list(heat.terms)}})
    lock_after = section.get("lock_after")
    if lock_after and await ctx.count_marks("conduct.flag", thread, since=now - cooldown * 3600) >= int(lock_after):
        await ctx.gh.put(
            "/repos/{owner}/{repo}/issues/{issue_number}/lock",
            {"owner": ctx.owner, "repo": ctx.repo, "issue_number": number},
            data={"lock_reason": "too heated"},
        )
        await ctx.record_outcome(activity.CONDUCT_LOCK, number, once_per=thread)
    if section.get("report_to"):
        await report(ctx, section["report_to"], number, comment, heat)
    if section.get("public_reminder", True):
        await remind(ctx, config, number, thread, cooldown, now, comment["id"])


async def report(ctx: EventContext, report_to: str, number: int, comment: dict[str, Any], heat: Heat) -> None:
    """List the flagged comment for moderators, in the day's issue of the private repository
    ``report_to``: a human decides, and nothing public is said."""
    delivery = ctx.event.delivery_id or ""
    if await ctx.mark("conduct.reported", str(comment["id"]), delivery) != delivery:
        return  # listed already (an edit of a comment flagged before)
    owner, _, repo = report_to.partition("/")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    issue_number = await days_report_issue(ctx, owner, repo, day)
    if issue_number is None:
        return
    entry = await ctx.render(
        "conduct_report_entry.md",
        url=comment.get("html_url") or f"https://github.com/{ctx.full_name}/issues/{number}",
        repo=ctx.full_name,
        number=number,
        score=f"{heat.score:.2f}",
        terms=list(heat.terms),  # for repositories' own templates written before signals
        signals=list(heat.signals),
    )
    await ctx.gh.post(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        {"owner": owner, "repo": repo, "issue_number": issue_number},
        data={"body": entry},
    )


async def days_report_issue(ctx: EventContext, owner: str, repo: str, day: str) -> int | None:
    """The number of the day's report issue, opened by whichever delivery gets there first;
    the others wait for it (briefly) rather than open a second one."""
    key = f"{owner}/{repo}:{day}".lower()
    delivery = ctx.event.delivery_id or ""
    if await ctx.mark("conduct.report.opener", key, delivery) == delivery:
        known = await ctx.marked("conduct.report.issue", key)
        if known is None:
            body = await ctx.render("conduct_report.md", day=day)
            created = await ctx.gh.post(
                "/repos/{owner}/{repo}/issues", {"owner": owner, "repo": repo}, data={"title": f"Flagged comments, {day}", "body": body}
            )
            known = await ctx.mark("conduct.report.issue", key, str(created["number"]))
        return int(known)
    for _ in range(40):
        known = await ctx.marked("conduct.report.issue", key)
        if known is not None:
            return int(known)
        await asyncio.sleep(0.25)
    log.warning("the day's report issue did not appear; this flag is only logged", extra={"fields": {"report_to": f"{owner}/{repo}"}})
    return None


async def remind(ctx: EventContext, config: RepoConfig, number: int, thread: str, cooldown: float, now: float, comment_id: int) -> None:
    """One reminder on the thread per cooldown: the bot's earlier one decides, and a mark per
    cooldown window lets only one of several heated comments at once post it (a redelivery
    of that same comment goes through again, and finds the reminder there)."""
    if recently_reminded(await ctx.find_comment(number, REMINDER), cooldown, now):
        return
    window = int(now // (cooldown * 3600))
    if await ctx.mark("conduct.reminder", f"{thread}{window}", str(comment_id)) != str(comment_id):
        return
    await post_reminder(ctx, config, number)
    await ctx.record_outcome(activity.CONDUCT_REMINDER, number, once_per=str(comment_id))


async def coc_command(ctx: EventContext, config: RepoConfig, number: int, comment: dict[str, Any]) -> None:
    login = comment["user"]["login"]
    if not at_least(await ctx.role(login), "triage"):
        log.info("/coc refused: no triage access", extra={"fields": {"sender": login}})
        return
    await post_reminder(ctx, config, number)
    await ctx.record_outcome(activity.CONDUCT_REMINDER, number, once_per=str(comment["id"]))


async def post_reminder(ctx: EventContext, config: RepoConfig, number: int) -> None:
    """The thread's one reminder, posted or brought up to date (dated, so it shows as renewed)."""
    team = config.section("conduct").get("notify_team")
    await ctx.comment(
        number,
        REMINDER,
        "conduct_reminder.md",
        code_of_conduct_url=await code_of_conduct_url(ctx, config),
        team=Mention(team) if team else None,
        date=time.strftime("%Y-%m-%d", time.gmtime()),
    )


async def code_of_conduct_url(ctx: EventContext, config: RepoConfig, owner: str | None = None, repo: str | None = None) -> str | None:
    """The configured link, else the one GitHub's community profile finds, else a
    CODE_OF_CONDUCT.md in the repository or the organisation's .github repository; of this
    event's repository unless another is named (an installation event names several)."""
    owner, repo = owner or ctx.owner, repo or ctx.repo
    configured = config.section("conduct").get("url")
    if configured:
        return str(configured)
    files = await ctx.community_files(owner, repo)
    if files.code_of_conduct_url:
        return files.code_of_conduct_url
    for candidate in (repo, ".github"):
        if await fetch_file(ctx.gh, owner, candidate, CODE_OF_CONDUCT_FILE) is not None:
            return f"https://github.com/{owner}/{candidate}/blob/HEAD/{CODE_OF_CONDUCT_FILE}"
    return None


@on_repository_setup(router)
async def suggest_code_of_conduct(ctx: EventContext, owner: str, repo: str) -> None:
    """Open one issue, once ever, suggesting a code of conduct to a repository that has none."""
    config = await ctx.config(owner, repo)
    if not config.enabled("conduct") or await code_of_conduct_url(ctx, config, owner, repo):
        return
    body = await ctx.render("code_of_conduct_missing.md", repo=f"{owner}/{repo}", covenant_url=COVENANT_URL)
    await ctx.open_issue_once("conduct.suggested", owner, repo, "Add a code of conduct", body)
