"""Community health metrics (CHAOSS), computed in the database from the activity log.

Every figure is an SQL aggregate over the ``activity`` table (``bot.insights.activity``), the
same statements on SQLite and PostgreSQL; Python only shapes the few rows they return. One
``compute`` runs all of them in one transaction, so the figures agree with each other.

A computation has a ``Scope``: an organisation, an allow-list of repositories, or both (the
allow-list then restricts the organisation), and a window ``[since, until)`` in epoch seconds.
Rows outside the scope's repositories are never read, by any figure. Every figure describes the
window as it stood at ``until``: rows at or after ``until`` are not read either, so a past
window's figures do not change as later activity arrives.

Shared terms:

- *an item* is an issue or a pull request, named by repository and number;
- *bots* are rows marked ``is_bot`` (the app's own comments among them); "a person" is not one;
- how an item *stood at until*: merged if it has a ``merged`` row before ``until``; else closed
  if it has a ``closed`` row then and no ``reopened`` row after its last one (a reopening in
  the same second as the closing does not count); else open;
- *percentiles* are nearest-rank: the p-th percentile of n values is the value at rank
  ceil(p * n) in ascending order (PostgreSQL's ``percentile_disc``), computed portably from
  ``ROW_NUMBER()`` and ``COUNT()`` windows with integer arithmetic;
- *hours* are rounded to 2 decimals, shares to 3; a figure with nothing to describe is None.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, false, func, literal, or_, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

from ..inbox import Inbox
from ..recognitions import recognitions
from .activity import (
    CLA,
    CLOSED,
    CLOSES,
    CONDUCT_LOCK,
    CONDUCT_REMINDER,
    CONTRIBUTION_KINDS,
    DCO,
    GFI_CLAIMED,
    GFI_LABELED,
    ISSUE_OPENED,
    MERGED,
    OPENED_KINDS,
    PR_OPENED,
    REOPENED,
    RESPONSE_KINDS,
    activity,
)

HOUR = 3600.0
DAY = 86400.0
# A new contributor "returned" with another contribution within this many days of their first.
RETURN_DAYS = 90
# New contributors named on the insights page, per month (the count says how many in all).
NAMED_PER_MONTH = 30
MEDIAN = (1, 2)  # percentiles as integer fractions: nearest rank needs exact ceil(p * n)
P90 = (9, 10)
# Response-time histogram: label, and the bucket's hours [from, to).
RESPONSE_BUCKETS = (
    ("< 1 h", 0, 1),
    ("1–4 h", 1, 4),
    ("4–24 h", 4, 24),
    ("1–3 d", 24, 72),
    ("3–7 d", 72, 168),
    ("> 7 d", 168, None),
)
# Check conclusions that ask the contributor to act (the DCO and CLA checks end
# ``action_required``; ``neutral`` means GitHub could not be read, neither pass nor fail).
FAILING = ("failure", "action_required")
PASSING = "success"
# The rows that say whether an issue or pull request stood open or closed.
CLOSING_KINDS = (CLOSED, REOPENED, MERGED)
TOP_AUTHORS = 10


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which rows a computation reads: an organisation's repositories (``owner``), an explicit
    allow-list of ``owner/name`` (``repositories``; empty means none at all), or both; and the
    window ``[since, until)`` in epoch seconds."""

    owner: str | None
    repositories: tuple[str, ...] | None
    since: float
    until: float

    def __post_init__(self) -> None:
        if self.owner is None and self.repositories is None:
            raise ValueError("a scope names an owner, repositories, or both")
        if self.until <= self.since:
            raise ValueError("a scope's window ends after it starts")
        # Names as the activity log keeps them: lower-case, each repository once, in order.
        if self.owner is not None:
            object.__setattr__(self, "owner", self.owner.lower())
        if self.repositories is not None:
            object.__setattr__(self, "repositories", tuple(sorted({name.lower() for name in self.repositories})))


async def compute(inbox: Inbox, scope: Scope) -> dict[str, Any]:
    """Every figure for the scope, JSON-serialisable, from one transaction."""

    def figures(conn: Connection) -> dict[str, Any]:
        if conn.dialect.name == "postgresql":
            # The per-item subqueries make PostgreSQL estimate these queries as costly enough
            # to compile: seconds of JIT for a few milliseconds of work.
            conn.exec_driver_sql("SET LOCAL jit = off")
        return _Figures(conn, scope).all()

    return await inbox.transaction(figures)


