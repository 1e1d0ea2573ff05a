"""all-contributors files: the configuration and the README table, byte for byte as the
all-contributors CLI (6.26.1) and its bot write them.

Expected strings come from three places: real repositories whose files the bot last wrote
(tests/fixtures/allcontributors, provenance in its README.md), the CLI's own tests at v6.26.1
(src/generate/__tests__, src/contributors/__tests__; snapshots made with a ``contributorTemplate``
are reused with the default cell in place of the template's output), and the all-contributors
bot's comment parser for the type aliases.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from bot.allcontributors import (
    BADGE_END,
    BADGE_START,
    CONTRIBUTION_TYPES,
    LIST_END,
    LIST_START,
    UnknownContributionType,
    UnsupportedOption,
    add_contribution,
    dump_rc,
    has_list_markers,
    normalise_type,
    parse_rc,
    render_badge,
    render_table,
    update_readme,
)

FIXTURES = Path(__file__).parent / "fixtures" / "allcontributors"
REAL = ["cli", "app", "reverse-shell-generator"]


def fixture(name: str) -> str:
    # newline="" : the files must be read exactly as stored.
    with open(FIXTURES / name, encoding="utf-8", newline="") as file:
        return file.read()


def cells(text: str) -> list[str]:
    return re.findall(r'<td align="center" valign="top" width="[^"]*">(.*?)</td>', text)


# --- the contribution types ---------------------------------------------------------------------


def test_the_official_types_are_the_clis():
    assert list(CONTRIBUTION_TYPES) == [
        "a11y", "audio", "blog", "bug", "business", "code", "content", "data", "design", "doc",
        "eventOrganizing", "example", "financial", "fundingFinding", "ideas", "infra", "maintenance",
        "mentoring", "platform", "plugin", "projectManagement", "question", "research", "review",
        "security", "talk", "test", "tool", "translation", "tutorial", "userTesting", "video",
        "promotion",
    ]  # fmt: skip
    assert CONTRIBUTION_TYPES["code"] == ("💻", "Code")
    symbol, description = CONTRIBUTION_TYPES["ideas"]
    assert (symbol, description) == ("🤔", "Ideas, Planning, & Feedback")
    assert CONTRIBUTION_TYPES["infra"].description == "Infrastructure (Hosting, Build-Tools, etc)"
    # The code points the CLI writes, variation selectors included.
    assert CONTRIBUTION_TYPES["a11y"].symbol == "\ufe0f\ufe0f\ufe0f\ufe0f\u267f\ufe0f"
    assert CONTRIBUTION_TYPES["test"].symbol == "\u26a0\ufe0f"
    assert CONTRIBUTION_TYPES["security"].symbol == "\U0001f6e1\ufe0f"
    assert CONTRIBUTION_TYPES["mentoring"].symbol == "\U0001f9d1\u200d\U0001f3eb"
    assert CONTRIBUTION_TYPES["content"].symbol == "\U0001f58b"  # no selector here


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("code", "code"),
        ("Code", "code"),
        ("CODE", "code"),
        ("coding", "code"),
        ("doc", "doc"),
        ("docs", "doc"),
        ("Documentation", "doc"),
        ("tests", "test"),
        ("testing", "test"),
        ("bugs", "bug"),
        ("reviews", "review"),
        ("infrastructure", "infra"),
        ("accessibility", "a11y"),
        ("a11y", "a11y"),
        ("eventOrganizing", "eventOrganizing"),
        ("eventorganizing", "eventOrganizing"),
        ("event organising", "eventOrganizing"),
        ("User  Testing", "userTesting"),
        ("usertesting", "userTesting"),
        ("funds", "fundingFinding"),
        ("project management", "projectManagement"),
        ("management", "projectManagement"),
        ("social media", "promotion"),
        ("advertisement", "promotion"),
        ("music", "audio"),
        ("translations", "translation"),
        (" question, ", "question"),
        ("ideas", "ideas"),
        ("idea", "ideas"),
    ],
)
def test_normalise_type_knows_what_the_bot_knows(word, key):
    assert normalise_type(word) == key


@pytest.mark.parametrize("word", ["", "plumbis", "documentations", "cheerful", "code review", "co de"])
def test_normalise_type_refuses_the_rest(word):
    assert normalise_type(word) is None


# --- .all-contributorsrc ---------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL)
def test_real_configurations_round_trip_byte_for_byte(name):
    text = fixture(f"{name}.all-contributorsrc")
    assert dump_rc(parse_rc(text)) == text


def test_parse_rc_keeps_non_ascii_and_key_order():
    config = parse_rc(fixture("cli.all-contributorsrc"))
    assert list(config)[:4] == ["projectOwner", "projectName", "imageSize", "repoType"]
    assert any(c["name"] == "João Guimarães" for c in config["contributors"])
    assert "João Guimarães" in dump_rc(config)


def test_dump_rc_is_json_stringify_with_two_spaces_and_a_newline():
    config = {
        "projectName": 'wid"gets\\',
        "name": "Ünïcødé 名前 😀",
        "control": "a\tb\nc\x01\x7f\u2028",
        "lone": "\ud800",
        "empty": [],
        "nothing": {},
        "flag": True,
        "none": None,
        "float": 1.0,
        "half": 0.5,
        "big": 1e21,
        "small": 1e-7,
        "huge": 12345678901234567890,
        "2": "index keys come first",
        "10": "ascending",
        "01": "not an index",
        "nested": {"list": [1, {"a": []}]},
    }
    assert dump_rc(config) == (
        "{\n"
        '  "2": "index keys come first",\n'
        '  "10": "ascending",\n'
        '  "projectName": "wid\\"gets\\\\",\n'
        '  "name": "Ünïcødé 名前 😀",\n'
        '  "control": "a\\tb\\nc\\u0001\x7f\u2028",\n'
        '  "lone": "\\ud800",\n'
        '  "empty": [],\n'
        '  "nothing": {},\n'
        '  "flag": true,\n'
        '  "none": null,\n'
        '  "float": 1,\n'
        '  "half": 0.5,\n'
        '  "big": 1e+21,\n'
        '  "small": 1e-7,\n'
        '  "huge": 12345678901234567000,\n'
        '  "01": "not an index",\n'
        '  "nested": {\n'
        '    "list": [\n'
        "      1,\n"
        "      {\n"
        '        "a": []\n'
        "      }\n"
        "    ]\n"
        "  }\n"
        "}\n"
    )


def test_a_prettier_formatted_file_is_rewritten_in_the_bots_layout():
    text = '{\n  "files": ["README.md"],\n  "contributors": []\n}\n'
    assert dump_rc(parse_rc(text)) == '{\n  "files": [\n    "README.md"\n  ],\n  "contributors": []\n}\n'


@pytest.mark.parametrize("text", ["[]", '"x"', "{", '{"a": NaN}', '{"a": 1,}'])
def test_parse_rc_refuses_what_json_parse_refuses(text):
    with pytest.raises(ValueError):
        parse_rc(text)


# --- add_contribution ---------------------------------------------------------------------------


def base_config() -> dict:
    return {
        "projectName": "widgets",
        "projectOwner": "acme",
        "contributors": [
            {
                "login": "Login1",
                "name": "Some name",
                "avatar_url": "www.avatar.url",
                "profile": "www.profile.url",
                "contributions": ["code"],
            },
            {
                "login": "login2",
                "name": "Some name",
                "avatar_url": "www.avatar.url",
                "profile": "www.profile.url",
                "contributions": ["blog", "code"],
            },
        ],
    }


def test_a_new_person_is_appended_like_the_cli_does():
    config = base_config()
    assert add_contribution(
        config, "jakebolam", "Jake Bolam", "my-avatar.example.com", "jakebolam.com", ["code", "security"]
    )
    assert config["contributors"][-1] == {
        "login": "jakebolam",
        "name": "Jake Bolam",
        "avatar_url": "my-avatar.example.com",
        "profile": "jakebolam.com",
        "contributions": ["code", "security"],
    }
    assert list(config["contributors"][-1]) == ["login", "name", "avatar_url", "profile", "contributions"]
    assert len(config["contributors"]) == 3


def test_a_new_persons_name_falls_back_to_the_login_and_types_are_kept_once():
    config = base_config()
    assert add_contribution(
        config, "mona", None, "https://avatars.example/u/1", "https://github.com/mona", ["doc", "doc", "test"]
    )
    assert config["contributors"][-1]["name"] == "mona"
    assert config["contributors"][-1]["contributions"] == ["doc", "test"]


def test_new_types_are_merged_at_the_end_and_the_rest_is_kept():
    config = base_config()
    # Another login case, other details: the entry keeps its own.
    assert add_contribution(config, "login1", "Other", "other.avatar", "other.profile", ["bug", "code", "doc"])
    assert config["contributors"][0] == {
        "login": "Login1",
        "name": "Some name",
        "avatar_url": "www.avatar.url",
        "profile": "www.profile.url",
        "contributions": ["code", "bug", "doc"],
    }
    assert len(config["contributors"]) == 2


def test_nothing_changes_when_the_types_are_known_already():
    config = base_config()
    before = copy.deepcopy(config)
    assert not add_contribution(config, "LOGIN2", "Some name", "www.avatar.url", "www.profile.url", ["code", "blog"])
    assert config == before


def test_a_shorter_list_does_not_remove_types():
    # The CLI's prompt-driven add would leave login2 with ["code"]; the bot merges first.
    config = base_config()
    assert not add_contribution(config, "login2", "Some name", "www.avatar.url", "www.profile.url", ["code"])
    assert config["contributors"][1]["contributions"] == ["blog", "code"]


def test_contributions_with_a_url_count_by_their_type():
    config = base_config()
    config["contributors"][0]["contributions"] = [{"type": "code", "url": "www.foo.bar"}, "doc", "doc"]
    assert add_contribution(config, "Login1", None, "", "", ["code", "test"])
    # The duplicate "doc" goes too, as the CLI's uniqBy drops it.
    assert config["contributors"][0]["contributions"] == [{"type": "code", "url": "www.foo.bar"}, "doc", "test"]


def test_unknown_types_are_refused_before_anything_changes():
    config = base_config()
    before = copy.deepcopy(config)
    with pytest.raises(UnknownContributionType, match="Unknown contribution type docs for contributor mona"):
        add_contribution(config, "mona", "Mona", "a", "p", ["code", "docs"])
    assert config == before
    # The caller maps what people type first; words it cannot map stay out.
    words = ["docs", "tests", "plumbis"]
    types = [key for key in map(normalise_type, words) if key is not None]
    assert add_contribution(config, "mona", "Mona", "a", "p", types)
    assert config["contributors"][-1]["contributions"] == ["doc", "test"]
    with pytest.raises(ValueError):
        add_contribution(config, "mona", "Mona", "a", "p", [])


def test_types_declared_by_the_project_are_accepted():
    config = base_config()
    config["types"] = {"community": {"symbol": "❤️", "description": "Community"}}
    assert add_contribution(config, "mona", "Mona", "a", "p", ["community"])


def test_a_configuration_without_contributors_gets_the_list():
    config = {"projectName": "widgets", "projectOwner": "acme"}
    assert add_contribution(config, "mona", "Mona", "a", "p", ["code"])
    assert list(config) == ["projectName", "projectOwner", "contributors"]


def test_adding_to_a_real_file_changes_only_the_end_of_the_list():
    text = fixture("app.all-contributorsrc")
    config = parse_rc(text)
    assert add_contribution(
        config,
        "mona",
        "Mona Lisa",
        "https://avatars.githubusercontent.com/u/1?v=4",
        "https://github.com/mona",
        ["code"],
    )
    new = dump_rc(config)
    entry = (
        "    {\n"
        '      "login": "mona",\n'
        '      "name": "Mona Lisa",\n'
        '      "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",\n'
        '      "profile": "https://github.com/mona",\n'
        '      "contributions": [\n'
        '        "code"\n'
        "      ]\n"
        "    }\n"
    )
    end = text.rindex("    }\n  ]") + len("    }")
    assert new == text[:end] + ",\n" + entry + text[end + 1 :]


# --- the README -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL)
def test_real_readmes_are_reproduced_exactly(name):
    readme = fixture(f"{name}.README.md")
    config = parse_rc(fixture(f"{name}.all-contributorsrc"))
    assert has_list_markers(readme)
    assert update_readme(readme, config) == readme
    start = readme.index(LIST_START) + len(LIST_START)
    assert render_table(config) == readme[start : readme.index(LIST_END)]


def test_the_real_badge_is_reproduced():
    readme = fixture("reverse-shell-generator.README.md")
    config = parse_rc(fixture("reverse-shell-generator.all-contributorsrc"))
    badge = render_badge(config)
    assert badge == (
        "[![All Contributors](https://img.shields.io/badge/all_contributors-16-orange.svg?style=flat-square)]"
        "(#contributors-)"
    )
    assert f"{BADGE_START}\n{badge}\n{BADGE_END}" in readme


@pytest.mark.parametrize("name", REAL)
def test_everything_outside_the_markers_is_left_alone(name):
    readme = fixture(f"{name}.README.md")
    config = parse_rc(fixture(f"{name}.all-contributorsrc"))
    del config["contributors"][2]
    assert add_contribution(config, "mona", "Mona", "https://avatars.example/u/1", "https://github.com/mona", ["code"])
    updated = update_readme(readme, config)
    assert updated != readme

    def outside(text: str) -> str:
        for start_marker, end_marker in ((LIST_START, LIST_END), (BADGE_START, BADGE_END)):
            text = re.sub(re.escape(start_marker) + ".*?" + re.escape(end_marker), "[section]", text, flags=re.DOTALL)
        return text

    assert outside(updated) == outside(readme)
    assert outside(readme).count("[section]") == (2 if BADGE_START in readme else 1)
    assert "https://github.com/mona" in updated
    if BADGE_START in readme:
        assert "all_contributors-16-" in readme and "all_contributors-16-" in updated  # one gone, one added


def test_a_readme_without_markers_comes_back_unchanged():
    config = parse_rc(fixture("app.all-contributorsrc"))
    readme = "# project\n\nDescription\n\nLicense: MIT"
    assert not has_list_markers(readme)
    assert update_readme(readme, config) == readme


@pytest.mark.parametrize(
    "markers",
    [
        "<!-- ALL-CONTRIBUTORS-LIST:SSSSSSSTART -->\n<!-- ALL-CONTRIBUTORS-LIST:END -->",
        "<!-- ALL-CONTRIBUTORS-LIST:START -->\n<!-- ALL-CONTRIBUTORS-LIST:EEEEEEEND -->",
        "<!-- ALL-CONTRIBUTORS-LIST:END -->\n<!-- ALL-CONTRIBUTORS-LIST:START -->",
    ],
)
def test_malformed_markers_leave_the_readme_alone(markers):
    readme = f"# project\n\nDescription\n{markers}\n\nLicense: MIT"
    assert not has_list_markers(readme)
    assert update_readme(readme, {"contributors": [KENT]}) == readme


def test_only_the_badge_is_updated_when_the_list_markers_are_missing():
    readme = f"{BADGE_START}\nold\n{BADGE_END}\n# project\n"
    assert update_readme(readme, {"contributors": [KENT, BOGAS]}) == (
        f"{BADGE_START}\n"
        "[![All Contributors](https://img.shields.io/badge/all_contributors-2-orange.svg?style=flat-square)](#contributors-)\n"
        f"{BADGE_END}\n# project\n"
    )


# The CLI's src/generate/__tests__/fixtures/contributors.json (v6.26.1).
KENT = {
    "login": "kentcdodds",
    "name": "Kent C. Dodds",
    "profile": "http://kentcdodds.com",
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "contributions": ["doc", "review", "question"],
}
BOGAS = {
    "login": "bogas04",
    "name": "Divjot Singh",
    "profile": "http://bogas04.github.io",
    "avatar_url": "https://avatars1.githubusercontent.com/u/6177621",
    "contributions": ["review"],
}
PIPEY = {
    "login": "pipey",
    "name": "Who | Needs | Pipes?",
    "profile": "http://github.com/chrisinajar",
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "contributions": ["doc"],
}
NOLOGIN = {
    "name": "No Github Account",
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "contributions": ["translation"],
}
NOCOMPLETENAME = {
    "login": "nocompletename",
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "contributions": ["translation"],
}
NOLOGIN_BADROLE = {
    "name": "Wildly Misconfigured",
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "contributions": ["plumbis"],
}
NAME_WITH_QUOTES = {
    "login": "namelastname",
    "name": 'Name "Nickname" Lastname',
    "avatar_url": "https://avatars1.githubusercontent.com/u/1500684",
    "profile": "http://github.com/namelastname",
    "contributions": ["doc"],
}
JFMENGELS = {
    "login": "jfmengels",
    "name": "Jeroen Engels",
    "html_url": "https://github.com/jfmengels",
    "avatar_url": "https://avatars.githubusercontent.com/u/3869412?v=3",
    "contributions": ["doc"],
}
# format-contributor.js's options.
CONTRIBUTOR_OPTIONS = {
    "projectOwner": "all-contributors",
    "projectName": "all-contributors-cli",
    "repoType": "github",
    "repoHost": "https://github.com",
    "imageSize": 150,
}
REPO = "https://github.com/all-contributors/all-contributors-cli"


@pytest.mark.parametrize(
    ("contributor", "options", "expected"),
    [
        (
            {**KENT, "contributions": ["review"]},
            CONTRIBUTOR_OPTIONS,
            '<a href="http://kentcdodds.com"><img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="Kent C. Dodds"/><br /><sub><b>Kent C. Dodds</b></sub></a><br />'
            f'<a href="{REPO}/pulls?q=is%3Apr+reviewed-by%3Akentcdodds" title="Reviewed Pull Requests">👀</a>',
        ),
        (
            KENT,
            CONTRIBUTOR_OPTIONS,
            '<a href="http://kentcdodds.com"><img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="Kent C. Dodds"/><br /><sub><b>Kent C. Dodds</b></sub></a><br />'
            f'<a href="{REPO}/commits?author=kentcdodds" title="Documentation">📖</a> '
            f'<a href="{REPO}/pulls?q=is%3Apr+reviewed-by%3Akentcdodds" title="Reviewed Pull Requests">👀</a> '
            '<a href="#question-kentcdodds" title="Answering Questions">💬</a>',
        ),
        (
            {**KENT, "contributions": ["review"]},
            {key: value for key, value in CONTRIBUTOR_OPTIONS.items() if key != "imageSize"},
            '<a href="http://kentcdodds.com"><img src="https://avatars1.githubusercontent.com/u/1500684?s=100" width="100px;" alt="Kent C. Dodds"/><br /><sub><b>Kent C. Dodds</b></sub></a><br />'
            f'<a href="{REPO}/pulls?q=is%3Apr+reviewed-by%3Akentcdodds" title="Reviewed Pull Requests">👀</a>',
        ),
        (
            PIPEY,
            CONTRIBUTOR_OPTIONS,
            '<a href="http://github.com/chrisinajar"><img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="Who &#124; Needs &#124; Pipes?"/><br /><sub><b>Who &#124; Needs &#124; Pipes?</b></sub></a><br />'
            f'<a href="{REPO}/commits?author=pipey" title="Documentation">📖</a>',
        ),
        (
            NOLOGIN,
            CONTRIBUTOR_OPTIONS,
            '<img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="No Github Account"/><br /><sub><b>No Github Account</b></sub><br />'
            '<a href="#translation" title="Translation">🌍</a>',
        ),
        (
            NOCOMPLETENAME,
            CONTRIBUTOR_OPTIONS,
            '<img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="nocompletename"/><br /><sub><b>nocompletename</b></sub><br />'
            '<a href="#translation-nocompletename" title="Translation">🌍</a>',
        ),
        (
            NAME_WITH_QUOTES,
            CONTRIBUTOR_OPTIONS,
            '<a href="http://github.com/namelastname"><img src="https://avatars1.githubusercontent.com/u/1500684?s=150" width="150px;" alt="Name &quot;Nickname&quot; Lastname"/><br /><sub><b>Name &quot;Nickname&quot; Lastname</b></sub></a><br />'
            f'<a href="{REPO}/commits?author=namelastname" title="Documentation">📖</a>',
        ),
    ],
)
def test_cells_are_the_clis(contributor, options, expected):
    assert cells(render_table({**options, "contributors": [contributor]})) == [expected]


def contribution(options: dict, contribution: object, contributor: dict = KENT) -> str:
    """One contribution's link, from a one-person table."""
    cell = cells(render_table({**options, "contributors": [{**contributor, "contributions": [contribution]}]}))[0]
    return cell.rsplit("<br />", 1)[1]


