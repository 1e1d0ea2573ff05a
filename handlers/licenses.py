"""Licenses: what a pull request brings in is checked against the organisation's policy.

A ``Licenses`` check run per head commit judges every dependency the pull request adds (GitHub's
dependency review data) and, where the config asks, every new source file's SPDX header; it
points out license texts added, edited or removed. The policy is stated once, in the
organisation's ``.github`` config, and every repository inherits it. A maintainer can waive a
package with ``/license-allow``; the waiver is recorded, with who, when and why.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable
from typing import Any

import gidgethub
from gidgethub import sansio
from gidgethub.routing import Router
from packageurl import PackageURL

from bot.commands import commands
from bot.config import fetch_file, matches
from bot.context import EventContext
from bot.dispatch import on_repository_setup, pull_request_check
from bot.github import getitem_or_none, github_time
from bot.licensing.files import (
    ReuseError,
    ReuseToml,
    added_lines,
    declared_license,
    header_expression,
    is_license_text,
    is_source_file,
    path_matches,
)
from bot.licensing.policy import ALLOWED, DENIED, UNKNOWN, Policy, PolicyError, strangers
from bot.licensing.waivers import PACKAGE_LENGTH, Waiver, organisation_scope, repository_scope
from bot.lookups import at_least

log = logging.getLogger(__name__)
router = Router()

CHECK_NAME = "Licenses"
WAIVE = "license-allow"
WAIVED, IGNORED, LISTED = "waived", "ignored", "not judged"


@dataclasses.dataclass(frozen=True)
class Dependency:
    """An added dependency and its verdict."""

    name: str
    version: str
    ecosystem: str
    manifest: str
    package_url: str
    license: str | None  # as GitHub declares it
    verdict: str  # ALLOWED, DENIED, UNKNOWN, WAIVED, IGNORED or LISTED
    why: str
    waive_as: str  # how a waiver names it: the package URL without a version, or the name


@dataclasses.dataclass(frozen=True)
class NewFile:
    """A source file the pull request adds, and what its license header says."""

    path: str
    license: str | None
    source: str  # where the license was read: "header", "REUSE.toml", "path.license"
    verdict: str  # ALLOWED, DENIED or UNKNOWN (no license found, or not an expression)
    why: str


@dataclasses.dataclass(frozen=True)
class Findings:
    dependencies: list[Dependency]
    files: list[NewFile]
    license_texts: list[dict[str, str]]  # {"path", "status"}
    graph_off: bool

    def blocking(self, section: dict[str, Any]) -> list[Dependency | NewFile]:
        """What stops the merge under this config."""
        unknown_fails = section.get("unknown") == "fail"
        found: list[Dependency | NewFile] = [
            d for d in self.dependencies if d.verdict == DENIED or (d.verdict == UNKNOWN and unknown_fails)
        ]
        if headers_mode(section) == "require":
            found += [f for f in self.files if f.verdict != ALLOWED]
        return found

    def warnings(self, section: dict[str, Any]) -> list[Dependency | NewFile]:
        """Listed for a maintainer's eye, not blocking."""
        found: list[Dependency | NewFile] = []
        if section.get("unknown", "neutral") == "neutral":
            found += [d for d in self.dependencies if d.verdict == UNKNOWN]
        if headers_mode(section) == "warn":
            found += [f for f in self.files if f.verdict != ALLOWED]
        return found


def headers_mode(section: dict[str, Any]) -> str:
    # YAML reads a bare `off` as false.
    return section.get("spdx_headers") or "off"


# Decisions ------------------------------------------------------------------------------


def package_names(change: dict[str, Any]) -> list[str]:
    """How a dependency can be named in ``ignore`` and waivers, the usual way first: its package
    URL without and with the version (scoped names unescaped: ``pkg:npm/@acme/ui``), and its
    plain name."""
    name = change.get("name") or ""
    try:
        purl = PackageURL.from_string(change.get("package_url") or "")
    except ValueError:
        return [name]
    unversioned = readable_purl(purl, version=False)
    return [unversioned, readable_purl(purl), name]


def readable_purl(purl: PackageURL, *, version: bool = True) -> str:
    """A package URL as people write it: namespace and name unescaped, no qualifiers."""
    path = "/".join(part for part in (purl.namespace, purl.name) if part)
    return f"pkg:{purl.type}/{path}" + (f"@{purl.version}" if version and purl.version else "")


