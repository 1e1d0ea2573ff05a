"""The license policy's verdicts, as a table of SPDX expressions, and dependency-review-action's
own cases (its __tests__/spdx.test.ts and licenses.test.ts) with where and why we differ."""

import pytest

from bot.licensing.policy import ALLOWED, DENIED, UNKNOWN, Policy, PolicyError, normalise, strangers

ALLOW = Policy.from_config({"allow": ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "GPL-3.0-only", "LicenseRef-acme-internal"]})
DENY = Policy.from_config({"deny": ["GPL-2.0-only", "GPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"]})
NEITHER = Policy.from_config({})

# expression, verdict under ALLOW, verdict under DENY
CASES = [
    # One license.
    ("MIT", ALLOWED, ALLOWED),
    ("Apache-2.0", ALLOWED, ALLOWED),
    ("Zlib", DENIED, ALLOWED),
    ("GPL-3.0-only", ALLOWED, DENIED),
    ("SSPL-1.0", DENIED, DENIED),
    # Letter case and whitespace: SPDX ids match whatever their case.
    ("mit", ALLOWED, ALLOWED),
    ("apache-2.0", ALLOWED, ALLOWED),
    ("  MIT  ", ALLOWED, ALLOWED),
    ("MIT  OR\tApache-2.0", ALLOWED, ALLOWED),
    ("gpl-3.0-ONLY", ALLOWED, DENIED),
    # OR: one acceptable alternative is enough.
    ("MIT OR GPL-3.0-only", ALLOWED, ALLOWED),
    ("Zlib OR MIT", ALLOWED, ALLOWED),
    ("SSPL-1.0 OR Zlib", DENIED, ALLOWED),
    ("GPL-2.0-only OR GPL-3.0-only", ALLOWED, DENIED),
    ("(MIT OR Apache-2.0)", ALLOWED, ALLOWED),
    # AND: every part must be acceptable.
    ("MIT AND GPL-3.0-only", ALLOWED, DENIED),
    ("MIT AND Zlib", DENIED, ALLOWED),
    ("MIT AND SSPL-1.0", DENIED, DENIED),
    ("(MIT AND ISC) OR Apache-2.0", ALLOWED, ALLOWED),
    ("(MIT OR Zlib) AND (ISC OR SSPL-1.0)", ALLOWED, ALLOWED),
    ("(Zlib OR SSPL-1.0) AND MIT", DENIED, ALLOWED),
    ("MIT AND (GPL-2.0-only OR GPL-3.0-only)", ALLOWED, DENIED),
    # "+" and -or-later: any later version may be chosen.
    ("GPL-2.0+", ALLOWED, DENIED),  # 2.0 or 3.0: 3.0 is allowed; both are denied
    ("GPL-2.0-or-later", ALLOWED, DENIED),
    ("GPL-3.0-or-later", ALLOWED, DENIED),
    ("GPL-1.0+", ALLOWED, ALLOWED),  # GPL-1.0-only is on neither list
    ("LGPL-2.1-or-later", DENIED, ALLOWED),
    ("AGPL-3.0-or-later", DENIED, DENIED),
    ("AGPL-3.0-only", DENIED, DENIED),  # AGPL-3.0-or-later on the deny list covers 3.0 itself
    # Deprecated ids brought up to date.
    ("GPL-3.0", ALLOWED, DENIED),  # GPL-3.0-only
    ("GPL-2.0", DENIED, DENIED),  # GPL-2.0-only
    ("GPL-3.0+", ALLOWED, DENIED),
    ("AGPL-3.0", DENIED, DENIED),
    # WITH: an exception adds permissions to an allowed license; it does not cure a denied one.
    ("Apache-2.0 WITH LLVM-exception", ALLOWED, ALLOWED),
    ("GPL-3.0-only WITH GCC-exception-3.1", ALLOWED, DENIED),
    ("GPL-2.0-only WITH Classpath-exception-2.0", DENIED, DENIED),
    ("GPL-2.0-or-later WITH Classpath-exception-2.0", ALLOWED, DENIED),
    ("MIT OR GPL-2.0-only WITH Classpath-exception-2.0", ALLOWED, ALLOWED),
    # Not SPDX ids: the policy cannot say.
    ("BSD", UNKNOWN, UNKNOWN),
    ("Foo", UNKNOWN, UNKNOWN),
    ("MIT AND OTHER", UNKNOWN, UNKNOWN),
    ("MIT OR OTHER", ALLOWED, ALLOWED),
    ("Zlib AND Foo", DENIED, UNKNOWN),  # Zlib alone is not allowed, whatever Foo is
    ("SSPL-1.0 AND Foo", DENIED, DENIED),
    ("LicenseRef-acme-internal", ALLOWED, UNKNOWN),
    # Names the SPDX index resolves by guess, not SPDX ids: "GPL" is not GPL-1.0-or-later
    # (found on 15 packages of the real corpus), nor "GPL 2.0" GPL-2.0-only.
    ("GPL", UNKNOWN, UNKNOWN),
    ("gpl", UNKNOWN, UNKNOWN),
    ("GPL 2.0", UNKNOWN, UNKNOWN),
    ("LicenseRef-scancode-ekioh", UNKNOWN, UNKNOWN),
    ("GPL OR MIT", ALLOWED, ALLOWED),
    ("LicenseRef-someone-else", UNKNOWN, UNKNOWN),
    # No license, or not an expression.
    (None, UNKNOWN, UNKNOWN),
    ("", UNKNOWN, UNKNOWN),
    ("NOASSERTION", UNKNOWN, UNKNOWN),
    ("NONE", UNKNOWN, UNKNOWN),
    ("MIT OR", UNKNOWN, UNKNOWN),
    ("MIT AND (ISC", UNKNOWN, UNKNOWN),
    ("SEE LICENSE IN LICENSE.md", UNKNOWN, UNKNOWN),
]


