"""``community-bot config check``: schema problems reported by file line, and the CLI around it."""

from __future__ import annotations

import pytest

from bot.__main__ import main
from bot.config import parse
from bot.config_check import Problem, check

VALID = """\
_extends: octo/.github
welcome:
  enabled: true
  first_merge:
    good_first_issues: 2
cla:
  enabled: true
  document_url: https://example.com/cla
  allowlist:
    - "*[bot]"
    - octo/maintainers
dco:
  enabled: false
"""


def test_a_valid_file_has_no_problems():
    assert check(VALID) == []
    parse(VALID)  # and the bot itself agrees


def test_an_empty_file_is_valid():
    assert check("") == []
    assert check("# nothing configured yet\n") == []


def test_a_typo_is_reported_on_its_own_key_line():
    text = "welcome:\n  enabled: true\n  include_member: true\n"
    [problem] = check(text)
    assert problem.line == 3
    assert problem.key == "welcome.include_member"
    assert "'include_member' was unexpected" in problem.message
    assert "did you mean 'include_members'" in problem.message


def test_a_typo_at_the_top_level():
    [problem] = check("# my config\n\nwelcom:\n  enabled: false\n")
    assert problem == Problem(3, "welcom", "Additional properties are not allowed ('welcom' was unexpected); did you mean 'welcome'?")


def test_a_wrong_type_deep_in_a_section():
    text = "cla:\n  enabled: true\n\n  allowlist: 5\n"
    assert check(text) == [Problem(4, "cla.allowlist", "5 is not of type 'array'")]


def test_a_bad_list_item_points_at_the_item():
    text = "dco:\n  skip_authors:\n    - alice\n    - 3\n"
    assert check(text) == [Problem(4, "dco.skip_authors.1", "3 is not of type 'string'")]


def test_several_problems_come_sorted_by_line():
    text = (
        "dco:\n"
        "  skip_authors: nobody\n"  # 2
        "welcome:\n"
        "  enabled: yes\n"
        "  bogus: 1\n"  # 5
        "  other: 2\n"  # 6
        "cla:\n"
        "  sign_phrase: hi\n"  # 8
        "colour: blue\n"  # 9
    )
    problems = check(text)
    assert [(p.line, p.key) for p in problems] == [
        (2, "dco.skip_authors"),
        (5, "welcome.bogus"),
        (6, "welcome.other"),
        (8, "cla.sign_phrase"),
        (9, "colour"),
    ]


def test_a_repeated_key_is_reported_where_it_counts():
    text = "cla:\n  allowlist: []\n  allowlist: 5\n"
    assert [p.line for p in check(text)] == [3]


def test_invalid_yaml_gives_the_line_of_the_problem():
    text = "welcome:\n  enabled: true\n   bad: indent\n"
    [problem] = check(text)
    assert problem.line == 3
    assert problem.key == ""
    assert problem.message.startswith("not valid YAML: ")


def test_a_list_is_not_a_config():
    assert check("- welcome\n- cla\n") == [Problem(1, "top level", "the file must be a mapping of sections, not a list")]


def test_extends_is_checked_but_not_followed():
    assert check("_extends: octo/.github:nowhere.yml\n") == []
    [problem] = check("_extends: not a repo name\n")
    assert (problem.line, problem.key) == (1, "_extends")


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_cli_valid_files_exit_0(files, capsys):
    good, empty = files("good.yml", VALID), files("empty.yml", "")
    assert main(["config", "check", good, empty]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{good}: valid", f"{empty}: valid"]


def test_cli_problems_exit_1(files, capsys):
    good = files("good.yml", VALID)
    bad = files("bad.yml", "cla:\n  enabled: true\n  allowlist: 5\n")
    broken = files("broken.yml", "welcome: [\n")
    assert main(["config", "check", good, bad, broken]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{good}: valid"
    assert out[1] == f"{bad}:3: cla.allowlist: 5 is not of type 'array'"
    assert out[2].startswith(f"{broken}:2: not valid YAML: ")
    assert len(out) == 3


def test_cli_unreadable_file_exits_2(files, tmp_path, capsys):
    bad = files("bad.yml", "colour: blue\n")
    missing = str(tmp_path / "missing.yml")
    assert main(["config", "check", missing, bad]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"community-bot: cannot read {missing}: No such file or directory"]
    assert captured.out.splitlines() == [f"{bad}:1: colour: Additional properties are not allowed ('colour' was unexpected)"]


def test_cli_not_utf8_exits_2(tmp_path, capsys):
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"cla:\n  document_url: caf\xe9\n")
    assert main(["config", "check", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_cli_without_files_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["config", "check"])
    assert exit_.value.code == 2
    assert "FILE" in capsys.readouterr().err


def test_cli_help_says_extends_is_not_followed(capsys):
    with pytest.raises(SystemExit):
        main(["config", "check", "--help"])
    assert "_extends is not followed" in " ".join(capsys.readouterr().out.split())
