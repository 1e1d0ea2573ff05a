"""Tests of the fake GitHub itself: it must answer like GitHub and refuse what GitHub refuses."""

import asyncio
import base64
import html
import json
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import BadRequest, GitHubBroken
from gidgethub.aiohttp import GitHubAPI
from gidgethub.apps import get_jwt

from tests.fakes import (
    DEPENDENCY_GRAPH_OFF,
    FakeGitHub,
    commit,
    dependency_change,
    example,
    load_examples,
    make_private_key,
    pull_file,
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


async def new_token(app_gh, installation_id=INSTALLATION_ID):
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    answer = await app_gh.post(
        f"/app/installations/{installation_id}/access_tokens", data=b"", jwt=app_jwt
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
        # Times as offsets from when the test runs, not from when the suite was collected.
        pytest.param({"exp": -10}, id="expired"),
        pytest.param({"exp": 3600}, id="valid-too-long"),
        pytest.param({"iat": 120}, id="issued-in-the-future"),
    ],
)
async def test_app_endpoints_refuse_a_bad_jwt(app_gh, fake, claims):
    now = int(time.time())
    claims = {name: now + value if name in ("exp", "iat") else value for name, value in claims.items()}
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
    with pytest.raises(BadRequest) as refused:
        await app_gh.post("/app-manifests/{code}/conversions", {"code": "abc"}, data=b"")
    assert refused.value.status_code == 404, "an unknown code, not missing credentials"
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
    fake.add_issue("octo", "hello", number=1, body="Some text")
    await gh.patch("/repos/octo/hello/issues/1", data={"body": None, "milestone": None})
    await gh.put("/repos/octo/hello/issues/1/lock", data=None)
    fake.assert_no_violations()


async def test_conditional_schemas_are_enforced(gh, fake):
    """Completing a check run without a conclusion is refused, as on GitHub."""
    created = await gh.post(
        "/repos/octo/hello/check-runs", data={"name": "DCO", "head_sha": "a" * 40}
    )
    url = f"/repos/octo/hello/check-runs/{created['id']}"
    with pytest.raises(BadRequest):
        await gh.patch(url, data={"status": "completed"})
    await gh.patch(url, data={"status": "completed", "conclusion": "success"})
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
    for path in ("/repos/octo/hello", "/orgs/octo/teams/core/memberships/newbie"):
        with pytest.raises(BadRequest) as missing:
            await gh.getitem(path)
        assert missing.value.status_code == 404
    assert fake.violations == []


async def test_the_app_delivery_log_and_redeliveries(fake, app_gh):
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    for n in range(3):
        fake.add_hook_delivery(f"guid-{n}", status_code=502, delivered_at=time.time() - n)
    log = [entry async for entry in app_gh.getiter("/app/hook/deliveries?per_page=2", jwt=app_jwt)]
    assert [entry["guid"] for entry in log] == ["guid-0", "guid-1", "guid-2"]
    assert rest_spec().response_errors("GET", "/app/hook/deliveries", 200, log) == []
    await app_gh.post(f"/app/hook/deliveries/{log[0]['id']}/attempts", data=b"", jwt=app_jwt)
    assert fake.redeliveries == [log[0]["id"]]
    with pytest.raises(BadRequest) as missing:
        await app_gh.post("/app/hook/deliveries/999999/attempts", data=b"", jwt=app_jwt)
    assert missing.value.status_code == 404


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


async def test_each_installation_has_its_own_rate_limit(fake, session, base_url, app_gh, token):
    other = await new_token(app_gh, installation_id=8)

    async def remaining(credential):
        async with session.get(f"{base_url}/repos/octo/hello", headers={"authorization": f"token {credential}"}) as response:
            return int(response.headers["x-ratelimit-remaining"])

    first = await remaining(token)
    assert await remaining(token) == first - 1
    assert await remaining(other) == 4999


# Issues, pull requests, search, labels, reactions, permissions, community profile --------

ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
ISSUES = "/repos/{owner}/{repo}/issues"
SEARCH = "/search/issues"
ISSUE_LABELS = "/repos/{owner}/{repo}/issues/{issue_number}/labels"
PERMISSION = "/repos/{owner}/{repo}/collaborators/{username}/permission"
PROFILE = "/repos/{owner}/{repo}/community/profile"


@pytest.fixture
def raw(session, base_url, token):
    """Any request, answered with (status, JSON or None): error bodies included."""

    async def request(method, path, json=None):
        headers = {"authorization": f"token {token}"}
        async with session.request(method, base_url + path, json=json, headers=headers) as answer:
            body = await answer.json() if answer.content_type == "application/json" else None
            return answer.status, body

    return request


def errors(method, template, status, body):
    return rest_spec().response_errors(method, template, status, body)


async def search(gh, q, **params):
    return await gh.getitem("/search/issues{?q,sort,order,per_page,page}", {"q": q, **params})


def numbers(items):
    return [item["number"] for item in items]


async def test_issues_and_pull_requests_are_answered_as_github_does(fake, gh, base_url):
    issue = fake.add_issue("octo", "hello", author="newbie", author_id=9001, body="It breaks.")
    pr = fake.add_issue("octo", "hello", pull_request=True, merged=True, labels=["docs"])
    draft = fake.add_issue("octo", "hello", pull_request=True, draft=True, number=7)
    assert numbers([issue, pr, draft]) == [1, 2, 7]
    assert fake.add_issue("octo", "hello")["number"] == 8
    assert fake.add_issue("octo", "other")["number"] == 1, "numbers are per repository"
    assert (issue["user"]["login"], issue["user"]["id"]) == ("newbie", 9001)
    assert "pull_request" not in issue and "draft" not in issue
    assert (pr["state"], pr["pull_request"]["merged_at"]) == ("closed", pr["closed_at"])
    assert pr["html_url"] == "https://github.com/octo/hello/pull/2"
    assert draft["draft"] is True and draft["pull_request"]["merged_at"] is None

    for number in (1, 2, 7):
        answer = await gh.getitem(ISSUE, {"owner": "OCTO", "repo": "Hello", "issue_number": number})
        assert errors("GET", ISSUE, 200, answer) == []
        assert answer["url"] == f"{base_url}/repos/octo/hello/issues/{number}"
    assert answer["pull_request"]["url"] == f"{base_url}/repos/octo/hello/pulls/7"
    stored = fake.issue("octo", "hello", 7)
    assert stored["url"] == "https://api.github.com/repos/octo/hello/issues/7"
    assert json.loads(json.dumps(stored).replace("https://api.github.com", base_url)) == answer
    assert [label["name"] for label in fake.issue("octo", "hello", 2)["labels"]] == ["docs"]
    fake.assert_no_violations()


async def test_an_unknown_issue_is_not_found(fake, gh, raw):
    status, body = await raw("GET", "/repos/octo/hello/issues/5")
    assert status == 404 and errors("GET", ISSUE, 404, body) == []
    for method, path, data in [
        ("PATCH", "/repos/octo/hello/issues/5", {"state": "closed"}),
        ("PUT", "/repos/octo/hello/issues/5/lock", None),
        ("POST", "/repos/octo/hello/issues/5/labels", {"labels": ["bug"]}),
        ("POST", "/repos/octo/hello/issues/5/assignees", {"assignees": ["someone"]}),
        ("POST", "/repos/octo/hello/issues/5/reactions", {"content": "+1"}),
    ]:
        assert (await raw(method, path, data))[0] == 404, path
    with pytest.raises(LookupError, match="add_issue"):
        fake.issue("octo", "hello", 5)
    assert fake.labels("octo", "hello") == []
    fake.assert_no_violations()


def test_add_issue_refuses_what_github_cannot_have(fake):
    fake.add_issue("octo", "hello", number=3)
    with pytest.raises(ValueError, match="exists already"):
        fake.add_issue("octo", "Hello", number=3)
    with pytest.raises(ValueError, match="only a pull request"):
        fake.add_issue("octo", "hello", merged=True)
    with pytest.raises(ValueError, match="open or closed"):
        fake.add_issue("octo", "hello", state="merged")


async def test_search_by_repository_author_and_kind(fake, gh):
    fake.add_issue("octo", "hello", author="newbie", number=1)
    fake.add_issue("octo", "hello", author="newbie", number=2, pull_request=True, state="closed")
    fake.add_issue("octo", "hello", author="newbie", number=3, pull_request=True, merged=True)
    fake.add_issue("octo", "hello", author="newbie", number=4, pull_request=True)
    fake.add_issue("octo", "hello", author="regular", number=5, pull_request=True, merged=True)
    fake.add_issue("octo", "other", author="newbie", number=1)
    fake.add_issue("octo", "hello", author="dependabot[bot]", number=6, pull_request=True)

    answer = await search(gh, "repo:octo/hello author:newbie")
    assert errors("GET", SEARCH, 200, answer) == []
    assert answer["total_count"] == 4 and answer["incomplete_results"] is False
    assert numbers(answer["items"]) == [4, 3, 2, 1], "newest first"
    assert all(item["score"] == 1.0 for item in answer["items"])
    assert [item["number"] for item in answer["items"] if "pull_request" in item] == [4, 3, 2]

    async def found(q):
        return sorted(numbers((await search(gh, q))["items"]))

    assert await found("repo:Octo/Hello author:NEWBIE is:pr") == [2, 3, 4]
    assert await found("repo:octo/hello author:newbie type:pr") == [2, 3, 4]
    assert await found("repo:octo/hello author:newbie is:issue") == [1]
    assert await found("repo:octo/hello author:newbie type:issue is:open") == [1]
    assert await found("repo:octo/hello is:pr is:merged") == [3, 5]
    assert await found("repo:octo/hello is:pr is:unmerged") == [2, 4, 6]
    assert await found("repo:octo/hello author:newbie is:pr is:closed") == [2, 3]
    assert await found("repo:octo/hello author:newbie state:open") == [1, 4]
    assert await found("repo:octo/hello author:newbie -is:merged is:pr") == [2, 4]
    assert await found("repo:octo/hello author:app/dependabot") == [6]
    assert await found("author:newbie is:issue") == [1, 1], "every repository"
    assert await found("repo:octo/hello repo:octo/other is:issue") == [1, 1]
    assert await found("org:octo author:regular") == [5]
    fake.assert_no_violations()


async def test_search_by_label_assignee_and_text(fake, gh):
    fake.add_issue("octo", "hello", number=1, labels=["good first issue"], title="Fix a typo")
    fake.add_issue("octo", "hello", number=2, labels=["help wanted", "docs"], body="Typos here")
    fake.add_issue("octo", "hello", number=3, labels=["Good First Issue", "docs"], assignees=["a"])
    fake.add_issue("octo", "hello", number=4, title="Crash on start", body="A TYPO in the docs")

    async def found(q):
        return sorted(numbers((await search(gh, "repo:octo/hello " + q))["items"]))

    assert await found('label:"good first issue"') == [1, 3]
    assert await found('label:"good first issue","help wanted"') == [1, 2, 3], "OR in one"
    assert await found('label:"good first issue" label:docs') == [3], "AND across"
    assert await found("label:bug,DOCS") == [2, 3]
    assert await found('-label:"good first issue"') == [2, 4]
    assert await found("no:assignee") == [1, 2, 4]
    assert await found("assignee:A") == [3]
    assert await found("no:label") == [4]
    assert await found("typo") == [1, 2, 4], "title or body, any case"
    assert await found("typo crash") == [4], "every word"
    assert await found('"a typo in"') == [4]
    assert await found("typo -crash no:assignee") == [1, 2]
    fake.assert_no_violations()


