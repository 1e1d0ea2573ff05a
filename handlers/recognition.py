"""Recognition: maintainers thank contributors by name, and the bot celebrates milestones.

``/thank @login for code, doc, review`` (or all-contributors' own phrasing, ``@APP-SLUG add
@login for code, doc``), from someone with triage permission or more (asked of GitHub), records
a recognition and answers with a short thank-you. The contribution types are all-contributors'
(``bot.allcontributors``). Unknown types get a reply listing the valid ones; people without the
permission get a polite refusal.

Milestones: a contributor's Nth merged pull request in the repository, for each N of
``recognition.milestones``, gets one short celebration in that pull request, counted from the
activity the bot recorded and backfilled. The first merge is celebrated by welcome's
``first_merge`` where that is on, so it is not celebrated twice.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router

from bot import allcontributors
from bot.allcontributors import CONTRIBUTION_TYPES, normalise_type
from bot.commands import Command, commands
from bot.config import RepoConfig, fetch_file_blob
from bot.context import EventContext, is_bot
from bot.github import getitem_or_none, github_time
from bot.insights import activity
from bot.lookups import at_least
from bot.recognitions import Recognition
from bot.render import Mention
from handlers import welcome

log = logging.getLogger(__name__)
router = Router()

COMMANDS = {"thank", "thanks", "add", "please"}
_LOGIN = re.compile(r"@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$")
_LIST_SEPARATORS = re.compile(r",|\band\b", re.IGNORECASE)
MILESTONE = "recognition.milestone"  # key: repository id, person id and N
# all-contributors: the bot's own branch, proposed in one pull request that it updates while open.
BRANCH = "community-bot/all-contributors"
RC_PATH = ".all-contributorsrc"


# Decisions ------------------------------------------------------------------------------


def parse_thanks(command: Command) -> tuple[str, list[str], list[str]] | None:
    """The person and the contribution types a thank-you names, and the words that are no
    type; None when it names nobody (``/thank`` alone, or ``@bot please`` without ``add``)."""
    words = list(command.arguments)
    if command.name == "please":
        if not words or words[0].lower() != "add":
            return None
        words = words[1:]
    if not words or not (login := _LOGIN.match(words[0].rstrip(",.:;"))) or not words[0].startswith("@"):
        return None
    rest = words[1:]
    if rest and rest[0].lower() == "for":
        rest = rest[1:]
    types, unknown = [], []
    for phrase in _LIST_SEPARATORS.split(" ".join(rest)):
        # A phrase may be one type of several words ("user testing") or several types.
        words = [phrase] if normalise_type(phrase.strip(".!;: ")) else phrase.split()
        for word in words:
            word = word.strip(".!;: ")
            key = normalise_type(word) if word else None
            if word and key is None:
                unknown.append(word)
            elif key is not None and key not in types:
                types.append(key)
    return login.group(1), types, unknown


def milestone_reached(count: int, milestones: list[int], *, first_merge_welcomed: bool) -> int | None:
    """The milestone this merge reaches, if it is one to celebrate here."""
    if count not in milestones or (count == 1 and first_merge_welcomed):
        return None
    return count


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 101st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# Events ------------------------------------------------------------------------------------


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, ctx: EventContext) -> None:
    comment, issue = event.data["comment"], event.data["issue"]
    found = commands(comment.get("body") or "", known=COMMANDS, addressed_to=await ctx.bot_slug())
    # "/add" alone is no thank-you: "add" and "please" count only when addressed to the bot.
    found = [c for c in found if c.name in ("thank", "thanks") or c.addressed]
    if not found:
        return
    config = await ctx.config()
    if not config.enabled("recognition"):
        return
    commenter = comment["user"]["login"]
    if not at_least(await ctx.role(commenter), "triage"):
        await ctx.comment(issue["number"], f"recognition-{comment['id']}", "recognition_refused.md")
        return
    for index, command in enumerate(found):
        kind = f"recognition-{comment['id']}-{index}"
        parsed = parse_thanks(command)
        if parsed is None or not parsed[1] or parsed[2]:
            await ctx.comment(issue["number"], kind, "recognition_unknown.md", unknown=parsed[2] if parsed else [], types=sorted(CONTRIBUTION_TYPES))
            continue
        login, types, _ = parsed
        await thank(ctx, config, issue, comment, login, types, kind)


@router.register("pull_request", action="closed")
async def pull_request_merged(event: sansio.Event, ctx: EventContext) -> None:
    pull = event.data["pull_request"]
    if not pull.get("merged") or is_bot(pull.get("user")):
        return
    config = await ctx.config()
    milestones = config.section("recognition").get("milestones") or []
    if not config.enabled("recognition") or not milestones or not config.enabled("insights"):
        return  # counted from the recorded activity: nothing is counted where nothing is recorded
    # Recorded here too, whichever handler runs first (a fact recorded twice is one row).
    await ctx.record_activity(activity.item_rows(ctx.full_name, pull))
    author = pull["user"]
    count = await ctx.merged_count(author["login"], until=github_time(pull["merged_at"]))
    first_merge_welcomed = welcome.kind_settings(config, welcome.FIRST_MERGE) is not None
    reached = milestone_reached(count, milestones, first_merge_welcomed=first_merge_welcomed)
    if reached is None:
        return
    key = f"{event.data['repository']['id']}:{author['id']}:{reached}"
    if await ctx.mark(MILESTONE, key, str(pull["number"])) != str(pull["number"]):
        return  # celebrated on another pull request already
    await ctx.comment(pull["number"], "milestone", "recognition_milestone.md", author=author["login"], count=reached, ordinal=ordinal(reached), repo=ctx.full_name)


# Acting ------------------------------------------------------------------------------------


async def thank(
    ctx: EventContext, config: RepoConfig, issue: dict[str, Any], comment: dict[str, Any], login: str, types: list[str], kind: str
) -> None:
    recognition = Recognition(
        repository=ctx.full_name, login=login, types=tuple(types), by_login=comment["user"]["login"],
        number=issue["number"], at=time.time(), comment_id=comment["id"],
    )
    await ctx.recognise(recognition)
    files_problem = None
    if config.section("recognition").get("all_contributors"):
        files_problem = await keep_all_contributors(ctx, login, types)
    await ctx.comment(
        issue["number"], kind, "recognition_thanks.md",
        person=Mention(login), types=[CONTRIBUTION_TYPES[t] for t in types], repo=ctx.full_name, files_problem=files_problem,
    )
    log.info("contributor thanked", extra={"fields": {"login": login, "types": types}})


# all-contributors ---------------------------------------------------------------------------


async def keep_all_contributors(ctx: EventContext, login: str, types: list[str]) -> str | None:
    """Add the person to ``.all-contributorsrc`` and the README's table on the bot's branch,
    proposed in one pull request (opened now, or the one still open); never a push to the
    default branch. What stood in the way, for the thank-you to say, or None."""
    try:
        pull = await open_pull_request(ctx)
        if pull is None:
            await reset_branch(ctx)
        config, rc_sha = await read_rc(ctx)
        user = await getitem_or_none(ctx.gh, "/users/{username}", {"username": login}) or {}
        name, avatar = user.get("name") or login, user.get("avatar_url") or f"https://github.com/{login}.png"
        profile = user.get("blog") or user.get("html_url") or f"https://github.com/{login}"
        if not allcontributors.add_contribution(config, login, name, avatar, profile, types):
            return None  # thanked for these before: nothing to change
        message = f"docs: add {login} as a contributor for {', '.join(types)}"
        await write_file(ctx, RC_PATH, allcontributors.dump_rc(config), rc_sha, message)
        for path in config.get("files") or ["README.md"]:
            await update_table(ctx, str(path), config, message)
        if pull is None:
            body = await ctx.render("all_contributors_pull.md", login=login, types=types, repo=ctx.full_name)
            await ctx.gh.post(
                "/repos/{owner}/{repo}/pulls",
                {"owner": ctx.owner, "repo": ctx.repo},
                data={"title": "Add contributors (all-contributors)", "head": BRANCH, "base": default_branch(ctx), "body": body},
            )
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404):
            raise
        log.warning("the all-contributors files could not be kept: %s", exc)
        return "no_access"
    except ValueError as exc:  # a file all-contributors' tools would not read either
        log.warning("the all-contributors files were left as they are: %s", exc)
        return "unreadable"
    return None


def default_branch(ctx: EventContext) -> str:
    return ((ctx.event.data.get("repository") or {}).get("default_branch")) or "main"


async def open_pull_request(ctx: EventContext) -> dict[str, Any] | None:
    pulls = await ctx.gh.getitem(
        "/repos/{owner}/{repo}/pulls{?head,state,per_page}",
        {"owner": ctx.owner, "repo": ctx.repo, "head": f"{ctx.owner}:{BRANCH}", "state": "open", "per_page": 1},
    )
    return pulls[0] if pulls else None


async def reset_branch(ctx: EventContext) -> None:
    """The bot's branch at the default branch's head: made, or moved there from a pull request
    merged or closed before."""
    where = {"owner": ctx.owner, "repo": ctx.repo}
    head = await ctx.gh.getitem("/repos/{owner}/{repo}/git/ref/{+ref}", {**where, "ref": f"heads/{default_branch(ctx)}"})
    sha = head["object"]["sha"]
    try:
        await ctx.gh.post("/repos/{owner}/{repo}/git/refs", where, data={"ref": f"refs/heads/{BRANCH}", "sha": sha})
    except gidgethub.BadRequest as exc:
        if exc.status_code != 422:  # 422: the branch is there from before
            raise
        await ctx.gh.patch("/repos/{owner}/{repo}/git/refs/{+ref}", {**where, "ref": f"heads/{BRANCH}"}, data={"sha": sha, "force": True})


async def read_file(ctx: EventContext, path: str) -> tuple[str | None, str | None]:
    """A file's text and blob sha on the bot's branch, or (None, None)."""
    found = await fetch_file_blob(ctx.gh, ctx.owner, ctx.repo, path, ref=BRANCH, errors="strict")
    return (None, None) if found is None else found


async def read_rc(ctx: EventContext) -> tuple[dict[str, Any], str | None]:
    """The project's ``.all-contributorsrc``, or the one all-contributors' bot starts with."""
    text, sha = await read_file(ctx, RC_PATH)
    if text is not None:
        return allcontributors.parse_rc(text), sha
    config = {
        "projectName": ctx.repo, "projectOwner": ctx.owner, "repoType": "github", "repoHost": "https://github.com",
        "files": ["README.md"], "imageSize": 100, "commit": False, "commitConvention": "none", "contributors": [],
        "contributorsPerLine": 7,
    }
    return config, None


async def update_table(ctx: EventContext, path: str, config: dict[str, Any], message: str) -> None:
    """Rewrite the contributors table of a file that has all-contributors' markers; one
    without them is left alone (the project chooses where the table goes)."""
    text, sha = await read_file(ctx, path)
    if text is None or not allcontributors.has_list_markers(text):
        return
    updated = allcontributors.update_readme(text, config)
    if updated != text:
        await write_file(ctx, path, updated, sha, message)


async def write_file(ctx: EventContext, path: str, text: str, sha: str | None, message: str) -> None:
    data = {"message": message, "content": base64.b64encode(text.encode("utf-8")).decode(), "branch": BRANCH}
    if sha is not None:
        data["sha"] = sha
    await ctx.gh.put("/repos/{owner}/{repo}/contents/{+path}", {"owner": ctx.owner, "repo": ctx.repo, "path": path}, data=data)