def test_contribution_links_are_the_clis():
    options = {**CONTRIBUTOR_OPTIONS, "imageSize": 100}
    commits = f"{REPO}/commits?author=kentcdodds"
    assert contribution(options, "tool") == '<a href="#tool-kentcdodds" title="Tools">🔧</a>'
    assert contribution(options, "question") == '<a href="#question-kentcdodds" title="Answering Questions">💬</a>'
    assert contribution(options, "code") == f'<a href="{commits}" title="Code">💻</a>'
    assert contribution(options, "doc") == f'<a href="{commits}" title="Documentation">📖</a>'
    assert contribution(options, "test") == f'<a href="{commits}" title="Tests">⚠️</a>'
    assert contribution(options, "bug") == f'<a href="{REPO}/issues?q=author%3Akentcdodds" title="Bug reports">🐛</a>'
    assert contribution(options, {"type": "tool", "url": "www.foo.bar"}) == '<a href="www.foo.bar" title="Tools">🔧</a>'
    assert contribution(options, {"type": "code", "url": "www.foo.bar"}) == '<a href="www.foo.bar" title="Code">💻</a>'


def test_project_types_are_the_clis():
    options = {**CONTRIBUTOR_OPTIONS, "types": {"cheerful": {"symbol": ":smiley:"}}}
    assert contribution(options, "cheerful") == '<a href="#cheerful-kentcdodds" title="">:smiley:</a>'
    assert (
        contribution(options, {"type": "cheerful", "url": "www.foo.bar"})
        == '<a href="www.foo.bar" title="">:smiley:</a>'
    )
    options = {**CONTRIBUTOR_OPTIONS, "types": {"web": {"symbol": ":web:", "link": "www.<%= contributor.login %>.com"}}}
    assert contribution(options, "web") == '<a href="www.kentcdodds.com" title="">:web:</a>'
    # An official type replaced whole: its link goes unless given.
    options = {**CONTRIBUTOR_OPTIONS, "types": {"code": {"symbol": ":smiley:"}}}
    assert contribution(options, "code") == '<a href="#code-kentcdodds" title="">:smiley:</a>'
    options = {
        **CONTRIBUTOR_OPTIONS,
        "types": {"code": {"symbol": ":web:", "link": "www.<%= contributor.login %>.com"}},
    }
    assert contribution(options, "code") == '<a href="www.kentcdodds.com" title="">:web:</a>'
    assert contribution(options, {"type": "code", "url": "www.foo.bar"}) == '<a href="www.foo.bar" title="">:web:</a>'