async def test_search_lags_behind_until_indexed(fake, gh):
    fake.add_issue("octo", "hello", author="newbie", number=1, in_search=False)
    assert (await search(gh, "repo:octo/hello author:newbie"))["total_count"] == 0
    assert (await gh.getitem("/repos/octo/hello/issues/1"))["number"] == 1, "it exists"
    fake.index_for_search("octo", "hello", 1)
    assert (await search(gh, "repo:octo/hello author:newbie"))["total_count"] == 1


async def test_search_sorts_and_pages(fake, gh, session, base_url, token):
    for number in range(1, 6):
        created_at = f"2024-01-0{6 - number}T00:00:00Z"
        fake.add_issue("octo", "hello", number=number, created_at=created_at)
    assert numbers((await search(gh, "repo:octo/hello"))["items"]) == [1, 2, 3, 4, 5]
    oldest_first = await search(gh, "repo:octo/hello", sort="created", order="asc")
    assert numbers(oldest_first["items"]) == [5, 4, 3, 2, 1]
    assert oldest_first["items"][0]["created_at"] == "2024-01-01T00:00:00Z"

    second = await search(gh, "repo:octo/hello", per_page=2, page=2)
    assert second["total_count"] == 5 and numbers(second["items"]) == [3, 4]
    async with session.get(
        f"{base_url}/search/issues?q=repo:octo/hello&per_page=2",
        headers={"authorization": f"token {token}"},
    ) as answer:
        assert 'rel="next"' in answer.headers["Link"] and "page=3" in answer.headers["Link"]
    assert fake.calls_to("GET", SEARCH)[0].query["q"] == "repo:octo/hello"


async def test_a_search_qualifier_the_fake_does_not_know_is_flagged(fake, gh):
    await search(gh, "repo:octo/hello is:issue created:>2024-01-01 is:public")
    assert len(fake.violations) == 2
    assert "'created:>2024-01-01'" in fake.violations[0] and "'is:public'" in fake.violations[1]


async def test_list_issues_filters_like_github(fake, gh):
    fake.add_issue("octo", "hello", number=1, labels=["good first issue"], author="ann")
    fake.add_issue("octo", "hello", number=2, labels=["good first issue", "docs"])
    fake.add_issue("octo", "hello", number=3, labels=["Good First Issue"], assignees=["bob"])
    fake.add_issue("octo", "hello", number=4, labels=["good first issue"], state="closed")
    fake.add_issue("octo", "hello", number=5, pull_request=True, author="ann")
    fake.add_issue("octo", "other", number=6)

    async def listed(**query):
        url = "/repos/octo/hello/issues{?state,labels,assignee,creator,sort,direction}"
        answer = await gh.getitem(url, query)
        assert errors("GET", ISSUES, 200, answer) == []
        return numbers(answer)

    assert await listed() == [5, 3, 2, 1], "open, newest first, pull requests included"
    assert await listed(state="closed") == [4]
    assert await listed(state="all", direction="asc") == [1, 2, 3, 4, 5]
    assert await listed(labels="good first issue") == [3, 2, 1]
    assert await listed(labels="GOOD FIRST ISSUE,docs") == [2], "every label"
    assert await listed(labels="good first issue", assignee="none") == [2, 1]
    assert await listed(assignee="*") == [3]
    assert await listed(assignee="BOB") == [3]
    assert await listed(creator="ann") == [5, 1]
    fake.assert_no_violations()


async def test_list_issues_pages(fake, gh):
    for _ in range(35):
        fake.add_issue("octo", "hello")
    listed = [issue["number"] async for issue in gh.getiter("/repos/octo/hello/issues")]
    assert listed == list(range(35, 0, -1))
    assert [call.query for call in fake.calls_to("GET", ISSUES)] == [{}, {"page": "2"}]
    page = await gh.getitem("/repos/octo/hello/issues?per_page=10&page=4")
    assert numbers(page) == [5, 4, 3, 2, 1]


async def test_update_lock_and_create_issues(fake, gh):
    fake.add_issue("octo", "hello", number=1, labels=["bug"], assignees=["ann"])
    closed = await gh.patch(
        "/repos/octo/hello/issues/1",
        data={"state": "closed", "state_reason": "not_planned", "title": "New title"},
    )
    assert errors("PATCH", ISSUE, 200, closed) == []
    assert (closed["state"], closed["state_reason"], closed["title"]) == (
        "closed",
        "not_planned",
        "New title",
    )
    assert closed["closed_at"] is not None
    assert closed["closed_by"]["login"] == "community-bot[bot]"
    reopened = await gh.patch(
        "/repos/octo/hello/issues/1", data={"state": "open", "labels": ["triage"], "assignees": []}
    )
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == (
        "open",
        "reopened",
        None,
    )
    assert [label["name"] for label in reopened["labels"]] == ["triage"]
    assert reopened["assignees"] == [] and reopened["assignee"] is None

    await gh.put("/repos/octo/hello/issues/1/lock", data={"lock_reason": "too heated"})
    locked = fake.issue("octo", "hello", 1)
    assert (locked["locked"], locked["active_lock_reason"]) == (True, "too heated")
    await gh.delete("/repos/octo/hello/issues/1/lock")
    assert fake.issue("octo", "hello", 1)["locked"] is False

    created = await gh.post(
        "/repos/octo/hello/issues", data={"title": "Tracking", "labels": ["meta"]}
    )
    assert errors("POST", ISSUES, 201, created) == []
    assert created["number"] == 2 and created["user"]["login"] == "community-bot[bot]"
    assert created["performed_via_github_app"]["slug"] == "community-bot"
    assert fake.issue("octo", "hello", 2)["labels"][0]["name"] == "meta"
    fake.assert_no_violations()


async def test_a_merged_pull_request_cannot_be_reopened(fake, raw):
    fake.add_issue("octo", "hello", number=1, pull_request=True, merged=True)
    status, body = await raw("PATCH", "/repos/octo/hello/issues/1", {"state": "open"})
    assert status == 422 and errors("PATCH", ISSUE, 422, body) == []


async def test_repository_labels(fake, gh, raw):
    fake.add_label("octo", "hello", "good first issue", color="7057ff", description="Start here")
    created = await gh.post("/repos/octo/hello/labels", data={"name": "help wanted"})
    assert errors("POST", "/repos/{owner}/{repo}/labels", 201, created) == []
    assert (created["color"], created["default"], created["description"]) == ("ededed", False, None)

    label = await gh.getitem("/repos/octo/hello/labels/{name}", {"name": "GOOD first issue"})
    assert errors("GET", "/repos/{owner}/{repo}/labels/{name}", 200, label) == []
    assert (label["name"], label["color"]) == ("good first issue", "7057ff")
    assert label["url"].endswith("/repos/octo/hello/labels/good%20first%20issue")
    listed = await gh.getitem("/repos/octo/hello/labels")
    assert [label["name"] for label in listed] == ["good first issue", "help wanted"]
    assert errors("GET", "/repos/{owner}/{repo}/labels", 200, listed) == []

    status, body = await raw("GET", "/repos/octo/hello/labels/bug")
    assert status == 404 and errors("GET", "/repos/{owner}/{repo}/labels/{name}", 404, body) == []
    status, body = await raw("POST", "/repos/octo/hello/labels", {"name": "Help Wanted"})
    assert status == 422 and body["errors"][0]["code"] == "already_exists"
    assert errors("POST", "/repos/{owner}/{repo}/labels", 422, body) == []
    status, body = await raw("POST", "/repos/octo/hello/labels", {"name": "x", "color": "#fff"})
    assert status == 422 and body["errors"][0]["field"] == "color"
    assert len(fake.labels("octo", "hello")) == 2
    fake.assert_no_violations()


async def test_issue_labels_create_missing_ones_and_remove(fake, gh, raw):
    fake.add_label("octo", "hello", "Bug", color="d73a4a")
    fake.add_issue("octo", "hello", number=1)
    added = await gh.post(
        "/repos/octo/hello/issues/1/labels", data={"labels": ["bug", {"name": "needs triage"}]}
    )
    assert errors("POST", ISSUE_LABELS, 200, added) == []
    assert [(label["name"], label["color"]) for label in added] == [
        ("Bug", "d73a4a"),
        ("needs triage", "ededed"),
    ]
    assert [label["name"] for label in fake.labels("octo", "hello")] == ["Bug", "needs triage"]
    again = await gh.post("/repos/octo/hello/issues/1/labels", data={"labels": ["NEEDS TRIAGE"]})
    assert len(again) == 2
    assert len(await gh.getitem("/repos/octo/hello/issues/1/labels")) == 2

    await gh.delete("/repos/octo/hello/issues/1/labels/{name}", {"name": "needs triage"})
    template = ISSUE_LABELS + "/{name}"
    # gidgethub's delete() discards the answer: read it directly.
    status, remaining = await raw("DELETE", "/repos/octo/hello/issues/1/labels/bug")
    assert status == 200 and remaining == [] and errors("DELETE", template, 200, remaining) == []
    status, body = await raw("DELETE", "/repos/octo/hello/issues/1/labels/bug")
    assert (status, body["message"]) == (404, "Label does not exist")
    assert errors("DELETE", template, 404, body) == []
    assert len(fake.labels("octo", "hello")) == 2, "removing from an issue keeps the label"
    fake.assert_no_violations()


async def test_assignees_are_added_and_removed(fake, gh):
    fake.add_issue("octo", "hello", number=1, assignees=["ann"])
    template = ISSUE + "/assignees"
    added = await gh.post(
        "/repos/octo/hello/issues/1/assignees", data={"assignees": ["bob", "ANN"]}
    )
    assert errors("POST", template, 201, added) == []
    assert [user["login"] for user in added["assignees"]] == ["ann", "bob"]
    assert added["assignee"]["login"] == "ann"
    await gh.delete("/repos/octo/hello/issues/1/assignees", data={"assignees": ["ann"]})
    assert [user["login"] for user in fake.issue("octo", "hello", 1)["assignees"]] == ["bob"]
    fake.assert_no_violations()


async def test_assignee_removal_answers_the_issue(fake, raw):
    fake.add_issue("octo", "hello", number=1, assignees=["ann"])
    status, body = await raw(
        "DELETE", "/repos/octo/hello/issues/1/assignees", {"assignees": ["ann"]}
    )
    assert status == 200 and body["assignees"] == []
    assert errors("DELETE", ISSUE + "/assignees", 200, body) == []