@pytest.mark.parametrize(("expression", "under_allow", "under_deny"), CASES)
def test_a_policy_judges_an_expression_as_spdx_means_it(expression, under_allow, under_deny):
    assert ALLOW.judge(expression).verdict == under_allow
    assert DENY.judge(expression).verdict == under_deny


def test_policy_entries_that_are_not_spdx_ids_are_pointed_out():
    assert list(strangers(["MIT", "Apache2", "GPL", "GPL-2.0+", "LicenseRef-acme", "Apache-2.0 WITH LLVM-exception", "OTHER"])) == ["Apache2", "GPL"]


def test_the_table_is_long_enough_to_mean_something():
    assert len(CASES) >= 40


def test_with_neither_list_every_license_passes_but_unknown_ids_stay_unknown():
    assert NEITHER.judge("GPL-3.0-only").verdict == ALLOWED
    assert NEITHER.judge("SSPL-1.0 AND MIT").verdict == ALLOWED
    assert NEITHER.judge("Foo").verdict == UNKNOWN
    assert NEITHER.judge(None).verdict == UNKNOWN


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("GPL-2.0", "GPL-2.0-only"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("(MIT AND ISC) OR Apache-2.0", "(MIT AND ISC) OR Apache-2.0"),
        ("Apache-2.0 with LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
        ("MIT OR", None),
    ],
)
def test_expressions_are_normalised_to_spdx_spelling(written, normalised):
    assert normalise(written) == normalised


def test_the_reason_names_the_license_that_stops_a_package():
    assert ALLOW.judge("MIT AND Zlib").why == "Zlib is not on the allow list"
    assert DENY.judge("MIT AND SSPL-1.0").why == "SSPL-1.0 is on the deny list"
    assert ALLOW.judge("MIT OR GPL-3.0-only").why == "allowed by the policy (taken as MIT)"
    assert "Foo" in ALLOW.judge("Foo").why
    assert DENY.judge("SSPL-1.0 OR GPL-3.0").why.startswith("no choice of its licenses is acceptable")


def test_an_allow_entry_or_later_allows_every_later_version():
    policy = Policy.from_config({"allow": ["LGPL-2.1-or-later"]})
    assert [policy.judge(e).verdict for e in ("LGPL-2.1-only", "LGPL-3.0-only", "LGPL-3.0-or-later", "LGPL-2.0-only")] == [
        ALLOWED,
        ALLOWED,
        ALLOWED,
        DENIED,
    ]


def test_an_allow_entry_with_an_exception_allows_only_that_pair():
    policy = Policy.from_config({"allow": ["GPL-2.0-only WITH Classpath-exception-2.0"]})
    assert policy.judge("GPL-2.0-only WITH Classpath-exception-2.0").verdict == ALLOWED
    assert policy.judge("GPL-2.0-only").verdict == DENIED


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"allow": ["MIT"], "deny": ["GPL-3.0-only"]}, "either allow or deny"),
        ({"allow": ["MIT AND Apache-2.0"]}, "is an expression"),
        ({"deny": ["MIT OR"]}, "is not a license id"),
    ],
)
def test_a_policy_that_cannot_be_applied_says_why(section, problem):
    with pytest.raises(PolicyError, match=problem):
        Policy.from_config(section)


