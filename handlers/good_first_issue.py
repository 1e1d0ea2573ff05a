"""Good first issues: maintainers mark them from a comment, the bot suggests candidates, and a
newcomer claims one and is told the next step.

Commands, Prow-style, one per line of an issue comment: ``/good-first-issue``,
``/remove-good-first-issue`` and ``/help`` for people with triage access or more (asked of
GitHub, not read off the payload); ``/assign`` (or ``/claim``) and ``/unassign`` for anyone.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import cachetools
import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router

from bot.commands import commands
from bot.config import RepoConfig
from bot.context import EventContext, is_bot
from bot.github import getitem_or_none, github_time
from bot.insights import activity
from bot.lookups import at_least
from bot.render import marker

log = logging.getLogger(__name__)
router = Router()

CLAIM_KIND = "good-first-issue-claim"
# Stale claims are looked for on a repository's events, at most this often: no polling.
SWEEP_SECONDS = 3600
_swept: cachetools.TTLCache[str, bool] = cachetools.TTLCache(maxsize=10_000, ttl=SWEEP_SECONDS)

LABEL_COMMANDS = {"good-first-issue", "remove-good-first-issue", "help"}
CLAIM_COMMANDS = {"assign", "claim", "unassign"}
# Colours and descriptions for labels the bot has to create.
LABEL_LOOKS = {
    "good_first_issue": ("7057ff", "Good for newcomers"),
    "help_wanted": ("008672", "Extra attention is needed"),
}


# Decisions ------------------------------------------------------------------------------


def has_label(issue: dict[str, Any], name: str) -> bool:
    return any((label.get("name") or "").lower() == name.lower() for label in issue.get("labels") or [])


def is_candidate(issue: dict[str, Any], rules: dict[str, Any]) -> bool:
    """Whether an issue looks like a good first issue by the ``suggest`` rules: a keyword or a
    pattern in its title or body, or one of the labels; never past ``max_body_length``."""
    title, body = issue.get("title") or "", issue.get("body") or ""
    limit = rules.get("max_body_length")
    if limit is not None and len(body) > limit:
        return False
    text = f"{title}\n{body}".lower()
    if any(keyword.lower() in text for keyword in rules.get("keywords") or []):
        return True
    for pattern in rules.get("patterns") or []:
        try:
            if re.search(pattern, f"{title}\n{body}", re.IGNORECASE):
                return True
        except re.error as exc:
            log.warning("suggest pattern ignored: %s", exc, extra={"fields": {"pattern": pattern}})
    return any(has_label(issue, label) for label in rules.get("labels") or [])


def claim_refusal(issue: dict[str, Any], login: str, held: int, limit: int, gfi_label: str) -> str | None:
    """Why this person may not take this issue now, or None when they may."""
    if not has_label(issue, gfi_label):
        return "not_good_first_issue"
    if issue.get("state") != "open":
        return "closed"
    assignees = [a.get("login", "").lower() for a in issue.get("assignees") or []]
    if login.lower() in assignees:
        return "already_yours"
    if assignees:
        return "taken"
    if held >= limit:
        return "limit"
    return None


def last_claim_activity(comments: list[dict[str, Any]], assignees: list[str], bot_login: str) -> float | None:
    """When the claim was last made or spoken for: the bot's claim note, or a comment by an
    assignee, whichever is latest; None where the bot made no claim note (a maintainer
    assigned someone by hand, and the bot leaves that alone)."""
    notes = [c for c in comments if (c.get("user") or {}).get("login") == bot_login and marker(CLAIM_KIND) in (c.get("body") or "")]
    claimed = [github_time(c["updated_at"]) for c in notes]
    if not claimed:
        return None
    people = {login.lower() for login in assignees}
    spoken = [github_time(c["created_at"]) for c in comments if (c.get("user") or {}).get("login", "").lower() in people]
    return max(claimed + spoken)


# Events ------------------------------------------------------------------------------------


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, ctx: EventContext) -> None:
    issue, comment = event.data["issue"], event.data["comment"]
    if "pull_request" in issue:  # commands are for issues
        return
    config = await ctx.config()
    if not config.enabled("good_first_issue"):
        return
    try:
        await release_stale_claims(ctx, config)
    except gidgethub.GitHubException as exc:  # the commands still run; the next sweep retries
        log.warning("stale claims not looked over: %r", exc)
        _swept.pop(ctx.full_name.lower(), None)
    found = commands(comment.get("body") or "", known=LABEL_COMMANDS | CLAIM_COMMANDS)
    login = comment["user"]["login"]
    for command in found:
        if command.name in LABEL_COMMANDS:
            done = await label_command(ctx, config, issue, command.name, login)
        else:
            done = await claim_command(ctx, config, issue, command.name, login)
        await ctx.react(comment["id"], "+1" if done else "confused")


@router.register("issues", action="labeled")
async def labeled(event: sansio.Event, ctx: EventContext) -> None:
    config = await ctx.config()
    if config.enabled("good_first_issue") and event.data["label"]["name"].lower() == config.label_names()["good_first_issue"].lower():
        await post_guide(ctx, config, event.data["issue"])


@router.register("issues", action="opened")
@router.register("issues", action="edited")
async def issue_written(event: sansio.Event, ctx: EventContext) -> None:
    issue = event.data["issue"]
    if is_bot(issue.get("user")) or issue.get("state") != "open" or "pull_request" in issue:
        return
    config = await ctx.config()
    section = config.section("good_first_issue")
    rules = section.get("suggest") or {}
    if not section.get("enabled") or not rules.get("enabled"):
        return
    if has_label(issue, config.label_names()["good_first_issue"]) or not is_candidate(issue, rules):
        return
    if rules.get("mode", "suggest") == "apply":
        await add_labels(ctx, config, issue["number"], ["good_first_issue", "help_wanted"])
        await post_guide(ctx, config, issue)
    else:
        await ctx.comment(issue["number"], "good-first-issue-suggestion", "good_first_issue_suggestion.md")


# Acting -------------------------------------------------------------------------------------


async def label_command(ctx: EventContext, config: RepoConfig, issue: dict[str, Any], name: str, login: str) -> bool:
    if not at_least(await ctx.role(login), "triage"):
        await ctx.comment(issue["number"], "good-first-issue-refused", "good_first_issue_refused.md", command=name)
        return False
    number = issue["number"]
    if name == "remove-good-first-issue":
        for label in config.label_names().values():
            await ctx.remove_label(number, label)
    elif name == "help":
        await add_labels(ctx, config, number, ["help_wanted"])
    else:
        await add_labels(ctx, config, number, ["good_first_issue", "help_wanted"])
        await post_guide(ctx, config, issue)
    log.info("good first issue command run", extra={"fields": {"command": name, "number": number}})
    return True


async def claim_command(ctx: EventContext, config: RepoConfig, issue: dict[str, Any], name: str, login: str) -> bool:
    number = issue["number"]
    where = {"owner": ctx.owner, "repo": ctx.repo, "issue_number": number}
    if name == "unassign":
        if login.lower() not in [a.get("login", "").lower() for a in issue.get("assignees") or []]:
            return False
        await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/assignees", where, data={"assignees": [login]})
        await ctx.comment(number, CLAIM_KIND, "good_first_issue_claim.md", outcome="released", claimant=login, limit=0)
        return True
    section = config.section("good_first_issue")
    limit = int(section.get("max_claims_per_person", 1))
    gfi_label = config.label_names()["good_first_issue"]
    held = await claims_held(ctx, login, gfi_label)
    refusal = claim_refusal(issue, login, held, limit, gfi_label)
    if refusal is not None:
        await ctx.comment(number, "good-first-issue-refused", "good_first_issue_claim.md", outcome=refusal, claimant=login, limit=limit)
        return False
    await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees", where, data={"assignees": [login]})
    await ctx.comment(number, CLAIM_KIND, "good_first_issue_claim.md", outcome="assigned", claimant=login, limit=limit)
    await ctx.record_outcome(activity.GFI_CLAIMED, number, once_per=login.lower(), actor=login)
    return True


async def claims_held(ctx: EventContext, login: str, gfi_label: str) -> int:
    """How many open good first issues of this repository the person is assigned to: one search."""
    query = f'repo:{ctx.full_name} is:issue is:open label:"{gfi_label}" assignee:{login}'
    result = await ctx.gh.getitem("/search/issues{?q,per_page}", {"q": query, "per_page": 1})
    return int(result.get("total_count", 0))


async def add_labels(ctx: EventContext, config: RepoConfig, number: int, kinds: list[str]) -> None:
    """Put these labels on the issue, creating any the repository does not have yet."""
    names = config.label_names()
    for kind in kinds:
        await ensure_label(ctx, names[kind], *LABEL_LOOKS[kind])
    await ctx.add_labels(number, [names[kind] for kind in kinds])


async def ensure_label(ctx: EventContext, name: str, color: str, description: str) -> None:
    where = {"owner": ctx.owner, "repo": ctx.repo}
    if await getitem_or_none(ctx.gh, "/repos/{owner}/{repo}/labels/{name}", {**where, "name": name}) is None:
        await ctx.gh.post("/repos/{owner}/{repo}/labels", where, data={"name": name, "color": color, "description": description})


async def post_guide(ctx: EventContext, config: RepoConfig, issue: dict[str, Any]) -> None:
    """The guide for whoever takes the issue: once per issue (edited, never repeated)."""
    section = config.section("good_first_issue")
    wording = None
    if section.get("template"):
        wording = await ctx.repo_template(section["template"])
    files = await ctx.community_files()
    await ctx.comment(
        issue["number"],
        "good-first-issue-guide",
        "good_first_issue.md",
        wording=wording,
        repo=ctx.full_name,
        contributing_url=files.contributing_url,
        claims=int(section.get("max_claims_per_person", 1)),
        expiry_days=int(section.get("claim_expiry_days", 14)),
    )


async def release_stale_claims(ctx: EventContext, config: RepoConfig) -> None:
    """Free good first issues whose claim has gone quiet: no pull request names the issue and
    neither the bot's claim note nor the assignee has spoken for ``claim_expiry_days``."""
    if ctx.full_name.lower() in _swept:
        return
    _swept[ctx.full_name.lower()] = True
    days = int(config.section("good_first_issue").get("claim_expiry_days", 14))
    label = config.label_names()["good_first_issue"]
    found = await ctx.gh.getitem(
        "/search/issues{?q,per_page}", {"q": f'repo:{ctx.full_name} is:issue is:open label:"{label}"', "per_page": 100}
    )
    for issue in found.get("items", []):
        assignees = [a["login"] for a in issue.get("assignees") or []]
        if assignees and await claim_is_stale(ctx, issue, assignees, days):
            await release_claim(ctx, issue, assignees, days)