async def test_reactions_on_comments_and_issues(fake, gh, raw):
    fake.add_issue("octo", "hello", number=3)
    comment = fake.add_comment("octo", "hello", 3, "/claim")
    comment_reactions = "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
    status, reaction = await raw(
        "POST", f"/repos/octo/hello/issues/comments/{comment['id']}/reactions", {"content": "+1"}
    )
    assert status == 201 and errors("POST", comment_reactions, 201, reaction) == []
    assert reaction["user"]["login"] == "community-bot[bot]" and reaction["content"] == "+1"
    status, same = await raw(
        "POST", f"/repos/octo/hello/issues/comments/{comment['id']}/reactions", {"content": "+1"}
    )
    assert status == 200 and same == reaction, "reacting twice answers the first reaction"

    created = await gh.post("/repos/octo/hello/issues/3/reactions", data={"content": "eyes"})
    assert errors("POST", ISSUE + "/reactions", 201, created) == []
    assert fake.reactions == [
        {"on": "comment", "id": comment["id"], "content": "+1"},
        {"on": "issue", "owner": "octo", "repo": "hello", "number": 3, "content": "eyes"},
    ]
    rollup = fake.issue("octo", "hello", 3)["reactions"]
    assert (rollup["total_count"], rollup["eyes"], rollup["+1"]) == (1, 1, 0)

    status, _ = await raw(
        "POST", "/repos/octo/hello/issues/comments/999999/reactions", {"content": "+1"}
    )
    assert status == 404
    fake.assert_no_violations()


@pytest.mark.parametrize(
    "role, legacy",
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
        ("none", "none"),
        (None, "read"),  # never set: anyone can read a public repository
    ],
)
async def test_permission_with_its_legacy_name(fake, gh, role, legacy):
    if role is not None:
        fake.set_permission("Octo", "Hello", "Newbie", role)
    answer = await gh.getitem(
        PERMISSION, {"owner": "octo", "repo": "hello", "username": "newbie"}
    )
    assert errors("GET", PERMISSION, 200, answer) == []
    assert (answer["permission"], answer["role_name"]) == (legacy, role or "read")
    assert answer["user"]["login"] == "newbie" and answer["user"]["role_name"] == (role or "read")
    assert answer["user"]["permissions"]["push"] is (legacy in ("write", "admin"))


def test_set_permission_refuses_an_unknown_role(fake):
    with pytest.raises(ValueError, match="role must be one of"):
        fake.set_permission("octo", "hello", "newbie", "owner")


async def test_community_profile(fake, gh):
    empty = await gh.getitem(PROFILE, {"owner": "octo", "repo": "hello"})
    assert errors("GET", PROFILE, 200, empty) == []
    assert empty["health_percentage"] == 0
    assert set(empty["files"].values()) == {None} and len(empty["files"]) == 7

    fake.set_community_profile("octo", "hello", contributing=True, code_of_conduct=True)
    profile = await gh.getitem(PROFILE, {"owner": "OCTO", "repo": "hello"})
    assert errors("GET", PROFILE, 200, profile) == []
    files = profile["files"]
    assert files["contributing"]["html_url"] == (
        "https://github.com/octo/hello/blob/main/CONTRIBUTING.md"
    )
    assert files["code_of_conduct_file"]["html_url"] == (
        "https://github.com/octo/hello/blob/main/CODE_OF_CONDUCT.md"
    )
    assert files["code_of_conduct"]["key"] == "contributor_covenant"
    assert files["readme"] is None and 0 < profile["health_percentage"] < 100

    fake.set_community_profile("octo", "hello", contributing="docs/CONTRIBUTING.md")
    profile = await gh.getitem(PROFILE, {"owner": "octo", "repo": "hello"})
    assert profile["files"]["contributing"]["html_url"].endswith("/blob/main/docs/CONTRIBUTING.md")
    assert profile["files"]["code_of_conduct"] is None
    fake.assert_no_violations()


async def test_programmed_answers_win_over_issue_state(fake, gh):
    fake.add_issue("octo", "hello", author="newbie", number=1)
    fake.respond("GET", SEARCH, status=403, json={"message": "rate limited"}, times=1)
    with pytest.raises(BadRequest) as limited:
        await search(gh, "repo:octo/hello author:newbie")
    assert limited.value.status_code == 403
    assert (await search(gh, "repo:octo/hello author:newbie"))["total_count"] == 1
    fake.respond("GET", ISSUE, status=410)
    with pytest.raises(BadRequest) as gone:
        await gh.getitem("/repos/octo/hello/issues/1")
    assert gone.value.status_code == 410


def test_delete_comment_as_someone_on_github(fake):
    comment = fake.add_comment("octo", "hello", 1, "hello")
    fake.delete_comment(comment["id"])
    assert fake.comments("octo", "hello", 1) == []
    with pytest.raises(LookupError):
        fake.delete_comment(comment["id"])




# A repository's history, as a backfill reads it ------------------------------------------

REPO_COMMENTS = "/repos/{owner}/{repo}/issues/comments"
REVIEW_COMMENTS = "/repos/{owner}/{repo}/pulls/comments"
REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"
ISSUE_EVENTS = "/repos/{owner}/{repo}/issues/events"


async def test_a_repositorys_comments_since_a_time_and_sorted(fake, gh):
    issue = fake.add_issue("octo", "hello", created_at="2026-01-01T00:00:00Z")
    pull = fake.add_issue("octo", "hello", pull_request=True, created_at="2026-01-02T00:00:00Z")
    first = fake.add_comment("octo", "hello", pull["number"], "first", created_at="2026-01-03T00:00:00Z")
    second = fake.add_comment("octo", "hello", issue["number"], "second", created_at="2026-01-05T00:00:00Z")
    fake.add_comment("octo", "other", 1, "elsewhere", created_at="2026-01-04T00:00:00Z")
    assert fake.issue("octo", "hello", issue["number"])["updated_at"] == "2026-01-05T00:00:00Z", "a comment updates"

    listed = await gh.getitem(REPO_COMMENTS, {"owner": "octo", "repo": "hello"})
    assert errors("GET", REPO_COMMENTS, 200, listed) == []
    assert [c["id"] for c in listed] == [first["id"], second["id"]], "oldest first"
    newest = await gh.getitem(REPO_COMMENTS + "{?sort}", {"owner": "octo", "repo": "hello", "sort": "created"})
    assert [c["id"] for c in newest] == [second["id"], first["id"]], "sorted: newest first"
    since = await gh.getitem(
        REPO_COMMENTS + "{?since,sort,direction,per_page}",
        {"owner": "octo", "repo": "hello", "since": "2026-01-04T00:00:00Z", "sort": "updated", "direction": "asc",
         "per_page": 1},
    )
    assert [c["body"] for c in since] == ["second"]


async def test_reviews_and_review_comments(fake, gh):
    pull = fake.add_issue("octo", "hello", pull_request=True, created_at="2026-01-01T00:00:00Z")
    number = pull["number"]
    approval = fake.add_review("octo", "hello", number, login="maintainer", submitted_at="2026-01-02T00:00:00Z")
    comment = fake.add_review_comment(
        "octo", "hello", number, "Typo here", login="reviewer", created_at="2026-01-03T00:00:00Z"
    )
    where = {"owner": "octo", "repo": "hello", "pull_number": number}
    reviews = await gh.getitem(REVIEWS, where)
    assert errors("GET", REVIEWS, 200, reviews) == []
    assert [(r["user"]["login"], r["state"], r["submitted_at"]) for r in reviews] == [
        ("maintainer", "APPROVED", "2026-01-02T00:00:00Z"),
        ("reviewer", "COMMENTED", "2026-01-03T00:00:00Z"),  # the review a lone comment comes with
    ]
    assert reviews[0]["id"] == approval["id"] and comment["pull_request_review_id"] == reviews[1]["id"]
    listed = await gh.getitem(REVIEW_COMMENTS, {"owner": "octo", "repo": "hello"})
    assert errors("GET", REVIEW_COMMENTS, 200, listed) == []
    assert [(c["id"], c["pull_request_url"].rsplit("/", 1)[1]) for c in listed] == [(comment["id"], str(number))]
    assert fake.pull_request("octo", "hello", number)["updated_at"] == "2026-01-03T00:00:00Z"
    issue = fake.add_issue("octo", "hello")
    with pytest.raises(BadRequest) as refused:
        await gh.getitem(REVIEWS, {**where, "pull_number": issue["number"]})
    assert refused.value.status_code == 404
    with pytest.raises(ValueError, match="APPROVED"):
        fake.add_review("octo", "hello", number, state="PENDING")
    with pytest.raises(LookupError, match="not a pull request"):
        fake.add_review_comment("octo", "hello", issue["number"], "no lines to comment on")


async def test_issue_events_newest_first_with_their_labels_and_issues(fake, gh, raw):
    issue = fake.add_issue("octo", "hello", labels=["bug"], created_at="2026-01-01T00:00:00Z", author="newbie")
    number = issue["number"]
    fake.label_issue("octo", "hello", number, "Good First Issue", actor="maintainer", at="2026-01-02T00:00:00Z")
    fake.unlabel_issue("octo", "hello", number, "bug", actor="maintainer", at="2026-01-03T00:00:00Z")
    await raw("POST", f"/repos/octo/hello/issues/{number}/labels", {"labels": ["help wanted"]})
    events = await gh.getitem(ISSUE_EVENTS, {"owner": "octo", "repo": "hello"})
    assert errors("GET", ISSUE_EVENTS, 200, events) == []
    assert [(e["event"], e["label"]["name"], e["actor"]["login"]) for e in events] == [
        ("labeled", "help wanted", "community-bot[bot]"),
        ("unlabeled", "bug", "maintainer"),
        ("labeled", "Good First Issue", "maintainer"),
        ("labeled", "bug", "newbie"),
    ]
    assert events[2]["created_at"] == "2026-01-02T00:00:00Z" and events[2]["issue"]["number"] == number
    assert [label["name"] for label in events[0]["issue"]["labels"]] == ["Good First Issue", "help wanted"]
    assert [e["event"] for e in await gh.getitem(ISSUE_EVENTS + "{?per_page,page}", {
        "owner": "octo", "repo": "hello", "per_page": 1, "page": 4})] == ["labeled"]
    with pytest.raises(ValueError, match="no label"):
        fake.unlabel_issue("octo", "hello", number, "bug")


# Pull requests' commits, comparisons, check runs, organisation membership ----------------

PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"
PULL_COMMITS = PULL + "/commits"
COMMITS = "/repos/{owner}/{repo}/commits"
COMPARE = "/repos/{owner}/{repo}/compare/{basehead}"
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
CHECK_RUN = CHECK_RUNS + "/{check_run_id}"
CHECK_RUNS_FOR_REF = "/repos/{owner}/{repo}/commits/{ref}/check-runs"
MEMBERSHIP = "/orgs/{org}/members/{username}"


def shas(commits):
    return [c["sha"] for c in commits]