# dependency-review-action's __tests__/spdx.test.ts: `satisfies(candidate, allowList)` is its
# allow-list verdict. Where its answer is false only because the input is broken, ours is
# "unknown" (listed, and blocking only with `unknown: fail`): a broken declaration is not a
# license the policy refused.
PEER_SATISFIES = [
    # candidate, allow list, the peer's answer, ours
    ("MIT", ["MIT"], True, ALLOWED),
    ("Apache-2.0", ["MIT"], False, DENIED),
    ("MIT OR Apache-2.0", ["MIT"], True, ALLOWED),
    ("MIT OR Apache-2.0", ["Apache-2.0"], True, ALLOWED),
    ("MIT OR Apache-2.0", ["BSD-3-Clause"], False, DENIED),
    ("MIT OR Apache-2.0", ["Apache-2.0", "BSD-3-Clause"], True, ALLOWED),
    ("MIT AND Apache-2.0", ["MIT", "Apache-2.0"], True, ALLOWED),
    ("MIT OR Apache-2.0", ["MIT", "Apache-2.0"], True, ALLOWED),
    ("ISC OR (MIT AND Apache-2.0)", ["MIT", "Apache-2.0"], True, ALLOWED),
    # Differs: SPDX ids are case-insensitive (SPDX spec, Annex D), so "MiT" names MIT.
    ("MIT", ["MiT"], False, ALLOWED),
    # Differs: not an expression, so unknown rather than refused.
    ("MIT AND (ISC OR", ["MIT"], False, UNKNOWN),
    ("", ["BSD-3-Clause", "ISC", "MIT"], False, UNKNOWN),
    # ClearlyDefined's OTHER: named in the list, it is allowed like any id the policy names.
    ("MIT OR OTHER", ["MIT", "LicenseRef-clearlydefined-OTHER"], True, ALLOWED),
    ("(Apache-2.0 AND OTHER) OR (MIT AND OTHER)", ["Apache-2.0", "LicenseRef-clearlydefined-OTHER"], True, ALLOWED),
]


@pytest.mark.parametrize(("candidate", "allow", "peer", "ours"), PEER_SATISFIES)
def test_dependency_review_actions_allow_list_cases(candidate, allow, peer, ours):
    assert Policy.from_config({"allow": allow}).judge(candidate).verdict == ours


def test_we_agree_with_the_peers_allow_list_cases_but_three():
    differ = [(c, a) for c, a, peer, ours in PEER_SATISFIES if (ours == ALLOWED) != peer or (not peer and ours == UNKNOWN)]
    assert differ == [("MIT", ["MiT"]), ("MIT AND (ISC OR", ["MIT"]), ("", ["BSD-3-Clause", "ISC", "MIT"])]


def test_an_empty_allow_list_is_no_list_at_all():
    # The peer's `satisfies("MIT OR ISC OR Apache-2.0", [])` is false: everything refused. An
    # empty list in our config is the default state (no policy), where everything passes.
    assert Policy.from_config({"allow": []}).judge("MIT OR ISC OR Apache-2.0").verdict == ALLOWED


# Its deny lists: forbidden when `satisfiesAny(candidate, deny)`, that is when some way to take
# the package uses denied licenses only. Ours: denied when every way needs a denied license.
PEER_DENY = [
    # candidate, deny list, the peer's "forbidden", ours
    ("MIT", ["BSD-3-Clause"], False, ALLOWED),  # licenses.test.ts: npm change
    ("BSD-3-Clause", ["BSD-3-Clause"], True, DENIED),  # licenses.test.ts: ruby change
    ("MIT AND Apache-2.0", ["MIT", "Apache-2.0"], True, DENIED),  # satisfiesAny cases
    ("MIT OR Apache-2.0", ["MIT", "Apache-2.0"], True, DENIED),
    ("(MIT AND ISC) OR Apache-2.0", ["MIT", "Apache-2.0"], True, DENIED),
    ("MIT AND BSD-3-Clause", ["MIT", "Apache-2.0"], False, DENIED),  # differs: MIT is needed, and denied
    # Differs: MIT is denied, yet the package can be taken under Apache-2.0 alone.
    ("MIT OR Apache-2.0", ["MIT"], True, ALLOWED),
]


@pytest.mark.parametrize(("candidate", "deny", "peer_forbidden", "ours"), PEER_DENY)
def test_dependency_review_actions_deny_list_cases(candidate, deny, peer_forbidden, ours):
    assert Policy.from_config({"deny": deny}).judge(candidate).verdict == ours