def names_package(pattern: str, change: dict[str, Any]) -> bool:
    """Whether an ``ignore`` entry or a waiver names this dependency: a package URL (any
    version unless it gives one), a name, or a glob of either."""
    pattern = pattern.strip()
    if pattern.startswith("pkg:"):
        try:
            pattern = readable_purl(PackageURL.from_string(pattern))
        except ValueError:
            pass  # a glob such as pkg:npm/* need not be a package URL
    return any(matches(name, pattern) for name in package_names(change))


def judge_dependencies(
    changes: Iterable[dict[str, Any]], section: dict[str, Any], policy: Policy, waivers: Iterable[Waiver] = ()
) -> list[Dependency]:
    """A verdict for each dependency the pull request adds (removals are not judged), once per
    package and manifest."""
    scopes = set(section.get("scopes") or ["runtime"]) | {"unknown"}
    unknown_allowed = section.get("unknown") == "allow"
    waivers = list(waivers)
    judged: dict[tuple[str, str], Dependency] = {}
    for change in changes:
        if change.get("change_type") != "added":
            continue
        key = (change.get("package_url") or f"{change.get('ecosystem')}:{change.get('name')}@{change.get('version')}", change.get("manifest") or "")
        if key in judged:
            continue
        verdict, why = _dependency_verdict(change, section, scopes, unknown_allowed, policy, waivers)
        judged[key] = Dependency(
            name=change.get("name") or "",
            version=change.get("version") or "",
            ecosystem=change.get("ecosystem") or "",
            manifest=change.get("manifest") or "",
            package_url=change.get("package_url") or "",
            license=change.get("license"),
            verdict=verdict,
            why=why,
            waive_as=package_names(change)[0],
        )
    return list(judged.values())


def _dependency_verdict(
    change: dict[str, Any], section: dict[str, Any], scopes: set[str], unknown_allowed: bool, policy: Policy, waivers: list[Waiver]
) -> tuple[str, str]:
    if any(names_package(pattern, change) for pattern in section.get("ignore") or []):
        return IGNORED, "on the ignore list"
    scope = change.get("scope") or "unknown"
    if scope not in scopes:
        return LISTED, f"{scope} dependency (the policy judges {', '.join(sorted(scopes - {'unknown'}))})"
    judgement = policy.judge(change.get("license"))
    if judgement.verdict == ALLOWED:
        return ALLOWED, judgement.why
    waiver = next((w for w in waivers if names_package(w.package, change)), None)
    if waiver is not None:
        reason = f": {waiver.reason}" if waiver.reason else ""
        return WAIVED, f"waived by {waiver.granted_by} on #{waiver.pull_number}{reason}"
    if judgement.verdict == UNKNOWN and unknown_allowed:
        return ALLOWED, f"{judgement.why}; unknown licenses are allowed here"
    return judgement.verdict, judgement.why


