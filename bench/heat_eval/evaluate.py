"""How well the heated-comment detector does on real GitHub comments no one here wrote.

    .venv/bin/python bench/heat_eval/evaluate.py [--split test|tune] [--curve]

The set (bench/heat_eval/comments.jsonl) holds real issue comments and pull request review
comments, labelled `uncivil` or `calm` by the written guidelines beside it (GUIDELINES.md).
Each comment belongs to the tuning split or the test split by a hash of its id, fixed once and
for all: weights and lexicon additions are chosen on the tuning split, and the test split's
figures are the ones reported. ``--split extra`` reads extra.jsonl instead: further comments,
labelled by the same guidelines and collected after the detector took shape (GUIDELINES.md).

For each kind of comment (issue, review) it prints, for the detectors compared: precision,
recall, and the share of calm comments flagged (false-positive rate) of: the lexicon alone (the
detector before the model), alt-profanity-check's model as it ships, and the combined detector;
then the combined detector's time per comment; with --curve, its precision/recall curve over
thresholds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from bot.heat import (  # noqa: E402
    DEFAULT_THRESHOLD,
    DEFAULT_THRESHOLDS,
    measure,
    model_probability,
    normalize,
    strip_quoted_and_code,
)

SET = HERE / "comments.jsonl"
EXTRA = HERE / "extra.jsonl"
KINDS = ("issue", "review")


def split_of(comment_id: str) -> str:
    """The comment's split, fixed by its id: half tuning, half test."""
    return "tune" if hashlib.sha256(comment_id.encode()).digest()[0] % 2 == 0 else "test"


def load(split: str | None = None) -> list[dict]:
    """The comments of a split of the set ("tune", "test", None for both), or the extra ones."""
    path = EXTRA if split == "extra" else SET
    comments = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in comments if split in (None, "extra") or split_of(c["id"]) == split]


def figures(comments: list[dict], flagged: Callable[[dict], bool]) -> dict[str, float]:
    hits = [flagged(c) for c in comments]
    uncivil = [c["label"] == "uncivil" for c in comments]
    true_positive = sum(h and u for h, u in zip(hits, uncivil))
    flagged_count = sum(hits)
    calm_flagged = sum(h and not u for h, u in zip(hits, uncivil))
    return {
        "comments": len(comments),
        "uncivil": sum(uncivil),
        "precision": true_positive / flagged_count if flagged_count else float("nan"),
        "recall": true_positive / sum(uncivil) if any(uncivil) else float("nan"),
        "calm flagged": calm_flagged / (len(comments) - sum(uncivil)) if len(comments) > sum(uncivil) else float("nan"),
    }


COMBINED = "community-bot (lexicon, model, aim; default thresholds)"


def detectors() -> dict[str, tuple[Callable[[str], float], Callable[[str], float]]]:
    """Each detector's score for a comment's text, and where it flags a comment of a kind: the
    lexicon at its own default (1.0), the model at probability 0.5, community-bot at its
    defaults by kind (bot.heat.DEFAULT_THRESHOLDS)."""
    return {
        "lexicon alone": (lambda text: measure(text, model=False).score, lambda kind: DEFAULT_THRESHOLD),
        "alt-profanity-check as is (probability >= 0.5)": (
            lambda text: model_probability(normalize(strip_quoted_and_code(text))),
            lambda kind: 0.5,
        ),
        COMBINED: (lambda text: measure(text).score, DEFAULT_THRESHOLDS.__getitem__),
    }


def row(label: str, f: dict[str, float]) -> str:
    return (
        f"| {label} | {f['comments']} | {f['uncivil']} | {f['precision']:.2f} | {f['recall']:.2f} "
        f"| {f['calm flagged']:.2%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("test", "tune", "extra"), default="test")
    parser.add_argument("--curve", action="store_true", help="print the precision/recall curve over thresholds")
    args = parser.parse_args()
    comments = load(args.split)
    print(f"{args.split}: {len(comments)} comments\n")
    print("| detector, kind | comments | uncivil | precision | recall | calm flagged |")
    print("| --- | --- | --- | --- | --- | --- |")
    scores: dict[str, dict[str, float]] = {}
    for name, (score, threshold) in detectors().items():
        scores[name] = {c["id"]: score(c["text"]) for c in comments}
        for kind in KINDS:
            of_kind = [c for c in comments if c["kind"] == kind]
            at = threshold(kind)
            print(row(f"{name}, {kind} (at {at})", figures(of_kind, lambda c: scores[name][c["id"]] >= at)))
    measure(comments[0]["text"])  # the model is loaded once per process, not per comment
    started = time.perf_counter()
    for c in comments:
        measure(c["text"])
    per_comment = (time.perf_counter() - started) / len(comments) * 1000
    print(f"\ncommunity-bot: {per_comment:.2f} ms a comment on one core (mean over {len(comments)})")
    if args.curve:
        combined = scores[COMBINED]
        print("\n| threshold | " + " | ".join(f"{k} precision | {k} recall | {k} calm flagged" for k in KINDS) + " |")
        print("| --- " * (1 + 3 * len(KINDS)) + "|")
        for step in range(4, 31):
            threshold = step / 10
            cells = []
            for kind in KINDS:
                of_kind = [c for c in comments if c["kind"] == kind]
                f = figures(of_kind, lambda c: combined[c["id"]] >= threshold)
                cells.append(f"{f['precision']:.2f} | {f['recall']:.2f} | {f['calm flagged']:.2%}")
            print(f"| {threshold:.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
