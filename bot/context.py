"""What a handler is given beside the event: one object with the installation's GitHub client,
the repository's config, templates and the bot's storage, and the one place that comments."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.abc import GitHubAPI

from .checks import set_check_run
from .comments import Outcome, find_comment, post_comment, upsert_comment
from .commits import Commit, pull_request_commits
from .config import ConfigLoader, RepoConfig
from .github import is_bot  # noqa: F401 (handlers ask the context)
from .inbox import Inbox, RowWrite
from .insights.activity import Activity, ActivityLog, outcome_row
from .insights.metrics import Scope, compute
from .licensing.waivers import Waiver, WaiverBook
from .lookups import CommunityFiles, Lookups
from .perspective import Perspective
from .recognitions import Recognition, RecognitionBook
from .render import Renderer
from .signatures import SignatureBook
from .timers import TimerBook

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Services:
    """What every event's context shares, built once per process."""

    config: ConfigLoader
    renderer: Renderer
    inbox: Inbox | None
    app_slug: Callable[[], Awaitable[str]]
    # The installation's client for an installation id (a dry-run client under ``replay``).
    client_for: Callable[[int], GitHubAPI]
    # ``replay --config FILE`` puts a fixed config here instead of reading the repository's.
    fixed_config: RepoConfig | None = None
    lookups: Lookups = dataclasses.field(default_factory=Lookups)
    signatures: SignatureBook | None = None
    # Where community activity and the bot's outcomes are remembered (insights); None: nowhere.
    activity: ActivityLog | None = None
    waivers: WaiverBook | None = None
    # Google's Perspective API where the server has a key; None: the local detector alone.
    perspective: Perspective | None = None
    # Where timers are kept until due (``bot.timers``); None: nowhere, so none are kept.
    timers: TimerBook | None = None
    recognitions: RecognitionBook | None = None


# The marks of comments' first tries (kept as long as deliveries are: see Bot._prune_records).
COMMENT_TRY = "comment.try"
# A try's token: unique to this process (a random prefix, drawn once) and to the try (a count);
# uuid4 for each cost 0.1 ms of os.urandom here.
_TRIES_PREFIX = f"{os.getpid()}.{uuid.uuid4().hex[:12]}"
_TRIES = itertools.count()


