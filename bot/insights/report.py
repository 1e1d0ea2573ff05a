"""The community health figures (``bot.insights.metrics.compute``) as a report: aligned text for
a terminal, Markdown (the template ``insights_report.md``, which the periodic report issue uses
too), JSON, or CSV with one row per figure."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from ..render import Renderer

FORMATS = ("table", "markdown", "json", "csv")


def format_report(figures: dict[str, Any], fmt: str) -> str:
    """``figures`` in the format ``fmt``: one of ``FORMATS``."""
    if fmt == "json":
        return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("section", "metric", "value"))
        writer.writerows((section, metric, _cell(value)) for section, metric, value in _figures(figures))
        return out.getvalue()
    if fmt == "markdown":
        period = f"{figures['scope']['since']} to {figures['scope']['until']}"
        return Renderer().render("insights_report.md", {"figures": figures, "period": period})
    if fmt == "table":
        return _table_report(figures)
    raise ValueError(f"unknown report format {fmt!r}: one of {', '.join(FORMATS)}")


# CSV ------------------------------------------------------------------------------------------


def _figures(figures: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Every figure as (section, metric, value): a section per month for the monthly lists
    (``new_contributors.2024-01``), nested sections joined by dots
    (``first_response.issues.all``), and a metric per bucket or author (``buckets.< 1 h``,
    ``top.mona``)."""
    for section, value in figures.items():
        if isinstance(value, list):
            for month in value:
                yield from _metrics(f"{section}.{month['month']}", {k: v for k, v in month.items() if k != "month"})
        else:
            yield from _metrics(section, value)


def _metrics(section: str, values: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _metrics(f"{section}.{key}", value)
        elif isinstance(value, list) and all(isinstance(entry, dict) for entry in value):
            for name, amount in (entry.values() for entry in value):  # {label, count}, {login, merged}
                yield section, f"{key}.{name}", amount
        elif isinstance(value, list):
            yield section, key, ", ".join(value)
        else:
            yield section, key, value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Aligned text ---------------------------------------------------------------------------------


def _table_report(figures: dict[str, Any]) -> str:
    scope = figures["scope"]
    who = scope["owner"] or ", ".join(scope["repositories"])
    first = figures["first_response"]
    requests = figures["change_requests"]
    absence = figures["absence_factor"]
    title = f"Community health: {who}, {scope['since']} to {scope['until']} ({scope['days']} days)"
    if scope["owner"] and scope["repositories"] is not None:
        title += f"\nRepositories: {', '.join(scope['repositories']) or 'none'}"
    gfi = figures["good_first_issues"]
    blocks = [
        title,
        _columns(
            "Time to first response (hours)",
            ("", "opened", "responded", "median", "p90", "waiting"),
            [(label, d["count"], d["responded"], d["median_hours"], d["p90_hours"], d["waiting"])
             for label, d in (("Issues", first["issues"]["all"]), ("Newcomers' issues", first["issues"]["newcomers"]),
                              ("Pull requests", first["pulls"]["all"]),
                              ("Newcomers' pull requests", first["pulls"]["newcomers"]))],
        ),
        _columns(
            "Response time histogram (items)",
            ("", *(bucket["label"] for bucket in first["issues"]["all"]["buckets"])),
            [(label, *(bucket["count"] for bucket in d["buckets"]))
             for label, d in (("Issues", first["issues"]["all"]), ("Pull requests", first["pulls"]["all"]))],
        ),
        _columns(
            "Closing and merging (hours)",
            ("", "count", "median", "p90"),
            [(label, d["count"], d["median_hours"], d["p90_hours"])
             for label, d in (("Time to close, issues", figures["time_to_close"]),
                              ("Time to merge, pull requests", figures["time_to_merge"]))],
        ),
        _columns(
            "Change requests",
            ("", ""),
            [("Opened", requests["opened"]), ("Merged", requests["merged"]), ("Closed unmerged", requests["closed"]),
             ("Change request closure ratio", requests["closure_ratio"])],
        ),
        _columns(
            "New contributors (* fewer than 90 days since the month ended)",
            ("month", "new", "returned", "return rate"),
            [(month["month"] + ("" if month["complete"] else " *"), month["count"], month["returned"],
              month["return_rate"]) for month in figures["new_contributors"]],
        ),
        _columns(
            "Good first issues",
            ("", ""),
            [("Labelled", gfi["labeled"]), ("Claimed", gfi["claimed"]),
             ("Median hours to claim", gfi["median_hours_to_claim"]),
             ("Closed by a newcomer's first pull request", gfi["closed_by_newcomer"])],
        ),
        _columns(
            "DCO and CLA",
            ("", "pulls", "passed first", "share", "median hours to fix", "abandoned", "share"),
            [(label, d["pulls"], d["passed_first"], d["passed_first_share"], d["median_hours_to_fix"], d["abandoned"],
              d["abandoned_share"]) for label, d in (("DCO", figures["dco"]), ("CLA", figures["cla"]))],
        ),
        _columns(
            "Code of conduct",
            ("month", "reminders", "locks"),
            [(month["month"], month["reminders"], month["locks"]) for month in figures["heated"]],
        ),
        _columns(
            f"Contributor absence factor: {absence['value'] if absence['value'] is not None else '-'} "
            f"({absence['merged']} pull requests merged, by {absence['contributors']} authors)",
            ("author", "merged"),
            [(author["login"], author["merged"]) for author in absence["top"]],
        ),
        _columns(
            "Activity by month",
            ("month", "issues opened", "pulls opened", "merged", "comments"),
            [(month["month"], month["issues_opened"], month["pulls_opened"], month["merged"], month["comments"])
             for month in figures["activity_by_month"]],
        ),
    ]
    return "\n\n".join(blocks) + "\n"


def _columns(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """A titled block of columns: the first left-aligned, the others right-aligned."""
    cells = [list(header)] + [[_shown(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    lines = [title, "-" * len(title)]
    for row in cells if any(header) else cells[1:]:
        first, *others = row
        aligned = [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(others, widths[1:]))]
        lines.append("  ".join(aligned).rstrip())
    return "\n".join(lines)


def _shown(value: Any) -> str:
    return "-" if value is None else str(value)
