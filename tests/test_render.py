"""Templates, neutralised user text and hidden markers."""

from __future__ import annotations

import logging

import jinja2
import pytest

from bot.render import Mention, Renderer, marker, marker_kind, neutralise, with_marker


@pytest.fixture
def renderer(tmp_path):
    (tmp_path / "hello.md").write_text("Hello {{ author }}, thanks for {{ title }}!\n")
    return Renderer(str(tmp_path))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("@alice", "@\u200balice"),
        ("cc @org/team please", "cc @\u200borg/team please"),
        ("mail me at a@example.com", "mail me at a@example.com"),
        ("`@code`", "`@code`"),
        ("<!-- hidden --> text", "&lt;!-- hidden --&gt; text"),
        ("<!-- community-bot:welcome -->", "&lt;!-- community-bot:welcome --&gt;"),
    ],
)
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_variables_are_neutralised_but_mentions_asked_for_are_not(renderer):
    text = renderer.render("hello.md", {"author": Mention("alice"), "title": "a fix for @bob <!--"})
    assert text == "Hello @alice, thanks for a fix for @\u200bbob &lt;!--!\n"


def test_undefined_variable_is_an_error(renderer):
    with pytest.raises(jinja2.UndefinedError):
        renderer.render("hello.md", {"author": "x"})


def test_override_wins(renderer):
    assert renderer.render("hello.md", {"author": "x", "title": "t"}, override="Hi {{ author }}") == "Hi x"


@pytest.mark.parametrize("broken", ["{% if %}", "{{ missing_variable }}"])
def test_broken_override_falls_back_to_the_built_in_and_logs(renderer, caplog, broken):
    with caplog.at_level(logging.ERROR):
        text = renderer.render("hello.md", {"author": "x", "title": "t"}, override=broken)
    assert text == "Hello x, thanks for t!\n"
    assert "hello.md" in caplog.text


def test_markers():
    assert marker("welcome-issue") == "<!-- community-bot:welcome-issue -->"
    body = with_marker("Welcome!", "welcome-issue")
    assert body == "Welcome!\n\n<!-- community-bot:welcome-issue -->\n"
    assert marker_kind(body) == "welcome-issue"
    assert marker_kind("no marker") is None
    with pytest.raises(ValueError):
        marker("Bad Kind")


def test_an_override_is_compiled_once(renderer, monkeypatch):
    compiled = []
    from_string = renderer._env.from_string
    monkeypatch.setattr(renderer._env, "from_string", lambda source: compiled.append(source) or from_string(source))
    for author in ("x", "y"):
        assert renderer.render("hello.md", {"author": author, "title": "t"}, override="Hi {{ author }}") == f"Hi {author}"
    assert compiled == ["Hi {{ author }}"]