async def repositories(inbox: Inbox, owner: str | None = None) -> list[str]:
    """The repositories with recorded activity (of ``owner``'s, when given), lower-case, sorted.

    Read by hopping from each name to the next in the (repository, ...) index, one probe per
    repository, rather than by DISTINCT over every row (a second on a million rows)."""
    first, following = activity.alias("first"), activity.alias("following")
    names = select(func.min(first.c.repository).label("repository")).cte("names", recursive=True)
    names = names.union_all(
        select(select(func.min(following.c.repository)).where(following.c.repository > names.c.repository)
               .scalar_subquery())
        .where(names.c.repository.is_not(None))
    )
    query = select(names.c.repository).where(names.c.repository.is_not(None)).order_by(names.c.repository)
    if owner is not None:
        prefix = owner.lower() + "/"
        query = query.where(func.substr(names.c.repository, 1, len(prefix)) == prefix)
    return await inbox.transaction(lambda conn: list(conn.execute(query).scalars()))


class _Figures:
    """The statements of one computation, over one connection."""

    def __init__(self, conn: Connection, scope: Scope) -> None:
        self.conn = conn
        self.scope = scope
        self.since = scope.since
        self.until = scope.until

    def all(self) -> dict[str, Any]:
        return {
            "scope": self.scope_summary(),
            "first_response": self.first_response(),
            "time_to_close": self.time_to_close(),
            "time_to_merge": self.time_to_merge(),
            "change_requests": self.change_requests(),
            "new_contributors": self.new_contributors(),
            "recognitions": self.recognitions(),
            "good_first_issues": self.good_first_issues(),
            "dco": self.verdicts(DCO),
            "cla": self.verdicts(CLA),
            "heated": self.heated(),
            "absence_factor": self.absence_factor(),
            "activity_by_month": self.activity_by_month(),
        }

    # Row filters --------------------------------------------------------------------------

    def in_scope(self, rows: Any) -> list[ColumnElement[bool]]:
        """The scope's repositories, before ``until``."""
        conditions = [rows.c.at < self.until]
        if self.scope.owner is not None:
            conditions.append(rows.c.owner == self.scope.owner)
        if self.scope.repositories is not None:
            conditions.append(rows.c.repository.in_(self.scope.repositories) if self.scope.repositories else false())
        return conditions

    def in_window(self, rows: Any) -> list[ColumnElement[bool]]:
        """The scope's repositories, within ``[since, until)``."""
        return [*self.in_scope(rows), rows.c.at >= self.since]

    def any_earlier(self, kinds: tuple[str, ...], matching: Any) -> ColumnElement[bool]:
        """Whether a row of one of these kinds, before ``since``, meets ``matching(row)``'s
        conditions. One probe per kind: PostgreSQL then seeks the (actor, repository, kind, at)
        index on all four, where with ``kind = ANY(...)`` it read every row of the person there."""
        probes = []
        for kind in kinds:
            earlier = activity.alias(f"earlier_{kind}")
            probes.append(_found(
                select(earlier.c.at).where(earlier.c.kind == kind, earlier.c.at < self.since, *matching(earlier))
            ))
        return or_(*probes)

    def months(self) -> list[tuple[str, float]]:
        """The calendar months (UTC) the window touches, in order: name, and when it ends."""
        start = datetime.datetime.fromtimestamp(self.since, datetime.UTC).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        months = []
        while start.timestamp() < self.until:
            end = (start + datetime.timedelta(days=32)).replace(day=1)
            months.append((start.strftime("%Y-%m"), end.timestamp()))
            start = end
        return months

    def by_month(self, query: Select[Any], zero: dict[str, Any]) -> list[dict[str, Any]]:
        """Every month of the window, in order: ``query``'s figures (its first column the
        month), or ``zero`` for a month it has no row for."""
        found = {row[0]: row._mapping for row in self.conn.execute(query)}
        return [{"month": name, **{key: found[name][key] if name in found else value for key, value in zero.items()}}
                for name, _end in self.months()]

    def scope_summary(self) -> dict[str, Any]:
        repositories = self.scope.repositories
        return {
            "owner": self.scope.owner,
            "repositories": None if repositories is None else list(repositories),
            "since": _date(self.since),
            "until": _date(self.until),
            "days": round((self.until - self.since) / DAY),
        }

    # 1. Time to first response --------------------------------------------------------------

    def first_response(self) -> dict[str, Any]:
        """Time to first response (CHAOSS), for issues and for pull requests, for all of them and
        for newcomers' alone.

        The items: opened (``issue_opened``/``pr_opened``) within the window by a person. Their
        response: the earliest ``comment``, ``review`` or ``review_comment`` on the same item at
        or after its opening, before ``until``, by a person other than its author. A newcomer's
        item is the first issue or pull request its author opened in that repository (of the
        rows recorded). For each group: ``count`` items, ``responded`` of them, the median and
        90th percentile of hours to the response (among those responded), ``waiting``: neither
        responded nor closed at ``until``, and the histogram of hours to the response.
        """
        opened, later = activity.alias("opened"), activity.alias("later")
        responds = and_(
            later.c.kind.in_(RESPONSE_KINDS), ~later.c.is_bot, later.c.actor.is_distinct_from(opened.c.actor)
        )
        responses = (
            select(
                opened.c.repository,
                opened.c.number,
                # One per item: aggregated only so that the groups can follow the index.
                func.min(opened.c.actor).label("actor"),
                (opened.c.kind == PR_OPENED).label("is_pull"),
                opened.c.at,
                ((func.min(case((responds, later.c.at))) - opened.c.at) / HOUR).label("hours"),
                *_closing_state(later),
            )
            # The item's rows from its opening on, before ``until`` (all in the window): its
            # responses, and how it stood at ``until``. (No scope conditions on them: they are
            # the item's, and testing the owner would cost each a table lookup.)
            .outerjoin_from(opened, later, and_(later.c.repository == opened.c.repository,
                                                later.c.number == opened.c.number,
                                                later.c.kind.in_((*RESPONSE_KINDS, *CLOSING_KINDS)),
                                                later.c.at >= opened.c.at, later.c.at >= self.since,
                                                later.c.at < self.until))
            .where(*self.in_window(opened), opened.c.kind.in_(OPENED_KINDS), ~opened.c.is_bot)
            # In the order the (repository, kind, at, ...) and (owner, kind, at, repository, ...)
            # indexes give one repository's or one owner's openings, so that SQLite groups them
            # as it reads them instead of sorting every joined row.
            .group_by(opened.c.kind, opened.c.at, opened.c.repository, opened.c.number)
            .subquery()
        )
        nth_in_window = func.row_number().over(partition_by=[responses.c.repository, responses.c.actor],
                                               order_by=[responses.c.at, responses.c.number])
        ordered = select(responses, nth_in_window.label("nth_in_window")).subquery()
        # A newcomer's item: its author's first in that repository in the window, with nothing
        # opened there before the window (asked once per author and repository, not per item).
        newcomer = case(
            (and_(ordered.c.nth_in_window == 1, ordered.c.actor.is_not(None)),
             ~self.any_earlier(OPENED_KINDS, lambda earlier: (earlier.c.actor == ordered.c.actor,
                                                             earlier.c.repository == ordered.c.repository))),
            else_=false(),
        )
        items = select(
            ordered.c.is_pull,
            ordered.c.hours,
            newcomer.label("newcomer"),
            and_(ordered.c.hours.is_(None), _stood_open(ordered)).label("waiting"),
        ).cte("items")
        cohorts = union_all(
            select(items.c.is_pull, items.c.hours, items.c.waiting, literal("all").label("cohort")),
            select(items.c.is_pull, items.c.hours, items.c.waiting, literal("newcomers").label("cohort"))
            .where(items.c.newcomer),
        ).subquery()
        ranked = _ranked(cohorts, cohorts.c.hours, [cohorts.c.is_pull, cohorts.c.cohort])
        query = select(
            ranked.c.is_pull,
            ranked.c.cohort,
            func.count().label("count"),
            func.count(ranked.c.hours).label("responded"),
            _nearest_rank(ranked, MEDIAN).label("median"),
            _nearest_rank(ranked, P90).label("p90"),
            _count_where(ranked.c.waiting).label("waiting"),
            *(_count_where(_between(ranked.c.hours, low, high)).label(f"bucket_{index}")
              for index, (_label, low, high) in enumerate(RESPONSE_BUCKETS)),
        ).group_by(ranked.c.is_pull, ranked.c.cohort)
        found = {(bool(row.is_pull), row.cohort): row for row in self.conn.execute(query)}

        def figures(is_pull: bool, cohort: str) -> dict[str, Any]:
            row = found.get((is_pull, cohort))
            return {
                "count": row.count if row else 0,
                "responded": row.responded if row else 0,
                "median_hours": _hours(row.median if row else None),
                "p90_hours": _hours(row.p90 if row else None),
                "waiting": row.waiting if row else 0,
                "buckets": [{"label": label, "count": row._mapping[f"bucket_{index}"] if row else 0}
                            for index, (label, _low, _high) in enumerate(RESPONSE_BUCKETS)],
            }

        return {kind: {cohort: figures(is_pull, cohort) for cohort in ("all", "newcomers")}
                for kind, is_pull in (("issues", False), ("pulls", True))}

    # 2. Time to close, time to merge --------------------------------------------------------

    def time_to_close(self) -> dict[str, Any]:
        """Time to close (CHAOSS), issues: those closed at ``until`` whose last ``closed`` row lies
        in the window, opened by a person; hours from opening to that last closing."""
        changes, opened = activity.alias("changes"), activity.alias("opened")
        # A close in the window that stood at ``until`` is the latest of the rows in the
        # window, with no reopening after it: earlier rows cannot change that.
        closings = (
            select(
                changes.c.repository,
                changes.c.number,
                func.max(case((changes.c.kind == CLOSED, changes.c.at))).label("last_closed"),
                func.max(case((changes.c.kind == REOPENED, changes.c.at))).label("last_reopened"),
            )
            .where(*self.in_window(changes), changes.c.kind.in_((CLOSED, REOPENED)), ~changes.c.is_pull)
            .group_by(changes.c.repository, changes.c.number)
            .subquery()
        )
        sample = (
            select(((closings.c.last_closed - opened.c.at) / HOUR).label("hours"))
            .join_from(closings, opened, and_(opened.c.repository == closings.c.repository,
                                              opened.c.number == closings.c.number))
            .where(
                opened.c.kind == ISSUE_OPENED,
                ~opened.c.is_bot,
                closings.c.last_closed.is_not(None),
                or_(closings.c.last_reopened.is_(None), closings.c.last_reopened <= closings.c.last_closed),
            )
            .subquery()
        )
        return self.distribution(sample)

    def time_to_merge(self) -> dict[str, Any]:
        """Time to merge, pull requests: ``merged`` rows in the window of pull requests opened by a
        person; hours from opening to merging."""
        merged, opened = activity.alias("merged"), activity.alias("opened")
        sample = (
            select(((merged.c.at - opened.c.at) / HOUR).label("hours"))
            .join_from(merged, opened, and_(opened.c.repository == merged.c.repository,
                                            opened.c.number == merged.c.number))
            .where(*self.in_window(merged), merged.c.kind == MERGED, opened.c.kind == PR_OPENED, ~opened.c.is_bot)
            .subquery()
        )
        return self.distribution(sample)

    def distribution(self, sample: Subquery) -> dict[str, Any]:
        """How many hours ``sample`` holds, their median and 90th percentile."""
        ranked = _ranked(sample, sample.c.hours, [])
        row = self.conn.execute(
            select(func.count(), _nearest_rank(ranked, MEDIAN), _nearest_rank(ranked, P90))
        ).one()
        return {"count": row[0], "median_hours": _hours(row[1]), "p90_hours": _hours(row[2])}

    # 3. Change request closure ratio --------------------------------------------------------

    def change_requests(self) -> dict[str, Any]:
        """Change request closure ratio (CHAOSS): pull requests opened by a person in the window
        (``opened``); pull requests by a person merged in the window (``merged``), or closed
        unmerged in the window and not merged by ``until`` (``closed``, each once); the ratio
        (merged + closed) / opened, None when none were opened."""
        rows, opened, merged = activity.alias("rows"), activity.alias("opened"), activity.alias("merged")
        by_person = _found(
            select(opened.c.at)
            .where(opened.c.repository == rows.c.repository, opened.c.number == rows.c.number,
                   opened.c.kind == PR_OPENED, ~opened.c.is_bot)
        )
        merged_by_until = _found(
            select(merged.c.at)
            .where(merged.c.repository == rows.c.repository, merged.c.number == rows.c.number,
                   merged.c.kind == MERGED, merged.c.at < self.until)
        )

        def count(*conditions: ColumnElement[bool]) -> Any:
            return select(func.count()).where(*self.in_window(rows), *conditions).scalar_subquery()

        closed_pulls = (
            select(rows.c.repository, rows.c.number)
            .where(*self.in_window(rows), rows.c.kind == CLOSED, rows.c.is_pull, by_person, ~merged_by_until)
            .group_by(rows.c.repository, rows.c.number)
            .subquery()
        )
        row = self.conn.execute(
            select(
                count(rows.c.kind == PR_OPENED, ~rows.c.is_bot).label("opened"),
                count(rows.c.kind == MERGED, ~rows.c.is_bot).label("merged"),
                select(func.count()).select_from(closed_pulls).scalar_subquery().label("closed"),
            )
        ).one()
        return {
            "opened": row.opened,
            "merged": row.merged,
            "closed": row.closed,
            "closure_ratio": _share(row.merged + row.closed, row.opened),
        }

    # 4. New contributors --------------------------------------------------------------------

    def new_contributors(self) -> list[dict[str, Any]]:
        """New contributors (CHAOSS), per month of the window: people whose first contribution
        (their earliest ``issue_opened``, ``pr_opened``, ``comment``, ``review`` or
        ``review_comment`` anywhere in the scope's repositories) fell in that month within the
        window (``count``); of them, those who contributed again to another item within 90 days
        of that first contribution, before ``until`` (``returned``; ``return_rate`` their share);
        ``complete`` once 90 days have passed since the month's end by ``until``, when later
        first contributions have had all their time to return."""
        def contributing(rows: Any) -> list[ColumnElement[bool]]:
            """People's contributions in the window."""
            return [*self.in_window(rows), rows.c.kind.in_(CONTRIBUTION_KINDS), ~rows.c.is_bot,
                    rows.c.actor.is_not(None)]

        everyone, rows = activity.alias("everyone"), activity.alias("contributions")
        # Those who contributed in the window and never before it in the scope (asked once per
        # person); their later contributions, before ``until``, are in the window too.
        newcomers = (
            select(everyone.c.actor)
            .where(*contributing(everyone))
            .group_by(everyone.c.actor)
            .having(~self.any_earlier(CONTRIBUTION_KINDS, lambda earlier: (earlier.c.actor == everyone.c.actor,
                                                                          *self.in_scope(earlier))))
        )
        # The newcomers' contributions are read from the table again, not from the rows grouped
        # above: PostgreSQL cannot estimate how many people pass the test (it guesses one), and
        # from a common table expression it read all of the window's rows again for each
        # newcomer. From the table it reads each newcomer's through the (actor, repository,
        # kind, at) index, which holds all they need.
        first_item = {
            "partition_by": rows.c.actor,
            "order_by": [rows.c.at, rows.c.repository, rows.c.number],
        }
        contributions = (
            select(
                rows.c.actor,
                rows.c.repository,
                rows.c.number,
                rows.c.at,
                rows.c.month,
                func.min(rows.c.at).over(partition_by=rows.c.actor).label("first_at"),
                func.first_value(rows.c.repository).over(**first_item).label("first_repository"),
                func.first_value(rows.c.number).over(**first_item).label("first_number"),
            )
            .where(*contributing(rows), rows.c.actor.in_(newcomers))
            .subquery()
        )
        returning = and_(
            contributions.c.at <= contributions.c.first_at + RETURN_DAYS * DAY,
            or_(contributions.c.repository != contributions.c.first_repository,
                contributions.c.number != contributions.c.first_number),
        )
        people = (
            select(
                contributions.c.actor,
                func.min(contributions.c.month).label("month"),
                func.max(case((returning, 1), else_=0)).label("returned"),
            )
            .group_by(contributions.c.actor)
            .subquery()
        )
        # One row a newcomer, counted here: the people are computed once, for the counts and
        # for the names (the first few of each month, alphabetically).
        months = {name: {"month": name, "count": 0, "returned": 0, "people": []} for name, _end in self.months()}
        for month, actor, returned in self.conn.execute(
            select(people.c.month, people.c.actor, people.c.returned).order_by(people.c.month, people.c.actor)
        ):
            figures = months[month]
            figures["count"] += 1
            figures["returned"] += returned
            if len(figures["people"]) < NAMED_PER_MONTH:
                figures["people"].append(actor)
        complete = {name: end + RETURN_DAYS * DAY <= self.until for name, end in self.months()}
        return [
            {**month, "return_rate": _share(month["returned"], month["count"]), "complete": complete[month["month"]]}
            for month in months.values()
        ]

    def recognitions(self) -> list[dict[str, Any]]:
        """The recognitions (``/thank``) of the window, per month: who was thanked, for what."""
        query = (
            select(recognitions.c.month, recognitions.c.login, recognitions.c.types, recognitions.c.repository)
            .where(*self.in_window(recognitions))
            .order_by(recognitions.c.at)
        )
        by_month: dict[str, list[dict[str, Any]]] = {name: [] for name, _end in self.months()}
        for month, login, types, repository in self.conn.execute(query):
            by_month.setdefault(month, []).append({"login": login, "types": types.split(","), "repository": repository})
        return [{"month": month, "count": len(thanked), "people": thanked} for month, thanked in by_month.items()]

    # 5. Good first issues -------------------------------------------------------------------

    def good_first_issues(self) -> dict[str, Any]:
        """Good first issues: issues first labelled good first issue within the window
        (``labeled``); of them, those claimed at or after that labelling, before ``until``
        (``claimed``), and the median hours from labelling to the first such claim; and those a
        merged pull request closed by keyword before ``until`` that was its author's first pull
        request in that repository (``closed_by_newcomer``)."""
        labels, earlier, claims, closes, pulls = (
            activity.alias(name) for name in ("labels", "earlier", "claims", "closes", "pulls")
        )
        labelled_before = _found(
            select(earlier.c.at)
            .where(earlier.c.repository == labels.c.repository, earlier.c.number == labels.c.number,
                   earlier.c.kind == GFI_LABELED, earlier.c.at < self.since)
        )
        labelled = (
            select(labels.c.repository, labels.c.number, func.min(labels.c.at).label("labelled_at"))
            .where(*self.in_window(labels), labels.c.kind == GFI_LABELED, ~labelled_before)
            .group_by(labels.c.repository, labels.c.number)
            .subquery()
        )
        # The number of the closing pull request's author's first pull request there (by time
        # alone, which the index answers from one entry: one person opening two pull requests
        # in the same second is left to chance).
        first_pull = (
            select(pulls.c.number)
            .where(pulls.c.actor == closes.c.actor, pulls.c.repository == closes.c.repository,
                   pulls.c.kind == PR_OPENED)
            .order_by(pulls.c.at)
            .limit(1)
            .scalar_subquery()
        )
        closed_by_first_pull = _found(
            select(closes.c.at)
            .where(closes.c.repository == labelled.c.repository, closes.c.number == labelled.c.number,
                   closes.c.kind == CLOSES, closes.c.at < self.until, cast(first_pull, String) == closes.c.detail)
        )
        issues = (
            select(
                ((func.min(claims.c.at) - labelled.c.labelled_at) / HOUR).label("hours"),
                closed_by_first_pull.label("closed_by_newcomer"),
            )
            .select_from(
                labelled.outerjoin(claims, and_(claims.c.repository == labelled.c.repository,
                                                claims.c.number == labelled.c.number, claims.c.kind == GFI_CLAIMED,
                                                claims.c.at >= labelled.c.labelled_at, claims.c.at < self.until))
            )
            .group_by(labelled.c.repository, labelled.c.number, labelled.c.labelled_at)
            .subquery()
        )
        ranked = _ranked(issues, issues.c.hours, [])
        row = self.conn.execute(
            select(
                func.count().label("labeled"),
                func.count(ranked.c.hours).label("claimed"),
                _nearest_rank(ranked, MEDIAN).label("median"),
                _count_where(ranked.c.closed_by_newcomer).label("closed_by_newcomer"),
            )
        ).one()
        return {
            "labeled": row.labeled,
            "claimed": row.claimed,
            "median_hours_to_claim": _hours(row.median),
            "closed_by_newcomer": row.closed_by_newcomer,
        }

    # 6. DCO and CLA -------------------------------------------------------------------------

    def verdicts(self, kind: str) -> dict[str, Any]:
        """The DCO or CLA check (``kind``), per pull request not opened by a bot: those whose first
        verdict lies in the window (``pulls``); those whose first verdict passed
        (``passed_first``, and its share); for those that failed and passed later, the median
        hours from the first failure to the first pass after it; those whose last verdict before
        ``until`` failed and that stood closed unmerged at ``until`` (``abandoned``, and its
        share). A failure is a ``failure`` or ``action_required`` conclusion; ``neutral`` is
        neither."""
        rows, earlier, later = activity.alias("verdicts"), activity.alias("earlier"), activity.alias("later")
        # One ordering for all of a pull request's window functions, so each is one sort: two
        # verdicts in the same second are taken failure first. The frame is the whole pull
        # request's, for the count and the first failure.
        in_order = {"partition_by": [rows.c.repository, rows.c.number], "order_by": [rows.c.at, rows.c.detail]}
        whole = {**in_order, "rows": (None, None)}
        verdicts = (
            select(
                rows.c.repository,
                rows.c.number,
                rows.c.at,
                rows.c.detail,
                func.row_number().over(**in_order).label("nth"),
                func.count().over(**whole).label("of"),
                func.min(case((rows.c.detail.in_(FAILING), rows.c.at))).over(**whole).label("first_failure"),
            )
            .where(*self.in_window(rows), rows.c.kind == kind)
            .subquery()
        )
        fixed_at = func.min(case((and_(verdicts.c.detail == PASSING, verdicts.c.at > verdicts.c.first_failure),
                                  verdicts.c.at)))
        verdict_before = _found(
            select(earlier.c.at)
            .where(earlier.c.repository == verdicts.c.repository, earlier.c.number == verdicts.c.number,
                   earlier.c.kind == kind, earlier.c.at < self.since)
        )
        pulls = (
            select(
                verdicts.c.repository,
                verdicts.c.number,
                func.max(case((verdicts.c.nth == 1, verdicts.c.detail))).label("first_verdict"),
                func.max(case((verdicts.c.nth == verdicts.c.of, verdicts.c.detail))).label("last_verdict"),
                ((fixed_at - func.min(verdicts.c.first_failure)) / HOUR).label("hours"),
            )
            .group_by(verdicts.c.repository, verdicts.c.number)
            .having(~verdict_before)
            .subquery()
        )
        # A bot's pull requests get their check too (Dependabot's must merge) and nearly
        # always pass: they would only flatter the contributors' figures.
        by_bot = _count_where(and_(later.c.kind == PR_OPENED, later.c.is_bot))
        states = (
            select(pulls, *_closing_state(later))
            .outerjoin_from(pulls, later, and_(later.c.repository == pulls.c.repository,
                                               later.c.number == pulls.c.number,
                                               later.c.kind.in_((PR_OPENED, *CLOSING_KINDS)), later.c.at < self.until))
            .group_by(*pulls.c)
            .having(by_bot == 0)
            .subquery()
        )
        ranked = _ranked(states, states.c.hours, [])
        row = self.conn.execute(
            select(
                func.count().label("pulls"),
                _count_where(ranked.c.first_verdict == PASSING).label("passed_first"),
                _nearest_rank(ranked, MEDIAN).label("median"),
                _count_where(and_(ranked.c.last_verdict.in_(FAILING), _stood_closed(ranked))).label("abandoned"),
            )
        ).one()
        return {
            "pulls": row.pulls,
            "passed_first": row.passed_first,
            "passed_first_share": _share(row.passed_first, row.pulls),
            "median_hours_to_fix": _hours(row.median),
            "abandoned": row.abandoned,
            "abandoned_share": _share(row.abandoned, row.pulls),
        }

    # 7. Heated threads ----------------------------------------------------------------------

    def heated(self) -> list[dict[str, Any]]:
        """Heated threads, per month of the window: the bot's code-of-conduct reminders
        (``conduct_reminder`` rows) and the threads it locked as too heated (``conduct_lock``)."""
        rows = activity.alias("conduct")
        query = (
            select(
                rows.c.month,
                _count_where(rows.c.kind == CONDUCT_REMINDER).label("reminders"),
                _count_where(rows.c.kind == CONDUCT_LOCK).label("locks"),
            )
            .where(*self.in_window(rows), rows.c.kind.in_((CONDUCT_REMINDER, CONDUCT_LOCK)))
            .group_by(rows.c.month)
        )
        return self.by_month(query, {"reminders": 0, "locks": 0})

    # 8. Contributor absence factor ----------------------------------------------------------

    def absence_factor(self) -> dict[str, Any]:
        """Contributor absence factor (CHAOSS, "bus factor"): of the pull requests by people merged
        in the window (``merged``, by ``contributors`` authors), the fewest authors who account
        for at least half; and the ``top`` authors by pull requests merged (10 at most, ties by
        login). Authors are counted from the ``merged`` row, which carries the author."""
        rows = activity.alias("merged")
        authors = (
            select(rows.c.actor, func.count().label("merged"))
            .where(*self.in_window(rows), rows.c.kind == MERGED, ~rows.c.is_bot, rows.c.actor.is_not(None))
            .group_by(rows.c.actor)
            .subquery()
        )
        most_first = [authors.c.merged.desc(), authors.c.actor]
        running = (
            select(
                authors,
                # What the authors ahead of this one merged: this one is needed while that is
                # short of half.
                (func.sum(authors.c.merged).over(order_by=most_first, rows=(None, 0)) - authors.c.merged)
                .label("ahead"),
                func.sum(authors.c.merged).over().label("total"),
                func.count().over().label("contributors"),
            )
            .subquery()
        )
        needed = case((running.c.ahead * 2 < running.c.total, 1))
        rows_found = self.conn.execute(
            select(running.c.actor, running.c.merged, running.c.total, running.c.contributors,
                   func.count(needed).over().label("value"))
            .order_by(running.c.merged.desc(), running.c.actor)
            .limit(TOP_AUTHORS)
        ).all()
        if not rows_found:
            return {"value": None, "merged": 0, "contributors": 0, "top": []}
        first = rows_found[0]
        return {
            "value": first.value,
            "merged": int(first.total),
            "contributors": first.contributors,
            "top": [{"login": row.actor, "merged": row.merged} for row in rows_found],
        }

    # 9. Activity by month -------------------------------------------------------------------

    def activity_by_month(self) -> list[dict[str, Any]]:
        """Activity per month of the window, by people: issues opened, pull requests opened, pull
        requests merged, and comments (``comment``, ``review`` and ``review_comment`` rows)."""
        rows = activity.alias("rows")
        kinds = (ISSUE_OPENED, PR_OPENED, MERGED, *RESPONSE_KINDS)
        query = (
            select(
                rows.c.month,
                _count_where(rows.c.kind == ISSUE_OPENED).label("issues_opened"),
                _count_where(rows.c.kind == PR_OPENED).label("pulls_opened"),
                _count_where(rows.c.kind == MERGED).label("merged"),
                _count_where(rows.c.kind.in_(RESPONSE_KINDS)).label("comments"),
            )
            .where(*self.in_window(rows), rows.c.kind.in_(kinds), ~rows.c.is_bot)
            .group_by(rows.c.month)
        )
        return self.by_month(query, {"issues_opened": 0, "pulls_opened": 0, "merged": 0, "comments": 0})


