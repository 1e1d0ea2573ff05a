"""Check runs: one per check name and head commit, created once and then updated in place."""

from __future__ import annotations

import logging
from typing import Any

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
