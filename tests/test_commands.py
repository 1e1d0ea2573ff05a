"""Slash commands read from comment bodies: what counts as one, and what Markdown hides."""

from __future__ import annotations

import dataclasses

import pytest

from bot.commands import Command, commands


def names(body: str, known=None) -> list[str]:
    return [command.name for command in commands(body, known)]


# --- Lines that are commands ------------------------------------------------------------------


def test_single_command_without_arguments():
    assert commands("/good-first-issue") == [Command("good-first-issue", ())]


def test_several_commands_in_order_with_text_between():
    body = "Thanks for the report!\n/good-first-issue\n\nAnd I'll take it:\n/assign\n"
    assert names(body) == ["good-first-issue", "assign"]


def test_arguments_are_split_on_whitespace_and_kept_as_written():
    assert commands("/assign  @OctoCat\t@hubot  ") == [Command("assign", ("@OctoCat", "@hubot"))]


def test_name_is_lower_cased():
    assert commands("/Good-First-Issue\n/ASSIGN @Me") == [
        Command("good-first-issue", ()),
        Command("assign", ("@Me",)),
    ]


def test_crlf_line_endings():
    body = "Please review.\r\n/assign @octocat\r\n/coc\r\n"
    assert commands(body) == [Command("assign", ("@octocat",)), Command("coc", ())]


def test_lone_carriage_returns_also_end_lines():
    assert names("hi\r/claim\r/unassign") == ["claim", "unassign"]


@pytest.mark.parametrize("indent", ["", " ", "  ", "   "])
def test_up_to_three_spaces_of_indentation(indent):
    assert names(f"{indent}/claim") == ["claim"]


def test_same_command_twice_is_returned_twice():
    assert names("/assign\n/assign") == ["assign", "assign"]


def test_names_with_digits_and_hyphens():
    assert names("/lgtm2\n/hold-cancel") == ["lgtm2", "hold-cancel"]


def test_command_among_unicode_text():
    body = "Merci beaucoup 🎉 — très bien !\n/assign @zoë ✨\nこれで良いです"
    assert commands(body) == [Command("assign", ("@zoë", "✨"))]


def test_unicode_whitespace_separates_arguments():
    assert commands("/assign\u00a0@octocat") == [Command("assign", ("@octocat",))]


def test_command_directly_after_a_paragraph():
    # Prow reads lines, not paragraphs: Markdown would join these, the commenter meant two things.
    assert names("I can do this one.\n/claim") == ["claim"]


def test_command_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Command("assign", ()).name = "claim"  # type: ignore[misc]


# --- Lines that look close but are not commands -----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "\n\n  \t\n\r\n",
        "Please /assign me",
        "I think `/assign` is what you want",
        "`/assign`",
        "/",
        "/ assign",
        "/-assign",
        "/1assign",
        "/assign, please",
        "/assign!",
        "/assign<!-- x -->",
        "/usr/bin/env python",
        "https://example.com/assign",
        "- /assign",
        "* /claim",
        "\ufeff/assign",
        "/\u212aelvin",  # the Kelvin sign is not an ASCII letter
        "/ſtop",
        "**/assign**",
    ],
)
def test_not_a_command(body):
    assert commands(body) == []


def test_leading_tab_is_indented_code():
    assert commands("\t/assign") == []
    assert commands(" \t/assign") == []


def test_path_with_words_after_it_is_command_shaped():
    # Why handlers pass `known`: this is "etc" with arguments, not something anyone meant.
    assert commands("/etc is read-only") == [Command("etc", ("is", "read-only"))]
    assert commands("/etc is read-only", known={"assign"}) == []


# --- Fenced code ------------------------------------------------------------------------------


def test_backtick_fence_hides_commands():
    body = "Run this:\n```\n/assign\n```\n/claim"
    assert names(body) == ["claim"]


def test_tilde_fence_hides_commands():
    assert names("~~~\n/assign\n~~~\n/claim") == ["claim"]


def test_fence_with_info_string():
    assert names("```shell\n/assign\n```\n/claim") == ["claim"]
    assert names("~~~ yaml title=x `y`\n/assign\n~~~\n/claim") == ["claim"]


def test_indented_fence():
    assert names("   ```\n/assign\n   ```\n/claim") == ["claim"]


def test_longer_fence_needs_a_closing_fence_at_least_as_long():
    body = "`````\n/assign\n```\n/help\n``````\n/claim"
    assert names(body) == ["claim"]


def test_closing_fence_must_use_the_same_character():
    assert names("```\n/assign\n~~~\n/help\n```\n/claim") == ["claim"]
    assert names("~~~\n/assign\n```\n/help\n~~~\n/claim") == ["claim"]


def test_closing_fence_may_have_trailing_spaces_but_no_info():
    assert names("```\n/assign\n```   \n/claim") == ["claim"]
    assert names("```\n/assign\n``` not closed\n/claim") == []


def test_unclosed_fence_runs_to_the_end():
    assert names("/help\n```\n/assign\n\n/claim") == ["help"]


