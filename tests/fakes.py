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
issue(), comments(), labels() and `reactions`. So do a pull request's commits
(add_pull_request_commits(), built with commit()), which also answer the commit
list and comparison endpoints, check runs (read back with check_runs()), and
organisation membership (add_org_member()). So do pull requests' reviews and
review comments (add_review(), add_review_comment(); reviews(), review_comments())
and issues' label events (label_issue(), unlabel_issue(), and the labels the app
adds or removes), which a backfill reads through the repository-wide listings of
comments, review comments and issue events. Seeded at a time, each moves its
issue's updated_at on to it, as on GitHub.

    fake = FakeGitHub(app_id=1, public_key_pem=public_pem)
    server = await aiohttp_server(fake.app)   # the bot's GITHUB_API_URL
    ...
    fake.assert_no_violations()

API URLs inside answers point at the fake server, as they point at the API host
on any GitHub installation, so a client may follow them.

It also plays GitHub's part in the manifest flow that registers an app: the web
pages a browser posts the manifest to (POST /settings/apps/new and
/organizations/{org}/settings/apps/new), where the signed-in user confirms, and the
conversion of the code GitHub redirects with into the new app's credentials. From
then on the fake is that app: its id, slug and key. Read the flow back from
`registered_apps`, `manifest_errors` and `webhook_secret`.

It plays GitHub's part in "Sign in with GitHub" too, with the app's OAuth client
(oauth_client()): the authorization page (GET /login/oauth/authorize) where
`signed_in_login` confirms, or that redirects at once with `auto_authorize`, and
the exchange of the code it redirects with for a user access token (POST
/login/oauth/access_token). A user token (also minted by user_token()) is taken
on the /user endpoints only, which answer whom it belongs to and the app's
installations and repositories that person may see: seed them with
add_installation() and grant_user_access(). The same installations answer the
app's own lookups (GET /app/installations, /orgs/{org}/installation and the like)
and GET /installation/repositories.

For the Licenses check it answers GitHub's dependency review between two commits
(set_dependency_changes(), entries built with dependency_change(); or, after
disable_dependency_graph(), GitHub's 403 or 404), a repository's detected license
(set_repository_license(); none by default, a 404) and a pull request's files
(add_pull_request_files(), entries built with pull_file(); at most 3,000, paginated).

Repositories have branches, and files on them, for a bot that keeps files through a pull
request from a branch of its own. Each repository has a default branch (main, or
set_default_branch()) whose head is an initial commit made up when first needed; the API
reads a branch (GET .../git/ref/heads/X), creates one from a commit (POST .../git/refs) and
moves it (PATCH .../git/refs/heads/X, a fast-forward unless forced), as GitHub does and
refuses. add_file() seeds the default branch's files, or with ref= a branch's own version;
a branch made from the default branch's head has the default branch's files until it is
given its own (by add_file(ref=...) or PUT .../contents/{path} on it), and moving it to
another commit gives it that commit's files. PUT .../contents/{path} writes a file on a
branch as a new commit (by the app's bot, signed by GitHub), checking the blob sha as GitHub
does (required for a file that exists: 422 without it, 409 for another), and moves the
branch's head. POST .../pulls opens a pull request from a branch (one open pull request a
head and base; 422 when there is one, or when the head has no commits ahead of the base);
GET .../pulls lists them by state, head (owner:branch) and base; a branch moved back so
that its open pull request has no commits closes it, as on GitHub. Read it all back with
branch_head(), file_text() and pulls(). GET /users/{username} answers anyone, with the
name and blog given by add_user(); GET /repos/{owner}/{repo} any repository the fake
holds anything of.

Each installation (and the app, and each signed-in user) has its own rate limit,
counted down by every answer but a 304; set_rate_limit() spends it, and once spent
GitHub's 403 answers everything until the reset.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import html
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
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

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
# Endpoints outside /app that also want the app's JWT: where is the app installed.
APP_ENDPOINTS = {
    "/orgs/{org}/installation",
    "/users/{username}/installation",
    "/repos/{owner}/{repo}/installation",
}
# Endpoints that want a user access token (ghu_...): what the signed-in person may see.
USER_ENDPOINTS = {
    "/user",
    "/user/installations",
    "/user/installations/{installation_id}/repositories",
}
# What it costs to authenticate, as opposed to the work the bot does.
AUTH_CALLS = [("GET", "/app"), ("POST", "/app/installations/{installation_id}/access_tokens")]
# Where the fake's page for confirming a manifest posts its form (GitHub's own is internal).
CREATE_APP_PATH = "/settings/apps/new/create"
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
# GET .../pulls/{n}/commits lists a pull request's first (oldest) 250 commits, never more.
PULL_COMMITS_LIMIT = 250
# GET .../compare/{basehead} without per_page or page lists the newest 250 commits only.
COMPARE_COMMITS_LIMIT = 250
# The check run conclusion only GitHub may set; the description allows it in requests.
GITHUB_ONLY_CONCLUSIONS = ("stale",)
# The manifest flow: the keys GitHub documents for a manifest, the longest name it takes
# for an app, and how long the code it redirects with may be converted into credentials.
MANIFEST_KEYS = (
    "name",
    "url",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "description",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
)
MAX_APP_NAME = 34
MANIFEST_CODE_LIFETIME = 3600  # seconds
MAX_CALLBACK_URLS = 10
# "Sign in with GitHub": GitHub's web pages and token exchange (on GitHub's web host, not
# its API; the fake serves both), where the fake's page posts its confirmation, and how long
# the code GitHub redirects with may be exchanged for a user access token.
OAUTH_AUTHORIZE_PATH = "/login/oauth/authorize"
OAUTH_CONFIRM_PATH = "/login/oauth/authorize/confirm"
OAUTH_TOKEN_PATH = "/login/oauth/access_token"
OAUTH_CODE_LIFETIME = 600  # seconds
# GitHub lists at most this many files of a pull request.
MAX_PULL_FILES = 3000
# What the dependency review answers where the dependency graph is off.
DEPENDENCY_GRAPH_OFF = (
    "Dependency review is not supported on this repository. Please ensure that Dependency graph is"
    " enabled, see https://github.com/{owner}/{repo}/settings/security_analysis"
)
# The manifest a dependency is found in, by ecosystem, where a test does not say.
MANIFESTS = {
    "npm": "package-lock.json",
    "pip": "requirements.txt",
    "maven": "pom.xml",
    "rubygems": "Gemfile.lock",
    "cargo": "Cargo.lock",
    "gomod": "go.mod",
    "actions": ".github/workflows/ci.yml",
}
PURL_TYPES = {"pip": "pypi", "rubygems": "gem", "gomod": "golang", "actions": "githubactions"}
# GitHub's answers to an exchange it refuses, each with HTTP status 200.
OAUTH_ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
}
OAUTH_TROUBLESHOOTING = (
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/"
)
# Webhook events an app may subscribe to only with one of these permissions. Events not
# listed here are not checked; metadata, which every app has, covers many of them.
EVENT_PERMISSIONS = {
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "commit_comment": ("contents",),
    "discussion": ("discussions",),
    "discussion_comment": ("discussions",),
    "issue_comment": ("issues", "pull_requests"),
    "issues": ("issues",),
    "organization": ("members",),
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "push": ("contents",),
    "status": ("statuses",),
}

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
    return new_private_key()


def new_private_key() -> tuple[str, str]:
    """A key pair of its own, unlike make_private_key(): (private PKCS#8 PEM, public PEM)."""
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


def dependency_change(
    name: str,
    version: str,
    *,
    license: str | None = "MIT",
    ecosystem: str = "npm",
    scope: str = "runtime",
    change_type: str = "added",
    manifest: str | None = None,
    package_url: str | None = None,
    source_repository_url: str | None = None,
) -> dict:
    """One entry of GitHub's dependency review answer (dependency-graph/diff-range), its
    package URL made as GitHub makes them (pkg:npm/%40scope/name@1.0, pkg:maven/group/artifact@1.0)."""
    if package_url is None:
        path = name.replace(":", "/") if ecosystem == "maven" else name
        if path.startswith("@"):
            path = "%40" + path[1:]
        package_url = f"pkg:{PURL_TYPES.get(ecosystem, ecosystem)}/{path}@{version}"
    return {
        "change_type": change_type,
        "manifest": manifest or MANIFESTS.get(ecosystem, "manifest"),
        "ecosystem": ecosystem,
        "name": name,
        "version": version,
        "package_url": package_url,
        "license": license,
        "source_repository_url": source_repository_url,
        "vulnerabilities": [],
        "scope": scope,
    }


def pull_file(
    filename: str,
    *,
    status: str = "added",
    patch: str | None = None,
    additions: int | None = None,
    deletions: int = 0,
    previous_filename: str | None = None,
) -> dict:
    """One entry of a pull request's files (a diff-entry), as GitHub lists them; without a
    patch, as GitHub lists a file too large (or binary) to show one."""
    sha = hashlib.sha1(filename.encode() + (patch or "").encode()).hexdigest()
    if additions is None:
        additions = sum(line.startswith("+") for line in (patch or "").splitlines())
    entry = {
        "sha": sha,
        "filename": filename,
        "status": status,
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"{GITHUB_HTML}/octo/repo/blob/{sha}/{filename}",
        "raw_url": f"{GITHUB_HTML}/octo/repo/raw/{sha}/{filename}",
        "contents_url": f"{GITHUB_API}/repos/octo/repo/contents/{filename}?ref={sha}",
    }
    if patch is not None:
        entry["patch"] = patch
    if previous_filename is not None:
        entry["previous_filename"] = previous_filename
    return entry


def commit(
    sha: str | None = None,
    *,
    message: str = "A change",
    author_name: str = "Mona",
    author_email: str = "mona@example.com",
    author_login: str | None = "mona",
    author_id: int | None = None,
    committer_name: str | None = None,
    committer_email: str | None = None,
    committer_login: str | None = None,
    parents: int | list[str] = 1,
    date: str | float | datetime | None = None,
    verified: bool = False,
) -> dict:
    """A commit as GitHub lists it among a pull request's commits, for add_pull_request_commits().

    The top-level author and committer are the GitHub accounts git's name and email
    are linked to: author_login=None is an email GitHub links to no account, and
    `author` is then null, as GitHub answers it (a DCO or CLA check has to cope). A
    login ending in [bot] is a Bot. The committer is the author unless a committer_*
    is given; then the name and email still default to the author's, but the account
    is committer_login's alone, None meaning none. parents is how many random parent
    SHAs, or the SHAs themselves: two or more make a merge commit. The date (now by
    default) is both the author's and the committer's. verified: GitHub checked its signature
    against a key of the account its email belongs to (reason "valid"); else it is unsigned.
    Until add_pull_request_commits() files it in a repository, its URLs name GitHub's example one.
    """
    sha = (sha or _random_sha()).lower()
    if committer_name is None and committer_email is None and committer_login is None:
        committer_login = author_login
    committer_id = author_id if committer_login == author_login else None
    when = _timestamp(time.time() if date is None else _epoch(date))
    if isinstance(parents, int):
        parents = [_random_sha() for _ in range(parents)]
    answer = {
        "sha": sha,
        "node_id": f"C_{sha}",
        "commit": {
            "author": {"name": author_name, "email": author_email, "date": when},
            "committer": {
                "name": author_name if committer_name is None else committer_name,
                "email": author_email if committer_email is None else committer_email,
                "date": when,
            },
            "message": message,
            # Not git's tree id, but as stable: the same commit has the same tree.
            "tree": {"sha": hashlib.sha1(f"tree {sha}".encode()).hexdigest()},
            "comment_count": 0,
            "verification": _verification(verified, message, when),
        },
        "author": _account(author_login, author_id),
        "committer": _account(committer_login, committer_id),
        "parents": [{"sha": parent} for parent in parents],
    }
    return _address_commit(answer, *_EXAMPLE_REPOSITORY)


