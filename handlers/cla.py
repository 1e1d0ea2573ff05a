"""CLA: every contributor to a pull request has signed the Contributor License Agreement.

A contributor signs once, by commenting the sign phrase; the signature is kept by GitHub user
id (a renamed login stays signed) for the organisation or the repository, per version of the
agreement. Every pull request gets a ``CLA`` check run, and one comment, edited in place,
saying who still has to sign and how.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router

from bot.commits import (
    CO_AUTHOR,
    NOREPLY,
    Commit,
    Person,
    commits_not_read,
    is_assistant,
    known_accounts,
    trailers,
)
from bot.config import RepoConfig, matches
from bot.context import EventContext
from bot.dispatch import pull_request_check
from bot.github import github_time
from bot.signatures import Signature

log = logging.getLogger(__name__)
router = Router()

CHECK_NAME = "CLA"
RECHECK = "recheck"


# Decisions ------------------------------------------------------------------------------


def contributors(commits: list[Commit], *, co_authors: bool) -> list[Person]:
    """Each distinct person who wrote these commits, by account where GitHub links one; with
    ``co_authors``, those of ``Co-authored-by:`` trailers too, matched to accounts by email.
    Tools credited as co-authors are no one to sign."""
    accounts = known_accounts(commits)
    logins = {c.author.user_id: c.author.login for c in commits if c.author.user_id is not None}
    people: dict[Any, Person] = {}

    def add(person: Person) -> None:
        key = person.user_id if person.linked else person.email.strip().lower()
        people.setdefault(key, person)

    for commit in commits:
        author = commit.author
        add(Person(author.name, author.email, author.login, author.user_id))
        for name, email in trailers(CO_AUTHOR, commit.message) if co_authors else []:
            if not is_assistant(name, email):
                add(co_author(name, email, accounts, logins))
    return list(people.values())


def co_author(name: str, email: str, accounts: dict[str, int], logins: dict[int, str | None]) -> Person:
    """A co-author, linked to a GitHub account by a noreply address or by an email GitHub linked
    to an account elsewhere in the pull request."""
    noreply = NOREPLY.match(email.strip())
    if noreply and noreply.group("id"):
        return Person(name, email, noreply.group("login"), int(noreply.group("id")))
    user_id = accounts.get(email.strip().lower())
    if user_id is not None:
        return Person(name, email, logins.get(user_id), user_id)
    return Person(name, email)


def allowlisted(person: Person, patterns: Iterable[str]) -> bool:
    """Whether a login (or, for a commit with no account, its email) matches a pattern such as
    ``*[bot]``; team entries (``org/team``) are asked of GitHub apart."""
    values = [person.login] if person.login else [person.email]
    return any(matches(value, pattern) for pattern in patterns if "/" not in pattern for value in values)


def is_sign_phrase(body: str, phrase: str) -> bool:
    return body.strip().casefold() == phrase.strip().casefold()


def scope(section: dict[str, Any], owner: str, repo: str) -> str:
    """Where one signature counts: the whole organisation (the default) or this repository."""
    if section.get("scope") == "repository":
        return f"repo:{owner}/{repo}".lower()
    return f"org:{owner}".lower()


# Events ------------------------------------------------------------------------------------


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, ctx: EventContext) -> None:
    issue, comment = event.data["issue"], event.data["comment"]
    if "pull_request" not in issue:
        return
    config = await ctx.config()
    if not config.enabled("cla"):
        return
    section = config.section("cla")
    if is_sign_phrase(comment.get("body") or "", section["sign_phrase"]):
        await record_signature(ctx, config, issue["number"], comment)
    elif (comment.get("body") or "").strip().casefold() == RECHECK:
        await check_pull_request(ctx, await pull_request(ctx, issue["number"]))


# Acting -------------------------------------------------------------------------------------


async def record_signature(ctx: EventContext, config: RepoConfig, number: int, comment: dict[str, Any]) -> None:
    section = config.section("cla")
    signer = comment["user"]
    signature = Signature(
        user_id=signer["id"],
        login=signer["login"],
        version=str(section["version"]),
        scope=scope(section, ctx.owner, ctx.repo),
        signed_at=github_time(comment["created_at"]) if comment.get("created_at") else time.time(),
        repository=ctx.full_name,
        comment_url=comment.get("html_url"),
    )
    if await ctx.signatures.sign(signature):
        log.info("CLA signed", extra={"fields": {"signer": signer["login"], "version": signature.version}})
    pull = await pull_request(ctx, number)
    commits = await ctx.pull_request_commits(pull)
    people = contributors(commits, co_authors=bool(section.get("check_co_authors")))
    if signer["id"] not in {person.user_id for person in people}:
        # Signed all the same, and acknowledged; this pull request does not wait for them.
        await ctx.react(comment["id"], "+1")
        return
    await check_pull_request(ctx, pull, commits=commits)
    # Their other open pull requests here were waiting for this signature too.
    found = await ctx.gh.getitem(
        "/search/issues{?q,per_page}",
        {"q": f"repo:{ctx.full_name} is:pr is:open author:{signer['login']}", "per_page": 100},
    )
    for item in found.get("items", []):
        if item["number"] != number:
            await check_pull_request(ctx, await pull_request(ctx, item["number"]))


@pull_request_check(router, CHECK_NAME, actions=("opened", "reopened", "synchronize"))
async def check_pull_request(ctx: EventContext, pull: dict[str, Any], *, commits: list[Commit] | None = None) -> None:
    config = await ctx.config()
    if not config.enabled("cla") or pull.get("state") != "open":
        return  # a closed pull request's comment stays as it was: the record of what was signed
    section = config.section("cla")
    if not section.get("document_url"):
        # Nobody can sign an agreement they cannot read: say what is missing, block nothing.
        summary = await ctx.render("cla_unconfigured.md")
        await ctx.set_check_run(pull, CHECK_NAME, "neutral", "The CLA is not configured", summary)
        return
    try:
        if commits is None:
            commits = await ctx.pull_request_commits(pull)
        # Never "everyone signed" for commits GitHub did not list.
        unread = commits_not_read(pull, commits)
        people = contributors(commits, co_authors=bool(section.get("check_co_authors")))
        waiting = [] if unread else await not_signed(ctx, section, people)
    except gidgethub.GitHubException as exc:
        unread = str(exc) or type(exc).__name__
    if unread:
        log.error("CLA could not be checked: %s", unread, extra={"fields": {"pull_request": pull["number"]}})
        await ctx.set_check_unread(pull, CHECK_NAME, "The CLA could not be checked", unread)
        return
    variables = {
        "unsigned": [person for person in waiting if person.linked],
        "unlinked": [person for person in waiting if not person.linked],
        "document_url": section["document_url"],
        "phrase": section["sign_phrase"],
        "version": str(section["version"]),
    }
    if waiting:
        summary = await ctx.render("cla_request.md", **variables)
        title = f"{len(waiting)} of {len(people)} contributors have not signed the CLA"
        await ctx.set_check_run(pull, CHECK_NAME, "action_required", title, summary)
        await ctx.comment(pull["number"], "cla", "cla_request.md", **variables)
    else:
        await ctx.set_check_run(pull, CHECK_NAME, "success", "Every contributor has signed the CLA", await ctx.render("cla_signed.md", **variables))
        # An earlier request is brought up to date; none is posted where none was needed.
        await ctx.comment(pull["number"], "cla", "cla_signed.md", create=False, **variables)


async def not_signed(ctx: EventContext, section: dict[str, Any], people: list[Person]) -> list[Person]:
    """Those who must still sign: neither signed this version, nor allowlisted, nor in an
    allowlisted team."""
    patterns = section.get("allowlist") or []
    candidates = [person for person in people if not allowlisted(person, patterns)]
    linked = [person.user_id for person in candidates if person.user_id is not None]
    signed = await ctx.signatures.signed(linked, version=str(section["version"]), scope=scope(section, ctx.owner, ctx.repo))
    waiting = [person for person in candidates if person.user_id not in signed]
    teams = [pattern.split("/", 1) for pattern in patterns if "/" in pattern]
    return [person for person in waiting if not await in_team(ctx, person, teams)]


async def in_team(ctx: EventContext, person: Person, teams: list[list[str]]) -> bool:
    if not person.login:
        return False
    for org, team in teams:
        if await ctx.is_team_member(org.lstrip("@"), team, person.login):
            return True
    return False


async def pull_request(ctx: EventContext, number: int) -> dict[str, Any]:
    return await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}", {"owner": ctx.owner, "repo": ctx.repo, "pull_number": number})
