"""How heated a GitHub comment is: signals that add up to a score, each named for moderators.

The signals are a small weighted lexicon of incivility aimed at people, and the tone read by
alt-profanity-check's statistical model (see "the statistical model" below), or Perspective's
where a repository opts in. Precision matters more than recall: a wrong code-of-conduct
reminder teaches people to ignore the right ones. So strong words count only when aimed at a
person, and everything the author is not saying in their own voice is dropped before scoring:
fenced and indented code, inline code, block quotes (quoting someone is not saying it), URLs
and HTML comments. How well this does on real comments: ``bench/heat_eval/``.

The lexicon (``heat_lexicon.yaml``) lists entries by category. Each entry has a ``term`` (its
name, shown to moderators and matched by a repository's ``ignore_terms``), a ``weight`` (1.0:
heated on its own at the default threshold), optional ``forms`` (spellings, with ``(a|b|)``
alternatives) and an ``aim``, the context in which it counts:

``any``
    the phrase is aimed in itself ("fuck you", "kill yourself", "nobody asked you");
``person``
    a predicate about a person: "you are …", "are you …", "your attitude is …",
    "the maintainers are …", "stop being …";
``address``
    a person-noun used of someone: as for ``person``, or as a form of address
    ("Listen, idiot.", "thanks, clown"), or "idiots like you";
``imperative``
    said to someone, at the start of a clause ("Just get lost", "please shut up"), not as
    part of a description ("the events get lost").

A match does not count when a negation (not, never, no, …n't) is among the few words before it
in the same clause: "you are not stupid", "I'm not calling you an idiot", "don't be a jerk".
Matching ignores case, tolerates repeated letters ("stuuupid"), common symbol and digit
substitutions ("f*ck", "f**k", "a$$hole", "1diot"); each entry counts once per comment.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import importlib.resources
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

# Imported here, on the main thread, not first in the thread that loads the model: a module
# imported by two threads at once can be seen half-initialised by one of them.
import numpy
import yaml

DEFAULT_THRESHOLD: float = 1.0  # one clear insult aimed at a person
# Where a comment counts as heated by default, by where it is written: issue threads, and pull
# request threads (conversation, reviews, review comments), where rough words about code are
# everyday talk. Chosen from bench/heat_eval's precision/recall curves (README, "Code of conduct").
DEFAULT_THRESHOLDS: dict[str, float] = {"issue": 0.5, "review": 1.0}
LEXICON_FILE = "heat_lexicon.yaml"
AIMS = ("any", "person", "address", "imperative")


@dataclasses.dataclass(frozen=True)
class Heat:
    score: float  # 0 for calm text; a comment is "heated" when score >= threshold
    terms: tuple[str, ...]  # the lexicon entries that matched, for moderators' review
    # Why, for moderators: each signal that added to the score, and how much.
    signals: tuple[tuple[str, float], ...] = ()


@dataclasses.dataclass(frozen=True)
class Entry:
    term: str
    category: str
    weight: float
    aim: str
    pattern: re.Pattern[str]  # all its forms, one alternation


# --- what the author is not saying in their own voice -------------------------------------

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
_HTML_CODE = re.compile(r"<(pre|code|samp|kbd)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
# A short quotation on one line is a mention, not a use: the error says "you idiot".
_QUOTATION = re.compile(r"\"[^\"\n]{1,80}\"|\u201c[^\u201d\n]{1,80}\u201d|(?<![\w'])'[^'\n]{1,80}'(?![\w'])")
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.I)
_QUOTE_LINE = re.compile(r"^[ \t]{0,3}>")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def strip_quoted_and_code(text: str) -> str:
    """The author's own prose: code, quotes, short quotations, URLs and HTML comments removed.

    Blocks become blank lines (a clause boundary); inline code and URLs become a neutral word,
    so "you are `stupid_fn`" does not read as "you are stupid".
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HTML_COMMENT.sub("\n", text)
    text = _FENCE.sub("\n", text)
    text = _HTML_CODE.sub(" code ", text)
    kept: list[str] = []
    prev_blank, in_code = True, False
    for line in text.split("\n"):
        if not line.strip():
            kept.append("")
            prev_blank = True
            continue
        if _INDENTED.match(line) and (prev_blank or in_code):
            in_code = True
            kept.append("")
        elif _QUOTE_LINE.match(line):
            in_code = False
            kept.append("")
        else:
            in_code = False
            kept.append(line)
        prev_blank = False
    text = "\n".join(kept)
    text = _INLINE_CODE.sub(" code ", text)
    text = _URL.sub(" link ", text)
    return _QUOTATION.sub(" quote ", text)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return text.casefold().translate(_APOSTROPHES)


