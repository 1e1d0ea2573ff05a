"""The DCO's rules on their own: reading sign-offs, matching people, deciding each commit."""

from __future__ import annotations

import pytest

from bot.commits import CO_AUTHOR, Commit, Person, commits_not_read, trailers
from handlers.dco import (
    MEMBER_EXEMPTION,
    SIGN_OFF,
    Options,
    check_commits,
    rebase_command,
    same_person,
)

MONA = Person("Mona Lisa", "mona@example.com", login="mona", user_id=583231)


def commit(
    message: str, *, author: Person = MONA, committer: Person | None = None, parents: int = 1, sha: str = "a" * 40, verified: bool = False
) -> Commit:
    return Commit(sha=sha, message=message, author=author, committer=committer or author, parents=parents, verified=verified)


@pytest.mark.parametrize(
    ("message", "found"),
    [
        ("Fix\n\nSigned-off-by: Mona Lisa <mona@example.com>", [("Mona Lisa", "mona@example.com")]),
        ("Fix\r\n\r\nSigned-off-by: Mona Lisa <mona@example.com>\r\n", [("Mona Lisa", "mona@example.com")]),
        ("Fix\n\nsigned-off-by:   Mona <MONA@Example.com>  ", [("Mona", "MONA@Example.com")]),
        # Not at the end, and more than one.
        ("Fix\n\nSigned-off-by: A <a@x.org>\nSigned-off-by: B <b@x.org>\n\nMore text", [("A", "a@x.org"), ("B", "b@x.org")]),
        ("Fix\n\nSigned-off-by: Zoë Ångström-Łukasz <zoe@example.com>", [("Zoë Ångström-Łukasz", "zoe@example.com")]),
        # Malformed: no angle brackets, no email, not at a line's start, nothing at all.
        ("Fix\n\nSigned-off-by: Mona mona@example.com", []),
        ("Fix\n\nSigned-off-by: Mona <>", []),
        ("Fix: see Signed-off-by: Mona <mona@example.com> in the docs", []),
        ("Fix\n\nSigned-off-by Mona <mona@example.com>", []),
        ("Fix", []),
    ],
)
def test_reading_sign_offs(message, found):
    assert trailers(SIGN_OFF, message) == found


def test_reading_co_authors():
    message = "Pair work\n\nCo-authored-by: Octo Cat <octo@example.com>\nCo-Authored-By: Claude <noreply@anthropic.com>"
    assert trailers(CO_AUTHOR, message) == [("Octo Cat", "octo@example.com"), ("Claude", "noreply@anthropic.com")]


@pytest.mark.parametrize(
    ("email", "same"),
    [
        ("mona@example.com", True),
        ("  MONA@Example.COM ", True),
        ("583231+mona@users.noreply.github.com", True),
        ("583231+old-name@users.noreply.github.com", True),  # renamed since: the id decides
        ("mona@users.noreply.github.com", True),
        ("MONA@users.noreply.github.com", True),
        ("1+mona@users.noreply.github.com", False),  # someone else's account
        ("octo@users.noreply.github.com", False),
        ("mona@example.org", False),
    ],
)
def test_matching_a_sign_off_to_the_author(email, same):
    assert same_person(email, MONA, {}) is same


def test_an_address_github_linked_to_the_same_account_matches():
    unlinked_noreply = Person("Mona", "583231+mona@users.noreply.github.com", login="mona", user_id=583231)
    assert same_person("mona@work.example", unlinked_noreply, {"mona@work.example": 583231})
    assert not same_person("mona@work.example", unlinked_noreply, {"mona@work.example": 42})
    assert not same_person("mona@work.example", unlinked_noreply, {})  # nothing says it is hers


def test_a_commit_with_no_linked_account_needs_its_own_email():
    stranger = Person("Stranger", "s@example.com")
    assert same_person("s@example.com", stranger, {})
    assert not same_person("s@users.noreply.github.com", stranger, {})


def verdict(message: str, options: Options = Options(), **kwargs):
    return check_commits([commit(message, **kwargs)], options)[0]


