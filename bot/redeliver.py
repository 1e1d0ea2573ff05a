"""Deliveries GitHub could not deliver: found in the app's delivery log and asked for again.

After the bot was down or unreachable, GitHub's log (``GET /app/hook/deliveries``) holds the
deliveries that failed; GitHub does not retry them by itself. A delivery counts as missed
when no attempt at it succeeded and the inbox does not hold it. GitHub redelivers only within
its redelivery window; older ones are reported, not asked for.

``community-bot redeliver`` does it once, by hand. With ``REDELIVER_EVERY``, ``serve`` does it
in rounds (``PeriodicRedelivery``): each round looks back twice the interval, so consecutive
rounds overlap; with several processes on one database one of them runs each round (a mark per
time slot is the claim); and each failed attempt is asked for once (a mark per attempt), since
GitHub would deliver twice what it is asked for twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid

import aiohttp
import gidgethub
from gidgethub.abc import GitHubAPI

from .github import github_time
from .inbox import Inbox, InboxUnavailable
from .timers import slot_starts

log = logging.getLogger(__name__)

REDELIVERY_WINDOW = 3 * 86400  # GitHub redelivers deliveries of the last three days
ROUND_MARK = "redelivery-round"  # key: the interval and time slot; value: the round's runner
ASKED_MARK = "redelivery-asked"  # key: the delivery's guid and the id of the failed attempt asked for
MAX_ASKS = 3  # a delivery whose redeliveries keep failing is asked for this often, then left to a person
_LOGGED_GUIDS = 20  # a round's log line names at most this many


@dataclasses.dataclass(frozen=True)
class Missed:
    delivery_id: int  # the log entry to ask again for
    guid: str  # X-GitHub-Delivery: the inbox's id
    event: str
    action: str | None
    delivered_at: float
    status: str

    @property
    def too_old(self) -> bool:
        return time.time() - self.delivered_at > REDELIVERY_WINDOW


async def missed_deliveries(app_client: GitHubAPI, inbox: Inbox, *, since: float) -> list[Missed]:
    """Deliveries since then that no attempt delivered and the inbox does not hold, oldest first."""
    latest: dict[str, Missed] = {}
    delivered: set[str] = set()
    async for entry in app_client.getiter("/app/hook/deliveries{?per_page}", {"per_page": 100}):
        at = github_time(entry["delivered_at"])
        if at < since:
            break  # the log is newest first
        if 200 <= (entry.get("status_code") or 0) < 300:
            delivered.add(entry["guid"])
        elif entry["guid"] not in latest:
            latest[entry["guid"]] = Missed(entry["id"], entry["guid"], entry["event"], entry.get("action"), at, entry.get("status") or "")
    failed = [missed for guid, missed in latest.items() if guid not in delivered]
    recorded = await inbox.known([missed.guid for missed in failed])
    return sorted((missed for missed in failed if missed.guid not in recorded), key=lambda missed: missed.delivered_at)


async def redeliver(app_client: GitHubAPI, missed: list[Missed], *, once_in: Inbox | None = None) -> int:
    """Ask GitHub to deliver each missed delivery again (those still in its window); how many.

    With ``once_in``, what was asked is remembered on that database, for every process: a
    failed attempt asked for before is not asked for again (its redelivery may be under way,
    and GitHub would deliver it twice), and a delivery whose redeliveries failed too is asked
    for at most ``MAX_ASKS`` times in all.
    """
    asked = 0
    for delivery in missed:
        if delivery.too_old:
            log.warning("too old for GitHub to redeliver", extra={"fields": {"delivery": delivery.guid, "event": delivery.event}})
            continue
        attempt = f"{delivery.guid}:{delivery.delivery_id}"
        if once_in is not None:
            if await once_in.marked(ASKED_MARK, attempt) is not None:
                continue
            if await once_in.count_marks(ASKED_MARK, f"{delivery.guid}:", since=0) >= MAX_ASKS:
                log.warning(
                    "missed delivery not asked for again: its redeliveries failed too",
                    extra={"fields": {"delivery": delivery.guid, "event": delivery.event, "asked": MAX_ASKS}},
                )
                continue
        await app_client.post(
            "/app/hook/deliveries/{delivery_id}/attempts", {"delivery_id": delivery.delivery_id}, data=b""
        )
        if once_in is not None:
            await once_in.mark(ASKED_MARK, attempt)
        asked += 1
    return asked


class PeriodicRedelivery:
    """Rounds of finding and asking again for missed deliveries, every ``every`` seconds.

    Rounds start on the boundaries of time slots ``every`` long (so every process on a database
    wakes for the same slot), and the first process to mark a slot runs its round. A round looks
    back ``2 * every`` (at most GitHub's window), so it overlaps the one before: a failed round
    (GitHub or the database not answering) is logged, and the next covers its time.
    """

    def __init__(self, app_client: GitHubAPI, inbox: Inbox, every: float) -> None:
        if every <= 0:
            raise ValueError("a period of redelivery rounds must be positive")
        self.app_client = app_client
        self.inbox = inbox
        self.every = every
        self.look_back = min(2 * every, REDELIVERY_WINDOW)
        # Rounds of two bots on one inbox (as in tests) are told apart too, not only processes.
        self.runner = f"{inbox.owner}:{uuid.uuid4().hex[:8]}"

    async def run(self) -> None:
        """Run a round at every slot's start, for good; cancel the task to stop it."""
        async for slot in slot_starts(self.every):
            await self.round(slot)

    async def round(self, slot: int) -> int | None:
        """This slot's round, unless another runner has claimed it: how many deliveries were
        asked for, or None when the round was another's or failed (logged; the next round,
        which looks back over this one's time, tries again)."""
        fields: dict[str, object] = {"slot": slot, "every": self.every}
        try:
            if await self.inbox.mark(ROUND_MARK, f"{self.every:g}s:{slot}", self.runner) != self.runner:
                return None
            missed = await missed_deliveries(self.app_client, self.inbox, since=time.time() - self.look_back)
            asked = await redeliver(self.app_client, missed, once_in=self.inbox) if missed else 0
            # Past GitHub's window no delivery can be asked for again: its marks are done with.
            for kind in (ROUND_MARK, ASKED_MARK):
                await self.inbox.forget_marks(kind, before=time.time() - 2 * REDELIVERY_WINDOW)
        except (gidgethub.GitHubException, aiohttp.ClientError, asyncio.TimeoutError, InboxUnavailable) as exc:
            if isinstance(exc, gidgethub.HTTPException):
                fields["status"] = int(exc.status_code)
            log.warning("redelivery round failed; the next one tries again", extra={"fields": {**fields, "reason": repr(exc)}})
            return None
        except Exception as exc:
            log.exception("redelivery round failed; the next one tries again", extra={"fields": {**fields, "reason": repr(exc)}})
            return None
        if missed:
            log.info(
                "asked GitHub to redeliver %d of %d missed deliveries",
                asked,
                len(missed),
                extra={
                    "fields": {
                        **fields,
                        "asked": asked,
                        # Asked for by an earlier round (and still missed), or too old.
                        "not_asked": len(missed) - asked,
                        "missed": [m.guid for m in missed[:_LOGGED_GUIDS]],
                    }
                },
            )
        return asked