class EventContext:
    def __init__(self, event: sansio.Event, services: Services, *, kept_rows: list[RowWrite] | None = None) -> None:
        """``kept_rows``: where activity and timers go to be written with the delivery's
        "done" (``Inbox.finish``), in one transaction for many deliveries; None: each is
        written at once."""
        self.event = event
        self._services = services
        self._kept_rows = kept_rows
        self._gh: GitHubAPI | None = None
        payload = event.data if isinstance(event.data, dict) else {}
        repository = payload.get("repository") or {}
        self.installation_id: int | None = (payload.get("installation") or {}).get("id")
        self.owner: str | None = (repository.get("owner") or {}).get("login")
        self.repo: str | None = repository.get("name")
        self.sender: dict[str, Any] = payload.get("sender") or {}
        self._commits: dict[tuple[int, str], list[Commit]] = {}
        self._config: RepoConfig | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def sender_is_bot(self) -> bool:
        return is_bot(self.sender)

    @property
    def gh(self) -> GitHubAPI:
        """The installation's GitHub client."""
        if self._gh is None:
            if self.installation_id is None:
                raise LookupError(f"a {self.event.event} event without an installation cannot call GitHub")
            self._gh = self._services.client_for(self.installation_id)
        return self._gh

    async def bot_slug(self) -> str:
        """The app's slug: its check runs say ``app.slug``, its comments ``{slug}[bot]``."""
        return await self._services.app_slug()

    async def bot_login(self) -> str:
        return f"{await self.bot_slug()}[bot]"

    async def config(self, owner: str | None = None, repo: str | None = None) -> RepoConfig:
        """This repository's config, or another's of the same installation (an installation
        event names several)."""
        if self._services.fixed_config is not None:
            return self._services.fixed_config
        if owner is None and repo is None:
            # Asked by most handlers of the event, several times each: read once.
            if self._config is None:
                self._config = await self._services.config.load(self.gh, self.owner, self.repo)
            return self._config
        return await self._services.config.load(self.gh, owner or self.owner, repo or self.repo)

    async def legacy_config(self) -> dict[str, Any]:
        """The repository's Probot-era ``.github/config.yml``, for keys other apps defined."""
        if self._services.fixed_config is not None:
            return {}
        return await self._services.config.legacy(self.gh, self.owner, self.repo)

    async def repo_template(self, name: str) -> str | None:
        """A template file the repository keeps under ``.github/community-bot/templates/``."""
        if self.owner is None or self.repo is None:
            return None  # an event about the installation, not about one repository
        return await self._services.config.template(self.gh, self.owner, self.repo, name)

    async def render(self, template: str, /, *, wording: str | None = None, **variables: Any) -> str:
        """A built-in template, in the repository's own ``wording`` where the handler found
        one in its config, else in the repository's override file of the same name."""
        override = wording if wording is not None else await self.repo_template(template)
        return self._services.renderer.render(template, variables, override=override)

    async def comment(
        self,
        number: int,
        kind: str,
        template: str,
        /,
        *,
        wording: str | None = None,
        create: bool = True,
        fresh: bool = False,
        **variables: Any,
    ) -> Outcome | None:
        """Post or update the bot's one comment of ``kind`` on issue or PR ``number`` (with
        ``create=False``, only update it where there is one).

        ``fresh``: the event says the issue had no comments yet (a new issue's ``comments: 0``),
        so the bot's earlier comment can only be one this bot tried to post before: the bot
        remembers each first try, and only a second try for the same comment reads the
        issue's comments to find it. A new issue's welcome costs one call instead of two.

        Never in answer to a bot: two bots answering each other would never stop.
        """
        if self.sender_is_bot:
            log.info("no comment in answer to a bot", extra={"fields": {"kind": kind, "sender": self.sender.get("login")}})
            return None
        body = await self.render(template, wording=wording, **variables)
        where = {"owner": self.owner, "repo": self.repo, "number": number, "kind": kind, "body": body}
        if fresh and create and await self._first_try(number, kind):
            outcome: Outcome | None = await post_comment(self.gh, **where)
        else:
            outcome = await upsert_comment(self.gh, **where, bot_login=await self.bot_login(), create=create)
        log.info("comment %s", outcome, extra={"fields": {"kind": kind, "number": number}})
        return outcome

    async def _first_try(self, number: int, kind: str) -> bool:
        """Whether this is the first try at this comment by any process (tries are remembered
        as long as deliveries are, so a retried delivery always finds its first try)."""
        repository_id = ((self.event.data if isinstance(self.event.data, dict) else {}).get("repository") or {}).get("id")
        if self._services.inbox is None or repository_id is None:
            return False  # nothing remembers tries: look for an earlier comment
        attempt = f"{_TRIES_PREFIX}:{next(_TRIES)}"
        return await self.mark(COMMENT_TRY, f"{repository_id}#{number}:{kind}", attempt) == attempt

    async def react(self, comment_id: int, content: str) -> None:
        """React to a comment of this repository's issues or pull requests (``+1``, ``confused``)."""
        await self.gh.post(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            {"owner": self.owner, "repo": self.repo, "comment_id": comment_id},
            data={"content": content},
        )

    async def add_labels(self, number: int, names: list[str]) -> None:
        """Put labels on an issue or pull request of this repository (GitHub creates those the
        repository does not have yet, in grey)."""
        await self.gh.post(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
            {"owner": self.owner, "repo": self.repo, "issue_number": number},
            data={"labels": names},
        )

    async def remove_label(self, number: int, name: str) -> None:
        """Take a label off an issue or pull request of this repository (gone already: fine)."""
        try:
            await self.gh.delete(
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                {"owner": self.owner, "repo": self.repo, "issue_number": number, "name": name},
            )
        except gidgethub.BadRequest as exc:
            if exc.status_code != 404:
                raise

    async def open_issue_once(self, kind: str, owner: str, repo: str, title: str, body: str) -> None:
        """Open an issue in a repository of this installation, once ever per ``kind``: a
        redelivered event opens no second one (the same delivery processed again after a crash
        still may, rather than never)."""
        delivery = self.event.delivery_id or ""
        if await self.mark(kind, f"{owner}/{repo}".lower(), delivery) != delivery:
            return
        try:
            await self.gh.post("/repos/{owner}/{repo}/issues", {"owner": owner, "repo": repo}, data={"title": title, "body": body})
        except gidgethub.BadRequest as exc:  # issues turned off, or archived since
            log.warning("could not open the issue %s: %s", kind, exc, extra={"fields": {"repository": f"{owner}/{repo}"}})

    async def role(self, login: str) -> str:
        """The person's role on this repository (``bot.lookups.ROLES``), asked of GitHub, cached."""
        return await self._services.lookups.role(self.gh, self.owner, self.repo, login)

    async def set_check_run(
        self, pull: dict[str, Any], name: str, conclusion: str, title: str, summary: str, *, actions: list[dict[str, str]] | None = None
    ) -> None:
        """Complete the pull request's check run ``name`` on its head commit (one per head)."""
        await set_check_run(
            self.gh,
            owner=self.owner,
            repo=self.repo,
            name=name,
            head_sha=pull["head"]["sha"],
            app_slug=await self.bot_slug(),
            external_id=str(pull["number"]),  # a re-run finds its pull request by it
            conclusion=conclusion,
            title=title,
            summary=summary,
            actions=actions,
        )
        # A verdict per head commit: first-run pass rates and time to fix are counted from these.
        await self.record_outcome(
            name.lower(), pull["number"], once_per=pull["head"]["sha"], detail=conclusion,
            actor=(pull.get("user") or {}).get("login"), is_pull=True,
        )

    async def set_check_unread(self, pull: dict[str, Any], name: str, title: str, reason: str) -> None:
        """Complete the check run ``neutral`` where the pull request could not be read: a check
        never waits for ever, and never passes what it did not read. It says why, and that a
        re-run tries again (``templates/check_error.md``)."""
        summary = await self.render("check_error.md", check=name, reason=reason)
        await self.set_check_run(pull, name, "neutral", title, summary)

    @property
    def signatures(self) -> SignatureBook:
        if self._services.signatures is None:
            raise LookupError("no signature book: CLA signatures cannot be read or kept here")
        return self._services.signatures

    async def license_waivers(self) -> list[Waiver]:
        """The license waivers that apply in this repository: its own and its organisation's
        (none where nothing is kept, as under ``replay``)."""
        if self._services.waivers is None:
            return []
        return await self._services.waivers.for_repository(self.owner, self.repo)

    async def grant_waiver(self, waiver: Waiver) -> bool:
        """Record a license waiver; False when it was recorded already, or nothing is kept here."""
        if self._services.waivers is None:
            return False
        return await self._services.waivers.grant(waiver)

    async def toxicity(self, text: str) -> float | None:
        """Perspective's opinion of how toxic ``text`` is, where the server has a key and
        Perspective answers in time; None otherwise."""
        if self._services.perspective is None:
            return None
        return await self._services.perspective.toxicity(text)

    async def is_team_member(self, org: str, team: str, login: str) -> bool:
        return await self._services.lookups.is_team_member(self.gh, org, team, login)

    async def team_members(self, org: str, team: str) -> tuple[str, ...]:
        return await self._services.lookups.team_members(self.gh, org, team)

    async def is_org_member(self, login: str) -> bool:
        """Whether the person belongs to the organisation owning this repository."""
        return await self._services.lookups.is_org_member(self.gh, self.owner, login)

    async def community_files(self, owner: str | None = None, repo: str | None = None) -> CommunityFiles:
        return await self._services.lookups.community_files(self.gh, owner or self.owner, repo or self.repo)

    async def pull_request_commits(self, pull: dict[str, Any]) -> list[Commit]:
        """The pull request's commits at its head, read once for this delivery: the DCO and the
        CLA both check them, one after the other."""
        key = (pull["number"], pull["head"]["sha"])
        if key not in self._commits:
            self._commits[key] = await pull_request_commits(self.gh, self.owner, self.repo, pull)
        return self._commits[key]

    async def find_comment(self, number: int, kind: str) -> dict[str, Any] | None:
        """The bot's comment of ``kind`` on issue or pull request ``number``, if there is one."""
        return await find_comment(self.gh, owner=self.owner, repo=self.repo, number=number, kind=kind, bot_login=await self.bot_login())

    async def mark(self, kind: str, key: str, value: str = "") -> str:
        """Remember ``value`` under (kind, key) once and for all; the value remembered there
        (``value`` itself when this is the first time, or a repetition of it)."""
        if self._services.inbox is None:
            return value
        return await self._services.inbox.mark(kind, key, value)

    async def count_marks(self, kind: str, key_prefix: str, *, since: float) -> int:
        if self._services.inbox is None:
            return 0
        return await self._services.inbox.count_marks(kind, key_prefix, since=since)

    async def marked(self, kind: str, key: str) -> str | None:
        if self._services.inbox is None:
            return None
        return await self._services.inbox.marked(kind, key)

    async def marked_kinds(self, kinds: list[str], key: str) -> dict[str, str]:
        """``marked`` for several kinds of one key, in one read: those that have a value."""
        if self._services.inbox is None:
            return {}
        return await self._services.inbox.marked_kinds(kinds, key)

    async def schedule(self, kind: str, key: str, due_at: float, payload: dict[str, Any]) -> None:
        """Have the ``timer`` event of this kind delivered with ``payload`` at ``due_at`` (once:
        a timer already kept under (kind, key) stays as it is)."""
        if self._services.timers is None:
            return
        if self._kept_rows is None:
            await self._services.timers.schedule(kind, key, due_at, payload)
        else:
            self._kept_rows.append(self._services.timers.row_write(kind, key, due_at, payload))

    async def cancel_timer(self, kind: str, key: str) -> bool:
        if self._services.timers is None:
            return False
        await self._write_kept_rows()  # a timer kept earlier in this delivery goes too
        return await self._services.timers.cancel(kind, key)

    async def _write_kept_rows(self) -> None:
        """Write now what waits for the delivery's "done", before reading or deleting what it
        may hold (a milestone counts the merge this delivery just recorded)."""
        if self._kept_rows and self._services.inbox is not None:
            rows, self._kept_rows[:] = list(self._kept_rows), []
            await self._services.inbox.write_rows(rows)

    async def forget_mark(self, kind: str, key: str) -> bool:
        if self._services.inbox is None:
            return False
        return await self._services.inbox.forget_mark(kind, key)

    async def recognise(self, recognition: Recognition) -> bool:
        """Keep a recognition (``bot.recognitions``); False when it was kept before or nothing is kept here."""
        if self._services.recognitions is None:
            return False
        return await self._services.recognitions.record(recognition)

    async def merged_count(self, login: str, *, until: float) -> int:
        """How many of the person's pull requests in this repository were merged by then, from
        the recorded activity (0 where nothing is recorded)."""
        if self._services.activity is None:
            return 0
        await self._write_kept_rows()
        return await self._services.activity.merged_count(self.full_name, login, until=until)

    async def record_activity(self, rows: list[Activity]) -> None:
        """Remember community activity for the insights (a fact recorded before stays as it was),
        unless the repository's config turns insights off."""
        activity_log = self._services.activity
        if activity_log is None or not rows or not (await self.config()).enabled("insights"):
            return
        if self._kept_rows is None:
            await activity_log.record(rows)
        else:
            self._kept_rows.extend(activity_log.row_writes(rows))

    async def community_figures(self, scope: Scope) -> dict[str, Any]:
        """The insights' figures over the recorded activity (``bot.insights.metrics``)."""
        if self._services.activity is None:
            raise LookupError("no activity log: nothing is recorded here")
        await self._write_kept_rows()
        return await compute(self._services.activity.inbox, scope)

    async def record_outcome(
        self,
        kind: str,
        number: int,
        *,
        once_per: str = "",
        detail: str | None = None,
        actor: str | None = None,
        is_pull: bool = False,
    ) -> None:
        """Remember one of the bot's outcomes (``bot.insights.activity``'s kinds) on an issue or
        pull request of this repository, once per ``once_per`` and ``detail``."""
        if self.owner is None or self.repo is None:
            return
        row = outcome_row(self.full_name, kind, number, once_per=once_per, detail=detail, actor=actor, is_pull=is_pull)
        await self.record_activity([row])
