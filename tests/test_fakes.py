"""Tests of the fake GitHub itself: it must answer like GitHub and refuse what GitHub refuses."""

import base64
import json
import time

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import BadRequest, GitHubBroken
from gidgethub.aiohttp import GitHubAPI
from gidgethub.apps import get_jwt

from tests.fakes import (
    FakeGitHub,
    example,
    load_examples,
    make_private_key,
    rest_spec,
    sign,
)

APP_ID = 1234
INSTALLATION_ID = 42
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.fixture
def fake():
    return FakeGitHub(app_id=APP_ID, public_key_pem=make_private_key()[1])


@pytest.fixture
async def base_url(fake, aiohttp_server):
    server = await aiohttp_server(fake.app)
    return str(server.make_url(""))


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def app_gh(session, base_url):
    """A client for the /app endpoints; each call passes the app's JWT."""
    return GitHubAPI(session, "test", base_url=base_url)


async def new_token(app_gh):
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    answer = await app_gh.post(
        f"/app/installations/{INSTALLATION_ID}/access_tokens", data=b"", jwt=app_jwt
    )
    return answer["token"]


@pytest.fixture
async def token(app_gh):
    return await new_token(app_gh)


@pytest.fixture
def gh(session, base_url, token):
    """Authenticated as the installation, the way the bot does its work."""
    return GitHubAPI(session, "test", oauth_token=token, base_url=base_url)


def test_sign_matches_githubs_test_vector():
    assert sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_load_examples_returns_every_payload():
    examples = load_examples()
    assert len(examples) == 329
    assert all(isinstance(payload, dict) for _, payload in examples)
    assert ("issues", example("issues", "opened")) in examples


def test_example_is_a_copy_of_a_real_payload():
    payload = example("issue_comment", "created")
    assert payload["action"] == "created" and "comment" in payload
    payload["comment"]["body"] = "changed"
    assert example("issue_comment", "created")["comment"]["body"] != "changed"
    with pytest.raises(LookupError, match="actions of 'issues'"):
        example("issues", "no-such-action")


async def test_app_and_token_answers_match_githubs_schemas(app_gh, fake):
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    app = await app_gh.getitem("/app", jwt=app_jwt)
    assert (app["id"], app["slug"]) == (APP_ID, "community-bot")
    assert rest_spec().response_errors("GET", "/app", 200, app) == []

    answer = await app_gh.post(
        f"/app/installations/{INSTALLATION_ID}/access_tokens", data=b"", jwt=app_jwt
    )
    assert answer["token"].startswith("ghs_") and len(answer["token"]) == 40
    assert answer["expires_at"].endswith("Z")
    assert fake.tokens_issued == 1
    template = "/app/installations/{installation_id}/access_tokens"
    assert rest_spec().response_errors("POST", template, 201, answer) == []
    assert fake.api_calls() == []
    fake.assert_no_violations()


