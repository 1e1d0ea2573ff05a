"""A repository's config: ``.github/community-bot.yml`` from its default branch, falling back to
the organisation's ``.github`` repository, with Probot's ``_extends``, merged over the defaults.

Only the default branch is read (no ``ref``), so a pull request cannot change how the bot
treats that same pull request.
"""

from __future__ import annotations

import base64
import copy
import importlib.resources
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import cachetools
import jsonschema
import yaml
from gidgethub.abc import GitHubAPI

from .github import getitem_or_none

log = logging.getLogger(__name__)

CONFIG_PATH = ".github/community-bot.yml"
# Probot apps' shared file; behaviorbot/welcome's messages are read from it as a fallback.
LEGACY_CONFIG_PATH = ".github/config.yml"
TEMPLATES_DIR = ".github/community-bot/templates/"
ORG_CONFIG_REPO = ".github"
MAX_EXTENDS = 3

# No config anywhere: welcome and good-first-issue commands on; DCO and CLA off, since they
# gate merging and a maintainer should choose them.
DEFAULTS: dict[str, Any] = {
    "welcome": {
        "enabled": True,
        "include_members": False,
        "issue": {"enabled": True},
        "pull_request": {"enabled": True, "include_drafts": False},
        "first_merge": {"enabled": True, "good_first_issues": 3},
    },
    "dco": {
        "enabled": False,
        "require_committer_match": False,
        "co_authors": False,
        "skip_authors": [],
        "skip_members": False,
        "allow_remediation_commits": False,
        "comment_on_failure": False,
    },
    "cla": {
        "enabled": False,
        "document_url": "",
        "version": "v1",
        "sign_phrase": "I have read the CLA Document and I hereby sign the CLA",
        "allowlist": ["*[bot]"],
        "check_co_authors": False,
        "scope": "organization",
    },
    "good_first_issue": {
        "enabled": True,
        "labels": {"good_first_issue": "good first issue", "help_wanted": "help wanted"},
        "max_claims_per_person": 1,
        "claim_expiry_days": 14,
        "suggest": {"enabled": False, "mode": "suggest", "keywords": [], "patterns": [], "labels": [], "max_body_length": 4000},
    },
    "conduct": {
        "enabled": True,
        "link_in_welcome": True,
        "on_first_interaction": False,
        "remind_heated_threads": False,
        "threshold": {"issue": 0.5, "review": 1.0},  # bot.heat.DEFAULT_THRESHOLDS
        "cooldown_hours": 24,
        "lock_after": None,
        "notify_team": None,
        "report_to": None,
        "public_reminder": True,
        "perspective": False,
        "extra_terms": [],
        "ignore_terms": [],
    },
    # Off like DCO and CLA: a failing Licenses check can block merging. No allow or deny list:
    # with neither, every license passes and the check only lists what comes in.
    "licenses": {
        "enabled": False,
        "unknown": "neutral",
        "scopes": ["runtime"],
        "ignore": [],
        "spdx_headers": "off",
        "exclude_paths": [],
        "license_change_label": None,
        "missing_license_issue": True,
    },
    # Off: thanking people in public is the maintainers' call.
    "recognition": {"enabled": False, "all_contributors": False, "milestones": [1, 10, 50, 100]},
    # Noticing a newcomer left waiting is on wherever welcome is; mentors are named to be asked.
    "care": {
        "enabled": True,
        "respond_within_hours": 48,
        "label": "needs-response",
        "triage_team": None,
        "mentors": [],
        "mentor_max_open": 2,
    },
    # Community health insights: activity is recorded unless turned off; the report issue is
    # posted only where a repository is named for it.
    "insights": {
        "enabled": True,
        "report_repo": None,
        "report_every": "monthly",
    },
}

SCHEMA: dict[str, Any] = json.loads(importlib.resources.files("bot").joinpath("config-schema.json").read_text())
_validator = jsonschema.Draft202012Validator(SCHEMA)


def matches(value: str, pattern: str) -> bool:
    """Whether ``value`` matches a config pattern: ``*`` and ``?`` are wildcards and everything
    else is literal, letter case aside (so ``*[bot]`` means logins ending in ``[bot]``, not a
    character class as in fnmatch)."""
    regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value.lower()) is not None