def test_unknown_types_stop_the_table_with_the_clis_message():
    with pytest.raises(UnknownContributionType, match="^Unknown contribution type docs for contributor kentcdodds$"):
        render_table({**CONTRIBUTOR_OPTIONS, "contributors": [{**KENT, "contributions": ["docs"]}]})
    with pytest.raises(
        UnknownContributionType, match="^Unknown contribution type plumbis for contributor Wildly Misconfigured$"
    ):
        render_table({**CONTRIBUTOR_OPTIONS, "contributors": [NOLOGIN_BADROLE]})


def test_links_follow_the_repository_type():
    gitlab = {"projectOwner": "acme", "projectName": "widgets", "repoType": "gitlab"}
    assert (
        contribution(gitlab, "code") == '<a href="https://gitlab.com/acme/widgets/commits/master" title="Code">💻</a>'
    )
    assert contribution(gitlab, "review") == (
        '<a href="https://gitlab.com/acme/widgets/merge_requests?scope=all&state=all&approver_usernames[]=kentcdodds" '
        'title="Reviewed Pull Requests">👀</a>'
    )
    enterprise = {"projectOwner": "acme", "projectName": "widgets", "repoHost": "https://git.example.com"}
    # No repoType: the CLI's reading of the file makes it github.
    assert contribution(enterprise, "bug") == (
        '<a href="https://git.example.com/acme/widgets/issues?q=author%3Akentcdodds" title="Bug reports">🐛</a>'
    )
    unknown = {"projectOwner": "acme", "projectName": "widgets", "repoType": "bitbucket"}
    assert contribution(unknown, "code") == '<a href="#code-kentcdodds" title="Code">💻</a>'


