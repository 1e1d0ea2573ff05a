"""Welcome newcomers: a person's first issue, first pull request and first merged pull request
in a repository, each greeted once ever.

Who is new is settled as cheaply as it can be: the payload's ``author_association`` rules
out members and returning contributors; the bot's own record of whom it greeted rules out
repetitions; only then does one search ask GitHub whether the person came before, and the
organisation's list of members (one cached list for everyone, dropped when GitHub says a
member joined) catches the private member the association hides.
"""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot.config import RepoConfig
from bot.context import EventContext, is_bot
from bot.insights import activity
from bot.render import literal

log = logging.getLogger(__name__)
router = Router()

ISSUE, PULL_REQUEST, FIRST_MERGE = "issue", "pull_request", "first_merge"
TEMPLATES = {ISSUE: "welcome_issue.md", PULL_REQUEST: "welcome_pr.md", FIRST_MERGE: "first_merge.md"}
# behaviorbot/welcome's keys in .github/config.yml, honoured where ours are not set.
LEGACY_KEYS = {ISSUE: "newIssueWelcomeComment", PULL_REQUEST: "newPRWelcomeComment", FIRST_MERGE: "firstPRMergeComment"}
# A newcomer's first issue is also their first step of any kind: a person welcomed for a
# pull request is not welcomed again for a later issue.
EARLIER_WELCOMES = {ISSUE: (ISSUE, PULL_REQUEST), PULL_REQUEST: (PULL_REQUEST,), FIRST_MERGE: (FIRST_MERGE,)}

MEMBERS = {"OWNER", "MEMBER", "COLLABORATOR"}
# Committed to the repository before: not new to it, though a first merge may say so.
RETURNING = {"CONTRIBUTOR", "MANNEQUIN"}


@router.register("issues", action="opened")
async def issue_opened(event: sansio.Event, ctx: EventContext) -> None:
    await welcome(ctx, ISSUE, event.data["issue"], event.data["repository"])


@router.register("pull_request", action="opened")
@router.register("pull_request", action="ready_for_review")
async def pull_request_opened(event: sansio.Event, ctx: EventContext) -> None:
    await welcome(ctx, PULL_REQUEST, event.data["pull_request"], event.data["repository"])


@router.register("pull_request", action="closed")
async def pull_request_closed(event: sansio.Event, ctx: EventContext) -> None:
    if event.data["pull_request"].get("merged"):
        await welcome(ctx, FIRST_MERGE, event.data["pull_request"], event.data["repository"])


# Decisions ------------------------------------------------------------------------------


def kind_settings(config: RepoConfig, kind: str) -> dict[str, Any] | None:
    """This kind of welcome's settings, or None where it is turned off."""
    section = config.section("welcome")
    settings = section.get(kind) or {}
    if not section.get("enabled") or not settings.get("enabled", True):
        return None
    return settings


