"""``POST /webhook``: verify a delivery, record it, answer at once; processing comes later.

Every answer is deliberate: a delivery GitHub should retry is never answered 2xx unless it is
on disk, and no malformed request becomes a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import gidgethub
import orjson
from aiohttp import web
from gidgethub import sansio

from .inbox import Inbox, InboxUnavailable, NewDelivery
from .logs import delivery_context
from .metrics import Metrics
from .worker import WorkerPool

log = logging.getLogger(__name__)

# GitHub caps a delivery's payload at 25 MB; anything larger is not from GitHub.
MAX_BODY = 25 * 1024 * 1024
MAX_HEADER_VALUE = 100


_ACCEPTED = b'{"status": "accepted"}'
_DUPLICATE = b'{"status": "duplicate"}'


class Rejected(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def verify(headers: Mapping[str, str], body: bytes, secrets: tuple[str, ...]) -> sansio.Event:
    """The event, if one of the webhook secrets signed it; otherwise Rejected.

    gidgethub's ``validate_event`` checks the signature over the raw bytes, as
    ``Event.from_http`` does first; the body is then decoded with orjson, at a third of the
    standard library's cost on GitHub's payloads (the decode was a quarter of the webhook's time).
    """
    signature = headers.get("x-hub-signature-256")
    if not signature:
        raise Rejected(401, "signature_missing", "X-Hub-Signature-256 is missing")
    # During a rotation the previous secret may have signed it.
    if not any(_signed_by(body, signature, secret) for secret in secrets):
        raise Rejected(401, "signature_invalid", "the signature does not match the webhook secret")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Rejected(400, "malformed_json", "the body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise Rejected(400, "malformed_json", "the body is not a JSON object")
    return sansio.Event(data, event=headers["x-github-event"], delivery_id=headers["x-github-delivery"])


def _signed_by(body: bytes, signature: str, secret: str) -> bool:
    try:
        sansio.validate_event(body, signature=signature, secret=secret)
    except (gidgethub.ValidationFailure, TypeError):  # TypeError: a non-ASCII signature
        return False
    return True


def _field(data: Mapping[str, Any], key: str, inner: str) -> Any:
    value = data.get(key)
    return value.get(inner) if isinstance(value, Mapping) else None


def new_delivery(event: sansio.Event, body: bytes) -> NewDelivery:
    data = event.data
    action = data.get("action")
    installation = _field(data, "installation", "id")
    repository = _field(data, "repository", "full_name")
    return NewDelivery(
        id=event.delivery_id,
        event=event.event,
        payload=body.decode("utf-8"),
        action=action if isinstance(action, str) else None,
        installation_id=installation if isinstance(installation, int) else None,
        repository=repository if isinstance(repository, str) else None,
    )


async def _read_event(request: web.Request, secrets: tuple[str, ...]) -> tuple[sansio.Event, bytes]:
    if request.method != "POST":
        raise Rejected(405, "method", f"{request.method} is not allowed; GitHub delivers with POST")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Rejected(413, "too_large", f"the body is over {MAX_BODY} bytes")
    for header in ("X-GitHub-Event", "X-GitHub-Delivery"):
        value = request.headers.get(header, "")
        if not value or len(value) > MAX_HEADER_VALUE:
            raise Rejected(400, "missing_header", f"{header} is missing or malformed")
    if request.content_type != "application/json":
        raise Rejected(415, "content_type", f"the content type must be application/json, not {request.content_type!r}")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Rejected(413, "too_large", f"the body is over {MAX_BODY} bytes") from None
    return verify(request.headers, body, secrets), body


def make_webhook_view(
    inbox: Inbox, secrets: tuple[str, ...], metrics: Metrics, pool: WorkerPool
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The view for ``/webhook``; the pool is woken by each new delivery on disk."""

    async def receive(request: web.Request) -> web.Response:
        with pool.receiving():
            return await _receive(request)

    async def _receive(request: web.Request) -> web.Response:
        delivery_id = request.headers.get("X-GitHub-Delivery", "")[:MAX_HEADER_VALUE] or None
        event_name = request.headers.get("X-GitHub-Event", "")[:MAX_HEADER_VALUE] or None
        with delivery_context(delivery=delivery_id, event=event_name):
            try:
                event, body = await _read_event(request, secrets)
            except Rejected as rejected:
                metrics.rejected.labels(rejected.reason).inc()
                log.warning("delivery rejected: %s", rejected, extra={"fields": {"reason": rejected.reason, "status": rejected.status}})
                headers = {"Allow": "POST"} if rejected.status == 405 else None
                return web.json_response({"error": str(rejected)}, status=rejected.status, headers=headers)
            delivery = new_delivery(event, body)
            where = {"action": delivery.action, "installation": delivery.installation_id, "repository": delivery.repository}
            try:
                is_new = await inbox.record(delivery)
            except InboxUnavailable as exc:
                # Not on disk, so not acknowledged: GitHub marks it failed and it can be redelivered.
                metrics.rejected.labels("unavailable").inc()
                log.error("delivery not recorded: %s", exc, extra={"fields": {**where, "reason": "unavailable"}})
                return web.json_response({"error": "the delivery could not be recorded; retry"}, status=503)
            if not is_new:
                metrics.duplicates.inc()
                log.info("delivery already recorded; not processed again", extra={"fields": where})
                return web.Response(body=_DUPLICATE, status=200, content_type="application/json")
            metrics.received.labels(delivery.event).inc()
            pool.wake()
            return web.Response(body=_ACCEPTED, status=202, content_type="application/json")

    return receive