# generate's fixtures(): its options without the contributorTemplate we do not support.
GENERATE_OPTIONS = {
    "projectOwner": "kentcdodds",
    "projectName": "all-contributors",
    "imageSize": 100,
    "contributorsPerLine": 5,
    "repoType": None,  # generate() is called without one there: no links to the repository
}
CONTENT = "\n".join(
    [
        "# project",
        "",
        "Description",
        "",
        "## Contributors",
        "These people contributed to the project:",
        "<!-- ALL-CONTRIBUTORS-LIST:START -->FOO BAR BAZ<!-- ALL-CONTRIBUTORS-LIST:END -->",
        "",
        "Thanks a lot everyone!",
    ]
)
# The v6.26.1 snapshot "... by a table of contributors with linkToUsage", made with
# contributorTemplate '<%= contributor.name %> is awesome!'.
SNAPSHOT_WITH_LINK_TO_USAGE = """# project

Description

## Contributors
These people contributed to the project:
<!-- ALL-CONTRIBUTORS-LIST:START -->
<!-- prettier-ignore-start -->
<!-- markdownlint-disable -->
<table>
  <tbody>
    <tr>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Divjot Singh is awesome!</td>
      <td align="center" valign="top" width="20%">Jeroen Engels is awesome!</td>
    </tr>
  </tbody>
  <tfoot>
    <tr>
      <td align="center" size="13px" colspan="5">
        <img src="https://raw.githubusercontent.com/all-contributors/all-contributors-cli/1b8533af435da9854653492b1327a23a4dbd0a10/assets/logo-small.svg">
          <a href="https://all-contributors.js.org/docs/en/bot/usage">Add your contributions</a>
        </img>
      </td>
    </tr>
  </tfoot>
</table>

<!-- markdownlint-restore -->
<!-- prettier-ignore-end -->

<!-- ALL-CONTRIBUTORS-LIST:END -->

Thanks a lot everyone!"""
SNAPSHOT_WITHOUT_LINK_TO_USAGE = """# project

Description

## Contributors
These people contributed to the project:
<!-- ALL-CONTRIBUTORS-LIST:START -->
<!-- prettier-ignore-start -->
<!-- markdownlint-disable -->
<table>
  <tbody>
    <tr>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Divjot Singh is awesome!</td>
      <td align="center" valign="top" width="20%">Jeroen Engels is awesome!</td>
    </tr>
  </tbody>
</table>

<!-- markdownlint-restore -->
<!-- prettier-ignore-end -->

<!-- ALL-CONTRIBUTORS-LIST:END -->

Thanks a lot everyone!"""
SNAPSHOT_WRAPPER = """# project

Description

## Contributors
These people contributed to the project:
<!-- ALL-CONTRIBUTORS-LIST:START -->
<!-- prettier-ignore-start -->
<!-- markdownlint-disable -->
<p>
    <tr>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Divjot Singh is awesome!</td>
      <td align="center" valign="top" width="20%">Jeroen Engels is awesome!</td>
    </tr>
</p>

<!-- markdownlint-restore -->
<!-- prettier-ignore-end -->

<!-- ALL-CONTRIBUTORS-LIST:END -->

Thanks a lot everyone!"""
SNAPSHOT_SPLIT = """# project

Description

## Contributors
These people contributed to the project:
<!-- ALL-CONTRIBUTORS-LIST:START -->
<!-- prettier-ignore-start -->
<!-- markdownlint-disable -->
<table>
  <tbody>
    <tr>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
    </tr>
    <tr>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
      <td align="center" valign="top" width="20%">Kent C. Dodds is awesome!</td>
    </tr>
  </tbody>
</table>

<!-- markdownlint-restore -->
<!-- prettier-ignore-end -->

<!-- ALL-CONTRIBUTORS-LIST:END -->

Thanks a lot everyone!"""


