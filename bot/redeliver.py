"""Deliveries GitHub could not deliver: found in the app's delivery log and asked for again.

After the bot was down or unreachable, GitHub's log (``GET /app/hook/deliveries``) holds the
deliveries that failed; GitHub does not retry them by itself. A delivery counts as missed
when no attempt at it succeeded and the inbox does not hold it. GitHub redelivers only within
its redelivery window; older ones are reported, not asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from gidgethub.abc import GitHubAPI

from .github import github_time
from .inbox import Inbox

log = logging.getLogger(__name__)

REDELIVERY_WINDOW = 3 * 86400  # GitHub redelivers deliveries of the last three days


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


async def redeliver(app_client: GitHubAPI, missed: list[Missed]) -> int:
    """Ask GitHub to deliver each missed delivery again (those still in its window); how many."""
    asked = 0
    for delivery in missed:
        if delivery.too_old:
            log.warning("too old for GitHub to redeliver", extra={"fields": {"delivery": delivery.guid, "event": delivery.event}})
            continue
        await app_client.post(
            "/app/hook/deliveries/{delivery_id}/attempts", {"delivery_id": delivery.delivery_id}, data=b""
        )
        asked += 1
    return asked
