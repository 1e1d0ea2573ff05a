"""The fake GitHub REST API every test talks to.

It answers like api.github.com for the endpoints in fixtures/rest-api-subset.json
(regenerate it with fixtures/make_rest_subset.py) and, just as importantly,
refuses what GitHub would refuse. Each request is checked against GitHub's own
OpenAPI description: method and path, integer path parameters, query
parameters, JSON request body. A request that fails is answered the way GitHub
would answer it and recorded in `FakeGitHub.violations`, so a test that only
passes because the fake accepted something GitHub would not fails on
`fake.assert_no_violations()`. Credentials are checked too: a JWT signed with
the app's key for the /app endpoints, an unexpired installation token issued by
the fake everywhere else.

    fake = FakeGitHub(app_id=1, public_key_pem=public_pem)
    server = await aiohttp_server(fake.app)   # the bot's GITHUB_API_URL
    ...
    fake.assert_no_violations()

API URLs inside answers point at the fake server, as they point at the API host
on any GitHub installation, so a client may follow them.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import string
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema import Draft4Validator
from multidict import CIMultiDict
from referencing import Registry
from referencing.jsonschema import DRAFT4

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GITHUB_API = "https://api.github.com"
GITHUB_HTML = "https://github.com"
DOCS_URL = "https://docs.github.com/rest"

# The manifest flow creates the app, so it runs before there are any credentials.
UNAUTHENTICATED = {"/app-manifests/{code}/conversions"}
# What it costs to authenticate, as opposed to the work the bot does.
AUTH_CALLS = [("GET", "/app"), ("POST", "/app/installations/{installation_id}/access_tokens")]
# GitHub refuses app JWTs that expire more than ten minutes from now.
MAX_JWT_LIFETIME = 600
RATE_LIMIT = 5000

_SPEC_URI = "urn:github:rest-api-subset"
_TOKEN_CHARACTERS = string.ascii_letters + string.digits
_ABSENT = object()  # no request body, as opposed to a JSON null


# Helpers for tests ---------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header GitHub sends with a webhook delivery."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=1)
def make_private_key() -> tuple[str, str]:
    """A throwaway 2048-bit RSA key pair for the app: (private PKCS#8 PEM, public PEM).

    Generating one takes a noticeable fraction of a second, so the run shares one.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


@functools.cache
def load_examples() -> list[tuple[str, dict]]:
    """Every (event name, payload) of GitHub's published webhook examples.

    The payloads are shared by the whole run: use example() for one to modify.
    """
    groups = json.loads((FIXTURES / "webhook-examples.json").read_text(encoding="utf-8"))
    return [(group["name"], payload) for group in groups for payload in group["examples"]]


def example(event: str, action: str | None = None, index: int = 0) -> dict:
    """A copy of the index-th real payload of that event (and action)."""
    matches = [
        payload
        for name, payload in load_examples()
        if name == event and (action is None or payload.get("action") == action)
    ]
    try:
        return copy.deepcopy(matches[index])
    except IndexError:
        actions = sorted({p.get("action") or "" for name, p in load_examples() if name == event})
        raise LookupError(
            f"no example #{index} of {event!r} with action {action!r}; "
            f"{len(matches)} match, actions of {event!r}: {actions}"
        ) from None


# GitHub's REST API description ----------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    schema: dict
    schema_pointer: str
    multi_segment: bool  # a path parameter that may contain slashes


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]  # matches the raw (percent-encoded) request path
    parameters: tuple[Parameter, ...]
    body_pointer: str | None  # JSON pointer to the request body's schema
    body_required: bool

    @property
    def paginated(self) -> bool:
        return any(p.location == "query" and p.name == "page" for p in self.parameters)