def default_cell(contributor: dict) -> str:
    return cells(render_table({**GENERATE_OPTIONS, "contributors": [contributor]}))[0]


def with_default_cells(snapshot: str, *contributors: dict) -> str:
    for contributor in contributors:
        snapshot = snapshot.replace(f"{contributor['name']} is awesome!", default_cell(contributor))
    return snapshot


def test_the_generate_snapshots():
    three = [KENT, BOGAS, JFMENGELS]
    config = {**GENERATE_OPTIONS, "linkToUsage": True, "contributors": three}
    assert update_readme(CONTENT, config) == with_default_cells(SNAPSHOT_WITH_LINK_TO_USAGE, *three)
    for link_to_usage in ({}, {"linkToUsage": False}):
        config = {**GENERATE_OPTIONS, **link_to_usage, "contributors": three}
        assert update_readme(CONTENT, config) == with_default_cells(SNAPSHOT_WITHOUT_LINK_TO_USAGE, *three)
    config = {**GENERATE_OPTIONS, "contributors": [KENT] * 7}
    assert update_readme(CONTENT, config) == with_default_cells(SNAPSHOT_SPLIT, KENT)


def test_the_wrapper_template_snapshot():
    three = [KENT, BOGAS, JFMENGELS]
    config = {**GENERATE_OPTIONS, "wrapperTemplate": "<p><%= bodyContent %></p>", "contributors": three}
    assert update_readme(CONTENT, config) == with_default_cells(SNAPSHOT_WRAPPER, *three)
    # Rows are separated with a <br /> there.
    assert "\n    </tr><br />\n    <tr>\n      " in render_table({**config, "contributors": [KENT] * 6})