# --- compiling terms ------------------------------------------------------------------------

_SUBSTITUTES = {"a": "a@4", "e": "e3", "i": "i1!", "o": "o0", "s": "s$5", "u": "uv"}
_WORD_SEP = r"[\s*_~\"\-]+"
_LEFT, _RIGHT = r"(?<![\w\-])", r"(?![\w\-])"


def expand(form: str) -> list[str]:
    """``"i( will|'ll) find you"`` -> ``["i will find you", "i'll find you"]``."""
    pieces = re.split(r"\(([^()]*)\)", form)
    if any(ch in piece for piece in pieces[::2] for ch in "()|"):
        raise ValueError(f"{form!r}: alternatives are one level of (a|b), not nested or unbalanced")
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(pieces)]
    return [" ".join("".join(parts).split()) for parts in itertools.product(*choices)]


def _word_pattern(word: str) -> str:
    out = []
    letters = [i for i, ch in enumerate(word) if ch.isalnum()]
    first, last = (letters[0], letters[-1]) if letters else (-1, -1)
    for i, ch in enumerate(word):
        if ch == "'":
            out.append("'?")
        elif ch.isalnum():
            chars = _SUBSTITUTES.get(ch, ch)
            if first < i < last and len(letters) >= 4:
                chars += "*#"  # f*ck, f**k, sh#t: never the first or last letter
            out.append(f"[{re.escape(chars)}]+" if len(chars) > 1 else f"{re.escape(ch)}+")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def compile_term(*phrases: str) -> re.Pattern[str]:
    """One pattern for all of an entry's phrases, as a tree of words that share their beginnings:
    a comment is scanned once per entry, and a word is tried once however many spellings go on
    from it (an entry's forms expand to hundreds of phrases)."""
    tree: dict[str, dict] = {}
    for phrase in phrases:
        node = tree
        for word in normalize(phrase).split():
            node = node.setdefault(word, {})
        node[""] = {}  # a phrase may end here
    return re.compile(_LEFT + _words_after(tree) + _RIGHT)


def _words_after(node: dict[str, dict]) -> str:
    branches = []
    for word, rest in node.items():
        if not word:
            continue
        following = [w for w in rest if w]
        if not following:
            branches.append(_word_pattern(word))
            continue
        more = _WORD_SEP + _words_after(rest)
        branches.append(_word_pattern(word) + (f"(?:{more})?" if "" in rest else more))
    return "(?:" + "|".join(branches) + ")"


# --- aim: is it said to or about a person? --------------------------------------------------