def license_texts(files: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """The license, copying and notice texts the pull request adds, edits, renames or removes."""
    found = []
    for file in files:
        paths = [file["filename"], file.get("previous_filename") or ""]
        if any(path and is_license_text(path) for path in paths):
            found.append({"path": file["filename"], "status": file.get("status") or "modified"})
    return found


def files_needing_headers(files: Iterable[dict[str, Any]], section: dict[str, Any]) -> list[dict[str, Any]]:
    """The source files the pull request adds that are not excluded."""
    excluded = section.get("exclude_paths") or []
    return [
        file
        for file in files
        if file.get("status") == "added" and is_source_file(file["filename"]) and not any(path_matches(file["filename"], glob) for glob in excluded)
    ]


def judge_file(path: str, own: str | None, own_source: str, reuse: ReuseToml, policy: Policy) -> NewFile:
    """A new file's verdict from its own header (or ``.license`` file) and REUSE.toml."""
    license, source = declared_license(own, reuse.covering(path))
    if source == "header":
        source = own_source
    if license is None:
        return NewFile(path, None, "", UNKNOWN, "no SPDX-License-Identifier near the top, and no REUSE.toml annotation")
    judgement = policy.judge(license)
    return NewFile(path, judgement.expression or license, source, judgement.verdict, judgement.why)


def conclusion(findings: Findings, section: dict[str, Any]) -> tuple[str, str]:
    """The check's conclusion and title."""
    blocking, warnings = findings.blocking(section), findings.warnings(section)
    if blocking:
        return "failure", _count_title(blocking, "not allowed")
    if warnings:
        return "neutral", _count_title(warnings, "to look at")
    if findings.graph_off:
        return "neutral", "Dependencies not checked: the dependency graph is off"
    judged = [d for d in findings.dependencies if d.verdict in (ALLOWED, WAIVED)]
    if not judged:
        return "success", "No new dependencies to judge"
    return "success", f"{_plural(len(judged), 'new dependency', 'new dependencies')}, all allowed"


def _count_title(items: list[Dependency | NewFile], state: str) -> str:
    dependencies = sum(isinstance(item, Dependency) for item in items)
    files = len(items) - dependencies
    parts = [_plural(n, *words) for n, words in ((dependencies, ("dependency", "dependencies")), (files, ("new file", "new files"))) if n]
    return f"{' and '.join(parts)} {state}"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def waiver_request(arguments: tuple[str, ...]) -> tuple[str, bool, str] | None:
    """``/license-allow PACKAGE-OR-PURL [--org] [reason]``: the package, whether for the whole
    organisation, and the reason; None without a package."""
    words = list(arguments)
    organisation = "--org" in words
    words = [word for word in words if word != "--org"]
    if not words or len(words[0]) > PACKAGE_LENGTH:
        return None
    return words[0], organisation, " ".join(words[1:])


# Events ------------------------------------------------------------------------------------


@pull_request_check(router, CHECK_NAME, actions=("opened", "reopened", "synchronize", "ready_for_review"))
async def run_check(ctx: EventContext, pull: dict[str, Any]) -> None:
    config = await ctx.config()
    if not config.enabled("licenses"):
        return
    section = config.section("licenses")
    try:
        policy = Policy.from_config(section)
    except PolicyError as exc:
        summary = await ctx.render("licenses_policy_error.md", problem=str(exc))
        await ctx.set_check_run(pull, CHECK_NAME, "neutral", "The license policy cannot be applied", summary)
        return
    try:
        findings = await gather_findings(ctx, pull, section, policy)
    except (gidgethub.GitHubException, ReuseError) as exc:
        log.error("Licenses could not be checked: %r", exc)
        await ctx.set_check_unread(pull, CHECK_NAME, "Licenses could not be checked", str(exc) or type(exc).__name__)
        return
    await report(ctx, pull, section, findings)


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, ctx: EventContext) -> None:
    issue, comment = event.data["issue"], event.data["comment"]
    found = commands(comment.get("body") or "", known={WAIVE}) if "pull_request" in issue else []
    if not found or not (await ctx.config()).enabled("licenses"):
        return
    login = comment["user"]["login"]
    role = await ctx.role(login)
    granted = False
    for command in found:
        request = waiver_request(command.arguments)
        if request is None:
            await ctx.react(comment["id"], "confused")
            continue
        package, organisation, reason = request
        needed = "admin" if organisation else "maintain"
        if not at_least(role, needed):
            await ctx.comment(issue["number"], "licenses-refused", "licenses_refused.md", command=WAIVE, needed=needed, organisation=organisation)
            continue
        waiver = Waiver(
            package=package,
            scope=organisation_scope(ctx.owner) if organisation else repository_scope(ctx.owner, ctx.repo),
            granted_by=login,
            granted_at=github_time(comment["created_at"]) if comment.get("created_at") else time.time(),
            repository=ctx.full_name,
            pull_number=issue["number"],
            reason=reason,
            comment_id=comment["id"],
            comment_url=comment.get("html_url"),
        )
        if await ctx.grant_waiver(waiver):
            log.info("license waiver granted", extra={"fields": {"package": package, "scope": waiver.scope, "by": login}})
        granted = True
    if granted:
        await ctx.react(comment["id"], "+1")
        pull = await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}", {"owner": ctx.owner, "repo": ctx.repo, "pull_number": issue["number"]})
        if pull.get("state") == "open":
            await run_check(ctx, pull)


@on_repository_setup(router)
async def suggest_license(ctx: EventContext, owner: str, repo: str) -> None:
    """One issue, once ever, in a repository with no license, where the section is on."""
    config = await ctx.config(owner, repo)
    section = config.section("licenses")
    if not config.enabled("licenses") or not section.get("missing_license_issue", True):
        return
    if await getitem_or_none(ctx.gh, "/repos/{owner}/{repo}/license", {"owner": owner, "repo": repo}) is not None:
        return
    body = await ctx.render("license_missing.md", repo=f"{owner}/{repo}")
    await ctx.open_issue_once("licenses.missing", owner, repo, "Add a license", body)