def test_commit_is_shaped_like_a_pull_requests_commit():
    made = commit(
        message="Fix\n\nSigned-off-by: Mona <mona@example.com>", date="2024-05-01T12:00:00Z"
    )
    assert errors("GET", PULL_COMMITS, 200, [made]) == []
    assert len(made["sha"]) == 40 and int(made["sha"], 16) >= 0
    assert commit()["sha"] != commit()["sha"]
    assert made["commit"]["author"] == {
        "name": "Mona",
        "email": "mona@example.com",
        "date": "2024-05-01T12:00:00Z",
    }
    assert made["commit"]["committer"] == made["commit"]["author"], "the author commits"
    assert made["author"]["login"] == made["committer"]["login"] == "mona"
    assert made["author"]["type"] == "User" and made["commit"]["verification"]["verified"] is False
    assert len(made["parents"]) == 1 and made["html_url"].endswith(f"/commit/{made['sha']}")

    unlinked = commit("b" * 40, author_login=None, author_email="someone@laptop.local")
    assert unlinked["sha"] == "b" * 40
    assert unlinked["author"] is None and unlinked["committer"] is None
    assert errors("GET", PULL_COMMITS, 200, [unlinked]) == []

    web = commit(
        author_id=7,
        committer_name="GitHub",
        committer_email="noreply@github.com",
        committer_login="web-flow",
        parents=["1" * 40, "2" * 40],
    )
    assert (web["author"]["id"], web["committer"]["login"]) == (7, "web-flow")
    assert web["commit"]["committer"]["name"] == "GitHub"
    assert [p["sha"] for p in web["parents"]] == ["1" * 40, "2" * 40], "a merge commit"
    by_mail = commit(committer_email="other@example.com")
    assert by_mail["commit"]["committer"]["name"] == "Mona" and by_mail["committer"] is None
    bot = commit(author_login="dependabot[bot]", parents=0)
    assert bot["author"]["type"] == bot["committer"]["type"] == "Bot" and bot["parents"] == []
    assert errors("GET", PULL_COMMITS, 200, [web, by_mail, bot]) == []


async def test_a_pull_requests_commits_and_the_pull_request(fake, gh, raw, base_url):
    commits = [commit(message=f"Change {n}") for n in range(3)]
    seeded = fake.add_pull_request_commits("octo", "hello", 4, commits, base_sha="c" * 40)
    assert seeded["number"] == 4 and seeded["title"] == "Change 0"
    assert fake.issue("octo", "hello", 4)["pull_request"]["url"].endswith("/pulls/4")

    pull = await gh.getitem(PULL, {"owner": "Octo", "repo": "hello", "pull_number": 4})
    assert errors("GET", PULL, 200, pull) == []
    assert (pull["head"]["sha"], pull["base"]["sha"]) == (commits[-1]["sha"], "c" * 40)
    assert (pull["commits"], pull["state"], pull["merged"], pull["draft"]) == (
        3,
        "open",
        False,
        False,
    )
    assert pull["user"]["login"] == "mona" and pull["url"] == f"{base_url}/repos/octo/hello/pulls/4"
    assert pull["head"]["repo"]["full_name"] == "mona/hello" and pull["head"]["repo"]["fork"]
    assert pull["base"]["repo"]["full_name"] == "octo/hello" and pull["base"]["ref"] == "main"
    assert pull["head"]["label"] == f"mona:{pull['head']['ref']}"

    listed = await gh.getitem("/repos/octo/hello/pulls/4/commits")
    assert errors("GET", PULL_COMMITS, 200, listed) == []
    assert shas(listed) == shas(commits), "oldest first"
    assert listed[0]["url"] == f"{base_url}/repos/octo/hello/commits/{commits[0]['sha']}"
    assert commits[0]["html_url"] == f"https://github.com/octo/hello/commit/{commits[0]['sha']}"
    assert listed[0]["html_url"] == commits[0]["html_url"], "the commits given are filed too"
    assert listed[0]["commit"]["message"] == "Change 0"

    pushed = [*commits, commit(message="Change 3")]
    assert (
        fake.add_pull_request_commits("octo", "hello", 4, pushed)["head"]["sha"]
        == pushed[-1]["sha"]
    )
    assert fake.pull_request("octo", "hello", 4)["base"]["sha"] == "c" * 40, "the base stays"
    assert len(await gh.getitem("/repos/octo/hello/pulls/4/commits")) == 4

    fake.add_issue("octo", "hello", number=5)
    for number in (5, 6):  # an issue is no pull request; 6 does not exist
        for path in (
            f"/repos/octo/hello/pulls/{number}",
            f"/repos/octo/hello/pulls/{number}/commits",
        ):
            status, body = await raw("GET", path)
            assert status == 404 and errors("GET", PULL, 404, body) == []
    with pytest.raises(ValueError, match="not a pull request"):
        fake.add_pull_request_commits("octo", "hello", 5, [commit()])
    with pytest.raises(ValueError, match="at least one"):
        fake.add_pull_request_commits("octo", "hello", 7, [])
    fake.assert_no_violations()


async def test_a_pull_request_seeded_without_commits_has_one(fake, gh):
    fake.add_issue("octo", "hello", number=1, author="newbie", pull_request=True, merged=True)
    fake.add_issue("octo", "hello", number=2, author="octo", pull_request=True, draft=True)
    merged = await gh.getitem("/repos/octo/hello/pulls/1")
    assert errors("GET", PULL, 200, merged) == []
    assert (merged["state"], merged["merged"], merged["merged_at"]) == (
        "closed",
        True,
        merged["closed_at"],
    )
    assert merged["merged_by"]["login"] == "octo" and merged["commits"] == 1
    [only] = await gh.getitem("/repos/octo/hello/pulls/1/commits")
    assert only["sha"] == merged["head"]["sha"] and only["author"]["login"] == "newbie"
    draft = await gh.getitem("/repos/octo/hello/pulls/2")
    assert (draft["draft"], draft["mergeable_state"]) == (True, "draft")
    assert draft["head"]["repo"]["full_name"] == "octo/hello", "the owner's branch is no fork's"
    assert draft["base"]["sha"] == merged["base"]["sha"], "both start from the default branch"
    fake.assert_no_violations()


async def test_pull_commits_stop_at_250_but_the_comparison_lists_them_all(
    fake, gh, session, base_url, token
):
    commits = [commit(message=f"Change {n}") for n in range(300)]
    pull = fake.add_pull_request_commits("octo", "hello", 1, commits)
    assert pull["commits"] == 300, "the pull request counts them all"

    url = "/repos/octo/hello/pulls/1/commits{?per_page}"
    listed = [c async for c in gh.getiter(url, {"per_page": 100})]
    assert shas(listed) == shas(commits[:250]), "only the first 250, oldest first"
    assert [call.query for call in fake.calls_to("GET", PULL_COMMITS)] == [
        {"per_page": "100"},
        {"per_page": "100", "page": "2"},
        {"per_page": "100", "page": "3"},
    ]
    assert await gh.getitem("/repos/octo/hello/pulls/1/commits?per_page=100&page=4") == []
    last = await gh.getitem("/repos/octo/hello/pulls/1/commits?page=9")
    assert shas(last) == shas(commits[240:250])
    assert await gh.getitem("/repos/octo/hello/pulls/1/commits?page=10") == []
    default = await gh.getitem("/repos/octo/hello/pulls/1/commits")
    assert shas(default) == shas(commits[:30])

    basehead = f"{pull['base']['sha']}...{pull['head']['sha']}"
    url = "/repos/octo/hello/compare/{basehead}{?per_page}"
    paged = [
        c
        async for c in gh.getiter(
            url, {"basehead": basehead, "per_page": 100}, iterable_key="commits"
        )
    ]
    assert shas(paged) == shas(commits), "paging, the comparison lists every commit"
    assert len(fake.calls_to("GET", COMPARE)) == 3

    async with session.get(
        f"{base_url}/repos/octo/hello/compare/{basehead}",
        headers={"authorization": f"token {token}"},
    ) as response:
        unpaged = await response.json()
        assert "Link" not in response.headers
    assert errors("GET", COMPARE, 200, unpaged) == []
    assert shas(unpaged["commits"]) == shas(commits[-250:]), "unpaged: the newest 250"
    assert (unpaged["total_commits"], unpaged["ahead_by"], unpaged["behind_by"]) == (300, 300, 0)
    assert unpaged["status"] == "ahead" and unpaged["files"] == []
    assert (
        unpaged["merge_base_commit"]["sha"] == unpaged["base_commit"]["sha"] == pull["base"]["sha"]
    )
    second = await gh.getitem(f"/repos/octo/hello/compare/{basehead}?per_page=100&page=2")
    assert errors("GET", COMPARE, 200, second) == []
    assert shas(second["commits"]) == shas(commits[100:200]) and "files" not in second
    fake.assert_no_violations()


async def test_comparisons_between_other_commits(fake, gh, raw):
    first = [commit() for _ in range(3)]
    fake.add_pull_request_commits("octo", "hello", 1, first)
    second = [commit(), commit()]
    fake.add_pull_request_commits("octo", "hello", 2, second)
    stacked = [commit()]
    fake.add_pull_request_commits("octo", "hello", 3, stacked, base_sha=first[-1]["sha"])
    elsewhere = [commit()]
    fake.add_pull_request_commits("octo", "hello", 4, elsewhere, base_sha="d" * 40)

    async def compare(base, head):
        answer = await gh.getitem(
            COMPARE, {"owner": "octo", "repo": "hello", "basehead": f"{base}...{head}"}
        )
        assert errors("GET", COMPARE, 200, answer) == []
        return answer

    diverged = await compare(first[-1]["sha"], second[-1]["sha"])
    assert (diverged["status"], diverged["ahead_by"], diverged["behind_by"]) == ("diverged", 2, 3)
    assert shas(diverged["commits"]) == shas(second)
    behind = await compare(first[-1]["sha"], first[0]["sha"])
    assert (behind["status"], behind["behind_by"], behind["commits"]) == ("behind", 2, [])
    same = await compare(first[1]["sha"], first[1]["sha"])
    assert (same["status"], same["total_commits"]) == ("identical", 0)
    on_top = await compare(fake.pull_request("octo", "hello", 1)["base"]["sha"], stacked[0]["sha"])
    assert shas(on_top["commits"]) == shas(first + stacked), "a stacked pull request"
    abbreviated = await compare(first[0]["sha"][:7], "main")
    assert (
        abbreviated["status"] == "behind" and abbreviated["base_commit"]["sha"] == first[0]["sha"]
    )

    for basehead in (
        f"{'e' * 40}...{first[0]['sha']}",  # unknown
        f"{first[0]['sha']}..{second[0]['sha']}",  # not BASE...HEAD
        f"{first[0]['sha']}...{elsewhere[0]['sha']}",  # no common ancestor
    ):
        status, body = await raw("GET", f"/repos/octo/hello/compare/{basehead}")
        assert status == 404 and errors("GET", COMPARE, 404, body) == [], basehead
    assert "No common ancestor" in body["message"]
    fake.assert_no_violations()