@pytest.mark.parametrize(
    ("per_line", "width"), [(7, "14.28"), (5, "20"), (3, "33.33"), (6, "16.66"), (8, "12.5"), (9, "11.11"), (1, "100")]
)
def test_cell_widths_are_floored_like_lodash(per_line, width):
    table = render_table({**GENERATE_OPTIONS, "contributorsPerLine": per_line, "contributors": [KENT] * 3})
    assert f'<td align="center" valign="top" width="{width}%">' in table


def test_contributors_per_line_defaults_to_seven():
    table = render_table({"contributors": [KENT] * 8})
    assert table.count("<tr>") == 2 and 'width="14.28%"' in table
    assert render_table({"contributorsPerLine": "3", "contributors": [KENT] * 8}).count("<tr>") == 2


def test_no_contributors_means_no_table():
    expected = "\n".join(
        [
            "# project",
            "",
            "Description",
            "",
            "## Contributors",
            "These people contributed to the project:",
            "<!-- ALL-CONTRIBUTORS-LIST:START -->",
            "<!-- prettier-ignore-start -->",
            "<!-- markdownlint-disable -->",
            "<!-- markdownlint-restore -->",
            "<!-- prettier-ignore-end -->",
            "",
            "<!-- ALL-CONTRIBUTORS-LIST:END -->",
            "",
            "Thanks a lot everyone!",
        ]
    )
    assert update_readme(CONTENT, {**GENERATE_OPTIONS, "contributors": []}) == expected
    assert update_readme(CONTENT, {}) == expected