def test_signed_unsigned_and_wrong_email():
    assert verdict("Fix\n\nSigned-off-by: Mona Lisa <mona@example.com>").ok
    assert verdict("Fix\n\nSigned-off-by: Someone Else <mona@example.com>").ok  # names do not matter
    unsigned = verdict("Fix")
    assert not unsigned.ok and unsigned.found == "no Signed-off-by"
    assert unsigned.expected == "Signed-off-by: Mona Lisa <mona@example.com>"
    wrong = verdict("Fix\n\nSigned-off-by: Mona Lisa <mona@other.example>")
    assert not wrong.ok and wrong.found == "Signed-off-by: Mona Lisa <mona@other.example>"


def test_merge_commits_and_bots_are_skipped():
    assert verdict("Merge branch 'main'", parents=2).skipped == "merge commit"
    bot = Person("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", login="dependabot[bot]", user_id=49699333, is_bot=True)
    assert verdict("Bump", author=bot).skipped == "authored by a bot"
    assert verdict("Fix", Options(skip_authors=("*@example.com",))).skipped == "author in skip_authors"
    assert check_commits([commit("Fix", verified=True)], Options(), members=["MONA"])[0].skipped == MEMBER_EXEMPTION


def test_committer_match_when_required():
    octo = Person("Octo", "octo@example.com", login="octo", user_id=2)
    message = "Fix\n\nSigned-off-by: Mona Lisa <mona@example.com>"
    assert verdict(message, committer=octo).ok
    strict = Options(require_committer_match=True)
    assert not verdict(message, strict, committer=octo).ok
    assert verdict(message + "\nSigned-off-by: Octo <octo@example.com>", strict, committer=octo).ok
    web_flow = Person("GitHub", "noreply@github.com", login="web-flow", user_id=19864447)
    assert verdict(message, strict, committer=web_flow).ok  # the web editor signs nothing


def test_co_authors_must_sign_but_tools_are_only_listed():
    message = (
        "Fix\n\nCo-authored-by: Octo <octo@example.com>\nCo-authored-by: Claude <noreply@anthropic.com>\n"
        "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n"
        "Signed-off-by: Mona Lisa <mona@example.com>"
    )
    assert verdict(message).ok  # co-authors not checked unless asked
    options = Options(co_authors=True)
    missing = verdict(message, options)
    assert not missing.ok and missing.expected == "Signed-off-by: Octo <octo@example.com>"
    signed = verdict(message + "\nSigned-off-by: Octo <octo@example.com>", options)
    assert signed.ok
    assert signed.assistants == ("Claude <noreply@anthropic.com>", "Copilot <175728472+Copilot@users.noreply.github.com>")


def test_a_remediation_commit_signs_off_an_earlier_one():
    first = commit("Fix", sha="1" * 40)
    later = commit(
        "Sign off\n\nI, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: " + "1" * 40
        + "\n\nSigned-off-by: Mona Lisa <mona@example.com>",
        sha="2" * 40,
    )
    assert [v.ok for v in check_commits([first, later], Options())] == [False, True]
    remediated = check_commits([first, later], Options(allow_remediation_commits=True))
    assert [v.ok for v in remediated] == [True, True] and remediated[0].remediated_by == "2222222"


def test_a_remediation_by_someone_else_or_unsigned_does_not_count():
    first = commit("Fix", sha="1" * 40)
    octo = Person("Octo", "octo@example.com", login="octo", user_id=2)
    by_octo = commit(
        "I, Octo <octo@example.com>, hereby add my Signed-off-by to this commit: " + "1" * 40
        + "\n\nSigned-off-by: Octo <octo@example.com>",
        author=octo,
        sha="2" * 40,
    )
    unsigned = commit("I, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: " + "1" * 40, sha="3" * 40)
    options = Options(allow_remediation_commits=True)
    assert not check_commits([first, by_octo], options)[0].ok
    assert not check_commits([first, unsigned], options)[0].ok


def test_the_rebase_command_covers_the_first_failing_commit():
    signed = "Fix\n\nSigned-off-by: Mona Lisa <mona@example.com>"
    verdicts = check_commits([commit(signed), commit("Fix"), commit(signed)], Options())
    assert rebase_command(verdicts, "b" * 40) == "git rebase --signoff HEAD~2"
    with_merge = check_commits([commit("Fix"), commit("Merge", parents=2)], Options())
    assert rebase_command(with_merge, "b" * 40) == "git rebase --signoff bbbbbbbbbbbb"