async def test_commit_history_ends_with_the_base(fake, gh, raw):
    commits = [commit(message=f"Change {n}", date=f"2024-03-0{n + 1}T00:00:00Z") for n in range(5)]
    commits[2] = commit(
        message="By Ann",
        author_login="ann",
        author_email="ann@example.com",
        date="2024-03-03T00:00:00Z",
    )
    pull = fake.add_pull_request_commits("octo", "hello", 1, commits)
    head, base = pull["head"]["sha"], pull["base"]["sha"]

    history = await gh.getitem(COMMITS + "{?sha}", {"owner": "octo", "repo": "hello", "sha": head})
    assert errors("GET", COMMITS, 200, history) == []
    assert shas(history) == shas(commits[::-1]) + [base], "newest first, then the base"
    assert history[-1]["parents"] == [], "the made-up base is a root commit"
    paged = [
        c
        async for c in gh.getiter(
            COMMITS + "{?sha,per_page}",
            {"owner": "octo", "repo": "hello", "sha": head, "per_page": 2},
        )
    ]
    assert shas(paged) == shas(history) and len(fake.calls_to("GET", COMMITS)) == 4

    async def listed(**query):
        return shas(
            await gh.getitem(
                COMMITS + "{?sha,author,since,until}", {"owner": "octo", "repo": "hello", **query}
            )
        )

    assert await listed(sha=commits[1]["sha"]) == [commits[1]["sha"], commits[0]["sha"], base]
    assert await listed(sha=pull["head"]["ref"]) == shas(history), "a pull request's branch"
    assert await listed() == [base], "the default branch"
    assert await listed(sha=head, author="ANN") == [commits[2]["sha"]]
    assert await listed(sha=head, author="ann@example.com") == [commits[2]["sha"]]
    assert await listed(sha=head, since="2024-03-04T00:00:00Z") == shas(commits[:2:-1])
    assert await listed(sha=head, until="2024-03-01T00:00:00Z", author="mona") == [
        commits[0]["sha"]
    ]
    status, body = await raw("GET", f"/repos/octo/hello/commits?sha={'f' * 40}")
    assert status == 404 and errors("GET", COMMITS, 404, body) == []
    fake.assert_no_violations()
    await gh.getitem("/repos/octo/hello/commits?path=README.md")
    assert "path parameter" in fake.violations[0]


async def test_check_runs_are_created_updated_and_listed(fake, gh, raw, base_url):
    sha = "a" * 40
    created = await gh.post(
        "/repos/octo/hello/check-runs",
        data={
            "name": "DCO",
            "head_sha": sha,
            "status": "in_progress",
            "external_id": "4",
            "output": {"title": "Checking", "summary": "Checking 3 commits"},
            "actions": [
                {
                    "label": "Set DCO to pass",
                    "description": "Maintainers only",
                    "identifier": "override",
                }
            ],
        },
    )
    assert errors("POST", CHECK_RUNS, 201, created) == []
    assert (created["name"], created["head_sha"], created["status"], created["conclusion"]) == (
        "DCO",
        sha,
        "in_progress",
        None,
    )
    assert created["app"]["slug"] == "community-bot" and created["app"]["id"] == APP_ID
    assert (
        created["external_id"] == "4" and created["started_at"] and created["completed_at"] is None
    )
    assert created["output"] == {
        "title": "Checking",
        "summary": "Checking 3 commits",
        "text": None,
        "annotations_count": 0,
        "annotations_url": f"{base_url}/repos/octo/hello/check-runs/{created['id']}/annotations",
    }
    assert created["url"] == f"{base_url}/repos/octo/hello/check-runs/{created['id']}"
    assert created["pull_requests"] == [] and isinstance(created["check_suite"]["id"], int)

    status, updated = await raw(
        "PATCH",
        f"/repos/octo/hello/check-runs/{created['id']}",
        {
            "conclusion": "action_required",
            "output": {"summary": "1 of 3 not signed off", "text": "Details"},
        },
    )
    assert status == 200 and errors("PATCH", CHECK_RUN, 200, updated) == []
    assert (updated["status"], updated["conclusion"]) == (
        "completed",
        "action_required",
    ), "a conclusion completes"
    assert updated["completed_at"] is not None
    assert (updated["output"]["title"], updated["output"]["text"]) == ("Checking", "Details")

    other = await gh.post(
        "/repos/octo/hello/check-runs",
        data={"name": "CLA", "head_sha": sha.upper(), "conclusion": "success"},
    )
    again = await gh.post("/repos/octo/hello/check-runs", data={"name": "DCO", "head_sha": sha})
    assert other["head_sha"] == sha and other["status"] == "completed"
    assert other["check_suite"] == created["check_suite"], "one suite a commit"
    elsewhere = await gh.post(
        "/repos/octo/hello/check-runs", data={"name": "DCO", "head_sha": "b" * 40}
    )
    await gh.post("/repos/octo/other/check-runs", data={"name": "DCO", "head_sha": sha})

    async def listed(ref=sha, **query):
        url = CHECK_RUNS_FOR_REF + "{?check_name,status,filter,app_id,per_page,page}"
        answer = await gh.getitem(url, {"owner": "octo", "repo": "hello", "ref": ref, **query})
        assert errors("GET", CHECK_RUNS_FOR_REF, 200, answer) == []
        assert answer["total_count"] >= len(answer["check_runs"])
        return [run["id"] for run in answer["check_runs"]]

    assert await listed() == [again["id"], other["id"]], "newest first, the latest of each name"
    assert await listed(filter="all") == [again["id"], other["id"], created["id"]]
    assert await listed(filter="all", check_name="DCO") == [again["id"], created["id"]]
    assert await listed(filter="all", status="completed") == [other["id"], created["id"]]
    assert await listed(app_id=APP_ID) == [again["id"], other["id"]]
    assert await listed(app_id=APP_ID + 1) == []
    assert await listed(filter="all", per_page=2, page=2) == [created["id"]]
    assert await listed("c" * 40) == []
    status, body = await raw("GET", "/repos/octo/hello/commits/no-such-branch/check-runs")
    assert status == 422 and "No commit found" in body["message"]

    runs = [created, other, again, elsewhere]
    assert [run["id"] for run in fake.check_runs("octo", "hello")] == [run["id"] for run in runs]
    [dco] = fake.check_runs("octo", "hello", head_sha=sha.upper(), name="DCO")[:1]
    assert dco["actions"] == [
        {"label": "Set DCO to pass", "description": "Maintainers only", "identifier": "override"}
    ]
    assert dco["conclusion"] == "action_required" and dco["annotations"] == []
    assert len(fake.check_runs("octo", "other")) == 1
    fake.assert_no_violations()


async def test_a_check_run_lists_the_repositorys_own_pull_requests_only(fake, gh):
    own = fake.add_pull_request_commits("octo", "hello", 1, [commit(author_login="octo")])
    fork = fake.add_pull_request_commits("octo", "hello", 2, [commit(author_login="newbie")])
    on_own = await gh.post(
        "/repos/octo/hello/check-runs", data={"name": "DCO", "head_sha": own["head"]["sha"]}
    )
    on_fork = await gh.post(
        "/repos/octo/hello/check-runs", data={"name": "DCO", "head_sha": fork["head"]["sha"]}
    )
    assert errors("POST", CHECK_RUNS, 201, on_own) == []
    assert [(p["number"], p["head"]["sha"]) for p in on_own["pull_requests"]] == [
        (1, own["head"]["sha"])
    ]
    assert on_fork["pull_requests"] == [], "GitHub lists no fork's pull request"
    by_branch = await gh.getitem(f"/repos/octo/hello/commits/{own['head']['ref']}/check-runs")
    assert [run["id"] for run in by_branch["check_runs"]] == [on_own["id"]]
    fake.assert_no_violations()


@pytest.mark.parametrize(
    "data, limit",
    [
        pytest.param(
            {"output": {"title": "t", "summary": "x" * 65536}},
            "too long (maxLength 65535)",
            id="summary",
        ),
        pytest.param(
            {"output": {"title": "t", "summary": "s", "text": "x" * 65536}},
            "too long (maxLength 65535)",
            id="text",
        ),
        pytest.param(
            {"actions": [{"label": "l", "description": "d", "identifier": "i"}] * 4},
            "too long",
            id="4-actions",
        ),
        pytest.param(
            {"actions": [{"label": "x" * 21, "description": "d", "identifier": "i"}]},
            "too long",
            id="label",
        ),
        pytest.param(
            {"actions": [{"label": "l", "description": "x" * 41, "identifier": "i"}]},
            "too long",
            id="description",
        ),
        pytest.param(
            {"actions": [{"label": "l", "description": "d", "identifier": "x" * 21}]},
            "too long",
            id="identifier",
        ),
    ],
)
async def test_check_run_limits_are_githubs(fake, raw, data, limit):
    """The description states these limits: checking the request enforces them."""
    status, body = await raw(
        "POST", "/repos/octo/hello/check-runs", {"name": "DCO", "head_sha": "a" * 40, **data}
    )
    assert status == 422 and len(fake.violations) == 1 and limit in fake.violations[0]
    assert fake.check_runs("octo", "hello") == []
    created = await raw(
        "POST", "/repos/octo/hello/check-runs", {"name": "DCO", "head_sha": "a" * 40}
    )
    status, body = await raw("PATCH", f"/repos/octo/hello/check-runs/{created[1]['id']}", data)
    assert status == 422 and len(fake.violations) == 2


async def test_check_runs_at_the_limits_are_taken(fake, gh):
    actions = [
        {"label": "x" * 20, "description": "y" * 40, "identifier": f"{n}" * 20} for n in range(3)
    ]
    output = {"title": "t", "summary": "é" * 65535, "text": "x" * 65535}
    created = await gh.post(
        "/repos/octo/hello/check-runs",
        data={"name": "DCO", "head_sha": "a" * 40, "output": output, "actions": actions},
    )
    assert len(created["output"]["summary"]) == 65535
    assert fake.check_runs("octo", "hello")[0]["actions"] == actions
    fake.assert_no_violations()


@pytest.mark.parametrize(
    "data, problem",
    [
        pytest.param(
            {"status": "completed"}, "conclusion is required", id="completed-without-conclusion"
        ),
        pytest.param(
            {"completed_at": "2024-01-01T00:00:00Z"},
            "conclusion is required",
            id="completed_at-alone",
        ),
        pytest.param({"status": "waiting"}, "is not one of", id="actions-only-status"),
        pytest.param({"conclusion": "stale"}, "only GitHub can", id="stale"),
        pytest.param({"started_at": "yesterday"}, "no ISO 8601", id="bad-timestamp"),
        pytest.param({"head_sha": "main"}, "no full commit SHA", id="branch-for-sha"),
        pytest.param({"head_sha": "a" * 7}, "no full commit SHA", id="abbreviated-sha"),
    ],
)
async def test_check_runs_github_would_refuse(fake, raw, data, problem):
    status, body = await raw(
        "POST", "/repos/octo/hello/check-runs", {"name": "DCO", "head_sha": "a" * 40, **data}
    )
    assert status == 422 and errors("POST", CHECK_RUNS, 201, body) != []
    assert len(fake.violations) == 1 and problem in fake.violations[0]
    assert fake.check_runs("octo", "hello") == []


@pytest.mark.parametrize(
    "data, problem",
    [
        pytest.param({"conclusion": "stale"}, "only GitHub can", id="stale"),
        pytest.param(
            {"completed_at": "2024-01-01T00:00:00Z"},
            "conclusion is required",
            id="completed_at-alone",
        ),
    ],
)
async def test_check_run_updates_github_would_refuse(fake, raw, data, problem):
    """The update's description lets these through; GitHub does not."""
    created = await raw(
        "POST", "/repos/octo/hello/check-runs", {"name": "DCO", "head_sha": "a" * 40}
    )
    status, body = await raw("PATCH", f"/repos/octo/hello/check-runs/{created[1]['id']}", data)
    assert status == 422 and len(fake.violations) == 1 and problem in fake.violations[0]
    assert fake.check_runs("octo", "hello")[0]["status"] == "queued"