# SQL building blocks ----------------------------------------------------------------------


def _closing_state(rows: Any) -> list[Any]:
    """Aggregates over an item's ``CLOSING_KINDS`` rows before ``until`` (``rows``, joined to
    the item) saying how it stood then: its last closing, last reopening, and merging."""
    return [
        func.max(case((rows.c.kind == CLOSED, rows.c.at))).label("last_closed"),
        func.max(case((rows.c.kind == REOPENED, rows.c.at))).label("last_reopened"),
        func.min(case((rows.c.kind == MERGED, rows.c.at))).label("merged_at"),
    ]


def _stood_open(items: Any) -> ColumnElement[bool]:
    """Whether an item with ``_closing_state``'s columns stood open at ``until``."""
    return and_(items.c.merged_at.is_(None), or_(items.c.last_closed.is_(None), _reopened_since(items)))


def _stood_closed(items: Any) -> ColumnElement[bool]:
    """Whether an item with ``_closing_state``'s columns stood closed, unmerged, at ``until``."""
    return and_(items.c.merged_at.is_(None), items.c.last_closed.is_not(None), ~_reopened_since(items))


def _reopened_since(items: Any) -> ColumnElement[bool]:
    # Never NULL (SQL's NOT NULL is NULL), so that its negation holds for the never reopened.
    return and_(items.c.last_reopened.is_not(None), items.c.last_reopened > items.c.last_closed)