def signed_jwt(private_key, **claims):
    """An app JWT; unlike jwt.encode, it lets iss be an integer, as GitHub allows."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID), **claims}
    return jwt.api_jws.encode(json.dumps(payload).encode(), private_key, algorithm="RS256")


def another_private_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


async def test_app_endpoints_accept_an_integer_issuer(app_gh):
    app = await app_gh.getitem("/app", jwt=signed_jwt(make_private_key()[0], iss=APP_ID))
    assert app["id"] == APP_ID


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"iss": "999"}, id="another-app"),
        pytest.param({"exp": int(time.time()) - 10}, id="expired"),
        pytest.param({"exp": int(time.time()) + 3600}, id="valid-too-long"),
        pytest.param({"iat": int(time.time()) + 120}, id="issued-in-the-future"),
    ],
)
async def test_app_endpoints_refuse_a_bad_jwt(app_gh, fake, claims):
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/app", jwt=signed_jwt(make_private_key()[0], **claims))
    assert refused.value.status_code == 401
    assert fake.violations == []


async def test_app_endpoints_refuse_a_jwt_signed_with_another_key(app_gh):
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/app", jwt=signed_jwt(another_private_key()))
    assert refused.value.status_code == 401


async def test_the_wrong_kind_of_credentials_is_a_violation(app_gh, gh, token, fake):
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/app", oauth_token=token)
    assert refused.value.status_code == 401
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/repos/octo/hello")
    assert refused.value.status_code == 401
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/repos/octo/hello", jwt=app_jwt)
    assert refused.value.status_code == 401
    assert [violation.split(": ", 1)[1] for violation in fake.violations] == [
        "needs the app's JWT: authorization: bearer <JWT>",
        "needs an installation token: authorization: token <token>",
        "needs an installation token: authorization: token <token>",
    ]


async def test_the_manifest_conversion_needs_no_credentials(app_gh, fake):
    created = await app_gh.post("/app-manifests/{code}/conversions", {"code": "abc"}, data=b"")
    assert isinstance(created["id"], int)
    assert fake.violations == []


async def test_unknown_endpoint_is_not_found_and_a_violation(gh, fake):
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello/no-such-thing")
    assert refused.value.status_code == 404
    assert fake.violations == [
        "GET /repos/octo/hello/no-such-thing: no such endpoint in GitHub's REST API"
    ]
    with pytest.raises(AssertionError, match="no-such-thing"):
        fake.assert_no_violations()


async def test_unknown_method_is_not_found(gh, fake):
    with pytest.raises(BadRequest) as refused:
        await gh.put("/repos/octo/hello/issues/1/comments", data={"body": "hi"})
    assert refused.value.status_code == 404
    assert len(fake.violations) == 1


@pytest.mark.parametrize(
    "data, problem",
    [
        pytest.param({}, "'body' is a required property", id="missing-field"),
        pytest.param({"body": 5}, "5 is not of type 'string'", id="wrong-type"),
        pytest.param(b"", "missing required JSON request body", id="no-body"),
    ],
)
async def test_comment_github_would_refuse_is_a_violation(gh, fake, data, problem):
    with pytest.raises(BadRequest) as refused:
        await gh.post("/repos/octo/hello/issues/1/comments", data=data)
    assert refused.value.status_code == 422
    assert len(fake.violations) == 1 and problem in fake.violations[0]
    assert fake.comments("octo", "hello", 1) == []


async def test_integer_path_parameter_must_be_an_integer(gh, fake):
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello/issues/first/comments")
    assert refused.value.status_code == 422
    assert "issue_number='first'" in fake.violations[0]


async def test_required_query_parameter_must_be_present(gh, fake):
    with pytest.raises(BadRequest):
        await gh.getitem("/search/issues")
    assert "missing required query parameter 'q'" in fake.violations[0]


async def test_query_parameter_must_be_valid(gh, fake):
    with pytest.raises(BadRequest):
        await gh.getitem("/repos/octo/hello/issues?state=opened")
    assert "'opened' is not one of" in fake.violations[0]


async def test_nullable_fields_accept_null(gh, fake):
    await gh.patch("/repos/octo/hello/issues/1", data={"body": None, "milestone": None})
    await gh.put("/repos/octo/hello/issues/1/lock", data=None)
    fake.assert_no_violations()


async def test_conditional_schemas_are_enforced(gh, fake):
    """Completing a check run without a conclusion is refused, as on GitHub."""
    with pytest.raises(BadRequest):
        await gh.patch("/repos/octo/hello/check-runs/5", data={"status": "completed"})
    await gh.patch(
        "/repos/octo/hello/check-runs/5", data={"status": "completed", "conclusion": "success"}
    )
    assert len(fake.violations) == 1


async def test_comments_round_trip_with_pagination(gh, fake, base_url):
    fake.add_comment("octo", "hello", 7, "first!", login="newcomer", author_association="NONE")
    for n in range(34):
        await gh.post("/repos/octo/hello/issues/7/comments", data={"body": f"comment {n}"})

    bodies = [c["body"] async for c in gh.getiter("/repos/octo/hello/issues/7/comments")]
    assert bodies == ["first!"] + [f"comment {n}" for n in range(34)]
    pages = fake.calls_to("GET", COMMENTS)
    assert [call.query for call in pages] == [{}, {"page": "2"}]

    mine = fake.comments("octo", "hello", 7)[1]
    assert mine["user"]["login"] == "community-bot[bot]" and mine["user"]["type"] == "Bot"
    assert mine["performed_via_github_app"]["slug"] == "community-bot"
    assert rest_spec().response_errors("POST", COMMENTS, 201, mine) == []

    edited = await gh.patch(
        "/repos/octo/hello/issues/comments/{id}", {"id": mine["id"]}, data={"body": "edited"}
    )
    assert edited["body"] == "edited"
    assert edited["url"].startswith(base_url), "API URLs point at the fake"
    assert (await gh.getitem(edited["url"]))["body"] == "edited"
    await gh.delete(edited["url"])
    assert len(fake.comments("octo", "hello", 7)) == 34
    with pytest.raises(BadRequest) as missing:
        await gh.delete(edited["url"])
    assert missing.value.status_code == 404
    assert [call.installation_id for call in fake.api_calls()] == [INSTALLATION_ID] * 40
    fake.assert_no_violations()


async def test_link_header_lists_the_other_pages(fake, session, base_url, token):
    for n in range(25):
        fake.add_comment("octo", "hello", 1, f"comment {n}")
    async with session.get(
        f"{base_url}/repos/octo/hello/issues/1/comments?per_page=10&page=2",
        headers={"authorization": f"token {token}"},
    ) as response:
        assert [c["body"] for c in await response.json()] == [f"comment {n}" for n in range(10, 20)]
        links = response.headers["Link"]
    url = f"{base_url}/repos/octo/hello/issues/1/comments?per_page=10&page="
    assert links == (
        f'<{url}1>; rel="prev", <{url}3>; rel="next", <{url}3>; rel="last", <{url}1>; rel="first"'
    )


async def test_contents_with_etag_and_gidgethub_cache(fake, session, base_url, token):
    fake.add_file("octo", "hello", ".github/community.yml", "welcome: true\n" * 10)
    gh = GitHubAPI(session, "test", oauth_token=token, base_url=base_url, cache={})
    path = "/repos/octo/hello/contents/.github/community.yml"

    first = await gh.getitem(path)
    remaining = gh.rate_limit.remaining
    second = await gh.getitem(path)
    assert second == first
    assert base64.b64decode(first["content"]).decode() == "welcome: true\n" * 10
    assert all(len(line) <= 60 for line in first["content"].splitlines())
    assert first["path"] == ".github/community.yml" and first["name"] == "community.yml"
    template = "/repos/{owner}/{repo}/contents/{path}"
    assert rest_spec().response_errors("GET", template, 200, first) == []

    etag = fake.calls[-1].headers["if-none-match"]
    async with session.get(
        base_url + path, headers={"authorization": f"token {token}", "if-none-match": etag}
    ) as response:
        assert response.status == 304 and await response.read() == b""
        assert int(response.headers["x-ratelimit-remaining"]) == remaining
    assert [call.query for call in fake.calls_to("GET", path)] == [{}, {}, {}]
    fake.assert_no_violations()


async def test_file_blob_sha_is_gits(fake, gh):
    fake.add_file("octo", "hello", "hello.txt", "hello\n")
    answer = await gh.getitem("/repos/octo/hello/contents/hello.txt")
    assert answer["sha"] == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object


async def test_missing_file_is_not_found_but_no_violation(fake, gh):
    fake.add_file("octo", "hello", "README.md", "hi", ref="feature")
    for name in ("README.md", "CODE_OF_CONDUCT.md"):
        with pytest.raises(BadRequest) as missing:
            await gh.getitem(f"/repos/octo/hello/contents/{name}")
        assert missing.value.status_code == 404
    assert (await gh.getitem("/repos/octo/hello/contents/README.md?ref=feature"))["size"] == 2
    fake.remove_file("octo", "hello", "README.md", ref="feature")
    assert fake.violations == []


async def test_revoked_token_is_refused_until_renewed(fake, gh, app_gh, session, base_url):
    fake.add_file("octo", "hello", "README.md", "hi")
    await gh.getitem("/repos/octo/hello/contents/README.md")
    fake.revoke_tokens()
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello/contents/README.md")
    assert refused.value.status_code == 401

    renewed = GitHubAPI(session, "test", oauth_token=await new_token(app_gh), base_url=base_url)
    await renewed.getitem("/repos/octo/hello/contents/README.md")
    assert fake.tokens_issued == 2
    assert fake.violations == []


async def test_expired_token_is_refused(fake, app_gh, session, base_url):
    fake.token_lifetime = 0
    gh = GitHubAPI(session, "test", oauth_token=await new_token(app_gh), base_url=base_url)
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello")
    assert refused.value.status_code == 401


async def test_programmed_failure_then_default(fake, gh):
    fake.add_file("octo", "hello", "x", "content")
    fake.respond("GET", "/repos/octo/hello/contents/x", status=502, times=2)
    for _ in range(2):
        with pytest.raises(GitHubBroken):
            await gh.getitem("/repos/octo/hello/contents/x")
    assert (await gh.getitem("/repos/octo/hello/contents/x"))["size"] == 7


async def test_programmed_answer_with_headers_for_a_template(fake, gh):
    fake.respond(
        "POST",
        COMMENTS,
        status=403,
        json={"message": "You have exceeded a secondary rate limit."},
        headers={"retry-after": "1"},
        times=1,
    )
    with pytest.raises(BadRequest) as limited:
        await gh.post("/repos/octo/hello/issues/3/comments", data={"body": "hi"})
    assert limited.value.status_code == 403
    assert limited.value.headers["retry-after"] == "1"
    await gh.post("/repos/octo/hello/issues/3/comments", data={"body": "hi"})
    assert len(fake.comments("octo", "hello", 3)) == 1


async def test_programmed_requests_are_still_checked(fake, gh):
    fake.respond("POST", COMMENTS, status=201, json={"id": 1})
    with pytest.raises(BadRequest):
        await gh.post("/repos/octo/hello/issues/3/comments", data={"text": "hi"})
    assert len(fake.violations) == 1


async def test_programmed_list_is_paginated(fake, gh):
    commits = [{"sha": f"{n:040x}"} for n in range(45)]
    fake.respond("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", json=commits)
    assert [c async for c in gh.getiter("/repos/octo/hello/pulls/9/commits")] == commits
    assert len(fake.api_calls()) == 2


def test_respond_refuses_an_endpoint_the_fake_does_not_know(fake):
    with pytest.raises(ValueError, match="make_rest_subset"):
        fake.respond("GET", "/repos/octo/hello/teleport")


async def test_defaults_for_unprogrammed_endpoints(fake, gh):
    with pytest.raises(BadRequest) as missing:
        await gh.getitem("/repos/octo/hello/pulls/1")
    assert missing.value.status_code == 404
    created = await gh.post("/repos/octo/hello/labels", data={"name": "good first issue"})
    assert created["name"] == "good first issue" and isinstance(created["id"], int)
    await gh.delete("/repos/octo/hello/issues/1/labels/{name}", {"name": "good first issue"})
    assert fake.calls_to("DELETE", "/repos/octo/hello/issues/1/labels/good first issue")
    assert fake.violations == []


async def test_every_answer_carries_rate_limit_headers(fake, session, base_url, token):
    remaining = []
    for _ in range(2):
        async with session.get(
            f"{base_url}/repos/octo/hello", headers={"authorization": f"token {token}"}
        ) as response:
            assert response.headers["content-type"] == "application/json; charset=utf-8"
            assert response.headers["x-ratelimit-limit"] == "5000"
            assert int(response.headers["x-ratelimit-reset"]) > time.time()
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining[1] == remaining[0] - 1