async def test_updating_an_unknown_check_run_is_not_found(fake, raw):
    status, body = await raw("PATCH", "/repos/octo/hello/check-runs/999", {"status": "in_progress"})
    assert status == 404 and body["message"] == "Not Found"
    created = await raw(
        "POST", "/repos/octo/hello/check-runs", {"name": "DCO", "head_sha": "a" * 40}
    )
    status, _ = await raw(
        "PATCH", f"/repos/octo/other/check-runs/{created[1]['id']}", {"status": "in_progress"}
    )
    assert status == 404, "another repository's check run"
    fake.assert_no_violations()


async def test_organisation_membership(fake, gh, raw):
    fake.add_org_member("Octo", "Mona")
    status, body = await raw("GET", "/orgs/octo/members/mona")
    assert (status, body) == (204, None) and errors("GET", MEMBERSHIP, 204, body) == []
    assert await gh.getitem("/orgs/OCTO/members/MONA") is None
    for path in ("/orgs/octo/members/newbie", "/orgs/mona/members/mona"):
        status, body = await raw("GET", path)
        assert status == 404 and errors("GET", MEMBERSHIP, 404, body) == []
        assert body["message"] == "User does not exist or is not a member of the organization"
    pull = fake.add_pull_request_commits("octo", "hello", 1, [commit()])
    assert pull["base"]["repo"]["owner"]["type"] == "Organization", "an owner with members is one"
    fake.assert_no_violations()


def test_a_204_has_no_body():
    assert errors("GET", MEMBERSHIP, 204, {"message": "hi"}) == ["a 204 answer has no body"]


async def test_check_run_times_and_annotations(fake, gh):
    annotation = {
        "path": "README.md",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "warning",
        "message": "m",
    }
    created = await gh.post(
        "/repos/octo/hello/check-runs",
        data={
            "name": "DCO",
            "head_sha": "a" * 40,
            "started_at": "2024-01-01T10:00:00+02:00",
            "completed_at": "2024-01-01T10:05:00+02:00",
            "conclusion": "failure",
            "output": {"title": "t", "summary": "s", "annotations": [annotation]},
        },
    )
    assert errors("POST", CHECK_RUNS, 201, created) == []
    assert (created["started_at"], created["completed_at"]) == (
        "2024-01-01T08:00:00Z",
        "2024-01-01T08:05:00Z",
    )
    assert created["output"]["annotations_count"] == 1
    url = f"/repos/octo/hello/check-runs/{created['id']}"
    rerun = await gh.patch(url, data={"status": "in_progress"})
    assert (rerun["conclusion"], rerun["completed_at"]) == (None, None)
    done = await gh.patch(
        url,
        data={"conclusion": "success", "output": {"summary": "ok", "annotations": [annotation]}},
    )
    assert done["completed_at"] > "2024-01-02" and done["output"]["annotations_count"] == 2
    assert done["output"]["title"] == "t", "what an update leaves out stays"
    assert fake.check_runs("octo", "hello")[0]["annotations"] == [annotation, annotation]
    fake.assert_no_violations()


# The manifest flow ----------------------------------------------------------------------

MANIFEST = {
    "name": "Community Bot",
    "url": "https://example.org/community-bot",
    "description": "Welcomes newcomers.",
    "hook_attributes": {"url": "https://bot.example.org/webhook", "active": True},
    "redirect_url": "https://bot.example.org/setup/callback?step=2",
    "public": False,
    "default_permissions": {"issues": "write", "pull_requests": "write", "checks": "write"},
    "default_events": ["issues", "issue_comment", "pull_request", "check_run"],
}
CONVERSION = "/app-manifests/{code}/conversions"


class _Form(HTMLParser):
    """The form on a page: its action, its inputs' values by name, and its button's text."""

    def __init__(self, page):
        super().__init__()
        self.action, self.fields, self.button, self._in_button = None, {}, "", False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs["action"]
        elif tag == "input":
            self.fields[attrs["name"]] = attrs.get("value", "")
        self._in_button = tag == "button"

    def handle_endtag(self, tag):
        self._in_button = False

    def handle_data(self, data):
        if self._in_button:
            self.button += data


async def post_manifest(session, fake, manifest=MANIFEST, *, org=None, state="s 1/2"):
    """Post a manifest as the bot's page makes a browser do; returns (status, page)."""
    path = "/settings/apps/new" if org is None else f"/organizations/{org}/settings/apps/new"
    params = {} if state is None else {"state": state}
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    async with session.post(
        fake.url + path, params=params, data={"manifest": text}, allow_redirects=False
    ) as answer:
        return answer.status, await answer.text()


async def confirm(session, fake, page, **changes):
    """Press "Create GitHub App" on the page, the form's fields changed so; (status, Location)."""
    form = _Form(page)
    async with session.post(
        fake.url + form.action, data={**form.fields, **changes}, allow_redirects=False
    ) as answer:
        return answer.status, answer.headers.get("Location") or await answer.text()


async def register(session, fake, manifest=MANIFEST, **confirm_changes):
    """The whole web part of the flow; returns the code GitHub redirects with."""
    status, page = await post_manifest(session, fake, manifest)
    assert status == 200, page
    status, location = await confirm(session, fake, page, **confirm_changes)
    assert status == 302, location
    return parse_qs(urlsplit(location).query)["code"][0]


async def convert(session, fake, code):
    """POST /app-manifests/{code}/conversions, with no credentials at all; (status, JSON)."""
    async with session.post(f"{fake.url}/app-manifests/{code}/conversions") as answer:
        return answer.status, await answer.json()


@pytest.mark.parametrize("org", [None, "octo-org"], ids=["personal", "organisation"])
async def test_the_manifest_page_asks_to_create_the_app(fake_github, session, org):
    status, page = await post_manifest(session, fake_github, org=org)
    assert status == 200
    assert f"<h1>Create GitHub App for {org or 'octocat'}</h1>" in page
    form = _Form(page)
    assert form.button == "Create GitHub App"
    assert form.fields["name"] == "Community Bot" and form.fields["state"] == "s 1/2"
    assert fake_github.registered_apps == [] and fake_github.calls == [], "nothing created yet"


@pytest.mark.parametrize(
    "manifest, problem",
    [
        pytest.param("{not json", "the manifest is not JSON", id="not-json"),
        pytest.param([MANIFEST], "the manifest is not a JSON object", id="not-an-object"),
        pytest.param({**MANIFEST, "url": None}, "url must be an http(s) URL", id="url-null"),
        pytest.param({k: v for k, v in MANIFEST.items() if k != "url"}, "url is required", id="no-url"),
        pytest.param(
            {k: v for k, v in MANIFEST.items() if k != "redirect_url"},
            "redirect_url is required",
            id="no-redirect-url",
        ),
        pytest.param(
            {**MANIFEST, "redirect_url": "javascript:alert(1)"},
            "redirect_url must be an http(s) URL",
            id="redirect-url-not-http",
        ),
        pytest.param(
            {**MANIFEST, "hook_attributes": {"active": True}},
            "hook_attributes.url is required while the webhook is active",
            id="hook-without-url",
        ),
        pytest.param(
            {**MANIFEST, "default_permissions": {"issues": "admin"}},
            "default_permissions: issues is read or write, not 'admin'",
            id="permission-level",
        ),
        pytest.param(
            {**MANIFEST, "default_permissions": {"issue": "write"}},
            "default_permissions: unknown permission 'issue'",
            id="unknown-permission",
        ),
        pytest.param(
            {**MANIFEST, "default_events": "issues"},
            "default_events must be a list of event names",
            id="events-not-a-list",
        ),
        pytest.param(
            {**MANIFEST, "default_permissions": {"issues": "write"}},
            "default_events: pull_request needs the pull_requests permission",
            id="event-without-permission",
        ),
        pytest.param({**MANIFEST, "hook_atributes": {}}, "unknown key 'hook_atributes'", id="typo"),
    ],
)
async def test_a_manifest_github_would_not_take_is_refused(fake_github, session, manifest, problem):
    status, page = await post_manifest(session, fake_github, manifest)
    assert status == 422 and html.escape(problem) in page
    assert any(problem in error for error in fake_github.manifest_errors)
    assert fake_github.manifest_errors[0].startswith("POST /settings/apps/new: ")


async def test_a_webhook_that_is_off_needs_no_url(fake_github, session):
    manifest = {**MANIFEST, "hook_attributes": {"active": False}, "default_events": []}
    status, page = await post_manifest(session, fake_github, manifest)
    assert status == 200 and fake_github.manifest_errors == []


async def test_creating_the_app_redirects_with_a_code_and_the_state(fake_github, session):
    status, page = await post_manifest(session, fake_github)
    status, location = await confirm(session, fake_github, page)
    assert status == 302
    url = urlsplit(location)
    assert location.startswith("https://bot.example.org/setup/callback?step=2&code=")
    assert parse_qs(url.query) == {
        "step": ["2"],
        "code": [fake_github.registered_apps[0]["code"]],
        "state": ["s 1/2"],
    }
    [registration] = fake_github.registered_apps
    assert registration["manifest"] == MANIFEST and registration["app"] is None
    assert (registration["owner"], registration["state"]) == ("octocat", "s 1/2")
    assert fake_github.webhook_secret is None, "not until the code is converted"

    status, again = await confirm(session, fake_github, page)
    assert status == 404, "the confirmation is used up"


async def test_without_a_state_none_comes_back(fake_github, session):
    status, page = await post_manifest(session, fake_github, org="octo-org", state=None)
    assert "state" not in _Form(page).fields
    status, location = await confirm(session, fake_github, page)
    assert set(parse_qs(urlsplit(location).query)) == {"step", "code"}
    assert fake_github.registered_apps[0]["owner"] == "octo-org"


@pytest.mark.parametrize(
    "name, problem",
    [
        pytest.param("  ", html.escape("Name can't be blank"), id="blank"),
        pytest.param("x" * 35, "Name is too long (maximum is 34 characters)", id="too-long"),
    ],
)
async def test_the_name_is_checked_when_the_app_is_created(fake_github, session, name, problem):
    status, page = await post_manifest(session, fake_github)
    status, answer = await confirm(session, fake_github, page, name=name)
    assert status == 422 and problem in answer
    assert _Form(answer).button == "Create GitHub App", "the form again, to correct the name"
    assert len(fake_github.manifest_errors) == 1 and fake_github.registered_apps == []


async def test_an_app_name_is_taken_once(fake_github, session):
    await register(session, fake_github)
    status, page = await post_manifest(session, fake_github)
    status, answer = await confirm(session, fake_github, page, name="community  BOT")
    assert status == 422 and "Name is already in use" in answer