def _ranked(sample: Any, value: Any, partition: list[Any]) -> Subquery:
    """``sample`` with each row's ``rank`` (1, 2, ...) by ``value`` ascending within its
    ``partition``, and how many rows of the partition have a value (``ranked``). Rows without a
    value are ranked apart, so they never take a rank from those with one."""
    return select(
        sample,
        func.row_number().over(partition_by=[*partition, value.is_(None)], order_by=value).label("rank"),
        func.count(value).over(partition_by=partition or None).label("ranked"),
    ).subquery()


def _nearest_rank(ranked: Subquery, share: tuple[int, int]) -> Any:
    """Aggregate over ``_ranked`` rows: the percentile ``share`` (numerator, denominator) of
    ``hours``, nearest-rank: the value ranked ceil(share * n), i.e. the one rank r with
    r >= share * n > r - 1, in integers so no rounding moves it."""
    numerator, denominator = share
    at_rank = and_(
        ranked.c.hours.is_not(None),
        ranked.c.rank * denominator >= ranked.c.ranked * numerator,
        (ranked.c.rank - 1) * denominator < ranked.c.ranked * numerator,
    )
    return func.min(case((at_rank, ranked.c.hours)))


def _found(rows: Select[Any]) -> ColumnElement[bool]:
    """Whether ``rows`` has a row: asked as a scalar subquery (its first value, or NULL), not as
    EXISTS, which PostgreSQL may answer from a hash of every row that could match, built by
    reading the whole table; an index probe per row stays proportional to the window."""
    return rows.limit(1).scalar_subquery().is_not(None)


def _count_where(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _between(hours: Any, low: float, high: float | None) -> ColumnElement[bool]:
    return and_(hours >= low, hours < high) if high is not None else hours >= low


def _date(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d")


def _hours(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