def test_sorting_alphabetically():
    pre_sorted = update_readme(CONTENT, {**GENERATE_OPTIONS, "contributors": [BOGAS, JFMENGELS, KENT]})
    config = {**GENERATE_OPTIONS, "contributorsSortAlphabetically": True, "contributors": [JFMENGELS, KENT, BOGAS]}
    assert update_readme(CONTENT, config) == pre_sorted


def test_the_badge_is_replaced_where_it_stands():
    version = "[![version](https://img.shields.io/npm/v/all-contributors-cli.svg?style=flat-square)](http://npm.im/all-contributors-cli)"

    def readme(count: int) -> str:
        badge = f"[![All Contributors](https://img.shields.io/badge/all_contributors-{count}-orange.svg?style=flat-square)](#contributors-)"
        return "\n".join(
            ["# project", "", "Badges", f"{version}{BADGE_START}\n{badge}\n{BADGE_END}\n{version}", "", "License: MIT"]
        )

    assert update_readme(readme(0), {**GENERATE_OPTIONS, "contributors": [KENT]}) == readme(1)


def test_a_custom_badge_template():
    template = '<a href="#contributors-"><img src="https://img.shields.io/badge/all_contributors-<%= contributors.length %>-orange.svg" /></a>'
    config = {"badgeTemplate": template, "contributors": [KENT] * 8}
    assert (
        render_badge(config)
        == '<a href="#contributors-"><img src="https://img.shields.io/badge/all_contributors-8-orange.svg" /></a>'
    )
    assert (
        render_badge({"badgeTemplate": "We have ${contributors.length} contributors", "contributors": []})
        == "We have 0 contributors"
    )