async def test_the_conversion_answers_the_new_app_once(fake_github, session):
    code = await register(session, fake_github, name="My Community Bot")
    status, app = await convert(session, fake_github, code)
    assert status == 201 and errors("POST", CONVERSION, 201, app) == []
    assert (app["id"], app["slug"], app["name"]) == (1001, "my-community-bot", "My Community Bot")
    assert app["owner"]["login"] == "octocat" and app["owner"]["type"] == "User"
    assert app["html_url"] == f"{fake_github.url}/apps/my-community-bot"
    assert app["external_url"] == MANIFEST["url"]
    assert app["description"] == MANIFEST["description"]
    assert app["permissions"] == {"metadata": "read", **MANIFEST["default_permissions"]}
    assert app["events"] == MANIFEST["default_events"] and app["installations_count"] == 0
    assert app["client_id"] and app["client_secret"] and app["webhook_secret"]
    # A key generated for this conversion, which loads as the RSA key GitHub hands out.
    assert isinstance(serialization.load_pem_private_key(app["pem"].encode(), password=None), rsa.RSAPrivateKey)
    assert (fake_github.app_id, fake_github.app_slug) == (1001, "my-community-bot")
    assert fake_github.webhook_secret == app["webhook_secret"]
    assert fake_github.registered_apps[0]["app"]["pem"] == app["pem"]

    status, again = await convert(session, fake_github, code)
    assert status == 404 and again["message"] == "Not Found"
    assert errors("POST", CONVERSION, 404, again) == []
    assert fake_github.conversions == [code, code]


async def test_an_organisations_app_is_owned_by_it(fake_github, session):
    status, page = await post_manifest(session, fake_github, org="octo-org")
    status, location = await confirm(session, fake_github, page)
    status, app = await convert(session, fake_github, parse_qs(urlsplit(location).query)["code"][0])
    assert status == 201 and errors("POST", CONVERSION, 201, app) == []
    assert (app["owner"]["login"], app["owner"]["type"]) == ("octo-org", "Organization")


async def test_unknown_and_expired_codes_are_not_found(fake_github, session):
    status, answer = await convert(session, fake_github, "abc")
    assert status == 404 and errors("POST", CONVERSION, 404, answer) == []
    fake_github.manifest_code_lifetime = 0
    code = await register(session, fake_github)
    status, answer = await convert(session, fake_github, code)
    assert status == 404, "an hour has passed"
    assert fake_github.app_id == 1 and fake_github.webhook_secret is None


async def test_once_converted_the_fake_is_the_new_app(fake_github, session):
    code = await register(session, fake_github)
    status, app = await convert(session, fake_github, code)
    new_jwt = get_jwt(app_id=str(app["id"]), private_key=app["pem"])
    app_gh = GitHubAPI(session, "test", base_url=fake_github.url)
    current = await app_gh.getitem("/app", jwt=new_jwt)
    assert errors("GET", "/app", 200, current) == []
    assert (current["id"], current["slug"], current["name"]) == (1001, "community-bot", "Community Bot")
    assert "pem" not in current and "client_secret" not in current
    token = await app_gh.post(f"/app/installations/{INSTALLATION_ID}/access_tokens", data=b"", jwt=new_jwt)
    assert token["token"].startswith("ghs_")

    for old_jwt in (
        get_jwt(app_id="1", private_key=make_private_key()[0]),
        get_jwt(app_id=str(app["id"]), private_key=make_private_key()[0]),
    ):
        with pytest.raises(BadRequest) as refused:
            await app_gh.getitem("/app", jwt=old_jwt)
        assert refused.value.status_code == 401


# Sign in with GitHub: the app's OAuth client, user tokens, installations --------------------

CALLBACK = "https://bot.example.org/auth/callback"
ACCESS_TOKEN = "/login/oauth/access_token"


def authorize_query(client_id, state="s 1/2", redirect_uri=CALLBACK):
    query = {"client_id": client_id, "state": state, "redirect_uri": redirect_uri}
    return {name: value for name, value in query.items() if value is not None}


async def authorize(session, fake, query):
    """GET GitHub's authorization page; (status, page or Location)."""
    async with session.get(f"{fake.url}/login/oauth/authorize", params=query, allow_redirects=False) as answer:
        return answer.status, answer.headers.get("Location") or await answer.text()


async def exchange(session, fake, accept_json=True, as_json=False, **fields):
    """POST /login/oauth/access_token; (status, answer as a dict)."""
    headers = {"Accept": "application/json"} if accept_json else {}
    data = {"json": fields} if as_json else {"data": fields}
    async with session.post(f"{fake.url}{ACCESS_TOKEN}", headers=headers, **data) as answer:
        if accept_json:
            return answer.status, await answer.json()
        return answer.status, {name: values[0] for name, values in parse_qs(await answer.text()).items()}


def code_of(location):
    return parse_qs(urlsplit(location).query)["code"][0]


async def test_the_authorization_page_asks_the_signed_in_person(fake_github, session):
    client_id, _ = fake_github.oauth_client(callback_urls=[CALLBACK])
    fake_github.signed_in_login = "mona"
    status, page = await authorize(session, fake_github, authorize_query(client_id))
    assert status == 200 and "<h1>Authorize Community Bot</h1>" in page and "mona" in page
    form = _Form(page)
    assert form.button == "Authorize Community Bot" and form.action == "/login/oauth/authorize/confirm"
    assert form.fields == authorize_query(client_id)
    async with session.post(fake_github.url + form.action, data=form.fields, allow_redirects=False) as answer:
        assert answer.status == 302
        location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?code=")
    assert parse_qs(urlsplit(location).query)["state"] == ["s 1/2"], "echoed unchanged"
    assert fake_github.calls == [], "web pages, not API calls"


async def test_no_page_for_an_unknown_client_nor_without_anyone_signed_in(fake_github, session):
    client_id, _ = fake_github.oauth_client()
    status, page = await authorize(session, fake_github, authorize_query("Iv1.unknown"))
    assert status == 404
    status, page = await authorize(session, fake_github, authorize_query(client_id))
    assert status == 403 and "No one is signed in" in page
    fake_github.signed_in_login = "mona"
    status, page = await authorize(session, fake_github, authorize_query(client_id, redirect_uri=None))
    assert status == 400, "no redirect_uri, and no callback URL to fall back on"


async def test_auto_authorize_redirects_at_once(fake_github, session):
    client_id, client_secret = fake_github.oauth_client(callback_urls=[CALLBACK])
    fake_github.signed_in_login, fake_github.auto_authorize = "mona", True
    status, location = await authorize(session, fake_github, authorize_query(client_id, state=None, redirect_uri=None))
    assert status == 302 and set(parse_qs(urlsplit(location).query)) == {"code"}, "no state given, none back"
    assert location.startswith(CALLBACK + "?"), "without redirect_uri, the first callback URL"
    status, answer = await exchange(
        session, fake_github, client_id=client_id, client_secret=client_secret, code=code_of(location)
    )
    assert status == 200 and answer["access_token"].startswith("ghu_")


async def test_a_redirect_uri_that_is_no_callback_url_is_refused(fake_github, session):
    client_id, _ = fake_github.oauth_client(callback_urls=[CALLBACK, "http://127.0.0.1:8080/callback"])
    fake_github.signed_in_login = "mona"
    query = authorize_query(client_id, redirect_uri="https://evil.example/steal")
    status, location = await authorize(session, fake_github, query)
    assert status == 302 and location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["error"] == ["redirect_uri_mismatch"]
    assert parse_qs(urlsplit(location).query)["state"] == ["s 1/2"]
    fake_github.auto_authorize = True
    query = authorize_query(client_id, redirect_uri="http://127.0.0.1:8080/callback")
    status, location = await authorize(session, fake_github, query)
    assert location.startswith("http://127.0.0.1:8080/callback?code=")


async def test_a_code_is_exchanged_once_for_a_user_token(fake_github, session):
    client_id, client_secret = fake_github.oauth_client(callback_urls=[CALLBACK])
    fake_github.signed_in_login, fake_github.auto_authorize = "mona", True
    code = code_of((await authorize(session, fake_github, authorize_query(client_id)))[1])
    credentials = {"client_id": client_id, "client_secret": client_secret}

    status, answer = await exchange(session, fake_github, client_id=client_id, client_secret="wrong", code=code)
    assert status == 200 and answer["error"] == "incorrect_client_credentials"
    status, answer = await exchange(session, fake_github, **credentials, code=code, redirect_uri=CALLBACK + "/x")
    assert answer["error"] == "redirect_uri_mismatch"
    status, answer = await exchange(session, fake_github, **credentials, code=code, redirect_uri=CALLBACK)
    assert status == 200 and answer["token_type"] == "bearer" and answer["scope"] == ""
    assert answer["access_token"].startswith("ghu_") and len(answer["access_token"]) == 40
    gh = GitHubAPI(session, "test", oauth_token=answer["access_token"], base_url=fake_github.url)
    assert (await gh.getitem("/user"))["login"] == "mona"

    status, again = await exchange(session, fake_github, **credentials, code=code)
    assert status == 200 and again["error"] == "bad_verification_code", "used up"
    assert set(again) == {"error", "error_description", "error_uri"}
    status, unknown = await exchange(session, fake_github, **credentials, code="0123456789abcdef0123")
    assert unknown["error"] == "bad_verification_code"


async def test_the_exchange_takes_json_and_answers_a_form_unless_asked_for_json(fake_github, session):
    client_id, client_secret = fake_github.oauth_client()
    fake_github.signed_in_login, fake_github.auto_authorize = "mona", True
    credentials = {"client_id": client_id, "client_secret": client_secret}
    code = code_of((await authorize(session, fake_github, authorize_query(client_id)))[1])
    status, answer = await exchange(session, fake_github, accept_json=False, as_json=True, **credentials, code=code)
    assert status == 200 and answer["access_token"].startswith("ghu_") and answer["token_type"] == "bearer"


async def test_a_code_lasts_ten_minutes(fake_github, session):
    client_id, client_secret = fake_github.oauth_client()
    fake_github.signed_in_login, fake_github.auto_authorize = "mona", True
    assert fake_github.oauth_code_lifetime == 600
    fake_github.oauth_code_lifetime = 0
    code = code_of((await authorize(session, fake_github, authorize_query(client_id)))[1])
    status, answer = await exchange(session, fake_github, client_id=client_id, client_secret=client_secret, code=code)
    assert answer["error"] == "bad_verification_code"


async def test_an_app_made_from_a_manifest_signs_people_in_with_its_client(fake_github, session):
    manifest = {**MANIFEST, "callback_urls": [CALLBACK]}
    status, app = await convert(session, fake_github, await register(session, fake_github, manifest))
    fake_github.signed_in_login, fake_github.auto_authorize = "mona", True
    status, location = await authorize(session, fake_github, authorize_query(app["client_id"], redirect_uri=None))
    assert location.startswith(CALLBACK + "?code=")
    status, answer = await exchange(
        session, fake_github, client_id=app["client_id"], client_secret=app["client_secret"], code=code_of(location)
    )
    assert answer["access_token"].startswith("ghu_")


@pytest.fixture
def installations(fake):
    """octo-org's installation 42 (a public and a private repository), and mona's own, 43."""
    fake.add_installation(42, "octo-org", ["public-repo", "secret-repo", "other-repo"], private=["secret-repo"])
    fake.add_installation(43, "mona", ["dotfiles"], account_type="User", all_repositories=True)
    return fake


