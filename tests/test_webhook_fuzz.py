"""``POST /webhook`` under arbitrary input: headers, bodies, encodings, sizes, content types,
signatures valid and not. Whatever arrives: never a 5xx, nothing recorded unless it is a
well-formed delivery signed with the secret, and the server stays healthy.

Hypothesis runs with a fixed seed and a bounded number of examples, so CI sees the same inputs
every time; ``FUZZ_EXAMPLES`` raises the number for a longer run by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import orjson
import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import SECRET, bot_of

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
# Header values an HTTP client can send: no CR or LF, Latin-1 at most.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=120)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/x-www-form-urlencoded",  # what GitHub sends when a hook is set to "form"
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["json_object", "json_other", "text", "bytes", "big"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2048))
    if kind == "big":  # up to a few hundred kilobytes, of one repeated shape
        return b'{"zen": "' + b"x" * draw(st.integers(0, 400_000)) + b'"}'
    value = draw(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6) if kind == "json_object" else JSON_VALUES)
    text = orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_SUBCLASS).decode() if abs_ints_fit(value) else repr(value)
    if kind == "text":
        text = draw(st.text(max_size=300))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1", "utf-8-sig"]))
    return text.encode(encoding, errors="replace")


def abs_ints_fit(value: object) -> bool:
    """Whether orjson can write this value (it refuses integers past 64 bits)."""
    if isinstance(value, bool) or value is None or isinstance(value, float | str):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    if isinstance(value, list):
        return all(abs_ints_fit(v) for v in value)
    return all(abs_ints_fit(v) for v in value.values())  # type: ignore[attr-defined]


def signature_for(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes]:
    """Half of them GitHub's kind (a signed POST of JSON, whose body and encoding still vary),
    half anything at all."""
    body = draw(bodies())
    if draw(st.booleans()):
        return "POST", {
            "Content-Type": draw(st.sampled_from(["application/json", "application/json; charset=utf-8"])),
            "X-GitHub-Event": draw(st.sampled_from(["issues", "ping", "pull_request", "no_such_event"])),
            "X-GitHub-Delivery": str(draw(st.uuids())),
            "X-Hub-Signature-256": signature_for(body),
        }, body
    method = draw(st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH"]))
    headers: dict[str, str] = {}
    for name, value in (
        ("Content-Type", CONTENT_TYPES),
        ("X-GitHub-Event", st.sampled_from(["issues", "ping"]) | HEADER_TEXT),
        ("X-GitHub-Delivery", st.uuids().map(str) | HEADER_TEXT),
        (
            "X-Hub-Signature-256",
            st.just(signature_for(body))
            | st.just(signature_for(body).upper())
            | st.just("sha1=" + hashlib.sha1(body).hexdigest())
            | HEADER_TEXT,
        ),
    ):
        if draw(st.booleans()):
            headers[name] = draw(value)
    return method, headers, body


def well_formed_and_signed(method: str, headers: dict[str, str], body: bytes) -> bool:
    """What deserves a 2xx: a POST of a JSON object, signed with the secret, with the event and
    delivery headers GitHub sends, as application/json."""
    lower = {k.lower(): v for k, v in headers.items()}
    if method != "POST" or lower.get("x-hub-signature-256") != signature_for(body):
        return False
    if not all(0 < len(lower.get(h, "")) <= 100 for h in ("x-github-event", "x-github-delivery")):
        return False
    if lower.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return False
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


async def recorded(client) -> int:
    return sum((await bot_of(client).inbox.count_by_state()).values())


@pytest.fixture
async def server(start_bot):
    """One server for all the examples, as in production: it must stay healthy throughout."""
    return {"client": await start_bot(), "seen": set()}


@seed(20261204)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # the same examples every run, not also the failures of earlier runs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
async def test_arbitrary_requests_never_5xx_and_only_valid_ones_are_recorded(server, request):
    client, seen = server["client"], server["seen"]
    method, headers, body = request
    before = await recorded(client)
    response = await client.request(method, "/webhook", data=body, headers=headers, skip_auto_headers={"Content-Type"})
    await response.read()
    after = await recorded(client)
    event(f"answered {response.status}")  # --hypothesis-show-statistics shows the mix
    assert response.status < 500, (response.status, headers, body[:200])
    valid = well_formed_and_signed(method, headers, body)
    delivery = headers.get("X-GitHub-Delivery", "")
    if valid:
        assert response.status == (200 if delivery in seen else 202), (response.status, headers, body[:200])
        assert after == before + (delivery not in seen)
        seen.add(delivery)
    else:
        assert response.status in (400, 401, 405, 413, 415), (response.status, headers, body[:200])
        assert after == before, "a rejected request was recorded"
    assert (await client.get("/healthz")).status == 200
