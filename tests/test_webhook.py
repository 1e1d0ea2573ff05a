"""The webhook path: every rejection, the happy path, duplicates, and every real payload."""

from __future__ import annotations

import json

import pytest
from gidgethub.routing import Router

from bot.app import registered_routers
from bot.dispatch import accepts_bots
from bot.inbox import InboxUnavailable
from bot.webhook import MAX_BODY, verify
from tests.conftest import SECRET, bot_of, deliver, headers_for, installed, settle
from tests.fakes import example, load_examples, sign

PAYLOAD = installed(example("issues", "opened"))


def rejected(client, reason: str) -> float:
    return bot_of(client).metrics.rejected.labels(reason)._value.get()


def test_github_signature_vector():
    body = b"Hello, World!"
    headers = {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "1",
        "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    }
    # The vector signs a body that is not JSON: the signature passes, then the body is refused.
    with pytest.raises(Exception) as info:
        verify(headers, body, ("It's a Secret to Everybody",))
    assert getattr(info.value, "reason", None) == "malformed_json"
    with pytest.raises(Exception) as info:
        verify(headers, body, ("another secret",))
    assert info.value.reason == "signature_invalid"


async def test_valid_delivery_is_recorded_and_answered_202(start_bot):
    client = await start_bot()
    response = await deliver(client, "issues", PAYLOAD, delivery_id="d-1")
    assert response.status == 202
    stored = await bot_of(client).inbox.get("d-1")
    assert stored["event"] == "issues"
    assert stored["action"] == "opened"
    assert stored["installation_id"] == PAYLOAD.get("installation", {}).get("id")
    assert stored["repository"] == PAYLOAD["repository"]["full_name"]
    assert json.loads(stored["payload"]) == PAYLOAD
    await settle(client)
    assert (await bot_of(client).inbox.get("d-1"))["state"] == "done"


async def test_redelivery_is_answered_200_and_not_processed_again(start_bot):
    router = Router()
    seen = []

    @router.register("issues", action="opened")
    async def count(event, ctx):
        seen.append(event.delivery_id)

    client = await start_bot([router])
    assert (await deliver(client, "issues", PAYLOAD, delivery_id="same")).status == 202
    await settle(client)
    again = await deliver(client, "issues", PAYLOAD, delivery_id="same")
    assert again.status == 200
    assert (await again.json())["status"] == "duplicate"
    await settle(client)
    assert seen == ["same"]


@pytest.mark.parametrize(
    "change, status, reason",
    [
        ({"X-Hub-Signature-256": None}, 401, "signature_missing"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401, "signature_invalid"),
        ({"X-Hub-Signature-256": "garbage"}, 401, "signature_invalid"),
        ({"X-Hub-Signature-256": "sha256=ÿÿÿ"}, 401, "signature_invalid"),
        ({"X-GitHub-Event": None}, 400, "missing_header"),
        ({"X-GitHub-Delivery": None}, 400, "missing_header"),
        ({"Content-Type": "text/plain"}, 415, "content_type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "content_type"),
    ],
)
async def test_rejections(start_bot, change, status, reason):
    client = await start_bot()
    body = json.dumps(PAYLOAD).encode()
    headers = headers_for("issues", body)
    for key, value in change.items():
        if value is None:
            del headers[key]
        else:
            headers[key] = value
    response = await client.post("/webhook", data=body, headers=headers)
    assert response.status == status
    assert "error" in await response.json()
    assert rejected(client, reason) == 1
    assert await bot_of(client).inbox.count_by_state() == {}


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b"[1, 2]", b""])
async def test_body_that_is_not_a_json_object_is_400(start_bot, body):
    client = await start_bot()
    response = await client.post("/webhook", data=body, headers=headers_for("issues", body))
    assert response.status == 400
    assert rejected(client, "malformed_json") == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(start_bot, method):
    client = await start_bot()
    response = await client.request(method, "/webhook")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert rejected(client, "method") == 1


async def test_body_over_25_mib_is_413(start_bot):
    client = await start_bot()
    body = b'{"a": "' + b"x" * MAX_BODY + b'"}'
    response = await client.post("/webhook", data=body, headers=headers_for("issues", body))
    assert response.status == 413
    assert rejected(client, "too_large") == 1


async def test_body_over_25_mib_without_length_is_413(start_bot):
    client = await start_bot()

    async def chunks():
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536

    response = await client.post("/webhook", data=chunks(), headers=headers_for("issues", b""))
    assert response.status == 413


async def test_body_just_under_the_cap_is_accepted(start_bot):
    client = await start_bot()
    payload = dict(PAYLOAD, padding="x" * (2 * 1024 * 1024))  # past aiohttp's 1 MiB default
    response = await deliver(client, "issues", payload)
    assert response.status == 202


async def test_previous_secret_is_accepted_during_rotation(start_bot):
    client = await start_bot(webhook_secrets=("new-secret", SECRET))
    assert (await deliver(client, "issues", PAYLOAD, secret=SECRET)).status == 202
    assert (await deliver(client, "issues", PAYLOAD, secret="new-secret")).status == 202
    assert (await deliver(client, "issues", PAYLOAD, secret="neither")).status == 401


async def test_database_down_is_503_never_2xx(start_bot, monkeypatch):
    client = await start_bot()
    inbox = bot_of(client).inbox

    async def broken(delivery):
        raise InboxUnavailable("disk full")

    monkeypatch.setattr(inbox, "record", broken)
    response = await deliver(client, "issues", PAYLOAD)
    assert response.status == 503
    assert rejected(client, "unavailable") == 1


async def test_every_real_payload_is_accepted_and_no_handler_raises(start_bot):
    client = await start_bot(registered_routers())
    examples = load_examples()
    assert len(examples) >= 324
    for event, payload in examples:
        # As the app receives them: with an installation, so that handlers act on them.
        response = await deliver(client, event, installed(payload))
        assert response.status == 202, (event, payload.get("action"))
    await settle(client, timeout=60)
    states = await bot_of(client).inbox.count_by_state()
    assert states == {"done": len(examples)}
    assert sum(m.samples[0].value for m in bot_of(client).metrics.handler_errors.collect() if m.samples) == 0


async def test_signature_is_checked_over_the_raw_bytes(start_bot):
    client = await start_bot()
    body = json.dumps(PAYLOAD, indent=2).encode()  # same JSON, other bytes
    headers = headers_for("issues", json.dumps(PAYLOAD).encode())
    assert (await client.post("/webhook", data=body, headers=headers)).status == 401
    headers["X-Hub-Signature-256"] = sign(body, SECRET)
    assert (await client.post("/webhook", data=body, headers=headers)).status == 202


async def test_every_real_payload_reaches_a_handler_that_reads_its_context(start_bot, fake_github):
    router = Router()
    seen = []

    async def reads_context(event, ctx):
        seen.append((event.event, ctx.full_name, ctx.sender_is_bot))
        if ctx.installation_id is not None and ctx.repo is not None:
            assert (await ctx.config()).enabled("welcome")

    examples = load_examples()
    for event in {event for event, _ in examples}:
        router.add(accepts_bots(reads_context), event)
    client = await start_bot([router], app_slug="community-bot")
    for event, payload in examples:
        assert (await deliver(client, event, installed(payload))).status == 202
    await settle(client, timeout=60)
    assert await bot_of(client).inbox.count_by_state() == {"done": len(examples)}
    assert len(seen) == len(examples)