async def test_a_user_token_answers_who_it_is_and_what_they_may_see(installations, session, base_url):
    fake = installations
    fake.grant_user_access("Mona", 42, ["public-repo", "secret-repo"])
    fake.grant_user_access("mona", 43)
    gh = GitHubAPI(session, "test", oauth_token=fake.user_token("mona"), base_url=base_url)
    user = await gh.getitem("/user")
    assert user["login"] == "mona" and errors("GET", "/user", 200, user) == []

    answer = await gh.getitem("/user/installations")
    assert errors("GET", "/user/installations", 200, answer) == []
    assert answer["total_count"] == 2
    assert [(i["id"], i["account"]["login"], i["target_type"]) for i in answer["installations"]] == [
        (42, "octo-org", "Organization"),
        (43, "mona", "User"),
    ]
    paged = gh.getiter("/user/installations?per_page=1", iterable_key="installations")
    assert [i["id"] async for i in paged] == [42, 43]

    template = "/user/installations/{installation_id}/repositories"
    answer = await gh.getitem(template, {"installation_id": 42})
    assert errors("GET", template, 200, answer) == []
    assert answer["total_count"] == 2 and answer["repository_selection"] == "selected"
    assert [(r["full_name"], r["private"], r["owner"]["type"]) for r in answer["repositories"]] == [
        ("octo-org/public-repo", False, "Organization"),
        ("octo-org/secret-repo", True, "Organization"),
    ]
    assert answer["repositories"][1]["visibility"] == "private"
    paged = gh.getiter(template + "?per_page=1", {"installation_id": 42}, iterable_key="repositories")
    assert [r["name"] async for r in paged] == ["public-repo", "secret-repo"]
    assert (await gh.getitem(template, {"installation_id": 43}))["repository_selection"] == "all"
    fake.assert_no_violations()


async def test_someone_sees_no_installation_they_were_not_granted(installations, session, base_url):
    gh = GitHubAPI(session, "test", oauth_token=installations.user_token("hubot"), base_url=base_url)
    assert await gh.getitem("/user/installations") == {"total_count": 0, "installations": []}
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/user/installations/42/repositories")
    assert refused.value.status_code == 404
    installations.revoke_tokens()
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/user")
    assert refused.value.status_code == 401
    installations.assert_no_violations()


def test_access_is_granted_to_what_an_installation_covers(installations):
    with pytest.raises(ValueError, match="does not cover nowhere"):
        installations.grant_user_access("mona", 42, ["public-repo", "nowhere"])
    with pytest.raises(LookupError, match="no installation 99"):
        installations.grant_user_access("mona", 99)
    with pytest.raises(ValueError, match="exists already"):
        installations.add_installation(42, "octo-org")
    with pytest.raises(ValueError, match="does not cover"):
        installations.add_installation(44, "octo-org", ["a"], private=["b"])


async def test_user_endpoints_refuse_installation_tokens_and_jwts(installations, app_gh, gh):
    fake = installations
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/user/installations")
    assert refused.value.status_code == 403
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    with pytest.raises(BadRequest) as refused:
        await app_gh.getitem("/user", jwt=app_jwt)
    assert refused.value.status_code == 401
    assert [violation.split(": ", 1)[1] for violation in fake.violations] == [
        "needs a user access token, not an installation token",
        "needs a user access token: authorization: bearer <token>",
    ]


async def test_installation_endpoints_refuse_user_tokens(installations, session, base_url):
    fake = installations
    gh = GitHubAPI(session, "test", oauth_token=fake.user_token("mona"), base_url=base_url)
    for path in ("/installation/repositories", "/repos/octo-org/public-repo/issues"):
        with pytest.raises(BadRequest) as refused:
            await gh.getitem(path)
        assert refused.value.status_code == 403
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/app/installations")
    assert refused.value.status_code == 401
    assert len(fake.violations) == 3


async def test_the_app_finds_its_installations(installations, app_gh, session, base_url):
    fake = installations
    app_jwt = get_jwt(app_id=str(APP_ID), private_key=make_private_key()[0])
    listed = [i async for i in app_gh.getiter("/app/installations?per_page=1", jwt=app_jwt)]
    assert [i["id"] for i in listed] == [42, 43]
    # This listing's description has the account be a user and an enterprise at once (allOf);
    # GitHub answers an installation, as everywhere else.
    assert [rest_spec().schema_errors("/components/schemas/installation", i) for i in listed] == [[], []]
    found = {
        "/orgs/octo-org/installation": 42,
        "/users/mona/installation": 43,
        "/repos/OCTO-ORG/secret-repo/installation": 42,
        "/repos/mona/dotfiles/installation": 43,
    }
    for path, installation_id in found.items():
        answer = await app_gh.getitem(path, jwt=app_jwt)
        assert answer["id"] == installation_id and answer["app_id"] == APP_ID
    assert errors("GET", "/orgs/{org}/installation", 200, answer) == []
    for path in ("/orgs/mona/installation", "/users/octo-org/installation", "/repos/octo-org/nowhere/installation"):
        with pytest.raises(BadRequest) as refused:
            await app_gh.getitem(path, jwt=app_jwt)
        assert refused.value.status_code == 404

    gh = GitHubAPI(session, "test", oauth_token=await new_token(app_gh, 42), base_url=base_url)
    answer = await gh.getitem("/installation/repositories")
    assert errors("GET", "/installation/repositories", 200, answer) == []
    assert [r["full_name"] for r in answer["repositories"]] == [
        "octo-org/public-repo", "octo-org/secret-repo", "octo-org/other-repo",
    ]
    elsewhere = GitHubAPI(session, "test", oauth_token=await new_token(app_gh, 7), base_url=base_url)
    assert (await elsewhere.getitem("/installation/repositories"))["total_count"] == 0, "an installation not added"
    fake.assert_no_violations()


async def test_a_spent_rate_limit_is_refused_until_its_reset(fake, gh, token, session, base_url):
    fake.set_rate_limit(0, installation_id=INSTALLATION_ID, reset_in=0.5)
    async with session.get(f"{base_url}/repos/octo/hello", headers={"authorization": f"token {token}"}) as answer:
        assert answer.status == 403 and answer.headers["x-ratelimit-remaining"] == "0"
        assert (await answer.json())["message"] == f"API rate limit exceeded for installation ID {INSTALLATION_ID}."
        reset = int(answer.headers["x-ratelimit-reset"])
    user_gh = GitHubAPI(session, "test", oauth_token=fake.user_token("mona"), base_url=base_url)
    assert (await user_gh.getitem("/user"))["login"] == "mona", "a person's limit is their own"
    await asyncio.sleep(max(reset - time.time(), 0) + 0.05)
    async with session.get(f"{base_url}/repos/octo/hello", headers={"authorization": f"token {token}"}) as answer:
        assert answer.status == 404 and answer.headers["x-ratelimit-remaining"] == "4999", "a new window"
    assert fake.violations == []


# Licenses: dependency review, a repository's license, a pull request's files --------------

DIFF = "/repos/{owner}/{repo}/dependency-graph/compare/{basehead}"
FILES = "/repos/{owner}/{repo}/pulls/{pull_number}/files"


async def test_dependency_review_answers_what_was_seeded_and_nothing_otherwise(gh, fake):
    changes = [
        dependency_change("@acme/ui", "1.0.0"),
        dependency_change("org.apache.commons:commons-text", "1.10.0", ecosystem="maven", license="Apache-2.0"),
        dependency_change("requests", "2.32.0", ecosystem="pip", scope="development", change_type="removed", license=None),
    ]
    fake.set_dependency_changes("octo", "hello", ("a" * 40, "b" * 40), changes)
    answer = await gh.getitem(DIFF, {"owner": "octo", "repo": "hello", "basehead": f"{'a' * 40}...{'b' * 40}"})
    assert [c["package_url"] for c in answer] == [
        "pkg:npm/%40acme/ui@1.0.0",
        "pkg:maven/org.apache.commons/commons-text@1.10.0",
        "pkg:pypi/requests@2.32.0",
    ]
    assert [c["manifest"] for c in answer] == ["package-lock.json", "pom.xml", "requirements.txt"]
    assert rest_spec().response_errors("GET", DIFF, 200, answer) == []
    assert await gh.getitem(DIFF, {"owner": "octo", "repo": "hello", "basehead": "main...feature"}) == []


@pytest.mark.parametrize("status", [403, 404])
async def test_dependency_review_where_the_graph_is_off(gh, fake, status):
    fake.disable_dependency_graph("octo", "hello", status=status)
    with pytest.raises(BadRequest) as refused:
        await gh.getitem(DIFF, {"owner": "octo", "repo": "hello", "basehead": "main...feature"})
    assert refused.value.status_code == status
    if status == 403:
        assert str(refused.value) == DEPENDENCY_GRAPH_OFF.format(owner="octo", repo="hello")
    fake.assert_no_violations()


async def test_a_repositorys_license_or_none(gh, fake):
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello/license")
    assert refused.value.status_code == 404
    fake.set_repository_license("octo", "hello", "Apache-2.0")
    answer = await gh.getitem("/repos/octo/hello/license")
    assert (answer["path"], answer["license"]["spdx_id"], answer["license"]["key"]) == ("LICENSE", "Apache-2.0", "apache-2.0")
    assert rest_spec().response_errors("GET", "/repos/{owner}/{repo}/license", 200, answer) == []
    fake.set_repository_license("octo", "hello", None)
    with pytest.raises(BadRequest):
        await gh.getitem("/repos/octo/hello/license")
    fake.assert_no_violations()


async def test_a_pull_requests_files_are_paginated_up_to_3000(gh, fake):
    pull = fake.add_pull_request_commits("octo", "hello", 3, [commit(message="Many files")])
    assert await gh.getitem("/repos/octo/hello/pulls/3/files") == []
    fake.add_pull_request_files("octo", "hello", 3, [pull_file(f"src/f{i}.py", patch="@@ -0,0 +1 @@\n+x = 1") for i in range(3100)])
    listed = [f async for f in gh.getiter(FILES + "{?per_page}", {"owner": "octo", "repo": "hello", "pull_number": 3, "per_page": 100})]
    assert len(listed) == 3000 and listed[0]["filename"] == "src/f0.py" and listed[0]["additions"] == 1
    assert len(fake.calls_to("GET", FILES)) == 1 + 30  # the empty list, then 30 pages
    assert rest_spec().response_errors("GET", FILES, 200, listed[:100]) == []
    assert pull["number"] == 3
    with pytest.raises(BadRequest) as refused:
        await gh.getitem("/repos/octo/hello/pulls/404/files")
    assert refused.value.status_code == 404
    fake.assert_no_violations()


async def test_a_files_page_github_would_refuse_is_a_violation(gh, fake):
    fake.add_pull_request_commits("octo", "hello", 3, [commit(message="One file")])
    with pytest.raises(BadRequest):
        await gh.getitem("/repos/octo/hello/pulls/three/files")
    assert "pull_number='three'" in fake.violations[0]