class RestSpec:
    """The vendored subset of GitHub's OpenAPI description, ready to check requests."""

    def __init__(self, document: dict) -> None:
        self.document = _nullable_as_null_type(document)
        self._registry = Registry().with_resource(_SPEC_URI, DRAFT4.create_resource(self.document))
        self._validators: dict[str, Draft4Validator] = {}
        operations = [
            self._operation(method, template)
            for template, methods in self.document["paths"].items()
            for method in methods
        ]
        # Like a router: where templates overlap, literal segments beat parameters.
        self.operations = sorted(
            operations, key=lambda op: [s.startswith("{") for s in op.template.split("/")]
        )
        self.multi_segment = {
            p.name for op in self.operations for p in op.parameters if p.multi_segment
        }

    def find(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving method and path, and its decoded path parameters."""
        for operation in self.operations:
            match = operation.pattern.fullmatch(raw_path) if operation.method == method else None
            if match:
                return operation, {name: unquote(v) for name, v in match.groupdict().items()}
        return None

    def problems(
        self,
        operation: Operation,
        path_params: Mapping[str, str],
        query: Mapping[str, str],
        body: Any,
    ) -> list[str]:
        """Why GitHub would refuse this request (body is _ABSENT if there is none)."""
        problems = []
        for param in operation.parameters:
            value = (path_params if param.location == "path" else query).get(param.name)
            if value is None:
                if param.required:
                    problems.append(f"missing required {param.location} parameter {param.name!r}")
                continue
            problems += [
                f"{param.location} parameter {param.name}={value!r}: {error}"
                for error in self.schema_errors(param.schema_pointer, _typed(value, param.schema))
            ]
        # GitHub ignores a body sent to an endpoint that takes none.
        if operation.body_pointer is None:
            return problems
        if body is _ABSENT:
            if operation.body_required:
                problems.append("missing required JSON request body")
        else:
            errors = self.schema_errors(operation.body_pointer, body)
            problems += [f"request body: {error}" for error in errors]
        return problems

    def response_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """How body differs from what the description says GitHub answers."""
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        _, pointer = self._resolve(self._at(pointer), pointer)
        return self.schema_errors(f"{pointer}/content/application~1json/schema", body)

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        """How instance fails the schema at pointer in the description."""
        if pointer not in self._validators:
            self._validators[pointer] = Draft4Validator(
                {"$ref": f"{_SPEC_URI}#{pointer}"}, registry=self._registry
            )
        return [
            (f"at {'/'.join(map(str, error.absolute_path))}: " if error.absolute_path else "")
            + _shorten(error.message)
            for error in self._validators[pointer].iter_errors(instance)
        ]

    def _operation(self, method: str, template: str) -> Operation:
        pointer = f"/paths/{_escape(template)}/{method}"
        node = self._at(pointer)
        parameters = []
        for index, param in enumerate(node.get("parameters", ())):
            param, param_pointer = self._resolve(param, f"{pointer}/parameters/{index}")
            parameters.append(
                Parameter(
                    name=param["name"],
                    location=param["in"],
                    required=param.get("required", False),
                    schema=param["schema"],
                    schema_pointer=f"{param_pointer}/schema",
                    multi_segment=param.get("x-multi-segment", False),
                )
            )
        body_pointer, body_required = None, False
        if "requestBody" in node:
            body, body_pointer = self._resolve(node["requestBody"], f"{pointer}/requestBody")
            body_pointer += "/content/application~1json/schema"
            body_required = body.get("required", False)
        multi_segment = {p.name for p in parameters if p.multi_segment}
        return Operation(
            method=method.upper(),
            template=template,
            pattern=_path_pattern(template, multi_segment),
            parameters=tuple(parameters),
            body_pointer=body_pointer,
            body_required=body_required,
        )

    def _at(self, pointer: str) -> Any:
        node = self.document
        for segment in pointer.split("/")[1:]:
            node = node[segment.replace("~1", "/").replace("~0", "~")]
        return node

    def _resolve(self, node: dict, pointer: str) -> tuple[dict, str]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self._at(pointer)
        return node, pointer


@functools.cache
def rest_spec() -> RestSpec:
    """fixtures/rest-api-subset.json, loaded once per process."""
    return RestSpec(json.loads((FIXTURES / "rest-api-subset.json").read_text(encoding="utf-8")))


def _nullable_as_null_type(node: Any) -> Any:
    """Rewrite OpenAPI 3.0's `nullable: true`, which JSON Schema lacks, as "or null"."""
    if isinstance(node, list):
        return [_nullable_as_null_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    # A bool: `properties` may well describe a field called "nullable".
    converted = {
        key: _nullable_as_null_type(value)
        for key, value in node.items()
        if not (key == "nullable" and isinstance(value, bool))
    }
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _typed(value: str, schema: dict) -> Any:
    """A path or query parameter as the type its schema expects, where it parses as one."""
    if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if schema.get("type") == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _path_pattern(template: str, multi_segment: Collection[str]) -> re.Pattern[str]:
    """A regex for a path template: each {name} matches one segment, or more if multi-segment."""
    regex = ""
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2:  # a parameter's name
            regex += f"(?P<{part}>{'.+' if part in multi_segment else '[^/]+'})"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The fake ---------------------------------------------------------------------------


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]
    json: Any | None
    headers: dict[str, str]  # names in lower case
    installation_id: int | None = None  # whose installation token authenticated it


@dataclass
class _Reply:
    status: int
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Programmed:
    method: str
    pattern: re.Pattern[str]
    reply: _Reply
    times: int | None

    def matches(self, call: Call) -> bool:
        return call.method == self.method and self.pattern.fullmatch(call.path) is not None


Handler = Callable[[web.Request, dict[str, str], Any], _Reply]
FileKey = tuple[str, str, str, str | None]  # owner, repo, path, ref


class FakeGitHub:
    """GitHub's REST API for one GitHub App, in memory; serve `app` with aiohttp."""

    def __init__(
        self,
        app_id: int = 1,
        public_key_pem: str | bytes | None = None,
        app_slug: str = "community-bot",
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.token_lifetime = 3600  # seconds
        self.tokens_issued = 0
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{path:.*}", self._handle)
        self._spec = rest_spec()
        # Without a key the JWT's claims are still checked, only not its signature.
        self._public_key = public_key_pem
        self._tokens: dict[str, tuple[int, float]] = {}  # token -> installation id, expiry
        self._comments: dict[tuple[str, str, int], list[dict]] = {}
        self._files: dict[FileKey, str] = {}
        self._ids = itertools.count(1)
        self._once: list[_Programmed] = []
        self._sticky: list[_Programmed] = []
        self._auth_calls = [(method, self._pattern(path)) for method, path in AUTH_CALLS]
        self._rate_remaining = RATE_LIMIT
        self._rate_reset = int(time.time()) + 3600
        self._handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/app"): self._get_app,
            ("POST", "/app/installations/{installation_id}/access_tokens"): self._create_token,
            ("GET", "/repos/{owner}/{repo}/contents/{path}"): self._get_contents,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._list_comments,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._create_comment,
            ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._get_comment,
            ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._update_comment,
            ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): self._delete_comment,
        }

    # What tests use --------------------------------------------------------------

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError(
                "GitHub would have refused these requests:\n"
                + "\n".join(f"  - {violation}" for violation in self.violations)
            )

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Calls to a concrete path, or to a template such as /repos/{owner}/{repo}."""
        pattern = self._pattern(path)
        return [c for c in self.calls if c.method == method.upper() and pattern.fullmatch(c.path)]

    def api_calls(self) -> list[Call]:
        """The calls that do the bot's work: all but GET /app and token requests."""
        return [
            call
            for call in self.calls
            if not any(call.method == m and p.fullmatch(call.path) for m, p in self._auth_calls)
        ]

    def reset_calls(self) -> None:
        self.calls.clear()

    def respond(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer method on path (concrete or a template) like this from now on.

        With times=N only the next N matching requests get this answer; such
        one-off answers are used up first, in the order they were programmed.
        Otherwise the answer sticks, and the latest sticky one wins. Requests
        are still checked against the API description first. A list answered
        to a GET of a paginated endpoint is paginated like GitHub does.
        """
        method = method.upper()
        if self._spec.find(method, quote(re.sub(r"\{\w+\}", "1", path))) is None:
            raise ValueError(
                f"{method} {path} is not in fixtures/rest-api-subset.json; "
                "add it to fixtures/make_rest_subset.py"
            )
        if json is None and status >= 400:
            json = _error(status).json
        reply = _Reply(status, json, dict(headers or {}))
        programmed = _Programmed(method, self._pattern(path), reply, times)
        (self._sticky if times is None else self._once).append(programmed)

    def revoke_tokens(self) -> None:
        """Make every installation token issued so far invalid, as if expired."""
        self._tokens.clear()

    def comments(self, owner: str, repo: str, number: int) -> list[dict]:
        return list(self._comments.get(_issue_key(owner, repo, number), []))

    def add_comment(
        self,
        owner: str,
        repo: str,
        number: int,
        body: str,
        login: str = "someone",
        type: str = "User",
        author_association: str = "NONE",
    ) -> dict:
        """Seed a comment written by someone other than the bot."""
        user = _user(login, type)
        return self._add_comment(owner, repo, number, body, user, author_association, None)

    def add_file(self, owner: str, repo: str, path: str, text: str, ref: str | None = None) -> None:
        """A file on the default branch, or on ref (served only to requests naming that ref)."""
        self._files[_file_key(owner, repo, path, ref)] = text

    def remove_file(self, owner: str, repo: str, path: str, ref: str | None = None) -> None:
        del self._files[_file_key(owner, repo, path, ref)]

    # Serving requests --------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw_body = await request.read()
        call = Call(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            json=None,
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        self.calls.append(call)
        return self._http_response(request, self._reply(request, call, raw_body))

    def _reply(self, request: web.Request, call: Call, raw_body: bytes) -> _Reply:
        found = self._spec.find(call.method, request.rel_url.raw_path)
        if found is None:
            return self._refuse(call, _error(404), "no such endpoint in GitHub's REST API")
        operation, params = found
        body = _ABSENT
        if raw_body:
            try:
                call.json = body = json.loads(raw_body)
            except ValueError:
                return self._refuse(call, _error(400, "Problems parsing JSON"), "body is not JSON")
        problems = self._spec.problems(operation, params, request.query, body)
        if problems:
            error = _error(422, "Invalid request.\n\n" + "\n".join(problems))
            return self._refuse(call, error, "; ".join(problems))
        refusal = self._check_credentials(operation, call)
        if refusal is not None:
            return refusal

        programmed = self._programmed(call)
        if programmed is not None:
            if call.method == "GET" and operation.paginated and isinstance(programmed.json, list):
                page = self._page(request, programmed.json, programmed.status)
                page.headers.update(programmed.headers)
                return page
            return programmed
        handler = self._handlers.get((operation.method, operation.template))
        if handler is not None:
            return handler(request, params, body)
        return self._default_reply(call.method, body)

    def _default_reply(self, method: str, body: Any) -> _Reply:
        """What an endpoint without state or a programmed answer says."""
        if method == "GET":
            return _error(404)
        if method == "DELETE":
            return _Reply(204)
        created = {"id": next(self._ids), **(body if isinstance(body, dict) else {})}
        return _Reply(201 if method == "POST" else 200, created)

    def _refuse(self, call: Call, reply: _Reply, problem: str) -> _Reply:
        self.violations.append(f"{call.method} {call.path}: {problem}")
        return reply

    def _check_credentials(self, operation: Operation, call: Call) -> _Reply | None:
        """None if the call carries the credentials GitHub wants; else GitHub's refusal.

        An expired or revoked token is a normal event the bot must handle, so only
        its refusal is returned. Missing credentials, or the wrong kind, are a bug
        in the bot and also a violation.
        """
        if operation.template in UNAUTHENTICATED:
            return None
        scheme, _, credential = call.headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        is_jwt = credential.count(".") == 2
        refusal = _error(401, "Bad credentials")
        if operation.template == "/app" or operation.template.startswith("/app/"):
            if scheme != "bearer" or not is_jwt:
                problem = "needs the app's JWT: authorization: bearer <JWT>"
                return self._refuse(call, refusal, problem)
            return None if self._valid_jwt(credential) else refusal
        # GitHub takes an installation token with either scheme.
        if scheme not in ("token", "bearer") or is_jwt:
            problem = "needs an installation token: authorization: token <token>"
            return self._refuse(call, refusal, problem)
        installation_id, expires = self._tokens.get(credential, (None, 0.0))
        if time.time() >= expires:
            return refusal
        call.installation_id = installation_id
        return None

    def _valid_jwt(self, token: str) -> bool:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                options={
                    "verify_signature": self._public_key is not None,
                    "verify_exp": True,
                    "verify_iat": True,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.InvalidTokenError:
            return False
        expires_soon_enough = claims["exp"] <= time.time() + MAX_JWT_LIFETIME
        return str(claims["iss"]) == str(self.app_id) and expires_soon_enough

    def _programmed(self, call: Call) -> _Reply | None:
        for programmed in self._once:
            if programmed.matches(call):
                programmed.times -= 1
                if programmed.times <= 0:
                    self._once.remove(programmed)
                return programmed.reply
        for programmed in reversed(self._sticky):
            if programmed.matches(call):
                return programmed.reply
        return None

    def _http_response(self, request: web.Request, reply: _Reply) -> web.Response:
        headers = CIMultiDict()
        payload = None
        if reply.json is not None:
            text = json.dumps(reply.json).replace(f'"{GITHUB_API}/', f'"{request.url.origin()}/')
            payload = text.encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
            if request.method == "GET" and reply.status == 200:
                headers["ETag"] = f'"{hashlib.sha1(payload).hexdigest()}"'
        headers.update(reply.headers)
        etag = headers.get("ETag")
        if_none_match = request.headers.get("If-None-Match", "")
        if etag is not None and etag in [tag.strip() for tag in if_none_match.split(",")]:
            # Conditional requests answered 304 are free on GitHub.
            return web.Response(status=304, headers={"ETag": etag, **self._rate_limit_headers()})
        self._rate_remaining = max(self._rate_remaining - 1, 0)
        for name, value in self._rate_limit_headers().items():
            headers.setdefault(name, value)
        return web.Response(status=reply.status, body=payload, headers=headers)

    def _rate_limit_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(self._rate_remaining),
            "X-RateLimit-Used": str(RATE_LIMIT - self._rate_remaining),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Resource": "core",
        }

    def _page(self, request: web.Request, items: list, status: int = 200) -> _Reply:
        """One page of items, with GitHub's Link header to the others."""
        per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
        page = max(int(request.query.get("page", 1)), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        rels = []
        if page > 1:
            rels.append(("prev", page - 1))
        if page < last:
            rels += [("next", page + 1), ("last", last)]
        if page > 1:
            rels.append(("first", 1))
        link = ", ".join(f'<{request.url.update_query(page=n)}>; rel="{rel}"' for rel, n in rels)
        items = items[(page - 1) * per_page : page * per_page]
        return _Reply(status, items, {"Link": link} if link else {})

    def _pattern(self, path: str) -> re.Pattern[str]:
        return _path_pattern(unquote(path), self._spec.multi_segment)

    # Endpoints with state ----------------------------------------------------------

    def _get_app(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        return _Reply(200, self._integration())

    def _create_token(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        token = "ghs_" + "".join(secrets.choice(_TOKEN_CHARACTERS) for _ in range(36))
        expires = time.time() + self.token_lifetime
        self._tokens[token] = (int(params["installation_id"]), expires)
        self.tokens_issued += 1
        return _Reply(
            201,
            {
                "token": token,
                "expires_at": _timestamp(expires),
                "permissions": {},
                "repository_selection": "all",
            },
        )

    def _get_contents(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo, path = params["owner"], params["repo"], params["path"]
        ref = request.query.get("ref")
        text = self._files.get(_file_key(owner, repo, path, ref))
        if text is None:
            return _error(404)
        return _Reply(200, _file_object(owner, repo, path, ref, text))

    def _list_comments(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        comments = self.comments(params["owner"], params["repo"], int(params["issue_number"]))
        return self._page(request, comments)

    def _create_comment(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        comment = self._add_comment(
            params["owner"],
            params["repo"],
            int(params["issue_number"]),
            body["body"],
            _user(f"{self.app_slug}[bot]", "Bot"),
            "NONE",
            self._integration(),
        )
        return _Reply(201, comment)

    def _get_comment(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        found = self._find_comment(params)
        return _error(404) if found is None else _Reply(200, found[1])

    def _update_comment(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        found = self._find_comment(params)
        if found is None:
            return _error(404)
        found[1].update(body=body["body"], updated_at=_timestamp(time.time()))
        return _Reply(200, found[1])

    def _delete_comment(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        found = self._find_comment(params)
        if found is None:
            return _error(404)
        comments, comment = found
        comments.remove(comment)
        return _Reply(204)

    def _add_comment(
        self,
        owner: str,
        repo: str,
        number: int,
        body: str,
        user: dict,
        author_association: str,
        app: dict | None,
    ) -> dict:
        comment_id = next(self._ids)
        now = _timestamp(time.time())
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{GITHUB_API}/repos/{owner}/{repo}/issues/comments/{comment_id}",
            "html_url": f"{GITHUB_HTML}/{owner}/{repo}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": f"{GITHUB_API}/repos/{owner}/{repo}/issues/{number}",
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
            "author_association": author_association,
            "performed_via_github_app": app,
        }
        self._comments.setdefault(_issue_key(owner, repo, number), []).append(comment)
        return comment

    def _find_comment(self, params: dict[str, str]) -> tuple[list[dict], dict] | None:
        repository = params["owner"].lower(), params["repo"].lower()
        comment_id = int(params["comment_id"])
        for (owner, repo, _), comments in self._comments.items():
            if (owner, repo) == repository:
                for comment in comments:
                    if comment["id"] == comment_id:
                        return comments, comment
        return None

    def _integration(self) -> dict:
        """This app, as GitHub describes a GitHub App."""
        return {
            "id": self.app_id,
            "slug": self.app_slug,
            "node_id": f"A_{self.app_id}",
            "client_id": f"Iv1.{self.app_id:016x}",
            "owner": _user("community-bot-owner", "Organization"),
            "name": "Community Bot",
            "description": "",
            "external_url": "https://example.org/community-bot",
            "html_url": f"{GITHUB_HTML}/apps/{self.app_slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {
                "checks": "write",
                "contents": "read",
                "issues": "write",
                "members": "read",
                "metadata": "read",
                "pull_requests": "write",
            },
            "events": ["issue_comment", "issues", "pull_request"],
            "installations_count": 1,
        }


def _error(status: int, message: str | None = None) -> _Reply:
    return _Reply(
        status,
        {
            "message": message or HTTPStatus(status).phrase,
            "documentation_url": DOCS_URL,
            "status": str(status),
        },
    )


def _issue_key(owner: str, repo: str, number: int) -> tuple[str, str, int]:
    # Owner and repository names are case-insensitive on GitHub.
    return owner.lower(), repo.lower(), number


def _file_key(owner: str, repo: str, path: str, ref: str | None) -> FileKey:
    return owner.lower(), repo.lower(), path, ref


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(login: str, kind: str = "User") -> dict:
    # Derived from the login, so the same account has the same id in every answer.
    user_id = int(hashlib.sha1(login.encode()).hexdigest()[:7], 16)
    url = f"{GITHUB_API}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{GITHUB_HTML}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "site_admin": False,
    }


def _file_object(owner: str, repo: str, path: str, ref: str | None, text: str) -> dict:
    content = text.encode()
    sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # git's blob id
    encoded = base64.b64encode(content).decode()
    branch = ref or "main"
    url = f"{GITHUB_API}/repos/{owner}/{repo}/contents/{path}?ref={branch}"
    git_url = f"{GITHUB_API}/repos/{owner}/{repo}/git/blobs/{sha}"
    html_url = f"{GITHUB_HTML}/{owner}/{repo}/blob/{branch}/{path}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(content),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        # GitHub breaks the base64 into newline-terminated lines of 60 characters.
        "content": "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60)),
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": f"https://raw.githubusercontent.com/{owner}/{repo}/{branch}/{path}",
        "_links": {"self": url, "git": git_url, "html": html_url},
    }
