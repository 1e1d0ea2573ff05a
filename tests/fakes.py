"""The fake GitHub REST API every test talks to.

It answers like api.github.com for the endpoints in fixtures/rest-api-subset.json
(regenerate it with fixtures/make_rest_subset.py) and, just as importantly,
refuses what GitHub would refuse. Each request is checked against GitHub's own
OpenAPI description: method and path, integer path parameters, query
parameters, JSON request body. A request that fails is answered the way GitHub
would answer it and recorded in `FakeGitHub.violations`, so a test that only
passes because the fake accepted something GitHub would not fails on
`fake.assert_no_violations()`. So does a request the fake cannot answer the way
GitHub would, such as a search qualifier it does not imitate. Credentials are
checked too: a JWT signed with the app's key for the /app endpoints, an
unexpired installation token issued by the fake everywhere else.

Issues and pull requests, their labels, assignees and reactions, comments,
files, people's roles and community profiles have state: seed it with add_issue(),
add_comment(), add_file(), set_permission() and the like, and read it back with
issue(), comments(), labels() and `reactions`.

    fake = FakeGitHub(app_id=1, public_key_pem=public_pem)
    server = await aiohttp_server(fake.app)   # the bot's GITHUB_API_URL
    ...
    fake.assert_no_violations()

API URLs inside answers point at the fake server, as they point at the API host
on any GitHub installation, so a client may follow them.
"""

from __future__ import annotations

import base64
import collections
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
# A repository role, weakest first, and the older `permission` GitHub also answers for it.
LEGACY_PERMISSIONS = {
    "none": "none",
    "read": "read",
    "triage": "read",
    "write": "write",
    "maintain": "write",
    "admin": "admin",
}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")

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


@dataclass
class _Issue:
    """An issue or pull request as the fake keeps it; answers are rendered from it.

    Labels and comments are kept elsewhere and looked up when answering, so that an
    answer always shows the repository's label as it is now, and the comment count.
    """

    owner: str  # as first spelled, for URLs; looked up case-insensitively
    repo: str
    number: int
    id: int
    title: str
    body: str | None
    user: dict
    author_association: str
    created_at: float
    updated_at: float
    pull_request: bool = False
    draft: bool = False
    merged_at: float | None = None
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    closed_by: dict | None = None
    labels: list[str] = field(default_factory=list)  # lower-case names of repository labels
    assignees: list[dict] = field(default_factory=list)  # user objects
    locked: bool = False
    active_lock_reason: str | None = None
    performed_via_github_app: dict | None = None
    in_search: bool = True  # False until GitHub's search index has caught up with it