class ConfigError(ValueError):
    """A config file that does not parse or does not match the schema."""


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key, anything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse(text: str) -> dict[str, Any]:
    """The config in ``text``, checked against the schema, or a ConfigError saying why not."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    if data is None:
        return {}
    errors = sorted(_validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("; ".join(_describe(error) for error in errors))
    return data


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "top level"
    return f"{where}: {error_message(error)}"


def error_message(error: jsonschema.ValidationError) -> str:
    """What is wrong, in words: a value that fits none of several forms is told what the
    setting takes (jsonschema would say only "not valid under any of the given schemas")."""
    if error.validator in ("oneOf", "anyOf") and "description" in error.schema:
        return f"{error.instance!r} is not valid here. {error.schema['description']}"
    return error.message


def parse_extends(value: str, owner: str) -> tuple[str, str, str]:
    """``repo``, ``owner/repo`` or either with ``:path`` -> (owner, repo, path)."""
    target, _, path = value.partition(":")
    other_owner, _, repo = target.rpartition("/")
    return other_owner or owner, repo, path or CONFIG_PATH


async def fetch_file(gh: GitHubAPI, owner: str, repo: str, path: str, *, ref: str | None = None) -> str | None:
    """A file's text on the default branch (or at ``ref``), or None where there is no such file."""
    found = await fetch_file_blob(gh, owner, repo, path, ref=ref)
    return None if found is None else found[0]


async def fetch_file_blob(
    gh: GitHubAPI, owner: str, repo: str, path: str, *, ref: str | None = None, errors: str = "replace"
) -> tuple[str, str] | None:
    """A file's text and blob sha (which a write of the file names), or None where there is no
    such file. ``errors="strict"`` for text to be written back: bytes that are not UTF-8 raise
    rather than come back replaced."""
    url = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
    answer = await getitem_or_none(gh, url, {"owner": owner, "repo": repo, "path": path, "ref": ref})
    if not isinstance(answer, Mapping) or answer.get("type") != "file" or "content" not in answer:
        return None
    return base64.b64decode(answer["content"]).decode("utf-8", errors=errors), answer["sha"]


class RepoConfig(dict[str, Any]):
    """Sections by name; ``errors`` lists what was wrong with the file, if anything."""

    def __init__(self, data: Mapping[str, Any], errors: list[str] | None = None, source: str | None = None) -> None:
        super().__init__(data)
        self.errors = errors or []
        self.source = source

    def section(self, name: str) -> dict[str, Any]:
        return self.get(name, {})

    def enabled(self, name: str) -> bool:
        return bool(self.section(name).get("enabled", False))

    def label_names(self) -> dict[str, str]:
        """The good-first-issue and help-wanted labels' names in this repository."""
        labels = self.section("good_first_issue").get("labels") or {}
        return {
            "good_first_issue": labels.get("good_first_issue", "good first issue"),
            "help_wanted": labels.get("help_wanted", "help wanted"),
        }


