"""Records written out for an audit (CLA signatures, license waivers): JSON or CSV, times in
ISO 8601 UTC."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any


def iso(moment: float) -> str:
    """UTC, with a Z; microseconds only when there are some (GitHub's times are whole seconds)."""
    when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return when.isoformat(timespec="microseconds" if when.microsecond else "seconds").replace("+00:00", "Z")


def to_json(records: Iterable[dict[str, Any]]) -> str:
    """A JSON list of objects."""
    return json.dumps(list(records), indent=2, ensure_ascii=False) + "\n"


def to_csv(records: Iterable[dict[str, Any]], fields: Sequence[str]) -> str:
    """CSV with a header row of ``fields``; None is an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()