def wanted(kind: str, item: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Whether this issue or pull request is one to greet at all, whoever opened it."""
    if is_bot(item.get("user")):  # a human may merge a bot's pull request
        return False
    if kind == PULL_REQUEST and item.get("draft") and not settings.get("include_drafts"):
        return False  # greeted when it is marked ready for review
    return True


def ruled_out_by_association(kind: str, association: str | None, *, include_members: bool) -> bool:
    """Whether ``author_association`` alone says this is no newcomer."""
    if association in MEMBERS:
        return not include_members
    # A first merge makes its author a contributor, and the payload may already say so.
    return association in RETURNING and kind != FIRST_MERGE


def search_query(kind: str, repository: str, login: str) -> str:
    """The one search for the person's issues or pull requests in the repository."""
    qualifiers = {ISSUE: "", PULL_REQUEST: " is:pr", FIRST_MERGE: " is:pr is:merged"}[kind]
    return f"repo:{repository} author:{login}{qualifiers}"


def none_before(result: dict[str, Any], number: int) -> bool:
    """Whether the search found nothing but the item being greeted, which GitHub's index may
    or may not hold yet."""
    items = result.get("items") or []
    this_one_found = any(item.get("number") == number for item in items)
    return result.get("total_count", 0) - this_one_found <= 0


# Acting -----------------------------------------------------------------------------------


async def welcome(ctx: EventContext, kind: str, item: dict[str, Any], repository: dict[str, Any]) -> None:
    config = await ctx.config()
    settings = kind_settings(config, kind)
    if settings is None or not wanted(kind, item, settings):
        return
    include_members = bool(config.section("welcome").get("include_members"))
    if ruled_out_by_association(kind, item.get("author_association"), include_members=include_members):
        return
    author, number = item["user"], item["number"]
    person = f"{repository['id']}:{author['id']}"  # ids: a renamed person or repository stays known
    if not await not_welcomed_before(ctx, kind, person, number):
        return
    if not await is_first_time(ctx, kind, author["login"], number):
        return
    if not include_members and await ctx.is_org_member(author["login"]):
        return  # a private organisation member, whom the association showed as an outsider
    # Whoever marks the person first greets them; a redelivery of that same event is let
    # through again (the comment is then found and left as it is).
    if await ctx.mark(f"welcome.{kind}", person, str(number)) != str(number):
        return
    posted = await ctx.comment(
        number,
        f"welcome-{kind.replace('_', '-')}",
        TEMPLATES[kind],
        # A first issue or pull request nobody has commented on yet holds no earlier welcome.
        fresh=kind != FIRST_MERGE and item.get("comments") == 0,
        wording=await wording(ctx, kind, settings),
        **await variables(ctx, kind, config, item),
    )
    if posted is not None:
        await ctx.record_outcome(activity.WELCOME, number, detail=kind, actor=author["login"], is_pull=kind != ISSUE)
    labels = settings.get("add_labels") or []
    if labels:
        await ctx.add_labels(number, labels)
    log.info("welcomed a newcomer", extra={"fields": {"kind": kind, "number": number}})


async def not_welcomed_before(ctx: EventContext, kind: str, person: str, number: int) -> bool:
    earlier_of = {f"welcome.{earlier}": earlier for earlier in EARLIER_WELCOMES[kind]}
    greeted = await ctx.marked_kinds(list(earlier_of), person)
    # Greeted before only for this very item: a redelivery of the event being greeted.
    return all(earlier_of[mark] == kind and greeted_on == str(number) for mark, greeted_on in greeted.items())


async def is_first_time(ctx: EventContext, kind: str, login: str, number: int) -> bool:
    result = await ctx.gh.getitem(
        "/search/issues{?q,per_page}", {"q": search_query(kind, ctx.full_name, login), "per_page": 2}
    )
    return none_before(result, number)


async def wording(ctx: EventContext, kind: str, settings: dict[str, Any]) -> str | None:
    """The repository's own words for this welcome, if it has any: inline in its config, a
    template file it names, or behaviorbot/welcome's key in ``.github/config.yml``."""
    if settings.get("message"):
        return str(settings["message"])
    if settings.get("template"):
        text = await ctx.repo_template(settings["template"])
        if text is None:
            log.error(
                "the configured welcome template does not exist; the built-in one is used",
                extra={"fields": {"template": settings["template"]}},
            )
        return text
    legacy = (await ctx.legacy_config()).get(LEGACY_KEYS[kind])
    return literal(legacy) if isinstance(legacy, str) and legacy.strip() else None


async def variables(ctx: EventContext, kind: str, config: RepoConfig, item: dict[str, Any]) -> dict[str, Any]:
    """What every welcome template may use (documented in the README)."""
    files = await ctx.community_files()
    conduct = config.section("conduct")
    code_of_conduct_url = None
    if conduct.get("enabled") and conduct.get("link_in_welcome", True):
        code_of_conduct_url = conduct.get("url") or files.code_of_conduct_url
    checks = [name for name, section in (("DCO", "dco"), ("CLA", "cla")) if config.enabled(section)]
    return {
        "author": item["user"]["login"],
        "repo": ctx.full_name,
        "number": item["number"],
        "title": item.get("title") or "",
        "url": item.get("html_url"),
        "contributing_url": files.contributing_url,
        "code_of_conduct_url": code_of_conduct_url,
        "checks": checks,
        "dco": config.enabled("dco"),
        "cla": config.enabled("cla"),
        "good_first_issues": await good_first_issues(ctx, config) if kind == FIRST_MERGE else [],
    }


async def good_first_issues(ctx: EventContext, config: RepoConfig) -> list[dict[str, Any]]:
    """A few open, unassigned issues labelled for newcomers: good first issues, then help wanted."""
    wanted_count = int(config.section("welcome").get(FIRST_MERGE, {}).get("good_first_issues", 3))
    labels = config.section("good_first_issue").get("labels") or {}
    found: dict[int, dict[str, Any]] = {}
    for label in (labels.get("good_first_issue"), labels.get("help_wanted")):
        if not label or len(found) >= wanted_count:
            continue
        issues = await ctx.gh.getitem(
            "/repos/{owner}/{repo}/issues{?labels,state,assignee,per_page}",
            {"owner": ctx.owner, "repo": ctx.repo, "labels": label, "state": "open", "assignee": "none", "per_page": 10},
        )
        for issue in issues:
            if "pull_request" not in issue and len(found) < wanted_count:
                found.setdefault(issue["number"], {"number": issue["number"], "title": issue["title"], "url": issue["html_url"]})
    return list(found.values())