Handler = Callable[[web.Request, dict[str, str], Any], _Reply]
FileKey = tuple[str, str, str, str | None]  # owner, repo, path, ref
RepoKey = tuple[str, str]  # owner, repo, in lower case


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
        self._issues: dict[tuple[str, str, int], _Issue] = {}
        self._labels: dict[RepoKey, dict[str, dict]] = {}  # lower-case name -> label
        self._roles: dict[tuple[str, str, str], str] = {}  # owner, repo, login -> role
        self._profiles: dict[RepoKey, dict[str, Any]] = {}
        # Reactions made through the API, oldest first: {"on": "comment", "id": comment_id,
        # "content": "+1"} or {"on": "issue", "owner": o, "repo": r, "number": n, "content": ...}.
        self.reactions: list[dict] = []
        self._reaction_objects: dict[tuple, dict] = {}  # (target..., content) -> reaction
        self._ids = itertools.count(1)
        self._once: list[_Programmed] = []
        self._sticky: list[_Programmed] = []
        self._auth_calls = [(method, self._pattern(path)) for method, path in AUTH_CALLS]
        # GitHub counts each installation's requests apart (and the app's own, by JWT).
        self._rate_remaining: dict[int | None, int] = collections.defaultdict(lambda: RATE_LIMIT)
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
            ("GET", "/search/issues"): self._search_issues,
            ("GET", "/repos/{owner}/{repo}/issues"): self._list_issues,
            ("POST", "/repos/{owner}/{repo}/issues"): self._create_issue,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"): self._get_issue,
            ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"): self._update_issue,
            ("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/lock"): self._lock_issue,
            ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/lock"): self._unlock_issue,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"): self._add_assignees,
            (
                "DELETE",
                "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
            ): self._remove_assignees,
            ("GET", "/repos/{owner}/{repo}/labels"): self._list_labels,
            ("POST", "/repos/{owner}/{repo}/labels"): self._create_label,
            ("GET", "/repos/{owner}/{repo}/labels/{name}"): self._get_label,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._list_issue_labels,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"): self._add_issue_labels,
            (
                "DELETE",
                "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            ): self._remove_issue_label,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"): self._react_to_issue,
            (
                "POST",
                "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            ): self._react_to_comment,
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
            ): self._get_permission,
            ("GET", "/repos/{owner}/{repo}/community/profile"): self._get_community_profile,
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

    def delete_comment(self, comment_id: int) -> None:
        """Remove a comment, as if someone deleted it on GitHub."""
        for comments in self._comments.values():
            for comment in comments:
                if comment["id"] == comment_id:
                    comments.remove(comment)
                    return
        raise LookupError(f"no comment {comment_id}")

    def add_issue(
        self,
        owner: str,
        repo: str,
        *,
        author: str = "octocat",
        author_id: int | None = None,
        title: str = "An issue",
        body: str | None = "",
        number: int | None = None,
        pull_request: bool = False,
        merged: bool = False,
        draft: bool = False,
        state: str = "open",
        labels: Collection[str] = (),
        assignees: Collection[str] = (),
        created_at: str | float | datetime | None = None,
        in_search: bool = True,
        author_association: str | None = None,
    ) -> dict:
        """Seed an issue, or a pull request, as GET /repos/{owner}/{repo}/issues/{n} answers it.

        Issues and pull requests share a repository's numbers; without one, the next
        free number. A merged pull request is closed, whatever state says. An empty
        body is kept as null, as GitHub keeps it. Missing labels are created, as
        adding them through the API does. author_association defaults to OWNER for
        the repository's owner and NONE for anyone else. in_search=False is GitHub's
        search index lagging behind: the item exists but search does not find it
        until index_for_search().
        """
        if (merged or draft) and not pull_request:
            raise ValueError("only a pull request can be merged or a draft")
        if state not in ("open", "closed"):
            raise ValueError(f"state must be open or closed, not {state!r}")
        numbers = [n for (o, r, n) in self._issues if (o, r) == _repo_key(owner, repo)]
        if number is None:
            number = max(numbers, default=0) + 1
        elif number in numbers:
            raise ValueError(f"{owner}/{repo}#{number} exists already")
        created = time.time() if created_at is None else _epoch(created_at)
        kind = "Bot" if author.endswith("[bot]") else "User"
        if author_association is None:
            author_association = "OWNER" if author.lower() == owner.lower() else "NONE"
        issue = _Issue(
            owner=owner,
            repo=repo,
            number=number,
            id=next(self._ids),
            title=title,
            body=body or None,
            user=_user(author, kind, author_id),
            author_association=author_association,
            created_at=created,
            updated_at=created,
            pull_request=pull_request,
            draft=draft,
            in_search=in_search,
        )
        if merged:
            issue.merged_at = created
            state = "closed"
        if state == "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", created, issue.user
            issue.state_reason = None if pull_request else "completed"
        issue.labels = [self._label(owner, repo, name)["name"].lower() for name in labels]
        issue.assignees = [_user(login) for login in dict.fromkeys(assignees)]
        self._issues[_issue_key(owner, repo, number)] = issue
        return self._issue_object(issue, single=True)

    def issue(self, owner: str, repo: str, number: int) -> dict:
        """An issue or pull request as GitHub answers it now: labels, assignees, state, locked."""
        return self._issue_object(self._stored_issue(owner, repo, number), single=True)

    def index_for_search(self, owner: str, repo: str, number: int) -> None:
        """GitHub's search index catches up with an item seeded with in_search=False."""
        self._stored_issue(owner, repo, number).in_search = True

    def add_label(
        self,
        owner: str,
        repo: str,
        name: str,
        color: str = "ededed",
        description: str | None = None,
    ) -> dict:
        """Seed a repository label, or redefine the one of that name (in any case)."""
        label = self._label(owner, repo, name)
        url = f"{GITHUB_API}/repos/{owner}/{repo}/labels/{quote(name, safe='')}"
        label.update(name=name, url=url, color=color, description=description)
        return copy.deepcopy(label)

    def labels(self, owner: str, repo: str) -> list[dict]:
        """The repository's labels, oldest first."""
        return copy.deepcopy(list(self._labels.get(_repo_key(owner, repo), {}).values()))

    def set_permission(self, owner: str, repo: str, login: str, role: str) -> None:
        """Someone's role on a repository; anyone not set has read, as on a public one."""
        if role not in LEGACY_PERMISSIONS:
            raise ValueError(f"role must be one of {', '.join(LEGACY_PERMISSIONS)}, not {role!r}")
        self._roles[(owner.lower(), repo.lower(), login.lower())] = role

    def set_community_profile(
        self,
        owner: str,
        repo: str,
        *,
        contributing: bool | str = False,
        code_of_conduct: bool | str = False,
    ) -> None:
        """Which community health files GitHub finds for the repository.

        True means the usual file at the root of the default branch (CONTRIBUTING.md,
        CODE_OF_CONDUCT.md); a string is the file's path instead, such as
        docs/CONTRIBUTING.md. Never set, a repository has none of them.
        """
        self._profiles[_repo_key(owner, repo)] = {
            "owner": owner,
            "repo": repo,
            "contributing": "CONTRIBUTING.md" if contributing is True else contributing or None,
            "code_of_conduct": (
                "CODE_OF_CONDUCT.md" if code_of_conduct is True else code_of_conduct or None
            ),
            "updated_at": time.time(),
        }

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
        return self._http_response(request, call, self._reply(request, call, raw_body))

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

    def _http_response(self, request: web.Request, call: Call, reply: _Reply) -> web.Response:
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
            return web.Response(status=304, headers={"ETag": etag, **self._rate_limit_headers(call.installation_id)})
        self._rate_remaining[call.installation_id] = max(self._rate_remaining[call.installation_id] - 1, 0)
        for name, value in self._rate_limit_headers(call.installation_id).items():
            headers.setdefault(name, value)
        return web.Response(status=reply.status, body=payload, headers=headers)

    def _rate_limit_headers(self, installation_id: int | None) -> dict[str, str]:
        remaining = self._rate_remaining[installation_id]
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used": str(RATE_LIMIT - remaining),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Resource": "core",
        }

    def _page(self, request: web.Request, items: list, status: int = 200) -> _Reply:
        """One page of items, with GitHub's Link header to the others."""
        page, headers = self._paginate(request, items)
        return _Reply(status, page, headers)

    def _paginate(self, request: web.Request, items: list) -> tuple[list, dict[str, str]]:
        """The requested page of items, and the headers linking to the others."""
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
        return items[(page - 1) * per_page : page * per_page], {"Link": link} if link else {}

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

    # Issues and pull requests ------------------------------------------------------------

    def _search_issues(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        query = _SearchQuery.parse(request.query["q"])
        for qualifier in query.unknown:
            self.violations.append(
                f"GET {request.path}: the fake does not imitate the search qualifier "
                f"{qualifier!r}; teach tests/fakes.py (_SearchQuery) what GitHub does with it"
            )
        found = [i for i in self._issues.values() if i.in_search and query.matches(i)]
        # Best match first, GitHub's default, is newest first here: every score is 1.
        sort = request.query.get("sort")
        if sort not in ("created", "updated", "comments"):
            sort = "created"
        found = self._sorted(found, sort, request.query.get("order", "desc"))
        items, headers = self._paginate(request, found)
        answer = {
            "total_count": len(found),
            "incomplete_results": False,
            "search_type": "lexical",
            "items": [self._search_item(issue) for issue in items],
        }
        return _Reply(200, answer, headers)

    def _list_issues(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        query = request.query
        for name in ("mentioned", "type", "issue_field_values"):
            if name in query:
                self.violations.append(
                    f"GET {request.path}: the fake does not imitate the {name} parameter; "
                    "teach tests/fakes.py (_list_issues) what GitHub does with it"
                )
        state = query.get("state", "open")
        wanted_labels = {n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()}
        assignee = query.get("assignee")
        creator = query.get("creator")
        milestone = query.get("milestone")
        try:
            since = _epoch(query["since"]) if "since" in query else None
        except ValueError:
            return _validation_failed("Issue", "since", "invalid")
        found = []
        for issue in self._repo_issues(params["owner"], params["repo"]):
            assigned = {user["login"].lower() for user in issue.assignees}
            if (
                (state != "all" and issue.state != state)
                or not wanted_labels <= set(issue.labels)
                or (assignee == "none" and assigned)
                or (assignee == "*" and not assigned)
                or (assignee not in (None, "none", "*") and assignee.lower() not in assigned)
                or (creator is not None and issue.user["login"].lower() != creator.lower())
                or (milestone not in (None, "none"))  # the fake has no milestones
                or (since is not None and issue.updated_at < since)
            ):
                continue
            found.append(issue)
        found = self._sorted(found, query.get("sort", "created"), query.get("direction", "desc"))
        page, headers = self._paginate(request, found)
        return _Reply(200, [self._issue_object(issue) for issue in page], headers)

    def _create_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        numbers = [issue.number for issue in self._repo_issues(owner, repo)]
        now = time.time()
        issue = _Issue(
            owner=owner,
            repo=repo,
            number=max(numbers, default=0) + 1,
            id=next(self._ids),
            title=str(body["title"]),
            body=body.get("body") or None,
            user=_user(f"{self.app_slug}[bot]", "Bot"),
            author_association="NONE",
            created_at=now,
            updated_at=now,
            performed_via_github_app=self._integration(),
        )
        self._issues[_issue_key(owner, repo, issue.number)] = issue
        self._set_labels(issue, body.get("labels") or [])
        self._set_assignees(issue, body)
        answer = self._issue_object(issue, single=True)
        location = f"{request.url.origin()}/repos/{owner}/{repo}/issues/{issue.number}"
        return _Reply(201, answer, {"Location": location})

    def _get_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        return _error(404) if issue is None else _Reply(200, self._issue_object(issue, single=True))

    def _update_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        body = body if isinstance(body, dict) else {}
        if body.get("milestone") is not None:  # the fake has no milestones
            return _validation_failed("Issue", "milestone", "invalid")
        state, reason = body.get("state"), body.get("state_reason")
        if state == "open" and issue.merged_at is not None:  # merged stays closed
            return _validation_failed("Issue", "state", "invalid")
        now = time.time()
        if body.get("title") is not None:
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = body["body"] or None
        if state == "closed" and issue.state == "open":
            issue.state, issue.closed_at = "closed", now
            issue.closed_by = _user(f"{self.app_slug}[bot]", "Bot")
            issue.state_reason = None if issue.pull_request else reason or "completed"
        elif state == "open" and issue.state == "closed":
            issue.state, issue.closed_at, issue.closed_by = "open", None, None
            issue.state_reason = None if issue.pull_request else "reopened"
        elif reason is not None and issue.state == "closed" and not issue.pull_request:
            issue.state_reason = reason
        if "labels" in body:
            issue.labels = []
            self._set_labels(issue, body["labels"] or [])
        if "assignees" in body or "assignee" in body:
            issue.assignees = []
            self._set_assignees(issue, body)
        issue.updated_at = now
        return _Reply(200, self._issue_object(issue, single=True))

    def _lock_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        issue.locked = True
        issue.active_lock_reason = body.get("lock_reason") if isinstance(body, dict) else None
        issue.updated_at = time.time()
        return _Reply(204)

    def _unlock_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        issue.locked, issue.active_lock_reason, issue.updated_at = False, None, time.time()
        return _Reply(204)

    def _add_assignees(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        self._set_assignees(issue, body if isinstance(body, dict) else {})
        issue.updated_at = time.time()
        return _Reply(201, self._issue_object(issue, single=True))

    def _remove_assignees(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        gone = {login.lower() for login in body["assignees"]}
        issue.assignees = [user for user in issue.assignees if user["login"].lower() not in gone]
        issue.updated_at = time.time()
        return _Reply(200, self._issue_object(issue, single=True))

    def _stored_issue(self, owner: str, repo: str, number: int) -> _Issue:
        issue = self._issues.get(_issue_key(owner, repo, number))
        if issue is None:
            raise LookupError(f"no issue or pull request {owner}/{repo}#{number}; add_issue() it")
        return issue

    def _find_issue(self, params: dict[str, str]) -> _Issue | None:
        return self._issues.get(
            _issue_key(params["owner"], params["repo"], int(params["issue_number"]))
        )

    def _repo_issues(self, owner: str, repo: str) -> list[_Issue]:
        repository = _repo_key(owner, repo)
        return [issue for key, issue in self._issues.items() if key[:2] == repository]

    def _sorted(self, issues: list[_Issue], sort: str, direction: str) -> list[_Issue]:
        def key(issue: _Issue) -> tuple:
            if sort == "updated":
                return issue.updated_at, issue.number
            if sort == "comments":
                return len(self._comments.get(self._key_of(issue), [])), issue.number
            return issue.created_at, issue.number

        return sorted(issues, key=key, reverse=direction != "asc")

    def _set_labels(self, issue: _Issue, labels: list) -> None:
        """Add labels (names, or objects with a name) to the issue, creating missing ones."""
        for label in labels:
            name = label["name"] if isinstance(label, dict) else str(label)
            key = self._label(issue.owner, issue.repo, name)["name"].lower()
            if key not in issue.labels:
                issue.labels.append(key)

    def _set_assignees(self, issue: _Issue, body: dict) -> None:
        """Add the body's assignees (logins, or objects with a login) to the issue.

        Like GitHub, at most ten, and anyone may be assigned: the fake does not
        check who can be.
        """
        logins = [a["login"] if isinstance(a, dict) else a for a in body.get("assignees") or []]
        if body.get("assignee"):
            logins.append(body["assignee"])
        for login in logins:
            known = {user["login"].lower() for user in issue.assignees}
            if login.lower() not in known and len(issue.assignees) < 10:
                issue.assignees.append(_user(login))

    def _key_of(self, issue: _Issue) -> tuple[str, str, int]:
        return _issue_key(issue.owner, issue.repo, issue.number)

    def _issue_object(self, issue: _Issue, *, single: bool = False) -> dict:
        """The issue as GitHub answers it: closed_by only where one issue is asked for."""
        repository = f"{GITHUB_API}/repos/{issue.owner}/{issue.repo}"
        url = f"{repository}/issues/{issue.number}"
        html = f"{GITHUB_HTML}/{issue.owner}/{issue.repo}"
        labels = self._labels.get(_repo_key(issue.owner, issue.repo), {})
        assignees = copy.deepcopy(issue.assignees)
        answer = {
            "url": url,
            "repository_url": repository,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{html}/{'pull' if issue.pull_request else 'issues'}/{issue.number}",
            "id": issue.id,
            "node_id": f"{'PR' if issue.pull_request else 'I'}_{issue.id}",
            "number": issue.number,
            "title": issue.title,
            "user": copy.deepcopy(issue.user),
            "labels": [copy.deepcopy(labels[name]) for name in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "comments": len(self._comments.get(self._key_of(issue), [])),
            "created_at": _timestamp(issue.created_at),
            "updated_at": _timestamp(issue.updated_at),
            "closed_at": None if issue.closed_at is None else _timestamp(issue.closed_at),
            "author_association": issue.author_association,
            "active_lock_reason": issue.active_lock_reason,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": issue.body,
            "reactions": self._reaction_rollup(issue, url),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": copy.deepcopy(issue.performed_via_github_app),
            "state_reason": issue.state_reason,
        }
        if single:
            answer["closed_by"] = copy.deepcopy(issue.closed_by)
        if issue.pull_request:
            merged_at = issue.merged_at
            answer["draft"] = issue.draft
            answer["pull_request"] = {
                "url": f"{repository}/pulls/{issue.number}",
                "html_url": f"{html}/pull/{issue.number}",
                "diff_url": f"{html}/pull/{issue.number}.diff",
                "patch_url": f"{html}/pull/{issue.number}.patch",
                "merged_at": None if merged_at is None else _timestamp(merged_at),
            }
        return answer

    def _search_item(self, issue: _Issue) -> dict:
        item = {**self._issue_object(issue), "score": 1.0}
        # The description types a search result's body as a string, never null, so an
        # empty one is left out here; read it with .get("body").
        if item["body"] is None:
            del item["body"]
        return item

    # Labels ---------------------------------------------------------------------------

    def _list_labels(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        return self._page(request, self.labels(params["owner"], params["repo"]))

    def _create_label(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo, name = params["owner"], params["repo"], body["name"]
        if name.lower() in self._labels.get(_repo_key(owner, repo), {}):
            return _validation_failed("Label", "name", "already_exists")
        color = body.get("color", "ededed")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            return _validation_failed("Label", "color", "invalid")
        label = self.add_label(owner, repo, name, color, body.get("description"))
        location = f"{request.url.origin()}/repos/{owner}/{repo}/labels/{quote(name, safe='')}"
        return _Reply(201, label, {"Location": location})

    def _get_label(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        labels = self._labels.get(_repo_key(params["owner"], params["repo"]), {})
        label = labels.get(params["name"].lower())
        return _error(404) if label is None else _Reply(200, copy.deepcopy(label))

    def _list_issue_labels(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        return self._page(request, self._issue_object(issue)["labels"])

    def _add_issue_labels(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        self._set_labels(issue, body.get("labels", []) if isinstance(body, dict) else [])
        issue.updated_at = time.time()
        return _Reply(200, self._issue_object(issue)["labels"])

    def _remove_issue_label(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        name = params["name"].lower()
        if name not in issue.labels:
            return _error(404, "Label does not exist")
        issue.labels.remove(name)
        issue.updated_at = time.time()
        return _Reply(200, self._issue_object(issue)["labels"])

    def _label(self, owner: str, repo: str, name: str) -> dict:
        """The repository's label of that name, in any case; created like GitHub does if missing."""
        labels = self._labels.setdefault(_repo_key(owner, repo), {})
        if name.lower() not in labels:
            label_id = next(self._ids)
            labels[name.lower()] = {
                "id": label_id,
                "node_id": f"LA_{label_id}",
                "url": f"{GITHUB_API}/repos/{owner}/{repo}/labels/{quote(name, safe='')}",
                "name": name,
                "color": "ededed",
                "default": False,
                "description": None,
            }
        return labels[name.lower()]

    # Reactions --------------------------------------------------------------------------

    def _react_to_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(params)
        if issue is None:
            return _error(404)
        record = {
            "on": "issue",
            "owner": params["owner"],
            "repo": params["repo"],
            "number": issue.number,
            "content": body["content"],
        }
        return self._react(("issue", *self._key_of(issue), body["content"]), record)

    def _react_to_comment(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        if self._find_comment(params) is None:
            return _error(404)
        comment_id = int(params["comment_id"])
        record = {"on": "comment", "id": comment_id, "content": body["content"]}
        return self._react(("comment", comment_id, body["content"]), record)

    def _react(self, key: tuple, record: dict) -> _Reply:
        """The bot's reaction: 201 when new, 200 with the same one when it reacted so already."""
        existing = self._reaction_objects.get(key)
        if existing is not None:
            return _Reply(200, existing)
        reaction_id = next(self._ids)
        reaction = {
            "id": reaction_id,
            "node_id": f"REA_{reaction_id}",
            "user": _user(f"{self.app_slug}[bot]", "Bot"),
            "content": record["content"],
            "created_at": _timestamp(time.time()),
        }
        self._reaction_objects[key] = reaction
        self.reactions.append(record)
        return _Reply(201, reaction)

    def _reaction_rollup(self, issue: _Issue, url: str) -> dict:
        counts = dict.fromkeys(REACTIONS, 0)
        for (on, *target, content) in self._reaction_objects:
            if on == "issue" and tuple(target) == self._key_of(issue):
                counts[content] += 1
        return {"url": f"{url}/reactions", "total_count": sum(counts.values()), **counts}

    # Who is who -------------------------------------------------------------------------

    def _get_permission(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo, login = params["owner"], params["repo"], params["username"]
        role = self._roles.get((owner.lower(), repo.lower(), login.lower()), "read")
        ladder = list(LEGACY_PERMISSIONS)  # weakest first
        has = {name: ladder.index(role) >= ladder.index(name) for name in ladder}
        user = {
            **_user(login, "Bot" if login.endswith("[bot]") else "User"),
            "permissions": {
                "admin": has["admin"],
                "maintain": has["maintain"],
                "push": has["write"],
                "triage": has["triage"],
                "pull": has["read"],
            },
            "role_name": role,
        }
        return _Reply(
            200, {"permission": LEGACY_PERMISSIONS[role], "role_name": role, "user": user}
        )

    def _get_community_profile(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        profile = self._profiles.get(_repo_key(params["owner"], params["repo"]))
        if profile is None:
            profile = {"owner": params["owner"], "repo": params["repo"], "updated_at": None}
        owner, repo = profile["owner"], profile["repo"]

        def health_file(path: str | None) -> dict | None:
            if path is None:
                return None
            return {
                "url": f"{GITHUB_API}/repos/{owner}/{repo}/contents/{path}",
                "html_url": f"{GITHUB_HTML}/{owner}/{repo}/blob/main/{path}",
            }

        files = dict.fromkeys(
            ["contributing", "issue_template", "pull_request_template", "license", "readme"]
        )
        files["contributing"] = health_file(profile.get("contributing"))
        files["code_of_conduct_file"] = health_file(profile.get("code_of_conduct"))
        files["code_of_conduct"] = files["code_of_conduct_file"] and {
            "key": "contributor_covenant",
            "name": "Contributor Covenant",
            "url": f"{GITHUB_API}/codes_of_conduct/contributor_covenant",
            "html_url": files["code_of_conduct_file"]["html_url"],
        }
        # GitHub's checklist: README, code of conduct, contributing, licence, issue and
        # pull request templates. Its exact weighting is not published; equal weights here.
        checked = ("readme", "code_of_conduct", "contributing", "license")
        checked += ("issue_template", "pull_request_template")
        present = sum(files[name] is not None for name in checked)
        updated = profile["updated_at"]
        return _Reply(
            200,
            {
                "health_percentage": round(100 * present / len(checked)),
                "description": None,
                "documentation": None,
                "files": files,
                "updated_at": None if updated is None else _timestamp(updated),
                "content_reports_enabled": False,
            },
        )

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


def _validation_failed(resource: str, field: str, code: str) -> _Reply:
    reply = _error(422, "Validation Failed")
    reply.json["errors"] = [{"resource": resource, "code": code, "field": field}]
    return reply


def _issue_key(owner: str, repo: str, number: int) -> tuple[str, str, int]:
    # Owner and repository names are case-insensitive on GitHub.
    return owner.lower(), repo.lower(), number


def _repo_key(owner: str, repo: str) -> RepoKey:
    return owner.lower(), repo.lower()


def _file_key(owner: str, repo: str, path: str, ref: str | None) -> FileKey:
    return owner.lower(), repo.lower(), path, ref


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(moment: str | float | datetime) -> float:
    """Seconds since the epoch, from a number, a datetime, or an ISO 8601 string."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return float(moment)


def _user(login: str, kind: str = "User", user_id: int | None = None) -> dict:
    # Derived from the login, so the same account has the same id in every answer.
    if user_id is None:
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


# Search ----------------------------------------------------------------------------------

# A qualifier (name:value, the value maybe quoted, maybe a comma-separated list), a
# quoted phrase, or a word; any of them negated by a leading minus.
_SEARCH_TERM = re.compile(
    r'(?P<negated>-)?(?:'
    r'(?P<name>[a-z][a-z-]*):(?P<value>(?:"[^"]*"|[^\s",]+)(?:,(?:"[^"]*"|[^\s",]+))*)'
    r'|"(?P<phrase>[^"]*)"'
    r'|(?P<word>\S+))',
    re.IGNORECASE,
)
_SCOPES = ("repo", "org", "user")  # several of these widen the search, as on GitHub


@dataclass
class _SearchQuery:
    """GitHub's issue search syntax, as far as the bot uses it.

    Qualifiers AND together, except that repo:, org: and user: qualifiers OR
    together, and comma-separated values inside one qualifier OR together
    (label:bug,"help wanted"). Other words must each appear, in any case, in the
    title or the body. Qualifiers the fake does not know are collected in
    `unknown`; it would not answer them the way GitHub does.
    """

    scopes: list[tuple[str, str]] = field(default_factory=list)
    tests: list[tuple[bool, Callable[[_Issue], bool]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, q: str) -> _SearchQuery:
        query = cls()
        for term in _SEARCH_TERM.finditer(q):
            negated = term["negated"] is not None
            if term["name"] is None:
                text = (term["phrase"] if term["phrase"] is not None else term["word"]).lower()
                query.tests.append((negated, functools.partial(_mentions, text)))
                continue
            name = term["name"].lower()
            values = [a if a else b for a, b in re.findall(r'"([^"]*)"|([^,]+)', term["value"])]
            if name in _SCOPES and not negated:
                query.scopes += [(name, value.lower()) for value in values]
                continue
            test = _qualifier_test(name, [value.lower() for value in values])
            if test is None:
                query.unknown.append(term[0])
            else:
                query.tests.append((negated, test))
        return query

    def matches(self, issue: _Issue) -> bool:
        if self.scopes and not any(_in_scope(issue, *scope) for scope in self.scopes):
            return False
        return all(test(issue) != negated for negated, test in self.tests)


def _mentions(text: str, issue: _Issue) -> bool:
    return text in issue.title.lower() or text in (issue.body or "").lower()


def _in_scope(issue: _Issue, name: str, value: str) -> bool:
    if name == "repo":
        return f"{issue.owner}/{issue.repo}".lower() == value
    return issue.owner.lower() == value  # org: or user:


def _qualifier_test(name: str, values: list[str]) -> Callable[[_Issue], bool] | None:
    """Whether an issue meets the qualifier name:value1,value2 (any of the values)."""
    if name == "author":
        logins = {v.removeprefix("app/") + "[bot]" if v.startswith("app/") else v for v in values}
        return lambda issue: issue.user["login"].lower() in logins
    if name == "assignee":
        return lambda issue: any(u["login"].lower() in values for u in issue.assignees)
    if name == "label":
        return lambda issue: any(value in issue.labels for value in values)
    if name in ("is", "type", "state", "no", "draft"):
        facts = {
            "is": {
                "open": lambda issue: issue.state == "open",
                "closed": lambda issue: issue.state == "closed",
                "issue": lambda issue: not issue.pull_request,
                "pr": lambda issue: issue.pull_request,
                "pull-request": lambda issue: issue.pull_request,
                "merged": lambda issue: issue.merged_at is not None,
                "unmerged": lambda issue: issue.pull_request and issue.merged_at is None,
                "locked": lambda issue: issue.locked,
                "unlocked": lambda issue: not issue.locked,
                "draft": lambda issue: issue.draft,
            },
            "type": {
                "issue": lambda issue: not issue.pull_request,
                "pr": lambda issue: issue.pull_request,
            },
            "state": {
                "open": lambda issue: issue.state == "open",
                "closed": lambda issue: issue.state == "closed",
            },
            "no": {
                "assignee": lambda issue: not issue.assignees,
                "label": lambda issue: not issue.labels,
                "milestone": lambda issue: True,  # the fake has no milestones
            },
            "draft": {
                "true": lambda issue: issue.draft,
                "false": lambda issue: issue.pull_request and not issue.draft,
            },
        }[name]
        if not all(value in facts for value in values):
            return None
        return lambda issue: any(facts[value](issue) for value in values)
    return None


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