def test_an_indented_list_indents_the_first_line_only():
    readme = f"<details>\n  {LIST_START}\n  old\n  {LIST_END}\n</details>\n"
    updated = update_readme(readme, {**GENERATE_OPTIONS, "contributors": [KENT]})
    assert updated.startswith(
        f"<details>\n  {LIST_START}\n<!-- prettier-ignore-start -->\n<!-- markdownlint-disable -->\n  <table>\n  <tbody>\n"
    )
    assert updated.endswith(
        f"</table>\n\n<!-- markdownlint-restore -->\n<!-- prettier-ignore-end -->\n\n{LIST_END}\n</details>\n"
    )
    assert render_table({**GENERATE_OPTIONS, "contributors": []}, indent=2) == (
        "\n<!-- prettier-ignore-start -->\n<!-- markdownlint-disable -->\n  <!-- markdownlint-restore -->\n<!-- prettier-ignore-end -->\n\n"
    )


def test_templates_the_cli_would_run_as_code_are_refused():
    with pytest.raises(UnsupportedOption):
        render_table({"contributorTemplate": "<%= contributor.name %> is awesome!", "contributors": [KENT]})
    with pytest.raises(UnsupportedOption):
        render_badge({"badgeTemplate": "<% print(contributors.length) %>", "contributors": []})
    with pytest.raises(UnsupportedOption):
        render_badge({"badgeTemplate": "<%= contributors.map(c => c.login) %>", "contributors": []})