class ConfigLoader:
    """Loads and caches each repository's config and template overrides."""

    def __init__(self, *, ttl: float = 3600, maxsize: int = 10_000) -> None:
        self._configs: cachetools.TTLCache[tuple[str, str], RepoConfig] = cachetools.TTLCache(maxsize, ttl)
        self._templates: cachetools.TTLCache[tuple[str, str, str], str | None] = cachetools.TTLCache(maxsize, ttl)
        self._legacy: cachetools.TTLCache[tuple[str, str], dict[str, Any]] = cachetools.TTLCache(maxsize, ttl)

    async def load(self, gh: GitHubAPI, owner: str, repo: str) -> RepoConfig:
        key = (owner.lower(), repo.lower())
        config = self._configs.get(key)
        if config is None:
            config = await self._load(gh, owner, repo)
            self._configs[key] = config
        return config

    async def _load(self, gh: GitHubAPI, owner: str, repo: str) -> RepoConfig:
        source = f"{owner}/{repo}/{CONFIG_PATH}"
        text = await fetch_file(gh, owner, repo, CONFIG_PATH)
        if text is None and repo != ORG_CONFIG_REPO:
            source = f"{owner}/{ORG_CONFIG_REPO}/{CONFIG_PATH}"
            text = await fetch_file(gh, owner, ORG_CONFIG_REPO, CONFIG_PATH)
        if text is None:
            return RepoConfig(DEFAULTS)
        try:
            data = await self._resolve_extends(gh, owner, parse(text), seen={source})
        except ConfigError as exc:
            log.error(
                "config ignored, defaults apply: %s",
                exc,
                extra={"fields": {"repository": f"{owner}/{repo}", "config": source, "reason": str(exc)}},
            )
            return RepoConfig(DEFAULTS, errors=[str(exc)], source=source)
        return RepoConfig(merge(DEFAULTS, data), source=source)

    async def _resolve_extends(self, gh: GitHubAPI, owner: str, data: dict[str, Any], seen: set[str]) -> dict[str, Any]:
        extends = data.pop("_extends", None)
        if extends is None:
            return data
        if len(seen) > MAX_EXTENDS:
            raise ConfigError(f"_extends goes deeper than {MAX_EXTENDS} files")
        base_owner, base_repo, path = parse_extends(extends, owner)
        source = f"{base_owner}/{base_repo}/{path}"
        if source in seen:
            raise ConfigError(f"_extends loops back to {source}")
        text = await fetch_file(gh, base_owner, base_repo, path)
        if text is None:
            raise ConfigError(f"_extends names {source}, which does not exist or cannot be read")
        try:
            base = parse(text)
        except ConfigError as exc:
            raise ConfigError(f"{source} (named by _extends): {exc}") from None
        base = await self._resolve_extends(gh, base_owner, base, seen | {source})
        return merge(base, data)

    async def template(self, gh: GitHubAPI, owner: str, repo: str, name: str) -> str | None:
        """The repository's own version of a template, if it has one."""
        key = (owner.lower(), repo.lower(), name)
        if key not in self._templates:
            self._templates[key] = await fetch_file(gh, owner, repo, TEMPLATES_DIR + name)
        return self._templates[key]

    async def legacy(self, gh: GitHubAPI, owner: str, repo: str) -> dict[str, Any]:
        """The repository's ``.github/config.yml`` (else the organisation's), as Probot apps read
        it; {} where there is none or it is not a YAML mapping."""
        key = (owner.lower(), repo.lower())
        if key not in self._legacy:
            text = await fetch_file(gh, owner, repo, LEGACY_CONFIG_PATH)
            if text is None and repo != ORG_CONFIG_REPO:
                text = await fetch_file(gh, owner, ORG_CONFIG_REPO, LEGACY_CONFIG_PATH)
            self._legacy[key] = _legacy_mapping(text, f"{owner}/{repo}")
        return self._legacy[key]

    def invalidate_on_push(self, payload: Mapping[str, Any]) -> None:
        """Forget a repository's config when a push to its default branch may have changed it."""
        repository = payload.get("repository") or {}
        owner = (repository.get("owner") or {}).get("login") or (repository.get("owner") or {}).get("name")
        name = repository.get("name")
        if not owner or not name or payload.get("ref") != f"refs/heads/{repository.get('default_branch')}":
            return
        if not touches_config(payload):
            return
        owner, name = owner.lower(), name.lower()
        # The organisation's .github repository is every repository's fallback.
        every_repo = name == ORG_CONFIG_REPO
        for cache in (self._configs, self._templates, self._legacy):
            for key in list(cache.keys()):
                if key[0] == owner and (every_repo or key[1] == name):
                    cache.pop(key, None)
        log.info("config cache cleared after a push", extra={"fields": {"repository": f"{owner}/{name}"}})


def touches_config(payload: Mapping[str, Any]) -> bool:
    """Whether a push may have changed the bot's config or templates."""
    commits = payload.get("commits") or []
    # GitHub lists at most 20 commits in a push; past that, assume the config changed.
    if not commits or len(commits) >= 20:
        return True
    for commit in commits:
        for path in (*commit.get("added", ()), *commit.get("modified", ()), *commit.get("removed", ())):
            if path in (CONFIG_PATH, LEGACY_CONFIG_PATH) or path.startswith(TEMPLATES_DIR):
                return True
    return False


def _legacy_mapping(text: str | None, repository: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        log.warning(
            "%s ignored: not valid YAML", LEGACY_CONFIG_PATH, extra={"fields": {"repository": repository, "reason": str(exc)}}
        )
        return {}
    return data if isinstance(data, dict) else {}
