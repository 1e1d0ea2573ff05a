"""The license policy on real declared licenses no one here wrote (tests/fixtures/
license-corpus.json: 7,236 npm and PyPI packages, built by bench/license_corpus.py), against
dependency-review-action's verdicts on the same strings (tests/fixtures/
license-corpus-peer.json, written by its own code and libraries through bench/peer_spdx)."""

import collections
import json
from pathlib import Path

import pytest

from bot.licensing.policy import ALLOWED, DENIED, UNKNOWN, Policy

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = json.loads((FIXTURES / "license-corpus.json").read_text(encoding="utf-8"))
PEER = json.loads((FIXTURES / "license-corpus-peer.json").read_text(encoding="utf-8"))
# bench/license_corpus.py's example policies.
POLICIES = {
    "allow": ["MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "Unlicense", "CC0-1.0", "Python-2.0", "MPL-2.0"],
    "deny": ["GPL-2.0-only", "GPL-3.0-only", "AGPL-3.0-only", "AGPL-3.0-or-later", "GPL-3.0-or-later", "SSPL-1.0"],
}

# Every declaration on which we and the peer disagree, and why (README, "How the verdicts
# compare with dependency-review-action"): ours and the peer's under the allow list, then
# under the deny list (None: we agree there).
LETTER_CASE = "SPDX ids match whatever their case; the peer's parser refuses them"
UNNAMED = "a LicenseRef the policy does not name"
DIFFERENCES = {
    "mit": ((ALLOWED, UNKNOWN), (ALLOWED, UNKNOWN), LETTER_CASE),
    "apache-2.0": ((ALLOWED, UNKNOWN), (ALLOWED, UNKNOWN), LETTER_CASE),
    "BSD-3-clause": ((ALLOWED, UNKNOWN), (ALLOWED, UNKNOWN), LETTER_CASE),
    "zlib": ((DENIED, UNKNOWN), (ALLOWED, UNKNOWN), LETTER_CASE),
    "BSD 3-Clause OR Apache-2.0": ((ALLOWED, UNKNOWN), (ALLOWED, UNKNOWN), "Apache-2.0 alone is a way to take it"),
    "MIT or GPL-2.0": ((ALLOWED, DENIED), None, "a lower-case operator, read as SPDX means it"),
    "Apache-2.0 WITH LLVM-exception": ((ALLOWED, DENIED), None, "an exception only adds permissions"),
    "(BSD-3-Clause OR GPL-2.0)": (None, (ALLOWED, DENIED), "OR: BSD-3-Clause avoids the denied license"),
    "EPL-2.0 OR GPL-2.0-or-later": (None, (ALLOWED, DENIED), "OR: EPL-2.0 avoids the denied licenses"),
    "GPL-2.0-or-later OR AGPL-3.0-or-later OR CERN-OHL-S-2.0+": (None, (ALLOWED, DENIED), "OR: CERN-OHL-S avoids them"),
    "LicenseRef-Proprietary": ((UNKNOWN, DENIED), (UNKNOWN, ALLOWED), UNNAMED),
    "LicenseRef-Forge-Proprietary": ((UNKNOWN, DENIED), (UNKNOWN, ALLOWED), UNNAMED),
    "AGPL-3.0-or-later OR LicenseRef-Comfy-Commercial": ((UNKNOWN, DENIED), (UNKNOWN, DENIED), UNNAMED),
}


def test_the_corpus_is_real_and_wide():
    sources = collections.Counter(entry["source"].split(":", 1)[0] for entry in CORPUS)
    assert len(CORPUS) == 7236 and sources == {"npm": 4269, "pypi": 2967}
    assert len({entry["license"] for entry in CORPUS}) == 219


@pytest.mark.parametrize("kind", ["allow", "deny"])
def test_verdicts_on_real_declarations(kind):
    policy = Policy.from_config({kind: POLICIES[kind]})
    counts = collections.Counter(policy.judge(entry["license"]).verdict for entry in CORPUS)
    # Recorded figures: a change to the policy that moves verdicts on real data shows here.
    # A quarter of real packages declare nothing SPDX can read (PyPI's "MIT License", none at
    # all), which is why `unknown` lists them rather than failing by default.
    expected = {"allow": {ALLOWED: 5333, UNKNOWN: 1763, DENIED: 140}, "deny": {ALLOWED: 5403, UNKNOWN: 1763, DENIED: 70}}
    assert counts == expected[kind]


@pytest.mark.parametrize(("kind", "column"), [("allow", 0), ("deny", 1)])
def test_we_agree_with_dependency_review_action_but_where_the_readme_says_why(kind, column):
    policy = Policy.from_config({kind: POLICIES[kind]})
    differences = {license: (policy.judge(license).verdict, peer) for license, peer in PEER[kind] if policy.judge(license).verdict != peer}
    assert differences == {license: row[column] for license, row in DIFFERENCES.items() if row[column] is not None}
    packages = collections.Counter(entry["license"] for entry in CORPUS)
    assert sum(packages[license] for license in differences) / len(CORPUS) < 0.005  # fewer than one package in 200


@pytest.mark.parametrize(
    ("declared", "verdict"),
    [
        ("MIT", ALLOWED),
        ("ISC", ALLOWED),
        ("(MIT OR Apache-2.0)", ALLOWED),
        ("(MIT AND Zlib)", DENIED),
        ("BlueOak-1.0.0", DENIED),
        ("Python-2.0", ALLOWED),
        ("UNLICENSED", UNKNOWN),  # npm's word for "all rights reserved": no SPDX license
        ("SEE LICENSE IN LICENSE", UNKNOWN),
        ("MIT License", UNKNOWN),
        ("BSD", UNKNOWN),
        ("GPLv3", UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_frequent_real_declarations_under_the_allow_list(declared, verdict):
    assert Policy.from_config({"allow": POLICIES["allow"]}).judge(declared).verdict == verdict