def _verification(verified: bool, message: str, when: str) -> dict:
    if not verified:
        return {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}
    # Not a real signature: only its shape, as GitHub shows a verified commit's.
    signature = "-----BEGIN SSH SIGNATURE-----\n" + base64.b64encode(hashlib.sha256(message.encode()).digest()).decode() + "\n-----END SSH SIGNATURE-----\n"
    return {"verified": True, "reason": "valid", "signature": signature, "payload": message, "verified_at": when}


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
        """How body differs from what the description says GitHub answers.

        Where the description gives no body, as for many 404s that do carry GitHub's
        error message, there is nothing to check it against; but a 204 has none.
        """
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        response, pointer = self._resolve(self._at(pointer), pointer)
        if "application/json" not in response.get("content", {}):
            return ["a 204 answer has no body"] if status == 204 and body is not None else []
        return self.schema_errors(f"{pointer}/content/application~1json/schema", body)

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        """How instance fails the schema at pointer in the description."""
        if pointer not in self._validators:
            self._validators[pointer] = Draft4Validator(
                {"$ref": f"{_SPEC_URI}#{pointer}"}, registry=self._registry
            )
        return [
            (f"at {'/'.join(map(str, error.absolute_path))}: " if error.absolute_path else "")
            + _reason(error)
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


def _reason(error: Any) -> str:
    """A schema error's message, short: a long value is cut, not the reason it fails."""
    message, value = error.message, repr(error.instance)
    if len(message) <= 300:
        return message
    if message.startswith(value):  # such as "'xxx…' is too long"
        reason = f"{message[len(value):]} ({error.validator} {error.validator_value!r})"
        return _shorten(value, 60) + _shorten(reason)
    return _shorten(message)


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
    user_login: str | None = None  # whose user access token authenticated it

    @property
    def requester(self) -> int | str | None:
        """Whose rate limit the call counts against: an installation's (its id), a signed-in
        user's (their login, lower-case) or, for the app's JWT, the app's (None)."""
        if self.user_login is not None:
            return self.user_login.lower()
        return self.installation_id


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


@dataclass
class _RateWindow:
    """What is left of one requester's rate limit, until its reset (epoch seconds)."""

    remaining: int
    reset: int


@dataclass
class _Installation:
    """An installation of the app on an account, covering some of its repositories."""

    id: int
    account: dict  # the user or organisation, as GitHub describes one
    repositories: list[tuple[str, str]]  # owner and name as spelt, in the order given
    all_repositories: bool  # "all" rather than "selected" repositories
    created_at: float

    def covers(self, owner: str, repo: str) -> bool:
        return _repo_key(owner, repo) in {_repo_key(*covered) for covered in self.repositories}


@dataclass
class _OAuthClient:
    """The app's OAuth client: who may exchange codes, and where GitHub may send people back."""

    client_id: str
    client_secret: str
    callback_urls: list[str] | None  # None: any redirect_uri is taken


@dataclass
class _OAuthCode:
    """A code GitHub redirected someone back with, waiting to be exchanged once."""

    client_id: str
    login: str
    redirect_uri: str  # where it was sent, which the exchange must name again if it names one
    issued_at: float


@dataclass
class _Pull:
    """A pull request's git side; the rest of it is its _Issue."""

    base_sha: str
    shas: list[str]  # its commits, oldest first; the last is the head
    head_ref: str
    merge_commit_sha: str  # GitHub's test merge, or once merged the merge
    base_ref: str | None = None  # the branch it is to be merged into; None: the default branch


@dataclass
class _CheckRun:
    """A check run as the fake keeps it: created by this app, the only one the fake serves."""

    owner: str
    repo: str
    answer: dict  # as GitHub answers it, but for pull_requests: those are looked up
    actions: list[dict] = field(default_factory=list)  # GitHub does not answer them back
    annotations: list[dict] = field(default_factory=list)  # nor these, but counts them


Handler = Callable[[web.Request, dict[str, str], Any], _Reply]
_CALL = web.RequestKey("call", Call)  # the Call a request is recorded as, for its handler
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
        self.url: str | None = None  # where the fake is served, once a test knows
        self.app = web.Application()
        # GitHub's web pages for the manifest flow, which the catch-all must not take.
        self.app.router.add_post("/settings/apps/new", self._manifest_page)
        self.app.router.add_post("/organizations/{org}/settings/apps/new", self._manifest_page)
        self.app.router.add_post(CREATE_APP_PATH, self._create_app_from_manifest)
        # And for "Sign in with GitHub": the authorization page, and the code's exchange.
        self.app.router.add_get(OAUTH_AUTHORIZE_PATH, self._authorize_page)
        self.app.router.add_post(OAUTH_CONFIRM_PATH, self._confirm_authorization)
        self.app.router.add_post(OAUTH_TOKEN_PATH, self._exchange_oauth_code)
        # A browser on those pages asks for the site's icon.
        self.app.router.add_get("/favicon.ico", _no_icon)
        self.app.router.add_route("*", "/{path:.*}", self._handle)
        self._spec = rest_spec()
        # Without a key the JWT's claims are still checked, only not its signature.
        self._public_key = public_key_pem
        self._tokens: dict[str, tuple[int, float]] = {}  # token -> installation id, expiry
        self._comments: dict[tuple[str, str, int], list[dict]] = {}
        # Files by (owner, repo, path, ref): ref None is the default branch; a branch's entry is
        # its own version of the file, None for a file it does not have (see _file_on).
        self._files: dict[FileKey, str | None] = {}
        self._issues: dict[tuple[str, str, int], _Issue] = {}
        self._labels: dict[RepoKey, dict[str, dict]] = {}  # lower-case name -> label
        self._roles: dict[tuple[str, str, str], str] = {}  # owner, repo, login -> role
        self._profiles: dict[RepoKey, dict[str, Any]] = {}
        # Reactions made through the API, oldest first: {"on": "comment", "id": comment_id,
        # "content": "+1"} or {"on": "issue", "owner": o, "repo": r, "number": n, "content": ...}.
        self.reactions: list[dict] = []
        # The app's webhook delivery log, newest first, and the redeliveries asked for.
        self._hook_deliveries: list[dict] = []
        self.redeliveries: list[int] = []
        self._reaction_objects: dict[tuple, dict] = {}  # (target..., content) -> reaction
        # Git, as far as pull requests need it: each repository's commits by SHA, the
        # one before each in history (the first parent, as the fake knows history), and
        # the default branch's head, an initial commit made up when first needed.
        self._commits: dict[RepoKey, dict[str, dict]] = {}
        self._previous: dict[RepoKey, dict[str, str]] = {}
        self._default_heads: dict[RepoKey, str] = {}
        # Branches: each repository's default branch where not main, the other branches'
        # heads, and the files of commits no branch's head is on any more where they differ
        # from the default branch's (path -> text, None for a file the commit does not have).
        self._default_branches: dict[RepoKey, str] = {}
        self._branches: dict[RepoKey, dict[str, str]] = {}
        self._trees: dict[tuple[str, str, str], dict[str, str | None]] = {}
        self._pulls: dict[tuple[str, str, int], _Pull] = {}
        self._opened_pulls: list[tuple[str, str, int]] = []  # opened through the API, oldest first
        self._users: dict[str, dict] = {}  # lower-case login -> login, name, blog, type
        self._reviews: dict[tuple[str, str, int], list[dict]] = {}  # submitted, oldest first
        self._review_comments: dict[tuple[str, str, int], list[dict]] = {}
        # Issues' and pull requests' events (labelled, unlabelled), oldest first, by issue key.
        self._issue_events: list[tuple[tuple[str, str, int], dict]] = []
        self._check_runs: list[_CheckRun] = []  # oldest first
        self._check_suites: dict[tuple[str, str, str], int] = {}  # owner, repo, sha -> id
        self._org_members: dict[str, set[str]] = {}  # lower-case org -> lower-case logins
        # Licenses: dependency review answers by (repository, "BASE...HEAD"), repositories whose
        # dependency graph answers an error instead, repositories' detected licenses, and pull
        # requests' files (in GitHub's order).
        self._dependency_changes: dict[tuple[str, str, str], list[dict]] = {}
        self._graph_off: dict[RepoKey, int] = {}
        self._licenses: dict[RepoKey, dict] = {}
        self._pull_files: dict[tuple[str, str, int], list[dict]] = {}
        # The manifest flow: who is signed in to GitHub's web pages, the manifests shown
        # for confirmation (by the reference their form carries), the apps created from
        # them, the manifests refused, and every code the app tried to convert.
        self.user_login = "octocat"
        self.manifest_code_lifetime = MANIFEST_CODE_LIFETIME
        self._pending_manifests: dict[str, dict] = {}
        self.registered_apps: list[dict] = []
        self.manifest_errors: list[str] = []
        self.conversions: list[str] = []
        self._registered_app: dict | None = None  # the app the fake became, as GET /app shows it
        self._ids = itertools.count(1)
        self._once: list[_Programmed] = []
        self._sticky: list[_Programmed] = []
        self._auth_calls = [(method, self._pattern(path)) for method, path in AUTH_CALLS]
        # GitHub counts each installation's requests apart (and the app's own, by JWT, and
        # each signed-in user's): see Call.requester.
        self._rate_windows: dict[int | str | None, _RateWindow] = {}
        # The app's installations, the repositories GitHub shows as private, and which
        # installations (and which of their repositories) each person may see, by login.
        self._installations: dict[int, _Installation] = {}
        self._private_repositories: set[RepoKey] = set()
        self._user_access: dict[str, dict[int, list[tuple[str, str]]]] = {}
        # "Sign in with GitHub": who is signed in to GitHub's web pages (None: no one), whether
        # the authorization page redirects at once instead of asking them, the app's OAuth
        # clients, the codes awaiting exchange and the user access tokens issued (to logins).
        self.signed_in_login: str | None = None
        self.auto_authorize = False
        self.oauth_code_lifetime = OAUTH_CODE_LIFETIME
        self._oauth_clients: dict[str, _OAuthClient] = {}
        self._oauth_codes: dict[str, _OAuthCode] = {}
        self._user_tokens: dict[str, str] = {}
        self._handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/app"): self._get_app,
            ("GET", "/app/hook/deliveries"): self._list_hook_deliveries,
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): self._redeliver,
            ("POST", "/app/installations/{installation_id}/access_tokens"): self._create_token,
            ("GET", "/app/installations"): self._list_installations,
            ("GET", "/orgs/{org}/installation"): self._get_organisation_installation,
            ("GET", "/users/{username}/installation"): self._get_user_account_installation,
            ("GET", "/repos/{owner}/{repo}/installation"): self._get_repository_installation,
            ("GET", "/installation/repositories"): self._list_installation_repositories,
            ("GET", "/user"): self._get_signed_in_user,
            ("GET", "/user/installations"): self._list_user_installations,
            (
                "GET",
                "/user/installations/{installation_id}/repositories",
            ): self._list_user_installation_repositories,
            ("POST", "/app-manifests/{code}/conversions"): self._convert_manifest_code,
            ("GET", "/repos/{owner}/{repo}"): self._get_repository,
            ("GET", "/repos/{owner}/{repo}/contents/{path}"): self._get_contents,
            ("PUT", "/repos/{owner}/{repo}/contents/{path}"): self._put_contents,
            ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"): self._get_git_ref,
            ("POST", "/repos/{owner}/{repo}/git/refs"): self._create_git_ref,
            ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"): self._update_git_ref,
            ("GET", "/repos/{owner}/{repo}/pulls"): self._list_pulls,
            ("POST", "/repos/{owner}/{repo}/pulls"): self._create_pull,
            ("GET", "/users/{username}"): self._get_user,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): self._list_comments,
            ("GET", "/repos/{owner}/{repo}/issues/comments"): self._list_repository_comments,
            ("GET", "/repos/{owner}/{repo}/issues/events"): self._list_repository_issue_events,
            ("GET", "/repos/{owner}/{repo}/pulls/comments"): self._list_repository_review_comments,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"): self._list_reviews,
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
            ("GET", "/orgs/{org}/members"): self._list_org_members,
            ("GET", "/orgs/{org}/members/{username}"): self._check_org_membership,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"): self._get_pull,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"): self._list_pull_commits,
            ("GET", "/repos/{owner}/{repo}/commits"): self._list_commits,
            ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): self._compare,
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"): self._list_pull_files,
            ("GET", "/repos/{owner}/{repo}/dependency-graph/compare/{basehead}"): self._dependency_review,
            ("GET", "/repos/{owner}/{repo}/license"): self._get_license,
            ("POST", "/repos/{owner}/{repo}/check-runs"): self._create_check_run,
            ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): self._update_check_run,
            (
                "GET",
                "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            ): self._list_check_runs_for_ref,
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

    @property
    def webhook_secret(self) -> str | None:
        """The webhook secret of the app the fake became through the manifest flow, if any."""
        for registration in self.registered_apps:
            app = registration["app"]
            if app is not None and app["id"] == self.app_id:
                return app["webhook_secret"]
        return None

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid, as if expired: installations' and users'."""
        self._tokens.clear()
        self._user_tokens.clear()

    def set_rate_limit(
        self,
        remaining: int,
        *,
        installation_id: int | None = None,
        user: str | None = None,
        reset_in: float = 3600,
    ) -> None:
        """What is left of a rate limit until it resets, reset_in seconds from now: an
        installation's, or with user= a signed-in person's, or with neither the app's own.
        At 0, GitHub's 403 (X-RateLimit-Remaining: 0) answers every request until the reset;
        then a full limit begins again."""
        requester = user.lower() if user is not None else installation_id
        self._rate_windows[requester] = _RateWindow(remaining, math.ceil(time.time() + reset_in))

    def add_installation(
        self,
        installation_id: int,
        account: str,
        repositories: Collection[str] = (),
        *,
        private: Collection[str] = (),
        account_type: str = "Organization",
        all_repositories: bool = False,
    ) -> dict:
        """The app installed on an account (an organisation, or account_type="User"), covering
        these of its repositories, by name; those also named in private are private ones.
        all_repositories=True is an installation on "All repositories" (GitHub says so in
        repository_selection); it still covers the repositories named only, the only ones the
        fake knows. Returns the installation as GET /app/installations lists it.

        Installation tokens are issued for any installation id, added or not; one not added
        covers no repository.
        """
        if installation_id in self._installations:
            raise ValueError(f"installation {installation_id} exists already")
        if account_type not in ("Organization", "User"):
            raise ValueError(f"account_type is Organization or User, not {account_type!r}")
        unknown = {name.lower() for name in private} - {name.lower() for name in repositories}
        if unknown:
            raise ValueError(f"private names repositories the installation does not cover: {sorted(unknown)}")
        covered = list({_repo_key(account, name): (account, name) for name in repositories}.values())
        self._private_repositories.update(_repo_key(account, name) for name in private)
        self._installations[installation_id] = _Installation(
            id=installation_id,
            account=_user(account, account_type),
            repositories=covered,
            all_repositories=all_repositories,
            created_at=time.time(),
        )
        return self._installation_object(self._installations[installation_id])

    def grant_user_access(
        self, login: str, installation_id: int, repositories: Collection[str] | None = None
    ) -> None:
        """Let someone see an installation (GET /user/installations) and these of the
        repositories it covers, by name; by default all of them (GET
        /user/installations/{id}/repositories lists those a person has explicit access to).
        Granted again, the repositories are replaced."""
        installation = self._installations.get(installation_id)
        if installation is None:
            raise LookupError(f"no installation {installation_id}; add_installation() it")
        account = installation.account["login"]
        names = [repo for _, repo in installation.repositories] if repositories is None else repositories
        outside = [name for name in names if not installation.covers(account, name)]
        if outside:
            raise ValueError(f"installation {installation_id} does not cover {', '.join(outside)}")
        wanted = {_repo_key(account, name) for name in names}
        granted = [covered for covered in installation.repositories if _repo_key(*covered) in wanted]
        self._user_access.setdefault(login.lower(), {})[installation_id] = granted

    def oauth_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        callback_urls: Collection[str] | None = None,
    ) -> tuple[str, str]:
        """Register the app's OAuth client, its client id and secret (by default the app's
        own client id, as GET /app shows it, and a new secret); returns (client_id,
        client_secret). callback_urls are where GitHub may send people back: a redirect_uri
        must be one of them exactly, and without one the first is used; None takes any
        redirect_uri. An app made through the manifest flow has its client registered so,
        with the manifest's callback_urls."""
        client_id = client_id or self._integration()["client_id"]
        client_secret = client_secret or secrets.token_hex(20)
        if callback_urls is not None and not callback_urls:
            raise ValueError("callback_urls: at least one, or None to take any redirect_uri")
        urls = None if callback_urls is None else list(callback_urls)
        self._oauth_clients[client_id] = _OAuthClient(client_id, client_secret, urls)
        return client_id, client_secret

    def user_token(self, login: str) -> str:
        """A user access token (ghu_...) for login, as the code exchange issues one, without the
        flow. It does not expire; revoke_tokens() ends it."""
        token = "ghu_" + "".join(secrets.choice(_TOKEN_CHARACTERS) for _ in range(36))
        self._user_tokens[token] = login
        return token

    def comments(self, owner: str, repo: str, number: int) -> list[dict]:
        return list(self._comments.get(_issue_key(owner, repo, number), []))

    def reviews(self, owner: str, repo: str, number: int) -> list[dict]:
        """A pull request's reviews, as GET .../pulls/{n}/reviews lists them."""
        return copy.deepcopy(self._reviews.get(_issue_key(owner, repo, number), []))

    def review_comments(self, owner: str, repo: str, number: int) -> list[dict]:
        """The comments on a pull request's lines, oldest first."""
        return copy.deepcopy(self._review_comments.get(_issue_key(owner, repo, number), []))

    def add_comment(
        self,
        owner: str,
        repo: str,
        number: int,
        body: str,
        login: str = "someone",
        type: str = "User",
        author_association: str = "NONE",
        created_at: str | float | datetime | None = None,
    ) -> dict:
        """Seed a comment written by someone other than the bot, now or at created_at."""
        user = _user(login, type)
        at = time.time() if created_at is None else _epoch(created_at)
        return self._add_comment(owner, repo, number, body, user, author_association, None, at=at)

    def add_review(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        login: str = "someone",
        state: str = "APPROVED",
        body: str = "",
        submitted_at: str | float | datetime | None = None,
        author_association: str = "NONE",
    ) -> dict:
        """Seed a submitted review of a pull request (APPROVED, CHANGES_REQUESTED, COMMENTED or
        DISMISSED), as GET .../pulls/{n}/reviews lists it. A pending review is not seeded: GitHub
        shows it to its author alone, never to an app."""
        if state not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"):
            raise ValueError(f"state is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED, not {state!r}")
        issue = self._stored_pull(owner, repo, number)
        at = time.time() if submitted_at is None else _epoch(submitted_at)
        review_id = next(self._ids)
        api = f"{GITHUB_API}/repos/{issue.owner}/{issue.repo}/pulls/{number}"
        html_url = f"{GITHUB_HTML}/{issue.owner}/{issue.repo}/pull/{number}#pullrequestreview-{review_id}"
        review = {
            "id": review_id,
            "node_id": f"PRR_{review_id}",
            "user": _account(login, None),
            "body": body,
            "state": state,
            "html_url": html_url,
            "pull_request_url": api,
            "_links": {"html": {"href": html_url}, "pull_request": {"href": api}},
            "submitted_at": _timestamp(at),
            "commit_id": self._pull_of(issue).shas[-1],
            "author_association": author_association,
        }
        self._reviews.setdefault(self._key_of(issue), []).append(review)
        self._touch(issue, at)
        return copy.deepcopy(review)

    def add_review_comment(
        self,
        owner: str,
        repo: str,
        number: int,
        body: str,
        *,
        login: str = "someone",
        path: str = "README.md",
        created_at: str | float | datetime | None = None,
        author_association: str = "NONE",
    ) -> dict:
        """Seed a comment on a line of a pull request's changes. As on GitHub, a comment made on
        its own comes with a review of its own (COMMENTED, by the same person, at the same time),
        which the review list shows too."""
        issue = self._stored_pull(owner, repo, number)
        at = time.time() if created_at is None else _epoch(created_at)
        review = self.add_review(
            owner, repo, number, login=login, state="COMMENTED", submitted_at=at, author_association=author_association
        )
        comment_id = next(self._ids)
        api = f"{GITHUB_API}/repos/{issue.owner}/{issue.repo}"
        url = f"{api}/pulls/comments/{comment_id}"
        html_url = f"{GITHUB_HTML}/{issue.owner}/{issue.repo}/pull/{number}#discussion_r{comment_id}"
        pull_url = f"{api}/pulls/{number}"
        comment = {
            "url": url,
            "pull_request_review_id": review["id"],
            "id": comment_id,
            "node_id": f"PRRC_{comment_id}",
            "diff_hunk": "@@ -1 +1 @@\n-A line\n+A changed line",
            "path": path,
            "position": 1,
            "original_position": 1,
            "commit_id": review["commit_id"],
            "original_commit_id": review["commit_id"],
            "user": review["user"],
            "body": body,
            "created_at": _timestamp(at),
            "updated_at": _timestamp(at),
            "html_url": html_url,
            "pull_request_url": pull_url,
            "author_association": author_association,
            "_links": {"self": {"href": url}, "html": {"href": html_url}, "pull_request": {"href": pull_url}},
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": 1,
            "original_line": 1,
            "side": "RIGHT",
            "subject_type": "line",
        }
        self._review_comments.setdefault(self._key_of(issue), []).append(comment)
        return copy.deepcopy(comment)

    def label_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        name: str,
        *,
        actor: str = "octocat",
        at: str | float | datetime | None = None,
    ) -> dict:
        """Someone labels an issue or pull request (the label is created if missing): the label is
        on it, and GET .../issues/events lists the `labeled` event. Returns the event."""
        issue = self._stored_issue(owner, repo, number)
        key = self._label(owner, repo, name)["name"].lower()
        if key not in issue.labels:
            issue.labels.append(key)
        when = time.time() if at is None else _epoch(at)
        return self._record_event(issue, "labeled", _account(actor, None), when, key)

    def unlabel_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        name: str,
        *,
        actor: str = "octocat",
        at: str | float | datetime | None = None,
    ) -> dict:
        """Someone takes a label off an issue or pull request: the `unlabeled` event."""
        issue = self._stored_issue(owner, repo, number)
        key = name.lower()
        if key not in issue.labels:
            raise ValueError(f"{owner}/{repo}#{number} has no label {name!r}")
        issue.labels.remove(key)
        when = time.time() if at is None else _epoch(at)
        return self._record_event(issue, "unlabeled", _account(actor, None), when, key)

    def add_file(self, owner: str, repo: str, path: str, text: str, ref: str | None = None) -> None:
        """A file on the default branch, or on ref (served only to requests naming that ref).

        On a branch, it is the branch's own version of the file, which it keeps where it
        would otherwise have the default branch's. Seeded so, a file makes no commit; one on
        the default branch is on every branch that has not had a version of its own.
        """
        self._files[_file_key(owner, repo, path, ref)] = text

    def remove_file(self, owner: str, repo: str, path: str, ref: str | None = None) -> None:
        """Undo add_file(): on a branch, it has the default branch's version again."""
        del self._files[_file_key(owner, repo, path, ref)]

    def file_text(self, owner: str, repo: str, path: str, ref: str | None = None) -> str | None:
        """The file as GET .../contents/{path}?ref= reads it now (ref None: the default
        branch), or None where there is no such file."""
        return self._file_on(owner, repo, path, ref)

    def set_default_branch(self, owner: str, repo: str, branch: str) -> None:
        """Name the repository's default branch (main unless set). Set before the default
        branch is used: its head and files stay where they are, under the new name."""
        repository = _repo_key(owner, repo)
        if branch in self._branches.get(repository, {}):
            raise ValueError(f"{owner}/{repo} has a branch {branch!r} already")
        self._default_branches[repository] = branch

    def add_branch(self, owner: str, repo: str, branch: str, sha: str | None = None) -> str:
        """A branch, as POST .../git/refs makes one: at sha (by default the default branch's
        head), with that commit's files. Returns its head."""
        if self._branch_head_sha(owner, repo, branch) is not None:
            raise ValueError(f"{owner}/{repo} has a branch {branch!r} already")
        sha = self._default_head(owner, repo) if sha is None else sha.lower()
        if sha not in self._commits.get(_repo_key(owner, repo), {}):
            raise LookupError(f"no commit {sha} in {owner}/{repo}")
        self._move_branch(owner, repo, branch, sha)
        return sha

    def branch_head(self, owner: str, repo: str, branch: str) -> str | None:
        """The SHA a branch's head is on now, or None if the repository has no such branch.
        The default branch always has one: an initial commit, made up when first needed."""
        return self._branch_head_sha(owner, repo, branch)

    def pulls(self, owner: str, repo: str) -> list[dict]:
        """The pull requests opened through the API (POST .../pulls), oldest first, as GET
        .../pulls/{number} answers them now: title, body, head and base (ref, sha), state."""
        repository = _repo_key(owner, repo)
        return [self._pull_object(self._issues[key]) for key in self._opened_pulls if key[:2] == repository]

    def add_user(self, login: str, name: str | None = None, blog: str = "", *, type: str = "User") -> dict:
        """Someone's profile as GET /users/{username} answers it: their name (None: not
        given) and blog (a URL, or ""). Anyone not added is answered too, with neither.
        Returns the answer."""
        self._users[login.lower()] = {"login": login, "name": name, "blog": blog, "type": type}
        return self._public_user(login)

    def add_hook_delivery(
        self,
        guid: str,
        *,
        event: str = "issues",
        action: str | None = "opened",
        status_code: int = 202,
        delivered_at: float | None = None,
        redelivery: bool = False,
        installation_id: int = 7,
    ) -> dict:
        """An entry of the app's webhook delivery log (GET /app/hook/deliveries), as GitHub keeps it."""
        entry = {
            "id": next(self._ids),
            "guid": guid,
            "delivered_at": _timestamp(time.time() if delivered_at is None else delivered_at),
            "redelivery": redelivery,
            "duration": 0.05,
            "status": "OK" if 200 <= status_code < 300 else ("Invalid HTTP Response: %d" % status_code if status_code else "timed out"),
            "status_code": status_code,
            "event": event,
            "action": action,
            "installation_id": installation_id,
            "repository_id": 1296269,
        }
        self._hook_deliveries.append(entry)
        self._hook_deliveries.sort(key=lambda e: e["delivered_at"], reverse=True)
        return entry

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
        adding them through the API does, and the author puts them on as it is opened
        (see label_issue()). author_association defaults to OWNER for
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
        issue.assignees = [_user(login) for login in dict.fromkeys(assignees)]
        self._issues[_issue_key(owner, repo, number)] = issue
        for name in labels:
            self.label_issue(owner, repo, number, name, actor=author, at=created)
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

    def add_pull_request_commits(
        self,
        owner: str,
        repo: str,
        number: int,
        commits: list[dict],
        *,
        base_sha: str | None = None,
    ) -> dict:
        """A pull request's commits, oldest first as GitHub lists them; see commit().

        If there is no issue or pull request of that number yet, this opens the pull
        request, by the first commit's author and titled with its subject. Called
        again, it replaces the commits, as a push would. The head is the last commit;
        the base is base_sha (kept from before, if not given), by default the head of
        the repository's default branch, an initial commit the fake makes up. In the
        history the commit list and comparison endpoints walk, each commit comes after
        the one before it and the first after the base, whatever their parents say.
        The commits' URLs are made to point into the repository, in the dicts given
        too, so that a test can compare them with what the bot shows; the fake keeps
        copies. Returns the pull request as GET /repos/{owner}/{repo}/pulls/{number}
        answers it.
        """
        if not commits:
            raise ValueError("a pull request has at least one commit")
        key = _issue_key(owner, repo, number)
        issue = self._issues.get(key)
        if issue is None:
            first = commits[0]
            self.add_issue(
                owner,
                repo,
                number=number,
                pull_request=True,
                author=(first.get("author") or {}).get("login") or "octocat",
                title=first["commit"]["message"].split("\n", 1)[0] or "A change",
            )
            issue = self._issues[key]
        elif not issue.pull_request:
            raise ValueError(f"{owner}/{repo}#{number} is an issue, not a pull request")
        previous = self._pulls.get(key)
        if base_sha is None:
            base_sha = previous.base_sha if previous else self._default_head(owner, repo)
        base_sha = base_sha.lower()
        if base_sha not in self._commits.get(_repo_key(owner, repo), {}):
            self._remember_commit(owner, repo, _initial_commit(base_sha), None)
        shas, before = [], base_sha
        for item in commits:
            _address_commit(item, owner, repo)
            self._remember_commit(owner, repo, copy.deepcopy(item), before)
            before = item["sha"].lower()
            shas.append(before)
        self._pulls[key] = _Pull(
            base_sha=base_sha,
            shas=shas,
            head_ref=previous.head_ref if previous else f"patch-{number}",
            merge_commit_sha=previous.merge_commit_sha if previous else _random_sha(),
        )
        return self.pull_request(owner, repo, number)

    def pull_request(self, owner: str, repo: str, number: int) -> dict:
        """A pull request as GET /repos/{owner}/{repo}/pulls/{number} answers it now.

        One seeded with add_issue() alone gets a single commit by its author.
        """
        return self._pull_object(self._stored_pull(owner, repo, number))

    def check_runs(
        self, owner: str, repo: str, head_sha: str | None = None, name: str | None = None
    ) -> list[dict]:
        """The repository's check runs as GitHub answers them now, oldest first.

        Each also has the `actions` the app asked for and the output's `annotations`,
        which GitHub keeps but does not answer back.
        """
        runs = []
        for run in self._check_runs:
            if (
                _repo_key(run.owner, run.repo) != _repo_key(owner, repo)
                or (head_sha is not None and run.answer["head_sha"] != head_sha.lower())
                or (name is not None and run.answer["name"] != name)
            ):
                continue
            answer = self._check_run_object(run)
            answer["actions"] = copy.deepcopy(run.actions)
            answer["annotations"] = copy.deepcopy(run.annotations)
            runs.append(answer)
        return runs

    def set_dependency_changes(
        self, owner: str, repo: str, basehead: str | tuple[str, str], changes: list[dict]
    ) -> None:
        """What GitHub's dependency review answers between two commits (see
        dependency_change()); "BASE...HEAD" or (base, head). Where nothing is seeded for a
        pair, the dependency graph finds no change: []."""
        if isinstance(basehead, tuple):
            basehead = "...".join(basehead)
        self._dependency_changes[(*_repo_key(owner, repo), basehead)] = copy.deepcopy(changes)

    def disable_dependency_graph(self, owner: str, repo: str, status: int | None = 403) -> None:
        """The dependency review answers as where the dependency graph is off (403, with
        GitHub's message) or the repository is not covered at all (404); status None turns
        the graph on again."""
        if status is None:
            self._graph_off.pop(_repo_key(owner, repo), None)
        else:
            self._graph_off[_repo_key(owner, repo)] = status

    def set_repository_license(self, owner: str, repo: str, spdx_id: str | None, *, path: str = "LICENSE") -> None:
        """The license GitHub detects in the repository (None: none, GET .../license answers
        404, as it does for any repository never given one here)."""
        if spdx_id is None:
            self._licenses.pop(_repo_key(owner, repo), None)
        else:
            self._licenses[_repo_key(owner, repo)] = {"spdx_id": spdx_id, "path": path}

    def add_pull_request_files(self, owner: str, repo: str, number: int, files: list[dict]) -> None:
        """A pull request's changed files, in GitHub's order (see pull_file()); replaces
        those seeded before, as a push would. A pull request with none seeded lists none."""
        self._pull_files[_issue_key(owner, repo, number)] = copy.deepcopy(files)

    def add_org_member(self, org: str, login: str) -> None:
        """Make someone a member of an organisation, publicly or privately alike."""
        self._org_members.setdefault(org.lower(), set()).add(login.lower())

    def remove_org_member(self, org: str, login: str) -> None:
        self._org_members.get(org.lower(), set()).discard(login.lower())

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
        request[_CALL] = call
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
        if self._rate_window(call.requester).remaining <= 0:
            # Spent: nothing is served until the reset. A normal event, not a violation.
            return _error(403, f"API rate limit exceeded for {_requester_name(call)}.")

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
        template = operation.template
        if template in UNAUTHENTICATED:
            return None
        scheme, _, credential = call.headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        is_jwt = credential.count(".") == 2
        refusal = _error(401, "Bad credentials")
        if template == "/app" or template.startswith("/app/") or template in APP_ENDPOINTS:
            if scheme != "bearer" or not is_jwt:
                problem = "needs the app's JWT: authorization: bearer <JWT>"
                return self._refuse(call, refusal, problem)
            return None if self._valid_jwt(credential) else refusal
        # GitHub takes an installation or user token with either scheme.
        if template in USER_ENDPOINTS:
            if scheme not in ("token", "bearer") or is_jwt:
                problem = "needs a user access token: authorization: bearer <token>"
                return self._refuse(call, refusal, problem)
            if credential in self._tokens:
                problem = "needs a user access token, not an installation token"
                return self._refuse(call, _error(403, "Resource not accessible by integration"), problem)
            call.user_login = self._user_tokens.get(credential)
            return None if call.user_login is not None else refusal
        if scheme not in ("token", "bearer") or is_jwt:
            problem = "needs an installation token: authorization: token <token>"
            return self._refuse(call, refusal, problem)
        if credential in self._user_tokens:
            # GitHub takes user tokens on many more endpoints, within what the person may do;
            # the fake knows nothing of that, and the bot uses them for /user alone.
            problem = "needs an installation token: the fake takes user access tokens on /user endpoints only"
            return self._refuse(call, _error(403, "Resource not accessible by user access token"), problem)
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
            return web.Response(status=304, headers={"ETag": etag, **self._rate_limit_headers(call.requester)})
        window = self._rate_window(call.requester)
        window.remaining = max(window.remaining - 1, 0)
        for name, value in self._rate_limit_headers(call.requester).items():
            headers.setdefault(name, value)
        return web.Response(status=reply.status, body=payload, headers=headers)

    def _rate_window(self, requester: int | str | None) -> _RateWindow:
        """The requester's rate limit now: a full one again once the last has reset."""
        window = self._rate_windows.get(requester)
        now = time.time()
        if window is None or now >= window.reset:
            window = self._rate_windows[requester] = _RateWindow(RATE_LIMIT, int(now) + 3600)
        return window

    def _rate_limit_headers(self, requester: int | str | None) -> dict[str, str]:
        window = self._rate_window(requester)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Used": str(RATE_LIMIT - window.remaining),
            "X-RateLimit-Reset": str(window.reset),
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

    def _list_hook_deliveries(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """Newest first, paged by an opaque cursor in the Link header, as GitHub pages this log."""
        per_page = min(max(int(request.query.get("per_page", 30)), 1), 100)
        start = int(request.query.get("cursor", "0") or 0)
        page = self._hook_deliveries[start : start + per_page]
        headers = {}
        if start + per_page < len(self._hook_deliveries):
            headers["Link"] = f'<{request.url.update_query(cursor=str(start + per_page))}>; rel="next"'
        return _Reply(200, page, headers)

    def _redeliver(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        delivery_id = int(params["delivery_id"])
        if not any(entry["id"] == delivery_id for entry in self._hook_deliveries):
            return _error(404)
        self.redeliveries.append(delivery_id)
        return _Reply(202, {})

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
        text = self._file_on(owner, repo, path, ref)
        if text is None:
            if ref is not None and not self._ref_known(owner, repo, ref):
                return _error(404, f"No commit found for the ref {ref}")
            return _error(404)
        return _Reply(200, _file_object(owner, repo, path, ref or self._default_branch(owner, repo), text))

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
        *,
        at: float | None = None,
    ) -> dict:
        comment_id = next(self._ids)
        at = time.time() if at is None else at
        now = _timestamp(at)
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
        issue = self._issues.get(_issue_key(owner, repo, number))
        if issue is not None:
            self._touch(issue, at)
        return comment

    def _list_repository_comments(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """Every comment on the repository's issues and pull requests."""
        repository = _repo_key(params["owner"], params["repo"])
        comments = [c for key, listed in self._comments.items() if key[:2] == repository for c in listed]
        return self._listing(request, comments, "Comment")

    def _list_repository_review_comments(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        """Every comment on the lines of the repository's pull requests."""
        repository = _repo_key(params["owner"], params["repo"])
        comments = [c for key, listed in self._review_comments.items() if key[:2] == repository for c in listed]
        return self._listing(request, comments, "PullRequestReviewComment")

    def _listing(self, request: web.Request, comments: list[dict], resource: str) -> _Reply:
        """Comments as GitHub lists them: since (updated at or after), sort and direction.

        Unsorted, oldest first; sorted, newest first unless direction says otherwise.
        """
        query = request.query
        try:
            since = _epoch(query["since"]) if "since" in query else None
        except ValueError:
            return _validation_failed(resource, "since", "invalid")
        if since is not None:
            comments = [c for c in comments if _epoch(c["updated_at"]) >= since]
        field = "updated_at" if query.get("sort") == "updated" else "created_at"
        descending = "sort" in query and query.get("direction", "desc") == "desc"
        comments = sorted(comments, key=lambda c: (_epoch(c[field]), c["id"]), reverse=descending)
        return self._page(request, copy.deepcopy(comments))

    def _list_reviews(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """A pull request's reviews, in the order they were submitted."""
        issue = self._find_pull(params)
        if issue is None:
            return _error(404)
        return self._page(request, copy.deepcopy(self._reviews.get(self._key_of(issue), [])))

    def _list_repository_issue_events(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        """The events of the repository's issues and pull requests, newest first, each with its
        issue as it is now."""
        repository = _repo_key(params["owner"], params["repo"])
        events = [(key, event) for key, event in self._issue_events if key[:2] == repository]
        events.sort(key=lambda pair: (_epoch(pair[1]["created_at"]), pair[1]["id"]), reverse=True)
        page, headers = self._paginate(request, events)
        answers = [{**copy.deepcopy(event), "issue": self._issue_object(self._issues[key])} for key, event in page]
        return _Reply(200, answers, headers)

    def _record_event(self, issue: _Issue, kind: str, actor: dict, at: float, label: str | None = None) -> dict:
        """An event of an issue or pull request; a label's is named as the repository spells it."""
        event_id = next(self._ids)
        event = {
            "id": event_id,
            "node_id": f"LE_{event_id}",
            "url": f"{GITHUB_API}/repos/{issue.owner}/{issue.repo}/issues/events/{event_id}",
            "actor": actor,
            "event": kind,
            "commit_id": None,
            "commit_url": None,
            "created_at": _timestamp(at),
            "performed_via_github_app": None,
        }
        if label is not None:
            known = self._labels.get(_repo_key(issue.owner, issue.repo), {}).get(label)
            event["label"] = {"name": known["name"] if known else label, "color": known["color"] if known else None}
        self._issue_events.append((self._key_of(issue), event))
        self._touch(issue, at)
        return {**copy.deepcopy(event), "issue": self._issue_object(issue)}

    def _touch(self, issue: _Issue, at: float) -> None:
        """What happens on an issue or pull request updates it, as its updated_at says."""
        issue.updated_at = max(issue.updated_at, at)

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

    def _new_app_issue(self, owner: str, repo: str, body: dict, **kind: Any) -> _Issue:
        """An issue or pull request the app opens now, numbered next in the repository."""
        numbers = [issue.number for issue in self._repo_issues(owner, repo)]
        now = time.time()
        return _Issue(
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
            **kind,
        )

    def _create_issue(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        issue = self._new_app_issue(owner, repo, body)
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

    def _stored_pull(self, owner: str, repo: str, number: int) -> _Issue:
        issue = self._stored_issue(owner, repo, number)
        if not issue.pull_request:
            raise LookupError(f"{owner}/{repo}#{number} is an issue, not a pull request")
        return issue

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
        """The app adds labels (names, or objects with a name) to the issue, creating missing ones."""
        for label in labels:
            name = label["name"] if isinstance(label, dict) else str(label)
            key = self._label(issue.owner, issue.repo, name)["name"].lower()
            if key not in issue.labels:
                issue.labels.append(key)
                self._record_event(issue, "labeled", _user(f"{self.app_slug}[bot]", "Bot"), time.time(), key)

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
        self._record_event(issue, "unlabeled", _user(f"{self.app_slug}[bot]", "Bot"), time.time(), name)
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
                "html_url": f"{GITHUB_HTML}/{owner}/{repo}/blob/{self._default_branch(owner, repo)}/{path}",
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
        if self._registered_app is not None:
            return copy.deepcopy(self._registered_app)
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

    # Pull requests and commits ---------------------------------------------------------

    def _get_pull(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_pull(params)
        return _error(404) if issue is None else _Reply(200, self._pull_object(issue))

    def _list_pull_commits(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_pull(params)
        if issue is None:
            return _error(404)
        commits = self._commits[_repo_key(issue.owner, issue.repo)]
        shas = self._pull_of(issue).shas[:PULL_COMMITS_LIMIT]  # however many there are
        return self._page(request, [commits[sha] for sha in shas])

    def _list_commits(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """The history ending at `sha` (by default the default branch's head), newest first."""
        owner, repo, query = params["owner"], params["repo"], request.query
        if "path" in query:
            self.violations.append(
                f"GET {request.path}: the fake does not imitate the path parameter (it has "
                "no commits' files); teach tests/fakes.py (_list_commits) what GitHub does"
            )
        ref = query.get("sha")
        sha = self._default_head(owner, repo) if ref is None else self._resolve(owner, repo, ref)
        if sha is None:
            return _error(404, f"No commit found for SHA: {ref}")
        history = self._history(owner, repo, sha)
        try:
            since = _epoch(query["since"]) if "since" in query else None
            until = _epoch(query["until"]) if "until" in query else None
        except ValueError:
            return _validation_failed("Commit", "since" if "since" in query else "until", "invalid")

        def by(role: str, commit: dict) -> bool:
            # A GitHub login, or an email address, as git records it.
            who = query[role].lower()
            login = (commit[role] or {}).get("login", "")
            return who in (login.lower(), commit["commit"][role]["email"].lower())

        def wanted(commit: dict) -> bool:
            date = _epoch(commit["commit"]["committer"]["date"])
            return (
                ("author" not in query or by("author", commit))
                and ("committer" not in query or by("committer", commit))
                and (since is None or date >= since)
                and (until is None or date <= until)
            )

        return self._page(request, [commit for commit in history if wanted(commit)])

    def _compare(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """BASE...HEAD: the commits reachable from HEAD but not BASE, oldest first.

        Without per_page or page, GitHub lists the newest COMPARE_COMMITS_LIMIT of them
        and no Link header; with either, it pages through them all, 100 at most a page,
        and lists the files on the first page only.
        """
        owner, repo = params["owner"], params["repo"]
        base_ref, dots, head_ref = params["basehead"].partition("...")
        base = self._resolve(owner, repo, base_ref) if dots else None
        head = self._resolve(owner, repo, head_ref) if dots else None
        if base is None or head is None:
            return _error(404)
        behind = [commit["sha"] for commit in self._history(owner, repo, base)]
        ahead = self._history(owner, repo, head)
        reachable = set(behind)
        found = next((n for n, c in enumerate(ahead) if c["sha"] in reachable), None)
        if found is None:
            return _error(404, f"No common ancestor between {base_ref} and {head_ref}.")
        merge_base = ahead[found]
        ahead = ahead[:found][::-1]  # oldest first
        behind_by = behind.index(merge_base["sha"])
        status = {
            (False, False): "identical",
            (True, False): "ahead",
            (False, True): "behind",
            (True, True): "diverged",
        }[(bool(ahead), bool(behind_by))]
        paged = "page" in request.query or "per_page" in request.query
        if paged:
            commits, headers = self._paginate(request, ahead)
        else:
            commits, headers = ahead[-COMPARE_COMMITS_LIMIT:], {}
        api = f"{GITHUB_API}/repos/{owner}/{repo}"
        html = f"{GITHUB_HTML}/{owner}/{repo}/compare/{base_ref}...{head_ref}"
        answer = {
            "url": f"{api}/compare/{base_ref}...{head_ref}",
            "html_url": html,
            "permalink_url": (
                f"{GITHUB_HTML}/{owner}/{repo}/compare/{owner}:{base[:7]}...{owner}:{head[:7]}"
            ),
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": self._commits[_repo_key(owner, repo)][base],
            "merge_base_commit": merge_base,
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": behind_by,
            "total_commits": len(ahead),
            "commits": commits,
        }
        if not paged or int(request.query.get("page", 1)) <= 1:
            answer["files"] = []  # the fake's commits change no files
        return _Reply(200, answer, headers)

    def _list_pull_files(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        issue = self._find_pull(params)
        if issue is None:
            return _error(404)
        files = self._pull_files.get(self._key_of(issue), [])
        # GitHub lists at most 3,000 files of a pull request, whatever the pages ask.
        return self._page(request, files[:MAX_PULL_FILES])

    def _dependency_review(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        status = self._graph_off.get(_repo_key(owner, repo))
        if status == 403:
            return _error(403, DEPENDENCY_GRAPH_OFF.format(owner=owner, repo=repo))
        if status is not None:
            return _error(status)
        return _Reply(200, copy.deepcopy(self._dependency_changes.get((*_repo_key(owner, repo), params["basehead"]), [])))

    def _get_license(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        found = self._licenses.get(_repo_key(owner, repo))
        if found is None:
            return _error(404)
        ref = request.query.get("ref") or self._default_branch(owner, repo)
        return _Reply(200, _license_object(owner, repo, found["path"], found["spdx_id"], ref))

    def _find_pull(self, params: dict[str, str]) -> _Issue | None:
        """The pull request of that number: an issue's number is not found, as on GitHub."""
        key = _issue_key(params["owner"], params["repo"], int(params["pull_number"]))
        issue = self._issues.get(key)
        return issue if issue is not None and issue.pull_request else None

    def _pull_of(self, issue: _Issue) -> _Pull:
        """The pull request's commits; one by its author if none were seeded."""
        if self._key_of(issue) not in self._pulls:
            login, user_id = issue.user["login"], issue.user["id"]
            first = commit(
                message=issue.title,
                author_name=login,
                author_email=f"{user_id}+{login}@users.noreply.github.com",
                author_login=login,
                author_id=user_id,
                date=issue.created_at,
            )
            self.add_pull_request_commits(issue.owner, issue.repo, issue.number, [first])
        return self._pulls[self._key_of(issue)]

    def _pull_object(self, issue: _Issue) -> dict:
        """The pull request as GET /repos/{owner}/{repo}/pulls/{number} answers it."""
        pull = self._pull_of(issue)
        owner, repo, number = issue.owner, issue.repo, issue.number
        as_issue = self._issue_object(issue, single=True)
        api = f"{GITHUB_API}/repos/{owner}/{repo}"
        url = f"{api}/pulls/{number}"
        html = f"{GITHUB_HTML}/{owner}/{repo}/pull/{number}"
        head_sha = pull.shas[-1]
        base_ref = pull.base_ref or self._default_branch(owner, repo)
        # A contributor's branch is in their fork; an app's, or the owner's, in the repository.
        author = issue.user["login"]
        head_owner = owner if self._pushes_to_repository(issue) else author
        merged = issue.merged_at is not None
        is_open = issue.state == "open"
        links = {
            "self": url,
            "html": html,
            "issue": f"{api}/issues/{number}",
            "comments": f"{api}/issues/{number}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{api}/pulls/comments{{/number}}",
            "commits": f"{url}/commits",
            "statuses": f"{api}/statuses/{head_sha}",
        }
        return {
            "url": url,
            "id": issue.id,
            "node_id": f"PR_{issue.id}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": links["issue"],
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            "number": number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": as_issue["user"],
            "body": issue.body,
            "labels": as_issue["labels"],
            "milestone": None,
            "active_lock_reason": issue.active_lock_reason,
            "created_at": as_issue["created_at"],
            "updated_at": as_issue["updated_at"],
            "closed_at": as_issue["closed_at"],
            "merged_at": as_issue["pull_request"]["merged_at"],
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": as_issue["assignee"],
            "assignees": as_issue["assignees"],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{head_owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": head_sha,
                "user": _user(head_owner, self._account_type(head_owner)),
                "repo": self._repository(head_owner, repo, fork=head_owner != owner),
            },
            "base": {
                "label": f"{owner}:{base_ref}",
                "ref": base_ref,
                "sha": pull.base_sha,
                "user": _user(owner, self._account_type(owner)),
                "repo": self._repository(owner, repo),
            },
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": issue.author_association,
            "auto_merge": None,
            "draft": issue.draft,
            "merged": merged,
            # GitHub works mergeability out in the background; here it always has, cleanly.
            "mergeable": True if is_open else None,
            "rebaseable": True if is_open else None,
            "mergeable_state": ("draft" if issue.draft else "clean") if is_open else "unknown",
            "merged_by": _user(owner, self._account_type(owner)) if merged else None,
            "comments": as_issue["comments"],
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pull.shas),  # all of them, even past what pulls/N/commits lists
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def _pushes_to_repository(self, issue: _Issue) -> bool:
        """Whether the pull request's branch is in its repository, rather than in a fork."""
        user = issue.user
        return user["type"] == "Bot" or user["login"].lower() == issue.owner.lower()

    def _account_type(self, login: str) -> str:
        if login.endswith("[bot]"):
            return "Bot"
        for installation in self._installations.values():
            if installation.account["login"].lower() == login.lower():
                return installation.account["type"]
        return "Organization" if login.lower() in self._org_members else "User"

    def _repository(self, owner: str, repo: str, *, fork: bool = False) -> dict:
        """The repository as GitHub describes one inside a pull request."""
        full_name = f"{owner}/{repo}"
        repo_id = int(hashlib.sha1(full_name.lower().encode()).hexdigest()[:8], 16)
        api = f"{GITHUB_API}/repos/{full_name}"
        html = f"{GITHUB_HTML}/{full_name}"
        open_issues = sum(issue.state == "open" for issue in self._repo_issues(owner, repo))
        return {
            "id": repo_id,
            "node_id": f"R_{repo_id}",
            "name": repo,
            "full_name": full_name,
            "owner": _user(owner, self._account_type(owner)),
            "private": _repo_key(owner, repo) in self._private_repositories,
            "html_url": html,
            "description": None,
            "fork": fork,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_url": f"git://github.com/{full_name}.git",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "ssh_url": f"git@github.com:{full_name}.git",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": f"{html}.git",
            "mirror_url": None,
            "hooks_url": f"{api}/hooks",
            "svn_url": html,
            "homepage": None,
            "language": None,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": self._default_branch(owner, repo),
            "open_issues": open_issues,
            "open_issues_count": open_issues,
            "is_template": False,
            "topics": [],
            "has_issues": not fork,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if _repo_key(owner, repo) in self._private_repositories else "public",
            "pushed_at": "2024-01-01T00:00:00Z",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
        }

    def _remember_commit(self, owner: str, repo: str, item: dict, previous: str | None) -> None:
        """File a commit (a copy of it) in the repository, after previous in history."""
        repository = _repo_key(owner, repo)
        item["sha"] = item["sha"].lower()
        item = _address_commit(item, owner, repo)
        self._commits.setdefault(repository, {})[item["sha"]] = item
        links = self._previous.setdefault(repository, {})
        if previous is None:
            links.pop(item["sha"], None)
        else:
            links[item["sha"]] = previous

    def _default_head(self, owner: str, repo: str) -> str:
        """The head of the repository's default branch: made up the first time it is needed."""
        repository = _repo_key(owner, repo)
        if repository not in self._default_heads:
            initial = _initial_commit(_random_sha())
            self._remember_commit(owner, repo, initial, None)
            self._default_heads[repository] = initial["sha"]
        return self._default_heads[repository]

    def _resolve(self, owner: str, repo: str, ref: str) -> str | None:
        """The SHA of a known commit a ref names: a SHA, abbreviated or not, or a branch.

        The branches are the default one, those made through the API or add_branch(), and
        pull requests' head branches (a fork's too, by its name alone).
        """
        repository = _repo_key(owner, repo)
        commits = self._commits.get(repository, {})
        ref = ref.removeprefix("refs/").removeprefix("heads/")
        head = self._branch_head_sha(owner, repo, ref)
        if head is not None:
            return head
        for (o, r, _), pull in self._pulls.items():
            if (o, r) == repository and pull.head_ref == ref:
                return pull.shas[-1]
        if re.fullmatch(r"[0-9a-fA-F]{4,40}", ref):
            matches = [sha for sha in commits if sha.startswith(ref.lower())]
            if len(matches) == 1:  # an ambiguous abbreviation names none
                return matches[0]
        return None

    def _history(self, owner: str, repo: str, sha: str) -> list[dict]:
        """The commits reachable from a known sha, newest first, as far as the fake knows."""
        repository = _repo_key(owner, repo)
        commits, previous = self._commits.get(repository, {}), self._previous.get(repository, {})
        history: list[dict] = []
        seen: set[str] = set()
        while sha in commits and sha not in seen:
            seen.add(sha)
            history.append(commits[sha])
            sha = previous.get(sha, "")
        return history

    # Branches and the files on them ------------------------------------------------------

    def _default_branch(self, owner: str, repo: str) -> str:
        return self._default_branches.get(_repo_key(owner, repo), "main")

    def _branch_head_sha(self, owner: str, repo: str, branch: str) -> str | None:
        """The head of a branch of the repository: the default one, one made through the API
        or add_branch(), or the head branch of a pull request from the repository itself."""
        if branch == self._default_branch(owner, repo):
            return self._default_head(owner, repo)
        repository = _repo_key(owner, repo)
        head = self._branches.get(repository, {}).get(branch)
        if head is not None:
            return head
        for key, pull in self._pulls.items():
            if key[:2] == repository and pull.head_ref == branch and self._pushes_to_repository(self._issues[key]):
                return pull.shas[-1]
        return None

    def _branch_names(self, owner: str, repo: str) -> set[str]:
        repository = _repo_key(owner, repo)
        names = {self._default_branch(owner, repo), *self._branches.get(repository, {})}
        for key, pull in self._pulls.items():
            if key[:2] == repository and self._pushes_to_repository(self._issues[key]):
                names.add(pull.head_ref)
        return names

    def _file_on(self, owner: str, repo: str, path: str, ref: str | None) -> str | None:
        """A file's text at ref (None: the default branch), None where there is none.

        A file seeded at exactly that ref comes first. A branch made through the API (or
        add_branch()) has its own version of a file where it was given one, and otherwise the
        default branch's; any other ref has only what was seeded at it.
        """
        if ref is not None:
            key = _file_key(owner, repo, path, ref)
            if key in self._files:
                return self._files[key]
            branch = ref.removeprefix("refs/").removeprefix("heads/")
            if branch != self._default_branch(owner, repo):
                if branch not in self._branches.get(_repo_key(owner, repo), {}):
                    return None
                return self._files.get(_file_key(owner, repo, path, branch), self._default_file(owner, repo, path))
        return self._default_file(owner, repo, path)

    def _default_file(self, owner: str, repo: str, path: str) -> str | None:
        return self._files.get(_file_key(owner, repo, path, None))

    def _ref_known(self, owner: str, repo: str, ref: str) -> bool:
        """Whether GET .../contents would find a commit for ref (it may lack the file)."""
        repository = _repo_key(owner, repo)
        return any(key[:2] == repository and key[3] == ref for key in self._files) or (
            self._resolve(owner, repo, ref) is not None
        )

    def _overlay(self, owner: str, repo: str, branch: str) -> dict[str, str | None]:
        """The branch's own versions of files (None: a file it does not have)."""
        repository = _repo_key(owner, repo)
        return {key[2]: text for key, text in self._files.items() if key[:2] == repository and key[3] == branch}

    def _tree_of(self, owner: str, repo: str, sha: str) -> dict[str, str | None]:
        """The files of a commit where they differ from the default branch's now."""
        if sha == self._default_head(owner, repo):
            return {}
        repository = _repo_key(owner, repo)
        for branch, head in self._branches.get(repository, {}).items():
            if head == sha:
                return self._overlay(owner, repo, branch)
        return dict(self._trees.get((*repository, sha), {}))

    def _move_branch(self, owner: str, repo: str, branch: str, sha: str) -> None:
        """Point a branch (made if new) at a known commit: its files become the commit's."""
        repository = _repo_key(owner, repo)
        files = self._tree_of(owner, repo, sha)
        if branch == self._default_branch(owner, repo):
            for path, text in files.items():
                self._write_default_file(owner, repo, path, text)
            self._default_heads[repository] = sha
        else:
            old = self._branches.get(repository, {}).get(branch)
            if old is not None and old != self._default_head(owner, repo):
                # Its commit keeps the files, should the branch (or another) be moved back to it.
                self._trees[(*repository, old)] = self._overlay(owner, repo, branch)
            self._branches.setdefault(repository, {})[branch] = sha
            for key in [key for key in self._files if key[:2] == repository and key[3] == branch]:
                del self._files[key]
            for path, text in files.items():
                self._files[_file_key(owner, repo, path, branch)] = text
        self._sync_pulls(owner, repo, branch)

    def _write_default_file(self, owner: str, repo: str, path: str, text: str | None) -> None:
        """Change a file on the default branch (None: remove it), which is about to move on:
        every other branch, and every other commit, keeps the version it had."""
        repository = _repo_key(owner, repo)
        key = _file_key(owner, repo, path, None)
        old = self._files.get(key)
        if old == text:
            return
        for branch in self._branches.get(repository, {}):
            self._files.setdefault(_file_key(owner, repo, path, branch), old)
        self._trees.setdefault((*repository, self._default_head(owner, repo)), {})
        for tree_key, tree in self._trees.items():
            if tree_key[:2] == repository:
                tree.setdefault(path, old)
        if text is None:
            self._files.pop(key, None)
        else:
            self._files[key] = text

    def _ahead(self, owner: str, repo: str, base: str, head: str) -> list[str]:
        """The commits reachable from head but not from base, oldest first."""
        behind = {item["sha"] for item in self._history(owner, repo, base)}
        ahead = []
        for item in self._history(owner, repo, head):
            if item["sha"] in behind:
                break
            ahead.append(item["sha"])
        return ahead[::-1]

    def _sync_pulls(self, owner: str, repo: str, branch: str) -> None:
        """The open pull requests from a branch that moved: their commits are the branch's
        now; one left with none for its base is closed, as GitHub closes it."""
        repository = _repo_key(owner, repo)
        head = self._branch_head_sha(owner, repo, branch)
        for key, pull in self._pulls.items():
            issue = self._issues[key]
            if (
                key[:2] != repository
                or pull.head_ref != branch
                or issue.state != "open"
                or not self._pushes_to_repository(issue)
            ):
                continue
            base = self._branch_head_sha(owner, repo, pull.base_ref or self._default_branch(owner, repo))
            ahead = self._ahead(owner, repo, base, head) if base is not None and head is not None else []
            if ahead:
                pull.shas = ahead
            else:
                now = time.time()
                issue.state, issue.closed_at, issue.updated_at = "closed", now, now
                issue.closed_by = _user(f"{self.app_slug}[bot]", "Bot")

    def _named_branch(self, request: web.Request, ref: str) -> str | None:
        """The branch a ref in a git/ref(s) path names (heads/BRANCH); None, and a violation,
        for what would name no branch on GitHub."""
        kind, _, name = ref.partition("/")
        if kind == "heads" and name:
            return name
        if kind == "tags":
            problem = "the fake has no tags; teach tests/fakes.py (_named_branch) what GitHub does"
        else:
            problem = f"GitHub names a branch heads/BRANCH in this path (no refs/ before it), not {ref!r}"
        self.violations.append(f"{request.method} {request.path}: {problem}")
        return None

    def _ref_object(self, owner: str, repo: str, branch: str, sha: str) -> dict:
        """A branch as GitHub describes a git reference."""
        api = f"{GITHUB_API}/repos/{owner}/{repo}"
        ref = f"refs/heads/{branch}"
        node = hashlib.sha1(f"{owner}/{repo}:{ref}".lower().encode()).hexdigest()[:20]
        return {
            "ref": ref,
            "node_id": f"REF_{node}",
            "url": f"{api}/git/{ref}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    def _get_git_ref(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        branch = self._named_branch(request, params["ref"])
        sha = None if branch is None else self._branch_head_sha(owner, repo, branch)
        if sha is None:
            return _error(404)
        return _Reply(200, self._ref_object(owner, repo, branch, sha))

    def _create_git_ref(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """A new branch at a commit of the repository, with that commit's files."""
        owner, repo, ref, sha = params["owner"], params["repo"], body["ref"], body["sha"].lower()
        parts = ref.split("/")
        if len(parts) < 3 or parts[0] != "refs":
            message = (
                "Reference name must contain at least three slash-separated components."
                if len(parts) < 3
                else f"{ref} is not a valid ref name."
            )
            return self._refuse_request(request, _error(422, message), f"{message} (ref is refs/heads/BRANCH)")
        if not _valid_ref_name(ref):
            message = f"{ref} is not a valid ref name."
            return self._refuse_request(request, _error(422, message), message)
        if parts[1] != "heads":
            problem = "the fake makes branches (refs/heads/...) only; teach tests/fakes.py (_create_git_ref)"
            return self._refuse_request(request, _error(422, "Reference update failed"), problem)
        branch = ref.removeprefix("refs/heads/")
        names = self._branch_names(owner, repo)
        if branch in names:
            return _error(422, "Reference already exists")
        if any(name.startswith(branch + "/") or branch.startswith(name + "/") for name in names):
            # git keeps refs as files: refs/heads/a and refs/heads/a/b cannot both be.
            return _error(422, "Reference update failed")
        if sha not in self._commits.get(_repo_key(owner, repo), {}):
            return _error(422, "Object does not exist")
        self._move_branch(owner, repo, branch, sha)
        location = f"{request.url.origin()}/repos/{owner}/{repo}/git/{ref}"
        return _Reply(201, self._ref_object(owner, repo, branch, sha), {"Location": location})

    def _update_git_ref(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """Move a branch to a commit: a fast-forward, or anywhere with force."""
        owner, repo = params["owner"], params["repo"]
        branch = self._named_branch(request, params["ref"])
        old = None if branch is None else self._branch_head_sha(owner, repo, branch)
        if old is None:
            return _error(422, "Reference does not exist")
        sha = body["sha"].lower()
        if sha not in self._commits.get(_repo_key(owner, repo), {}):
            return _error(422, "Object does not exist")
        if not body.get("force", False) and old not in {c["sha"] for c in self._history(owner, repo, sha)}:
            return _error(422, "Update is not a fast forward")
        self._move_branch(owner, repo, branch, sha)
        return _Reply(200, self._ref_object(owner, repo, branch, sha))

    def _put_contents(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """Create or update a file on a branch (by default the default one): a new commit on
        it. Updating wants the blob sha of the file being replaced."""
        owner, repo, path = params["owner"], params["repo"], params["path"]
        repository = _repo_key(owner, repo)
        try:
            data = base64.b64decode(re.sub(r"\s", "", body["content"]), validate=True)
        except ValueError:
            return self._refuse_request(request, _error(422, "content is not valid Base64"), "content is not Base64")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problem = "the fake keeps text files only: the content is not UTF-8; teach tests/fakes.py (_put_contents)"
            return self._refuse_request(request, _error(422, "content is not UTF-8"), problem)
        default = self._default_branch(owner, repo)
        branch = body.get("branch") or default
        head = self._branch_head_sha(owner, repo, branch)
        if head is None:
            return _error(404, f"Branch {branch} not found")
        current = self._file_on(owner, repo, path, None if branch == default else branch)
        if current is not None:
            if "sha" not in body:
                return _error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            if body["sha"] != _blob_sha(current):
                return _error(409, f"{path} does not match {body['sha']}")
        if branch == default:
            self._write_default_file(owner, repo, path, text)
        else:
            if head != self._default_head(owner, repo):
                self._trees[(*repository, head)] = self._overlay(owner, repo, branch)  # the parent's files
            self._files[_file_key(owner, repo, path, branch)] = text
        made = self._commit_by_app(owner, repo, body, head)
        if branch == default:
            self._default_heads[repository] = made["sha"]
        else:
            self._branches.setdefault(repository, {})[branch] = made["sha"]
        self._sync_pulls(owner, repo, branch)
        content = _file_object(owner, repo, path, branch, text)
        del content["content"], content["encoding"]  # not in this answer
        api, html = f"{GITHUB_API}/repos/{owner}/{repo}", f"{GITHUB_HTML}/{owner}/{repo}"
        git = copy.deepcopy(made["commit"])
        answer_commit = {
            "sha": made["sha"],
            "node_id": made["node_id"],
            "url": f"{api}/git/commits/{made['sha']}",
            "html_url": f"{html}/commit/{made['sha']}",
            "author": git["author"],
            "committer": git["committer"],
            "tree": git["tree"],
            "message": git["message"],
            "parents": [
                {"url": f"{api}/git/commits/{p['sha']}", "html_url": f"{html}/commit/{p['sha']}", "sha": p["sha"]}
                for p in made["parents"]
            ],
            "verification": git["verification"],
        }
        return _Reply(201 if current is None else 200, {"content": content, "commit": answer_commit})

    def _commit_by_app(self, owner: str, repo: str, body: dict, parent: str) -> dict:
        """The commit a contents write makes after parent: by the app's bot and signed by
        GitHub, unless the request names an author or committer (then unsigned)."""
        bot = _user(f"{self.app_slug}[bot]", "Bot")
        bot_email = f"{bot['id']}+{bot['login']}@users.noreply.github.com"
        committer = body.get("committer") or {"name": bot["login"], "email": bot_email}
        author = body.get("author") or committer
        made = commit(
            message=body["message"],
            author_name=author["name"],
            author_email=author["email"],
            author_login=bot["login"] if author["email"] == bot_email else None,
            author_id=bot["id"] if author["email"] == bot_email else None,
            committer_name=committer["name"],
            committer_email=committer["email"],
            committer_login=bot["login"] if committer["email"] == bot_email else None,
            parents=[parent],
            verified="committer" not in body and "author" not in body,
        )
        self._remember_commit(owner, repo, made, parent)
        return made

    # Pull requests opened through the API, and people ---------------------------------------

    def _create_pull(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """A pull request from a branch of the repository into another, by the app."""
        owner, repo = params["owner"], params["repo"]
        for name in ("issue", "head_repo"):
            if name in body:
                self.violations.append(
                    f"POST {request.path}: the fake does not imitate the {name} parameter; "
                    "teach tests/fakes.py (_create_pull) what GitHub does with it"
                )
        if not body.get("title"):
            return _validation_failed("PullRequest", "title", "missing_field")
        head_owner, _, branch = body["head"].rpartition(":")
        if head_owner and head_owner.lower() != owner.lower():
            problem = "the fake has no forks: a pull request from another owner's branch is not imitated"
            return self._refuse_request(request, _validation_failed("PullRequest", "head", "invalid"), problem)
        base = body["base"]
        base_sha = self._branch_head_sha(owner, repo, base)
        if base_sha is None:
            return _validation_failed("PullRequest", "base", "invalid")
        head_sha = self._branch_head_sha(owner, repo, branch)
        if head_sha is None:
            return _validation_failed("PullRequest", "head", "invalid")
        for key, pull in self._pulls.items():
            issue = self._issues[key]
            if (
                key[:2] == _repo_key(owner, repo)
                and issue.state == "open"
                and pull.head_ref == branch
                and (pull.base_ref or self._default_branch(owner, repo)) == base
                and self._pushes_to_repository(issue)
            ):
                return _custom_validation_error("PullRequest", f"A pull request already exists for {owner}:{branch}.")
        ahead = self._ahead(owner, repo, base_sha, head_sha)
        if not ahead:
            return _custom_validation_error("PullRequest", f"No commits between {base} and {body['head']}")
        issue = self._new_app_issue(owner, repo, body, pull_request=True, draft=bool(body.get("draft", False)))
        key = _issue_key(owner, repo, issue.number)
        self._issues[key] = issue
        self._pulls[key] = _Pull(
            base_sha=base_sha, shas=ahead, head_ref=branch, merge_commit_sha=_random_sha(), base_ref=base
        )
        self._opened_pulls.append(key)
        location = f"{request.url.origin()}/repos/{owner}/{repo}/pulls/{issue.number}"
        return _Reply(201, self._pull_object(issue), {"Location": location})

    def _list_pulls(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """The repository's pull requests by state, head and base; newest first by default.

        Like GitHub, a head filter without its owner (owner:branch) is ignored.
        """
        query = request.query
        if query.get("sort") == "long-running":
            self.violations.append(
                f"GET {request.path}: the fake does not imitate sort=long-running; "
                "teach tests/fakes.py (_list_pulls) what GitHub does with it"
            )
        state = query.get("state", "open")
        head_owner, _, head_ref = query.get("head", "").rpartition(":")
        base = query.get("base")
        found = []
        for issue in self._repo_issues(params["owner"], params["repo"]):
            if not issue.pull_request or (state != "all" and issue.state != state):
                continue
            answer = self._pull_object(issue)
            if head_owner and (
                answer["head"]["user"]["login"].lower() != head_owner.lower() or answer["head"]["ref"] != head_ref
            ):
                continue
            if base is not None and answer["base"]["ref"] != base:
                continue
            found.append(issue)
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc" if sort == "created" else "asc")
        by = {"popularity": "comments", "long-running": "created"}.get(sort, sort)
        page, headers = self._paginate(request, self._sorted(found, by, direction))
        return _Reply(200, [self._pull_listed(issue) for issue in page], headers)

    def _pull_listed(self, issue: _Issue) -> dict:
        """A pull request as GitHub lists them: without what it works out for one alone."""
        answer = self._pull_object(issue)
        for name in _PULL_ONLY_FIELDS:
            del answer[name]
        return answer

    def _get_user(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        return _Reply(200, self._public_user(params["username"]))

    def _public_user(self, login: str) -> dict:
        """Someone's public profile, as GET /users/{username} answers it (spelt as they spell
        their login, whatever the request's case)."""
        seeded = self._users.get(login.lower(), {})
        login = seeded.get("login", login)
        user = _user(login, seeded.get("type") or self._account_type(login))
        user.update(
            user_view_type="public",
            name=seeded.get("name"),
            company=None,
            blog=seeded.get("blog", ""),
            location=None,
            email=None,
            hireable=None,
            bio=None,
            twitter_username=None,
            public_repos=0,
            public_gists=0,
            followers=0,
            following=0,
            created_at="2024-01-01T00:00:00Z",
            updated_at="2024-01-01T00:00:00Z",
        )
        return user

    def _get_repository(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """A repository the fake holds anything of (else 404, as for one the app cannot see)."""
        owner, repo = params["owner"], params["repo"]
        if not self._knows_repository(owner, repo):
            return _error(404)
        return _Reply(200, {**self._repository(owner, repo), "network_count": 0, "subscribers_count": 0})

    def _knows_repository(self, owner: str, repo: str) -> bool:
        repository = _repo_key(owner, repo)
        return (
            any(repository in known for known in (self._default_branches, self._branches, self._default_heads))
            or repository in self._labels
            or any(key[:2] == repository for key in [*self._files, *self._issues])
            or any(installation.covers(owner, repo) for installation in self._installations.values())
        )

    # Check runs -------------------------------------------------------------------------

    def _create_check_run(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        owner, repo = params["owner"], params["repo"]
        head_sha = body["head_sha"]
        if not re.fullmatch(r"[0-9a-fA-F]{40}", head_sha):
            # GitHub wants the commit's full SHA: not a branch, not an abbreviation.
            reply = _error(422, f"No commit found for SHA: {head_sha}")
            problem = f"head_sha {head_sha!r} is no full commit SHA"
            return self._refuse_request(request, reply, problem)
        refusal = self._check_run_refusal(request, body)
        if refusal is not None:
            return refusal
        head_sha = head_sha.lower()
        run_id = next(self._ids)
        suite = (owner.lower(), repo.lower(), head_sha)
        api = f"{GITHUB_API}/repos/{owner}/{repo}"
        now = _timestamp(time.time())
        integration = self._integration()
        run = _CheckRun(
            owner=owner,
            repo=repo,
            answer={
                "id": run_id,
                "head_sha": head_sha,
                "node_id": f"CR_{run_id}",
                "external_id": "",
                "url": f"{api}/check-runs/{run_id}",
                "html_url": f"{GITHUB_HTML}/{owner}/{repo}/runs/{run_id}",
                # Without one, GitHub links to the app's homepage.
                "details_url": integration["external_url"],
                "status": "queued",
                "conclusion": None,
                "started_at": now,
                "completed_at": None,
                "output": {
                    "title": None,
                    "summary": None,
                    "text": None,
                    "annotations_count": 0,
                    "annotations_url": f"{api}/check-runs/{run_id}/annotations",
                },
                "name": body["name"],
                "check_suite": {"id": self._check_suites.setdefault(suite, next(self._ids))},
                "app": integration,
                "pull_requests": [],
            },
        )
        self._update(run, body)
        self._check_runs.append(run)
        return _Reply(201, self._check_run_object(run))

    def _update_check_run(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        repository = _repo_key(params["owner"], params["repo"])
        run_id = int(params["check_run_id"])
        for run in self._check_runs:
            if run.answer["id"] == run_id and _repo_key(run.owner, run.repo) == repository:
                refusal = self._check_run_refusal(request, body)
                if refusal is not None:
                    return refusal
                self._update(run, body)
                return _Reply(200, self._check_run_object(run))
        return _error(404)

    def _check_run_refusal(self, request: web.Request, body: dict) -> _Reply | None:
        """GitHub's refusal of a check run it would not take, beyond what the description says."""
        status, conclusion = body.get("status"), body.get("conclusion")
        if conclusion is None and (status == "completed" or "completed_at" in body):
            problem = "conclusion is required with status completed or with completed_at"
        elif conclusion in GITHUB_ONLY_CONCLUSIONS:
            problem = f"only GitHub can set conclusion {conclusion!r}"
        else:
            for name in ("started_at", "completed_at"):
                try:
                    if name in body:
                        _epoch(body[name])
                except ValueError:
                    problem = f"{name} {body[name]!r} is no ISO 8601 timestamp"
                    break
            else:
                return None
        reply = _error(422, "Invalid request.\n\n" + problem)
        return self._refuse_request(request, reply, problem)

    def _update(self, run: _CheckRun, body: dict) -> None:
        """Apply a create or update request's fields; giving a conclusion completes the run."""
        answer, output = run.answer, run.answer["output"]
        for name in ("name", "details_url", "external_id"):
            if name in body:
                answer[name] = body[name]
        if "status" in body:
            answer["status"] = body["status"]
        if "conclusion" in body:
            answer["status"], answer["conclusion"] = "completed", body["conclusion"]
        if answer["status"] != "completed":
            answer["conclusion"] = answer["completed_at"] = None
        elif "conclusion" in body:  # completed now, unless the request says when
            answer["completed_at"] = _timestamp(time.time())
        for name in ("started_at", "completed_at"):
            if name in body:
                answer[name] = _timestamp(_epoch(body[name]))
        given = body.get("output") or {}
        for name in ("title", "summary", "text"):
            if name in given:
                output[name] = given[name]
        run.annotations += copy.deepcopy(given.get("annotations", []))
        output["annotations_count"] = len(run.annotations)
        if "actions" in body:
            run.actions = copy.deepcopy(body["actions"])

    def _list_check_runs_for_ref(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        """The ref's check runs, newest first; by default only the latest of each name."""
        owner, repo, ref, query = params["owner"], params["repo"], params["ref"], request.query
        sha = self._resolve(owner, repo, ref)
        if sha is None and re.fullmatch(r"[0-9a-fA-F]{40}", ref):
            sha = ref.lower()  # a commit the fake was not told about may have check runs
        if sha is None:
            return _error(422, f"No commit found for SHA: {ref}")
        runs, names = [], set()
        for run in reversed(self._check_runs):
            answer = run.answer
            if (
                _repo_key(run.owner, run.repo) != _repo_key(owner, repo)
                or answer["head_sha"] != sha
                or query.get("check_name", answer["name"]) != answer["name"]
                or query.get("status", answer["status"]) != answer["status"]
                or int(query.get("app_id", self.app_id)) != answer["app"]["id"]
                or (query.get("filter", "latest") == "latest" and answer["name"] in names)
            ):
                continue
            names.add(answer["name"])
            runs.append(run)
        page, headers = self._paginate(request, runs)
        answer = {
            "total_count": len(runs),
            "check_runs": [self._check_run_object(run) for run in page],
        }
        return _Reply(200, answer, headers)

    def _check_run_object(self, run: _CheckRun) -> dict:
        """The check run as GitHub answers it, with the pull requests its commit heads.

        GitHub lists only the repository's own open pull requests there, never one
        from a fork.
        """
        answer = copy.deepcopy(run.answer)
        for key, pull in self._pulls.items():
            issue = self._issues[key]
            if (
                key[:2] == _repo_key(run.owner, run.repo)
                and pull.shas[-1] == answer["head_sha"]
                and issue.state == "open"
                and self._pushes_to_repository(issue)
            ):
                answer["pull_requests"].append(self._minimal_pull(issue, pull))
        return answer

    def _minimal_pull(self, issue: _Issue, pull: _Pull) -> dict:
        repository = self._repository(issue.owner, issue.repo)
        repo = {key: repository[key] for key in ("id", "url", "name")}
        return {
            "id": issue.id,
            "number": issue.number,
            "url": f"{GITHUB_API}/repos/{issue.owner}/{issue.repo}/pulls/{issue.number}",
            "head": {"ref": pull.head_ref, "sha": pull.shas[-1], "repo": repo},
            "base": {
                "ref": pull.base_ref or self._default_branch(issue.owner, issue.repo),
                "sha": pull.base_sha,
                "repo": repo,
            },
        }

    def _refuse_request(self, request: web.Request, reply: _Reply, problem: str) -> _Reply:
        """A handler's refusal of what GitHub would refuse: a violation, like the spec's."""
        self.violations.append(f"{request.method} {request.path}: {problem}")
        return reply

    # Organisations ----------------------------------------------------------------------

    def _list_org_members(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """The organisation's members, private ones too (what an installation token with the
        members permission sees), by login, paginated; 404 for an owner that is no organisation."""
        members = self._org_members.get(params["org"].lower())
        if members is None:
            return _error(404)
        return self._page(request, [_user(login) for login in sorted(members)])

    def _check_org_membership(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        """204 for a member; 404 for anyone else, and for an owner that is no organisation.

        That is GitHub's answer to an app's installation token; the 302 it sends to a
        requester who may not know is not imitated.
        """
        if params["username"].lower() in self._org_members.get(params["org"].lower(), set()):
            return _Reply(204)
        return _error(404, "User does not exist or is not a member of the organization")

    # Installations, and what signed-in people may see ----------------------------------------

    def _list_installations(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        for name in ("since", "outdated"):
            if name in request.query:
                self.violations.append(
                    f"GET {request.path}: the fake does not imitate the {name} parameter; "
                    "teach tests/fakes.py (_list_installations) what GitHub does with it"
                )
        installations = [self._installation_object(i) for i in self._installations.values()]
        return self._page(request, installations)

    def _get_organisation_installation(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        return self._account_installation(params["org"], "Organization")

    def _get_user_account_installation(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        return self._account_installation(params["username"], "User")

    def _account_installation(self, login: str, account_type: str) -> _Reply:
        for installation in self._installations.values():
            account = installation.account
            if account["login"].lower() == login.lower() and account["type"] == account_type:
                return _Reply(200, self._installation_object(installation))
        return _error(404)

    def _get_repository_installation(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        for installation in self._installations.values():
            if installation.covers(params["owner"], params["repo"]):
                return _Reply(200, self._installation_object(installation))
        return _error(404)

    def _list_installation_repositories(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        installation = self._installations.get(request[_CALL].installation_id)
        covered = installation.repositories if installation is not None else []
        selection = "all" if installation is not None and installation.all_repositories else "selected"
        return self._repositories_page(request, covered, selection)

    def _get_signed_in_user(self, request: web.Request, params: dict[str, str], body: Any) -> _Reply:
        """The person the user token belongs to, as GitHub shows people their own account."""
        # Their public profile, and what only they see of it.
        user = self._public_user(request[_CALL].user_login)
        user.update(
            user_view_type="private",
            notification_email=None,
            private_gists=0,
            total_private_repos=0,
            owned_private_repos=0,
            disk_usage=0,
            collaborators=0,
            two_factor_authentication=True,
        )
        return _Reply(200, user)

    def _list_user_installations(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        visible = self._user_access.get(request[_CALL].user_login.lower(), {})
        installations = [self._installation_object(self._installations[i]) for i in visible]
        page, headers = self._paginate(request, installations)
        return _Reply(200, {"total_count": len(installations), "installations": page}, headers)

    def _list_user_installation_repositories(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        installation_id = int(params["installation_id"])
        visible = self._user_access.get(request[_CALL].user_login.lower(), {})
        if installation_id not in visible:
            return _error(404)
        selection = "all" if self._installations[installation_id].all_repositories else "selected"
        return self._repositories_page(request, visible[installation_id], selection)

    def _repositories_page(
        self, request: web.Request, repositories: list[tuple[str, str]], selection: str
    ) -> _Reply:
        """A page of repositories, as the installation repository listings answer it."""
        page, headers = self._paginate(request, repositories)
        answer = {
            "total_count": len(repositories),
            "repository_selection": selection,
            "repositories": [self._repository(owner, repo) for owner, repo in page],
        }
        return _Reply(200, answer, headers)

    def _installation_object(self, installation: _Installation) -> dict:
        """The installation as GitHub describes one to the app and to people who may see it."""
        account = copy.deepcopy(installation.account)
        integration = self._integration()
        if account["type"] == "Organization":
            settings = f"{GITHUB_HTML}/organizations/{account['login']}/settings/installations/{installation.id}"
        else:
            settings = f"{GITHUB_HTML}/settings/installations/{installation.id}"
        created = _timestamp(installation.created_at)
        return {
            "id": installation.id,
            "client_id": integration["client_id"],
            "account": account,
            "repository_selection": "all" if installation.all_repositories else "selected",
            "access_tokens_url": f"{GITHUB_API}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{GITHUB_API}/installation/repositories",
            "html_url": settings,
            "app_id": integration["id"],
            "app_slug": integration["slug"],
            "target_id": account["id"],
            "target_type": account["type"],
            "permissions": copy.deepcopy(integration["permissions"]),
            "events": list(integration["events"]),
            "created_at": created,
            "updated_at": created,
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    # The manifest flow -------------------------------------------------------------------

    async def _manifest_page(self, request: web.Request) -> web.Response:
        """GitHub's page where the signed-in user confirms the app a posted manifest describes.

        A manifest GitHub would not take gets a page listing why. That is recorded in
        `manifest_errors`, not as a violation: a test may send one on purpose.
        """
        org = request.match_info.get("org")
        manifest, problems = _parse_manifest((await request.post()).get("manifest"), self._spec)
        if problems:
            return self._refuse_manifest(request, 422, problems)
        reference = secrets.token_urlsafe(16)
        self._pending_manifests[reference] = {
            "manifest": manifest,
            "owner": org or self.user_login,
            "owner_type": "User" if org is None else "Organization",
            "state": request.query.get("state"),
        }
        name = manifest.get("name", "")
        return _html(200, _manifest_form(self._pending_manifests[reference], reference, name))

    async def _create_app_from_manifest(self, request: web.Request) -> web.Response:
        """The user pressed "Create GitHub App": the app is created, and GitHub redirects
        to the manifest's redirect_url with a one-time code and the state it was given.
        """
        form = await request.post()
        reference = form.get("manifest_reference")
        pending = self._pending_manifests.get(reference) if isinstance(reference, str) else None
        if pending is None:
            return self._refuse_manifest(request, 404, ["no manifest awaits confirmation here"])
        name = str(form.get("name", "")).strip()
        problems = self._app_name_problems(name)
        if problems:
            self.manifest_errors += [f"{request.method} {request.path}: {p}" for p in problems]
            return _html(422, _manifest_form(pending, reference, name, problems))
        del self._pending_manifests[reference]
        code = secrets.token_hex(10)
        registration = {**pending, "name": name, "code": code, "app": None}
        registration["code_issued_at"] = time.time()
        self.registered_apps.append(registration)
        location = _with_query(pending["manifest"]["redirect_url"], code=code, state=pending["state"])
        return web.Response(status=302, headers={"Location": location})

    def _app_name_problems(self, name: str) -> list[str]:
        """Why GitHub would not name an app so: app names are unique across GitHub."""
        if not _slug(name):
            return ["Name can't be blank" if not name else "Name must have letters or digits"]
        if len(name) > MAX_APP_NAME:
            return [f"Name is too long (maximum is {MAX_APP_NAME} characters)"]
        taken = {_slug(r["name"]) for r in self.registered_apps}
        return ["Name is already in use"] if _slug(name) in taken else []

    def _refuse_manifest(self, request: web.Request, status: int, problems: list[str]) -> web.Response:
        self.manifest_errors += [f"{request.method} {request.path}: {p}" for p in problems]
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
        return _html(status, _page("Invalid GitHub App manifest", f"<ul>{items}</ul>"))

    def _convert_manifest_code(
        self, request: web.Request, params: dict[str, str], body: Any
    ) -> _Reply:
        """The new app's credentials, for a code from the manifest flow: once, within the hour.

        From then on the fake is that app: its id and slug, and its key signs the JWT.
        """
        code = params["code"]
        self.conversions.append(code)
        registration = next((r for r in self.registered_apps if r["code"] == code), None)
        if (
            registration is None
            or registration["app"] is not None
            or time.time() >= registration["code_issued_at"] + self.manifest_code_lifetime
        ):
            return _error(404)
        private_key, public_key = new_private_key()
        app = self._new_app(registration, private_key)
        registration["app"] = app
        callback_urls = registration["manifest"].get("callback_urls") or None
        self.oauth_client(app["client_id"], app["client_secret"], callback_urls=callback_urls)
        self.app_id, self.app_slug, self._public_key = app["id"], app["slug"], public_key
        secret_fields = ("client_secret", "webhook_secret", "pem")
        self._registered_app = {key: v for key, v in app.items() if key not in secret_fields}
        return _Reply(201, copy.deepcopy(app))

    def _new_app(self, registration: dict, private_key: str) -> dict:
        """The app a confirmed manifest describes, as the conversion answers it."""
        manifest = registration["manifest"]
        app_id = 1001 + sum(r["app"] is not None for r in self.registered_apps)
        slug = _slug(registration["name"])
        now = _timestamp(time.time())
        hook = manifest.get("hook_attributes") or {}
        return {
            "id": app_id,
            "slug": slug,
            "node_id": f"A_{app_id}",
            "client_id": f"Iv1.{secrets.token_hex(8)}",
            "owner": _user(registration["owner"], registration["owner_type"]),
            "name": registration["name"],
            "description": manifest.get("description"),
            "external_url": manifest["url"],
            "html_url": f"{self.url or GITHUB_HTML}/apps/{slug}",
            "created_at": now,
            "updated_at": now,
            # Every app may read metadata, asked or not.
            "permissions": {"metadata": "read", **manifest.get("default_permissions", {})},
            "events": list(manifest.get("default_events", [])),
            "installations_count": 0,
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20) if hook.get("url") else None,
            "pem": private_key,
        }

    # Sign in with GitHub -----------------------------------------------------------------

    async def _authorize_page(self, request: web.Request) -> web.Response:
        """GitHub's page asking the signed-in person to authorize the app; with auto_authorize,
        the redirect back with a code at once, as GitHub does for someone who authorized it
        before."""
        refusal = self._authorization_refusal(request.query)
        if refusal is not None:
            return refusal
        if self.auto_authorize:
            return self._redirect_with_code(request.query)
        return _html(200, _authorize_form(self._integration()["name"], self.signed_in_login, request.query))

    async def _confirm_authorization(self, request: web.Request) -> web.Response:
        """The person pressed "Authorize": back to the app with a one-time code and its state."""
        form = await request.post()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        return self._authorization_refusal(fields) or self._redirect_with_code(fields)

    def _authorization_refusal(self, params: Mapping[str, str]) -> web.Response | None:
        """GitHub's answer instead of the authorization, or None to go on."""
        client = self._oauth_clients.get(params.get("client_id", ""))
        if client is None:
            return _html(404, _page("Page not found", "<p>No application has this client_id.</p>"))
        if self.signed_in_login is None:
            body = "<p>No one is signed in to GitHub: a test sets FakeGitHub.signed_in_login.</p>"
            return _html(403, _page("Sign in to GitHub", body))
        redirect_uri = params.get("redirect_uri")
        if client.callback_urls is None:
            if redirect_uri is None:
                body = "<p>redirect_uri is required: no callback URL is registered.</p>"
                return _html(400, _page("Bad request", body))
            return None
        if redirect_uri is not None and redirect_uri not in client.callback_urls:
            # GitHub sends the person to the registered callback URL with the error instead.
            location = _with_query(
                client.callback_urls[0],
                error="redirect_uri_mismatch",
                error_description=OAUTH_ERRORS["redirect_uri_mismatch"],
                error_uri=OAUTH_TROUBLESHOOTING + "#redirect-uri-mismatch",
                state=params.get("state"),
            )
            return web.Response(status=302, headers={"Location": location})
        return None

    def _redirect_with_code(self, params: Mapping[str, str]) -> web.Response:
        client = self._oauth_clients[params["client_id"]]
        assert self.signed_in_login is not None
        redirect_uri = params.get("redirect_uri") or (client.callback_urls or [""])[0]
        code = secrets.token_hex(10)
        self._oauth_codes[code] = _OAuthCode(client.client_id, self.signed_in_login, redirect_uri, time.time())
        location = _with_query(redirect_uri, code=code, state=params.get("state"))
        return web.Response(status=302, headers={"Location": location})

    async def _exchange_oauth_code(self, request: web.Request) -> web.Response:
        """POST /login/oauth/access_token: a code for a user access token, once, within its
        lifetime. GitHub answers a refusal with status 200 and an error, like an answer."""
        fields = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            fields.update({k: v for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else {})
        else:
            fields.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        client = self._oauth_clients.get(fields.get("client_id", ""))
        if client is None or not hmac.compare_digest(client.client_secret, fields.get("client_secret", "")):
            return _oauth_answer(request, _oauth_error("incorrect_client_credentials"))
        code = self._oauth_codes.get(fields.get("code", ""))
        if (
            code is None
            or code.client_id != client.client_id
            or time.time() >= code.issued_at + self.oauth_code_lifetime
        ):
            return _oauth_answer(request, _oauth_error("bad_verification_code"))
        if fields.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            return _oauth_answer(request, _oauth_error("redirect_uri_mismatch"))
        del self._oauth_codes[fields["code"]]
        token = self.user_token(code.login)
        return _oauth_answer(request, {"access_token": token, "token_type": "bearer", "scope": ""})


def _requester_name(call: Call) -> str:
    """Whose rate limit a call spent, as GitHub's refusal names it."""
    if call.user_login is not None:
        return f"user {call.user_login}"
    if call.installation_id is not None:
        return f"installation ID {call.installation_id}"
    return "the app"


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


def _custom_validation_error(resource: str, message: str) -> _Reply:
    """GitHub's 422 for a rule of its own, such as one open pull request a branch."""
    reply = _error(422, "Validation Failed")
    reply.json["errors"] = [{"resource": resource, "code": "custom", "message": message}]
    return reply


# What git takes as a reference's name (git check-ref-format), as far as GitHub checks it.
_BAD_REF_NAME = re.compile(r"(^|/)\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|//|@\{|\.lock(/|$)|[/.]$|^@$")


def _valid_ref_name(ref: str) -> bool:
    return _BAD_REF_NAME.search(ref) is None


# Fields of a pull request GitHub answers for one alone, not in its lists of them.
_PULL_ONLY_FIELDS = (
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


# The manifest flow's pages and checks --------------------------------------------------


def _parse_manifest(text: Any, spec: RestSpec) -> tuple[dict, list[str]]:
    """The manifest a form posted, and why GitHub would not take it."""
    if not isinstance(text, str) or not text.strip():
        return {}, ["the form has no manifest field"]
    try:
        manifest = json.loads(text)
    except ValueError as error:
        return {}, [f"the manifest is not JSON: {error}"]
    if not isinstance(manifest, dict):
        return {}, ["the manifest is not a JSON object"]
    return manifest, _manifest_problems(manifest, spec)


def _manifest_problems(manifest: dict, spec: RestSpec) -> list[str]:
    """Why GitHub would not take the manifest, roughly.

    A key GitHub does not document is refused too: what GitHub makes of it is unknown,
    and it is most likely a misspelt one that would silently be left out.
    """
    problems = [f"unknown key {key!r}" for key in manifest if key not in MANIFEST_KEYS]
    problems += [f"{key} is required" for key in ("url", "redirect_url") if key not in manifest]
    for key in ("url", "redirect_url", "setup_url"):
        if key in manifest and not _is_web_url(manifest[key]):
            problems.append(f"{key} must be an http(s) URL, not {manifest[key]!r}")
    for key in ("name", "description"):
        if key in manifest and not isinstance(manifest[key], str):
            problems.append(f"{key} must be a string")
    for key in ("public", "request_oauth_on_install", "setup_on_update"):
        if key in manifest and not isinstance(manifest[key], bool):
            problems.append(f"{key} must be true or false")
    if "hook_attributes" in manifest:
        problems += _hook_problems(manifest["hook_attributes"])
    if "callback_urls" in manifest:
        problems += _callback_problems(manifest["callback_urls"])
    permissions = manifest.get("default_permissions", {})
    problems += _permission_problems(permissions, spec)
    if "default_events" in manifest:
        granted = set(permissions) if isinstance(permissions, dict) else set()
        problems += _event_problems(manifest["default_events"], granted | {"metadata"})
    return problems


def _hook_problems(hook: Any) -> list[str]:
    if not isinstance(hook, dict):
        return ["hook_attributes must be an object"]
    problems = [f"unknown key 'hook_attributes.{key}'" for key in hook if key not in ("url", "active")]
    active = hook.get("active", True)
    if not isinstance(active, bool):
        problems.append("hook_attributes.active must be true or false")
    if "url" in hook:
        if not _is_web_url(hook["url"]):
            problems.append(f"hook_attributes.url must be an http(s) URL, not {hook['url']!r}")
    elif active is not False:
        problems.append("hook_attributes.url is required while the webhook is active")
    return problems


def _callback_problems(urls: Any) -> list[str]:
    if not isinstance(urls, list):
        return ["callback_urls must be a list of URLs"]
    problems = [f"callback_urls: {url!r} is not an http(s) URL" for url in urls if not _is_web_url(url)]
    if len(urls) > MAX_CALLBACK_URLS:
        problems.append(f"callback_urls: at most {MAX_CALLBACK_URLS}, not {len(urls)}")
    return problems


def _permission_problems(permissions: Any, spec: RestSpec) -> list[str]:
    """Problems with default_permissions: the permissions and levels are the description's."""
    if not isinstance(permissions, dict):
        return ["default_permissions must be an object"]
    known = spec.document["components"]["schemas"]["app-permissions"]["properties"]
    problems = []
    for name, access in permissions.items():
        if name not in known:
            problems.append(f"default_permissions: unknown permission {name!r}")
            continue
        levels = known[name].get("enum", ["read", "write", "admin"])
        if access not in levels:
            problems.append(f"default_permissions: {name} is {' or '.join(levels)}, not {access!r}")
    return problems


def _event_problems(events: Any, granted: set[str]) -> list[str]:
    """Problems with default_events: an app receives only the events its permissions allow."""
    if not isinstance(events, list) or not all(isinstance(event, str) for event in events):
        return ["default_events must be a list of event names"]
    problems = []
    for event in events:
        needed = EVENT_PERMISSIONS.get(event, ())
        if needed and not granted.intersection(needed):
            problems.append(f"default_events: {event} needs the {' or '.join(needed)} permission")
    return problems


def _is_web_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _slug(name: str) -> str:
    """The app's slug, as GitHub makes it of the name: "Community Bot" is community-bot."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _with_query(url: str, **params: str | None) -> str:
    """url with params (those not None) added to the query it has, which is kept as it is."""
    parts = urlsplit(url)
    added = urlencode({name: value for name, value in params.items() if value is not None})
    query = f"{parts.query}&{added}" if parts.query and added else parts.query or added
    return urlunsplit(parts._replace(query=query))


def _manifest_form(pending: dict, reference: str, name: str, problems: Collection[str] = ()) -> str:
    """The page asking to confirm the manifest's app, as GitHub shows it; name may be edited."""
    escape = html.escape
    manifest = pending["manifest"]
    errors = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
    permissions = "".join(
        f"<li>{escape(permission)}: {escape(access)}</li>"
        for permission, access in sorted(manifest.get("default_permissions", {}).items())
    )
    events = "".join(f"<li>{escape(event)}</li>" for event in manifest.get("default_events", []))
    state = pending["state"]
    hidden_state = "" if state is None else (
        f'<input type="hidden" name="state" value="{escape(state)}">'
    )
    body = f"""
<ul class="flash-error">{errors}</ul>
<form method="post" action="{CREATE_APP_PATH}">
  <input type="hidden" name="manifest_reference" value="{escape(reference)}">
  {hidden_state}
  <label for="name">GitHub App name</label>
  <input type="text" id="name" name="name" value="{escape(name)}" maxlength="{MAX_APP_NAME}">
  <p>{escape(manifest.get("description") or "")}</p>
  <p>Homepage URL: {escape(manifest["url"])}</p>
  <h2>Permissions</h2><ul>{permissions}</ul>
  <h2>Events</h2><ul>{events}</ul>
  <button type="submit">Create GitHub App</button>
</form>"""
    return _page(f"Create GitHub App for {pending['owner']}", body)


def _authorize_form(app_name: str, login: str, params: Mapping[str, str]) -> str:
    """The page asking the signed-in person to authorize the app; its form carries the query."""
    escape = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in ("client_id", "redirect_uri", "state")
        if name in params
    )
    body = f"""
<p>Signed in as <strong>{escape(login)}</strong>.</p>
<p>{escape(app_name)} will be able to know who you are, and to see what you may see of its installations.</p>
<form method="post" action="{OAUTH_CONFIRM_PATH}">
  {hidden}
  <button type="submit">Authorize {escape(app_name)}</button>
</form>"""
    return _page(f"Authorize {app_name}", body)


def _oauth_error(error: str) -> dict[str, str]:
    return {
        "error": error,
        "error_description": OAUTH_ERRORS[error],
        "error_uri": OAUTH_TROUBLESHOOTING + "#" + error.replace("_", "-"),
    }


def _oauth_answer(request: web.Request, answer: dict[str, str]) -> web.Response:
    """JSON when asked for it (Accept: application/json), else a form-encoded body, as GitHub answers."""
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response(answer)
    return web.Response(text=urlencode(answer), content_type="application/x-www-form-urlencoded")


async def _no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)


def _page(heading: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(heading)}</title></head>\n"
        f"<body><h1>{html.escape(heading)}</h1>{body}</body></html>\n"
    )


def _html(status: int, page: str) -> web.Response:
    return web.Response(status=status, text=page, content_type="text/html")


def _issue_key(owner: str, repo: str, number: int) -> tuple[str, str, int]:
    # Owner and repository names are case-insensitive on GitHub.
    return owner.lower(), repo.lower(), number


def _repo_key(owner: str, repo: str) -> RepoKey:
    return owner.lower(), repo.lower()


def _file_key(owner: str, repo: str, path: str, ref: str | None) -> FileKey:
    return owner.lower(), repo.lower(), path, ref


def _random_sha() -> str:
    return secrets.token_hex(20)


# Where commit() addresses a commit before it is filed: the documentation's example.
_EXAMPLE_REPOSITORY = ("octocat", "Hello-World")


def _account(login: str | None, user_id: int | None) -> dict | None:
    """The GitHub account a commit's email is linked to, if any."""
    if login is None:
        return None
    return _user(login, "Bot" if login.endswith("[bot]") else "User", user_id)


def _address_commit(commit: dict, owner: str, repo: str) -> dict:
    """commit, its URLs (and its parents' and tree's) made to point into owner/repo."""
    api = f"{GITHUB_API}/repos/{owner}/{repo}"
    html = f"{GITHUB_HTML}/{owner}/{repo}"
    sha = commit["sha"]
    commit["url"] = f"{api}/commits/{sha}"
    commit["html_url"] = f"{html}/commit/{sha}"
    commit["comments_url"] = f"{api}/commits/{sha}/comments"
    commit["commit"]["url"] = f"{api}/git/commits/{sha}"
    commit["commit"]["tree"]["url"] = f"{api}/git/trees/{commit['commit']['tree']['sha']}"
    for parent in commit["parents"]:
        parent["url"] = f"{api}/commits/{parent['sha']}"
        parent["html_url"] = f"{html}/commit/{parent['sha']}"
    return commit


def _initial_commit(sha: str) -> dict:
    """A made-up root commit: a pull request's base, or the default branch's head."""
    return commit(
        sha,
        message="Initial commit",
        author_name="The Octocat",
        author_email="octocat@github.com",
        author_login="octocat",
        parents=0,
        date="2024-01-01T00:00:00Z",
    )


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


def _license_object(owner: str, repo: str, path: str, spdx_id: str, ref: str | None) -> dict:
    """GET /repos/{owner}/{repo}/license: the license file as contents, with what GitHub
    detected in it."""
    key = spdx_id.lower()
    return {
        **_file_object(owner, repo, path, ref, f"{spdx_id} license text\n"),
        "license": {
            "key": key,
            "name": f"{spdx_id} License",
            "spdx_id": spdx_id,
            "url": f"{GITHUB_API}/licenses/{key}",
            "node_id": "MDc6TGljZW5zZTEz",
        },
    }


def _blob_sha(text: str) -> str:
    """git's blob id of a file's text (git hash-object)."""
    content = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _file_object(owner: str, repo: str, path: str, ref: str | None, text: str) -> dict:
    content = text.encode()
    sha = _blob_sha(text)
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
