"""DCO: every commit of a pull request carries a Signed-off-by from its author.

Exact where it must be (a sign-off counts only with the author's own email, or a GitHub
address of the same account), forgiving where the DCO is (names, letter case, whitespace,
trailers anywhere in the message), and never a check left waiting: whatever happens, the
check run ends with a conclusion and says what to do.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router

from bot.checks import is_own_run
from bot.commits import (
    CO_AUTHOR,
    NOREPLY,
    Commit,
    Person,
    commits_not_read,
    is_assistant,
    known_accounts,
    trailer_pattern,
    trailers,
)
from bot.config import RepoConfig, matches
from bot.context import EventContext
from bot.dispatch import pull_request_check
from bot.lookups import at_least

log = logging.getLogger(__name__)
router = Router()

CHECK_NAME = "DCO"
OVERRIDE = "override"
OVERRIDE_ACTION = {"label": "Set DCO to pass", "description": "Maintainers: accept these commits", "identifier": OVERRIDE}

SIGN_OFF = trailer_pattern("signed-off-by")
REMEDIATION = re.compile(
    r"^[ \t]*I,[ \t]*(?P<name>[^<\n]*?)[ \t]*<(?P<email>[^<>\n]+)>[ \t]*,[ \t]*hereby add my Signed-off-by to this commit:"
    r"[ \t]*(?P<shas>[0-9a-f, \t]+?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The web editor's committer signs nothing.
WEB_FLOW = {"noreply@github.com"}
MEMBER_EXEMPTION = "exempt: verified commit by an organisation member"


@dataclasses.dataclass(frozen=True)
class Verdict:
    commit: Commit
    ok: bool
    skipped: str | None = None  # why it was not checked: "merge commit", "bot", ...
    expected: str = ""  # what was missing, for the failure table
    found: str = ""
    assistants: tuple[str, ...] = ()  # co-authors that are tools, never asked to sign
    remediated_by: str | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    require_committer_match: bool = False
    co_authors: bool = False
    skip_authors: tuple[str, ...] = ()
    allow_remediation_commits: bool = False

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> Options:
        return cls(
            require_committer_match=bool(section.get("require_committer_match")),
            co_authors=bool(section.get("co_authors")),
            skip_authors=tuple(section.get("skip_authors") or ()),
            allow_remediation_commits=bool(section.get("allow_remediation_commits")),
        )


# Deciding --------------------------------------------------------------------------------


def same_person(email: str, person: Person, accounts: dict[str, int]) -> bool:
    """Whether a sign-off's email is this person's: the same address, a GitHub noreply
    address of their account, or an address GitHub linked to their account."""
    email = email.strip().lower()
    if email == person.email.strip().lower():
        return True
    if person.user_id is None:
        return False
    noreply = NOREPLY.match(email)
    if noreply:
        if noreply.group("id"):
            return int(noreply.group("id")) == person.user_id
        return person.login is not None and noreply.group("login").lower() == person.login.lower()
    return accounts.get(email) == person.user_id


def skipped_author(author: Person, skip_authors: Iterable[str]) -> bool:
    names = [value for value in (author.login, author.email, author.name) if value]
    return any(matches(value, pattern) for pattern in skip_authors for value in names)


def check_commits(commits: list[Commit], options: Options, *, members: Iterable[str] = ()) -> list[Verdict]:
    """A verdict for each commit, in order. ``members``: organisation members' logins, whose
    verified commits are exempt."""
    accounts = known_accounts(commits)
    member_logins = {login.lower() for login in members}
    verdicts = [_check(commit, options, accounts, member_logins) for commit in commits]
    if options.allow_remediation_commits:
        verdicts = _remediate(verdicts, accounts)
    return verdicts


def _check(commit: Commit, options: Options, accounts: dict[str, int], members: set[str]) -> Verdict:
    if commit.parents > 1:
        return Verdict(commit, ok=True, skipped="merge commit")
    if commit.author.is_bot:
        return Verdict(commit, ok=True, skipped="authored by a bot")
    if skipped_author(commit.author, options.skip_authors):
        return Verdict(commit, ok=True, skipped="author in skip_authors")
    if commit.verified and commit.author.login and commit.author.login.lower() in members:
        return Verdict(commit, ok=True, skipped=MEMBER_EXEMPTION)
    sign_offs = trailers(SIGN_OFF, commit.message)
    found = "; ".join(f"Signed-off-by: {name} <{email}>" for name, email in sign_offs) or "no Signed-off-by"

    def signed_by(person: Person) -> bool:
        # The DCO is certified by a name: names are not compared, but there must be one.
        return any(name and same_person(email, person, accounts) for name, email in sign_offs)

    needed = [commit.author]
    if options.require_committer_match and commit.committer.email.lower() not in WEB_FLOW:
        needed.append(commit.committer)
    assistants: list[str] = []
    for name, email in trailers(CO_AUTHOR, commit.message) if options.co_authors else []:
        if is_assistant(name, email):
            assistants.append(f"{name} <{email}>")
        else:
            needed.append(Person(name=name, email=email))
    missing = [person for person in needed if not signed_by(person)]
    if missing:
        expected = "; ".join(f"Signed-off-by: {p.name} <{p.email}>" for p in missing)
        return Verdict(commit, ok=False, expected=expected, found=found, assistants=tuple(assistants))
    return Verdict(commit, ok=True, assistants=tuple(assistants))


def _remediate(verdicts: list[Verdict], accounts: dict[str, int]) -> list[Verdict]:
    """probot/dco's individual remediation: a later, passing commit by the same author saying
    ``I, Name <email>, hereby add my Signed-off-by to this commit: SHA`` makes SHA pass.

    A commit passes by its own sign-off or by a remediation from a later one, so deciding from
    the last commit back settles chains: an unsigned commit that remediates the one before it
    counts once a signed-off commit after it remediates it in turn.
    """
    result = list(verdicts)
    for index in reversed(range(len(result))):
        verdict = result[index]
        if verdict.ok:
            continue
        failing = verdict.commit
        for later in result[index + 1 :]:
            if not later.ok or later.skipped or not same_person(later.commit.author.email, failing.author, accounts):
                continue
            if any(
                name.strip() and same_person(email, failing.author, accounts) and any(failing.sha.lower().startswith(s) for s in shas)
                for name, email, shas in _remediation_lines(later.commit.message)
            ):
                result[index] = dataclasses.replace(verdict, ok=True, remediated_by=later.commit.short_sha)
                break
    return result


def _remediation_lines(message: str) -> list[tuple[str, str, list[str]]]:
    """(name, email, abbreviated SHAs of 7 or more digits) of each remediation line."""
    return [
        (m.group("name"), m.group("email"), [sha.lower() for sha in re.split(r"[,\s]+", m.group("shas")) if len(sha) >= 7])
        for m in REMEDIATION.finditer(message.replace("\r\n", "\n"))
    ]


def rebase_command(verdicts: list[Verdict], base_sha: str) -> str:
    """The command that signs off every commit from the first failing one."""
    first_failing = next(i for i, v in enumerate(verdicts) if not v.ok)
    if any(v.commit.parents > 1 for v in verdicts):
        return f"git rebase --signoff {base_sha[:12]}"
    return f"git rebase --signoff HEAD~{len(verdicts) - first_failing}"


# Events ------------------------------------------------------------------------------------


@router.register("check_run", action="requested_action")
async def check_run_action(event: sansio.Event, ctx: EventContext) -> None:
    check_run = event.data["check_run"]
    if event.data.get("requested_action", {}).get("identifier") != OVERRIDE:
        return
    if not is_own_run(check_run, CHECK_NAME, await ctx.bot_slug()):
        return
    login = ctx.sender.get("login", "")
    if not at_least(await ctx.role(login), "write"):
        log.info("DCO override refused: no write access", extra={"fields": {"sender": login}})
        return
    await ctx.gh.patch(
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
        {"owner": ctx.owner, "repo": ctx.repo, "check_run_id": check_run["id"]},
        data={
            "status": "completed",
            "conclusion": "success",
            "output": {
                "title": f"Set to pass by {login}",
                "summary": await ctx.render("dco_override.md", maintainer=login, previous=(check_run.get("output") or {}).get("title") or ""),
            },
        },
    )


# Acting -------------------------------------------------------------------------------------


@pull_request_check(router, CHECK_NAME, actions=("opened", "reopened", "synchronize", "ready_for_review"))
async def run_check(ctx: EventContext, pull: dict[str, Any]) -> None:
    config = await ctx.config()
    if not config.enabled("dco"):
        return
    try:
        commits = await ctx.pull_request_commits(pull)
        unread = commits_not_read(pull, commits)
        members = [] if unread else await organisation_members(ctx, config, commits)
    except gidgethub.GitHubException as exc:
        unread = str(exc) or type(exc).__name__
    if unread:
        log.error("DCO could not be checked: %s", unread, extra={"fields": {"pull_request": pull["number"]}})
        await ctx.set_check_unread(pull, CHECK_NAME, "The DCO could not be checked", unread)
        return
    verdicts = check_commits(commits, Options.from_config(config.section("dco")), members=members)
    failing = [v for v in verdicts if not v.ok]
    variables = {
        "verdicts": verdicts,
        "failing": failing,
        "rebase": rebase_command(verdicts, pull["base"]["sha"]) if failing else "",
    }
    if not failing:
        summary = await ctx.render("dco_success.md", **variables)
        await ctx.set_check_run(pull, CHECK_NAME, "success", f"All {len(verdicts)} commits signed off", summary)
        return
    summary = await ctx.render("dco_failure.md", **variables)
    title = f"{len(failing)} of {len(verdicts)} commits not signed off"
    await ctx.set_check_run(pull, CHECK_NAME, "action_required", title, summary, actions=[OVERRIDE_ACTION])
    if config.section("dco").get("comment_on_failure"):
        await ctx.comment(pull["number"], "dco", "dco_failure.md", **variables)


async def organisation_members(ctx: EventContext, config: RepoConfig, commits: list[Commit]) -> list[str]:
    """Authors of verified commits who belong to the repository's organisation, where
    skip_members asks (an unverified commit is checked whoever it names, so nobody is asked)."""
    if not config.section("dco").get("skip_members"):
        return []
    logins = sorted({c.author.login for c in commits if c.verified and c.author.login and not c.author.is_bot})
    return [login for login in logins if await ctx.is_org_member(login)]