# --- what dcoapp's tests showed (issue 20) ---------------------------------------------------


def test_a_members_commit_is_exempt_only_when_github_verified_it():
    # Anyone can write a member's email into a commit, and GitHub then links it to the member.
    forged = check_commits([commit("Fix")], Options(), members=["mona"])[0]
    assert not forged.ok and forged.skipped is None
    verified = check_commits([commit("Fix", verified=True)], Options(), members=["mona"])[0]
    assert verified.ok and verified.skipped == MEMBER_EXEMPTION
    assert not check_commits([commit("Fix", verified=True)], Options(), members=["octo"])[0].ok  # not a member


def remediation(*shas: str, signed: bool = True) -> str:
    line = "I, Mona Lisa <mona@example.com>, hereby add my Signed-off-by to this commit: " + ", ".join(shas)
    return "Sign off\n\n" + line + ("\n\nSigned-off-by: Mona Lisa <mona@example.com>" if signed else "")


def test_a_remediation_chain_resolves_to_a_fixed_point():
    first = commit("Fix", sha="1" * 40)
    second = commit(remediation("1" * 40, signed=False), sha="2" * 40)  # unsigned, remediates the first
    third = commit(remediation("2" * 40), sha="3" * 40)  # signed, remediates the second
    options = Options(allow_remediation_commits=True)
    verdicts = check_commits([first, second, third], options)
    assert [v.ok for v in verdicts] == [True, True, True]
    assert [v.remediated_by for v in verdicts] == ["2222222", "3333333", None]
    # Without the last link nothing passes but what is signed.
    assert [v.ok for v in check_commits([first, second], options)] == [False, False]


def test_a_longer_chain_and_the_commits_that_still_fail():
    shas = [str(i) * 40 for i in range(1, 6)]
    commits = [commit("Fix", sha=shas[0])]
    commits += [commit(remediation(shas[i - 1], signed=False), sha=shas[i]) for i in range(1, 4)]
    commits.append(commit(remediation(shas[3]), sha=shas[4]))
    options = Options(allow_remediation_commits=True)
    assert all(v.ok for v in check_commits(commits, options))
    broken = commits[:2] + [commit("Unrelated", sha="9" * 40)] + commits[3:]  # the chain breaks at the third
    assert [v.ok for v in check_commits(broken, options)] == [False, False, False, True, True]


def test_a_remediation_line_without_a_name_does_not_count():
    first = commit("Fix", sha="1" * 40)
    later = commit(
        "I, <mona@example.com>, hereby add my Signed-off-by to this commit: " + "1" * 40
        + "\n\nSigned-off-by: Mona Lisa <mona@example.com>",
        sha="2" * 40,
    )
    assert [v.ok for v in check_commits([first, later], Options(allow_remediation_commits=True))] == [False, True]


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        ("Fix\n\nSigned-off-by: <mona@example.com>", False),
        ("Fix\n\nSigned-off-by:    <mona@example.com>", False),
        ("Fix\n\nSigned-off-by: M. Lisa <mona@example.com>", True),  # names are not compared
        ("Fix\n\nSigned-off-by: <mona@example.com>\nSigned-off-by: Mona <mona@example.com>", True),
    ],
)
def test_a_sign_off_needs_a_name_but_not_the_same_name(message, ok):
    result = verdict(message)
    assert result.ok is ok
    if not ok:
        assert result.found == "Signed-off-by:  <mona@example.com>"
        assert result.expected == "Signed-off-by: Mona Lisa <mona@example.com>"


@pytest.mark.parametrize(
    ("read", "count", "reason"),
    [
        (0, 3, "GitHub returned 0 of 3 commits; re-run the check"),
        (2, 3, "GitHub returned 2 of 3 commits; re-run the check"),
        (0, None, "GitHub returned no commits for this pull request; re-run the check"),
        (3, 3, ""),
        (4, 3, ""),  # pushed to since the event: the newer list is checked, and the push brings its own
        (2, None, ""),
    ],
)
def test_commits_not_read_are_never_passed(read, count, reason):
    pull = {"number": 1} if count is None else {"number": 1, "commits": count}
    assert commits_not_read(pull, [commit("Fix", sha=f"{i:040x}") for i in range(read)]) == reason
