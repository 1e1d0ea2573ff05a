"""Check runs: one per check name and head commit, created once and then updated in place."""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import sansio
from gidgethub.abc import GitHubAPI

log = logging.getLogger(__name__)

# GitHub's limit on a check run's summary.
MAX_SUMMARY = 65535


async def set_check_run(
    gh: GitHubAPI,
    *,
    owner: str,
    repo: str,
    name: str,
    head_sha: str,
    app_slug: str,
    conclusion: str,
    title: str,
    summary: str,
    external_id: str = "",
    actions: list[dict[str, str]] | None = None,
) -> None:
    """Complete the head commit's check run of this name: update this app's run there, or create it."""
    where = {"owner": owner, "repo": repo}
    data: dict[str, Any] = {
        "name": name,
        "external_id": external_id,
        "status": "completed",
        "conclusion": conclusion,
        "output": {"title": title, "summary": summary[:MAX_SUMMARY]},
        "actions": actions or [],
    }
    existing = await gh.getitem(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name,filter}",
        {**where, "ref": head_sha, "check_name": name, "filter": "latest"},
    )
    mine = [run for run in existing.get("check_runs", []) if (run.get("app") or {}).get("slug") == app_slug]
    if mine:
        await gh.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}", {**where, "check_run_id": mine[0]["id"]}, data=data)
    else:
        await gh.post("/repos/{owner}/{repo}/check-runs", where, data={**data, "head_sha": head_sha})
    log.info("check %s: %s", name, conclusion, extra={"fields": {"head_sha": head_sha}})


def is_own_run(check_run: dict[str, Any], name: str, app_slug: str) -> bool:
    return check_run.get("name") == name and (check_run.get("app") or {}).get("slug") == app_slug


async def rerequested_pull_request(
    gh: GitHubAPI, *, owner: str, repo: str, event: sansio.Event, name: str, app_slug: str
) -> dict[str, Any] | None:
    """The pull request whose check run ``name`` someone asked to run again (a ``check_run`` or
    ``check_suite`` ``rerequested`` event), or None when it is not this app's check."""
    where = {"owner": owner, "repo": repo}
    if event.event == "check_run":
        check_run = event.data["check_run"]
    else:
        runs = await gh.getitem(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name}",
            {**where, "ref": event.data["check_suite"]["head_sha"], "check_name": name},
        )
        check_run = next((run for run in runs.get("check_runs", []) if is_own_run(run, name, app_slug)), {})
    if not is_own_run(check_run, name, app_slug):
        return None
    # The run's external id is its pull request's number: a fork's pull request is not listed in it.
    number = check_run.get("external_id") or next((str(p["number"]) for p in check_run.get("pull_requests") or []), "")
    if not number.isdigit():
        log.warning("check run %s names no pull request; nothing to run again", name)
        return None
    return await gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}", {**where, "pull_number": int(number)})