def test_two_backticks_are_not_a_fence():
    assert names("``\n/assign\n``") == ["assign"]


def test_backticks_with_a_backtick_in_the_info_string_are_inline_code():
    assert names("```not a fence```\n/assign") == ["assign"]


def test_crlf_fences():
    assert names("```\r\n/assign\r\n```\r\n/claim\r\n") == ["claim"]


def test_html_comment_opener_inside_a_fence_opens_nothing():
    assert names("```\n<!--\n```\n/claim\n-->") == ["claim"]


# --- Indented code ----------------------------------------------------------------------------


def test_four_spaces_are_indented_code():
    assert names("Example:\n\n    /assign\n\n/claim") == ["claim"]


def test_html_comment_opener_inside_indented_code_opens_nothing():
    assert names("    <!--\n/claim") == ["claim"]


# --- Block quotes -----------------------------------------------------------------------------


def test_quoted_reply_is_ignored():
    assert names("> /assign") == []
    assert names(">/assign") == []
    assert names("   > /assign") == []


def test_nested_quotes_are_ignored():
    assert names("> > /assign\n>> /claim\n> > > /help") == []


def test_quote_followed_by_a_real_command():
    body = "> Could someone /assign this?\n> /assign\n\n/assign @me"
    assert commands(body) == [Command("assign", ("@me",))]


def test_command_on_the_line_right_after_a_quote():
    assert names("> /good-first-issue\n/claim") == ["claim"]


def test_fence_inside_a_quote_ends_with_the_quote():
    assert names("> ```\n> /assign\n/claim") == ["claim"]


def test_four_spaces_before_the_marker_is_code_not_a_quote():
    assert names("    > /assign") == []


# --- HTML comments ----------------------------------------------------------------------------


def test_single_line_html_comment():
    assert names("<!-- /assign -->\n/claim") == ["claim"]


def test_multi_line_html_comment():
    body = "<!--\nMaintainers: use\n/good-first-issue\nto mark this issue.\n-->\n/claim"
    assert names(body) == ["claim"]


def test_unclosed_html_comment_runs_to_the_end():
    assert names("/help\n<!--\n/assign") == ["help"]


def test_text_after_a_comment_on_its_closing_line_is_not_at_line_start():
    assert names("<!--\n--> /assign\n/claim") == ["claim"]
    assert names("<!-- note -->/assign") == []


def test_comment_hides_indented_quoted_and_fenced_looking_lines():
    body = "<!--\n```\n> quoted\n    -->\n/claim\n/help"
    # Inside a comment a fence opens nothing, and "    -->" closes it although it is indented:
    # the comment is raw HTML until its end.
    assert names(body) == ["claim", "help"]


def test_comment_is_not_part_of_the_arguments():
    assert commands("/assign @octocat <!-- was @hubot -->") == [Command("assign", ("@octocat",))]
    assert commands("/assign <!-- nobody --> @octocat") == [Command("assign", ("@octocat",))]


def test_comment_opened_on_a_command_line():
    body = "/assign @octocat <!-- long\n/claim\nnote -->\n/help"
    assert commands(body) == [Command("assign", ("@octocat",)), Command("help", ())]


def test_several_comments_on_one_line():
    assert names("text <!-- a --> more <!-- b\n/assign\n-->\n/claim") == ["claim"]
    assert names("<!-- a --> <!-- b --> text\n/claim") == ["claim"]


def test_comment_opener_inside_a_quote_opens_nothing():
    assert names("> <!--\n/claim") == ["claim"]


# --- known ------------------------------------------------------------------------------------


def test_known_keeps_only_those_names():
    body = "/assign\n/lgtm\n/claim @me\n/usr is full"
    assert commands(body, known={"assign", "claim"}) == [Command("assign", ()), Command("claim", ("@me",))]


def test_known_matches_any_case():
    assert names("/ASSIGN\n/Claim", known=["Assign", "claim"]) == ["assign", "claim"]


def test_known_may_be_any_iterable_including_a_generator():
    assert names("/assign\n/claim", known=(name for name in ["claim"])) == ["claim"]


def test_empty_known_returns_nothing():
    assert commands("/assign", known=()) == []


def test_known_none_returns_every_command_shaped_line():
    assert names("/anything\n/else", known=None) == ["anything", "else"]


# --- A realistic comment ----------------------------------------------------------------------


def test_realistic_comment():
    body = (
        "> @maintainer wrote:\r\n"
        "> /good-first-issue\r\n"
        "\r\n"
        "<!-- Reply with /assign to take this issue -->\r\n"
        "I'd love to work on this! To reproduce:\r\n"
        "\r\n"
        "```console\r\n"
        "$ /usr/bin/env python -m demo\r\n"
        "/assign\r\n"
        "```\r\n"
        "\r\n"
        "/assign @newcomer\r\n"
        "/coc\r\n"
    )
    assert commands(body, known={"assign", "good-first-issue", "coc"}) == [
        Command("assign", ("@newcomer",)),
        Command("coc", ()),
    ]