_FILLER = (
    r"(?:a|an|the|such|so|really|truly|just|very|most|biggest|complete|completely|total|totally|absolute|"
    r"absolutely|utter|utterly|actual|actually|seriously|literally|clearly|obviously|simply|always|still|"
    r"too|sooo?|more|even|being|acting|like|such|kind\s+of|sort\s+of|some\s+kind\s+of|bunch\s+of|little|big|stupid|dumb|"
    r"pathetic|incompetent|clueless|arrogant|lazy|worthless|useless|blind|ignorant|toxic|bloody|damn|damned|goddamn|"
    r"f[u*]+c?k+(?:ing|in'?)|effing|freaking|fricking|frigging|[\w'-]+\s+(?:and|or)|[\w'-]+,)"
)
_YOU = r"(?:you|u|ya|you\s+guys|you\s+people|you\s+all|y'?all|you\s+two|both\s+of\s+you)"
_YOU_VERB = (
    r"(?:'re|\s+re|\s+r|\s+are|\s+were|\s+sound|\s+look|\s+seem|\s+must\s+be|\s+are\s+being"
    r"|'re\s+being|\s+really\s+are)"
)
_YOU_BE = (  # a predicate about "you"; bare "you" only before a person-noun ("you idiot", not "you stupid bot")
    rf"(?:{_YOU}{{verb}}|(?:are|were|r)\s+{_YOU}|stop\s+being|quit\s+being|"
    rf"stop\s+acting\s+like|go\s+be|how\s+can\s+{_YOU}\s+be)"
)
_ATTRIBUTE = (
    r"(?:brain|brains|head|mind|attitude|behaviou?r|ego|personality|mother|mom|mum|face|existence|life|"
    r"opinions?|skills|iq|whole\s+(?:existence|life|attitude|personality))"
)
_SUBJECT = (
    r"(?:he|she|(?:the\s+|these\s+|those\s+|this\s+|that\s+|his\s+|her\s+|their\s+|your\s+)?(?:maintainers?|devs?|developers?|authors?|"
    r"owners?|reviewers?|contributors?|admins?|mods?|moderators?|op|guys?|dude|people|folks|coders?|group|team)"
    r"(?:\s+(?:here|of\s+this\s+\w+|on\s+this\s+\w+|who\s+(?:wrote|made|merged|approved|designed)\s+(?:this|that|it)))?"
    r"|whoever\s+(?:wrote|made|merged|approved|designed|reviewed)\s+(?:this|that|it)(?:\s+\w+)?)"
)
_BE = r"(?:is|are|was|were|'s|'re|must\s+be|seems?\s+to\s+be|gotta\s+be|got\s+to\s+be|ha(?:ve|s)\s+to\s+be)"
_PREDICATE = rf"(?:^|[^\w'])(?:{{you_be}}|your\s+{_ATTRIBUTE}\s+{_BE}|{_SUBJECT}\s+{_BE}{{of_someone}})(?:\s+{_FILLER})*\s*$"
# Person-nouns are said of someone in a relative clause too: "a maintainer who is a clown".
_OF_SOMEONE = r"|(?:who|that)\s+(?:is|are|was|were|looks?\s+like|acts?\s+like)"
_PERSON_BEFORE = re.compile(_PREDICATE.format(you_be=_YOU_BE.format(verb=_YOU_VERB), of_someone=""))
_ADDRESSED_BEFORE = re.compile(_PREDICATE.format(you_be=_YOU_BE.format(verb=_YOU_VERB + "?"), of_someone=_OF_SOMEONE))
_OF_ONESELF = re.compile(rf"(?:^|[^\w'])(?:i'?m|i\s+am|i\s+was|am\s+i|i\s+feel\s+like|me|myself)(?:\s+{_FILLER})*\s*$")
_PERSON_AFTER = re.compile(rf"^\s+(?:are|r)\s+{_YOU}(?![\w'])")  # "how stupid are you"
_HOW_BEFORE = re.compile(r"(?:^|[^\w'])how\s+$")
_PERSON_NOUN_AFTER = re.compile(  # "what a moron maintainer", "you clown developers"
    r"^\s+(?:maintainer|dev|developer|author|owner|reviewer|contributor|admin|mod|moderator|guy|person)s?(?![\w'])"
)
_LIKE_YOU_AFTER = re.compile(r"^\s+like\s+(?:you|u|yourself)(?![\w'])")
_OPENERS = (
    r"(?:please|pls|plz|just|now|so|and|then|go|oh|ok|okay|hey|yeah|well|seriously|honestly|simply|kindly|"
    rf"what\s+(?:a|an)(?:\s+{_FILLER})*|"
    r"dude|man|lol|lmao|mate|buddy|bro|maybe|also|really|better|you\s+guys|you\s+people|you\s+should|you\s+better|"
    r"(?:you\s+)?need\s+to|"
    r"you\s+can|you\s+could|why\s+don'?t\s+you|can\s+you|could\s+you|would\s+you|will\s+you|"
    r"do\s+(?:us|everyone|the\s+world)\s+a\s+favou?r\s+and|listen|look|wow|thanks|thank\s+you|nice\s+try|sure)"
)
_CLAUSE_START = re.compile(rf"^\s*(?:{_OPENERS}\s*)*$")
_CLAUSE_END_AFTER = re.compile(r"^\s*(?:[^\w\s'\-]|$)")
_CLAUSE_BREAK = re.compile(r"[.!?;:\n()\[\]{}]")
_DRAWN_OUT = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[\w'*]+")
_NEGATIONS = frozenset(
    "not never no nor cannot neither dont doesnt didnt isnt arent wasnt werent wont cant couldnt "
    "shouldnt wouldnt aint hardly".split()
)
NEGATION_WINDOW = 4  # words before a match, in the same clause


def _clause(before: str) -> str:
    """The text's last clause before a match, drawn-out letters squeezed ("sooo" -> "so")."""
    return _DRAWN_OUT.sub(r"\1", _CLAUSE_BREAK.split(before)[-1])


def _negated(segment: str) -> bool:
    return any(t in _NEGATIONS or t.endswith("n't") for t in _TOKEN.findall(segment)[-NEGATION_WINDOW:])


def _aimed(aim: str, clause: str, after: str) -> bool:
    if aim == "any":
        return True
    segment = clause.rsplit(",", 1)[-1]
    if aim == "imperative":
        return bool(_CLAUSE_START.match(segment))
    before = _PERSON_BEFORE if aim == "person" else _ADDRESSED_BEFORE
    person = bool(before.search(clause)) or (bool(_HOW_BEFORE.search(segment)) and bool(_PERSON_AFTER.match(after)))
    if aim == "person" or person:
        return person
    # address: a person-noun used as a form of address ("thanks, clown", "what a clown maintainer"), or "idiots like you"
    vocative = bool(_CLAUSE_START.match(segment)) and bool(_CLAUSE_END_AFTER.match(after) or _PERSON_NOUN_AFTER.match(after))
    return vocative or bool(_LIKE_YOU_AFTER.match(after))


# --- the statistical model ---------------------------------------------------------------------

# alt-profanity-check's model (a linear SVM over TF-IDF words, trained on tens of thousands of
# human-labelled comments, calibrated to a probability) speaks to tone; the lexicon's aims speak
# to whom. The model's probability counts from MODEL_FLOOR up, fully when the comment is aimed
# at people (second person, maintainers, developers, a group) and UNAIMED_SHARE of it when not:
# in code review, "this hack is ugly" scores as rough as many insults.
MODEL_WEIGHT = 1.2
MODEL_FLOOR = 0.4
UNAIMED_SHARE = 0.25
# Perspective's own guidance: a TOXICITY of 0.5 or more is worth a moderator's look; so 0.5
# weighs 1.0 (heated alone anywhere), counted from PERSPECTIVE_FLOOR up: in an issue thread
# (heated at 0.5) Perspective alone flags from 0.425, as the local model flags more there too.
PERSPECTIVE_AT_THRESHOLD = 0.5
PERSPECTIVE_FLOOR = 0.35
_AT_PEOPLE = re.compile(
    r"(?<![\w'])(?:you|your|yours|yourself|yourselves|you'?re|u|ur|ya|y'?all|@[\w-]+|maintainers?|devs?|"
    r"developers?|authors?|contributors?|owners?|team|guys|people|folks|whoever|he|she|they|them|his|her)(?![\w'])"
)


@dataclasses.dataclass(frozen=True)
class _Model:
    analyzer: Any  # the vectorizer's own tokenizer: lowercase, words of 2+ letters, no stop words
    vocabulary: dict[str, int]
    idf: Any  # a word's weight, by its index
    weights: Any  # a row per word, a column per calibrated member
    intercepts: Any
    slopes: Any
    offsets: Any


_MODEL_LOCK = threading.Lock()


def _model() -> _Model:
    """The model, loaded once: a comment that comes while the start-up thread is still loading
    it waits for that load instead of starting a second one."""
    with _MODEL_LOCK:
        return _loaded_model()


@functools.cache
def _loaded_model() -> _Model:
    """alt-profanity-check's vectorizer and, stacked, its five calibrated linear models: the
    same probability as its ``predict_prob``, in a tenth of the time (scikit-learn's per-call
    validation of a one-comment batch costs more than the arithmetic)."""
    from profanity_check import profanity_check

    vectorizer = profanity_check.vectorizer
    members = profanity_check.model.calibrated_classifiers_
    return _Model(
        analyzer=vectorizer.build_analyzer(),
        vocabulary=vectorizer.vocabulary_,
        idf=vectorizer.idf_,
        weights=numpy.vstack([member.estimator.coef_.ravel() for member in members]).T,
        intercepts=numpy.array([member.estimator.intercept_[0] for member in members]),
        slopes=numpy.array([member.calibrators[0].a_ for member in members]),
        offsets=numpy.array([member.calibrators[0].b_ for member in members]),
    )


def load_model() -> None:
    """Load the model now (it takes about a second), so that no comment waits for it."""
    _model()


def model_probability(prose: str) -> float:
    """How likely alt-profanity-check's model finds the text offensive, 0 to 1."""
    model = _model()
    counts = collections.Counter(i for i in map(model.vocabulary.get, model.analyzer(prose)) if i is not None)
    decisions = model.intercepts
    if counts:
        words = numpy.fromiter(counts, dtype=numpy.intp, count=len(counts))
        tfidf = numpy.fromiter(counts.values(), dtype=float, count=len(counts)) * model.idf[words]
        decisions = decisions + tfidf @ model.weights[words] / numpy.linalg.norm(tfidf)
    return float(numpy.mean(1.0 / (1.0 + numpy.exp(model.slopes * decisions + model.offsets))))


def aimed_at_people(prose: str) -> bool:
    """Whether the text speaks to or about people: you, @someone, the maintainers, a group."""
    return _AT_PEOPLE.search(prose) is not None


def model_signal(prose: str) -> tuple[str, float] | None:
    """The model's part of the score, and how to say it to a moderator."""
    probability = model_probability(prose)
    if probability <= MODEL_FLOOR:
        return None
    aimed = aimed_at_people(prose)
    part = MODEL_WEIGHT * (probability - MODEL_FLOOR) / (1 - MODEL_FLOOR) * (1.0 if aimed else UNAIMED_SHARE)
    return f"tone {probability:.2f}" + (", aimed at people" if aimed else ""), round(part, 4)


# --- the lexicon and measuring ----------------------------------------------------------------


def _key(term: str) -> str:
    return " ".join(normalize(term).split())


def parse_lexicon(data: dict[str, Any]) -> tuple[Entry, ...]:
    entries = []
    for category, items in data["categories"].items():
        for item in items:
            aim = item.get("aim", "any")
            if aim not in AIMS:
                raise ValueError(f"{item['term']!r}: unknown aim {aim!r}")
            forms = item.get("forms") or [item["term"]]
            phrases = dict.fromkeys(p for form in forms for p in expand(form))
            entries.append(
                Entry(
                    term=item["term"],
                    category=category,
                    weight=float(item["weight"]),
                    aim=aim,
                    pattern=compile_term(*phrases),
                )
            )
    return tuple(entries)


@functools.cache
def lexicon() -> tuple[Entry, ...]:
    data = yaml.safe_load(importlib.resources.files("bot").joinpath(LEXICON_FILE).read_text(encoding="utf-8"))
    return parse_lexicon(data)


@functools.lru_cache(maxsize=256)
def _extra_entry(term: str) -> Entry | None:
    if not normalize(term).split():
        return None
    return Entry(term=term, category="extra", weight=1.0, aim="any", pattern=compile_term(term))


def _matches(entry: Entry, text: str) -> tuple[int | None, list[tuple[int, int]]]:
    """Where the entry first counts in ``text`` (or None), and the spans of its matches the model
    must not read as said of someone either: negated ("you are not stupid") or said of oneself
    ("I'm such an idiot")."""
    first, not_said = None, []
    for match in entry.pattern.finditer(text):
        clause = _clause(text[max(0, match.start() - 200) : match.start()])
        if _negated(clause.rsplit(",", 1)[-1]) or _OF_ONESELF.search(clause):
            not_said.append(match.span())
        elif first is None and _aimed(entry.aim, clause, text[match.end() : match.end() + 80]):
            first = match.start()
    return first, not_said


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


def measure(
    text: str,
    *,
    extra_terms: Iterable[str] = (),
    ignore_terms: Iterable[str] = (),
    model: bool = True,
    toxicity: float | None = None,
) -> Heat:
    """How heated ``text`` (a comment's Markdown) is: the summed weights of the lexicon entries
    that count, and (with ``model``) the statistical model's part; where Perspective's
    ``toxicity`` is given, it takes the model's place.

    ``extra_terms`` are a repository's own terms, each weighing 1.0 wherever it is used;
    ``ignore_terms`` turn off lexicon entries by their ``term``. The model does not read the
    lexicon's words where they are negated, said of oneself or ignored.
    """
    prose = normalize(strip_quoted_and_code(text or ""))
    if not prose.strip():
        return Heat(0.0, ())
    ignored = {_key(t) for t in ignore_terms}
    entries = list(lexicon()) + [e for e in map(_extra_entry, dict.fromkeys(extra_terms)) if e is not None]
    found: list[tuple[int, Entry]] = []
    unread: list[tuple[int, int]] = []
    for entry in entries:
        at, not_said = _matches(entry, prose)
        unread += not_said
        if _key(entry.term) in ignored:
            unread += [m.span() for m in entry.pattern.finditer(prose)]
        elif at is not None:
            found.append((at, entry))
    found.sort(key=lambda item: item[0])
    signals = [(entry.term, entry.weight) for _, entry in found]
    if toxicity is not None:
        part = (toxicity - PERSPECTIVE_FLOOR) / (PERSPECTIVE_AT_THRESHOLD - PERSPECTIVE_FLOOR)
        tone = (f"Perspective toxicity {toxicity:.2f}", round(part, 4)) if part > 0 else None
    else:
        tone = model_signal(_masked(prose, unread)) if model else None
    if tone is not None:
        signals.append(tone)
    score = float(round(sum(weight for _, weight in signals), 4))
    return Heat(score, tuple(dict.fromkeys(entry.term for _, entry in found)), tuple(signals))