# Acting -------------------------------------------------------------------------------------


async def gather_findings(ctx: EventContext, pull: dict[str, Any], section: dict[str, Any], policy: Policy) -> Findings:
    changes = await dependency_changes(ctx, pull)
    waivers = await ctx.license_waivers() if any(c.get("change_type") == "added" for c in changes or []) else []
    files = [
        file
        async for file in ctx.gh.getiter(
            "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
            {"owner": ctx.owner, "repo": ctx.repo, "pull_number": pull["number"], "per_page": 100},
        )
    ]
    new_files = await judge_new_files(ctx, pull, files, section, policy) if headers_mode(section) != "off" else []
    return Findings(
        dependencies=judge_dependencies(changes or [], section, policy, waivers),
        files=new_files,
        license_texts=license_texts(files),
        graph_off=changes is None,
    )


async def dependency_changes(ctx: EventContext, pull: dict[str, Any]) -> list[dict[str, Any]] | None:
    """GitHub's dependency review between the pull request's base and head; None where the
    dependency graph is off or does not cover the repository (GitHub's 403 or 404)."""
    try:
        return await ctx.gh.getitem(
            "/repos/{owner}/{repo}/dependency-graph/compare/{basehead}",
            {"owner": ctx.owner, "repo": ctx.repo, "basehead": f"{pull['base']['sha']}...{pull['head']['sha']}"},
        )
    except gidgethub.BadRequest as exc:
        if exc.status_code in (403, 404):
            log.info("dependency graph unavailable: %s", exc, extra={"fields": {"status": exc.status_code}})
            return None
        raise


async def judge_new_files(ctx: EventContext, pull: dict[str, Any], files: list[dict[str, Any]], section: dict[str, Any], policy: Policy) -> list[NewFile]:
    added = {file["filename"]: file for file in files if file.get("status") == "added"}
    judged, reuse = [], None
    for file in files_needing_headers(files, section):
        path = file["filename"]
        own, source = await file_header(ctx, pull, file), "header"
        sidecar = added.get(f"{path}.license")
        if own is None and sidecar is not None:
            own, source = header_expression(added_lines(sidecar.get("patch"))), f"{path}.license"
        if reuse is None:
            # Read once, and only when a file needs it; the pull request's own REUSE.toml
            # speaks for its files, as `reuse lint` on its branch would read it.
            text = await fetch_file(ctx.gh, ctx.owner, ctx.repo, "REUSE.toml", ref=pull["head"]["sha"])
            reuse = ReuseToml.parse(text) if text is not None else ReuseToml()
        judged.append(judge_file(path, own, source, reuse, policy))
    return judged


async def file_header(ctx: EventContext, pull: dict[str, Any], file: dict[str, Any]) -> str | None:
    """The expression in a new file's header: from the diff, or (where GitHub leaves a large
    file's diff out) from the file itself at the head commit."""
    if file.get("patch") is not None:
        return header_expression(added_lines(file["patch"]))
    text = await fetch_file(ctx.gh, ctx.owner, ctx.repo, file["filename"], ref=pull["head"]["sha"])
    return header_expression((text or "").splitlines())


async def report(ctx: EventContext, pull: dict[str, Any], section: dict[str, Any], findings: Findings) -> None:
    """The one place this check writes to GitHub: the check run, the comment, the label."""
    state, title = conclusion(findings, section)
    variables = {
        "findings": findings,
        "blocking": findings.blocking(section),
        "warnings": findings.warnings(section),
        "policy": {key: section.get(key) for key in ("allow", "deny")},
        "strangers": list(strangers(section.get("allow") or section.get("deny") or [])),
        "settings_url": f"{(pull['base'].get('repo') or {}).get('html_url', '')}/settings/security_analysis",
        "example_license": (section.get("allow") or ["Apache-2.0"])[0],
    }
    await ctx.set_check_run(pull, CHECK_NAME, state, title, await ctx.render("licenses_summary.md", **variables))
    # Asked to change something, in plain words; brought up to date when it is done.
    await ctx.comment(pull["number"], "licenses", "licenses_comment.md", create=state == "failure", **variables)
    label = section.get("license_change_label")
    if label and findings.license_texts and label.lower() not in {l["name"].lower() for l in pull.get("labels") or []}:
        await ctx.add_labels(pull["number"], [label])