async def claim_is_stale(ctx: EventContext, issue: dict[str, Any], assignees: list[str], days: int) -> bool:
    where = {"owner": ctx.owner, "repo": ctx.repo, "issue_number": issue["number"]}
    comments = [c async for c in ctx.gh.getiter("/repos/{owner}/{repo}/issues/{issue_number}/comments{?per_page}", {**where, "per_page": 100})]
    last = last_claim_activity(comments, assignees, await ctx.bot_login())
    if last is None or time.time() - last < days * 86400:
        return False
    # A pull request that names the issue is work under way, however quiet.
    linked = await ctx.gh.getitem(
        "/search/issues{?q,per_page}", {"q": f"repo:{ctx.full_name} is:pr is:open #{issue['number']}", "per_page": 1}
    )
    return linked.get("total_count", 0) == 0


async def release_claim(ctx: EventContext, issue: dict[str, Any], assignees: list[str], days: int) -> None:
    where = {"owner": ctx.owner, "repo": ctx.repo, "issue_number": issue["number"]}
    await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/assignees", where, data={"assignees": assignees})
    await ctx.comment(issue["number"], CLAIM_KIND, "good_first_issue_claim.md", outcome="expired", claimant=", ".join(assignees), limit=days)
    log.info("stale good first issue claim released", extra={"fields": {"number": issue["number"]}})
