"""SPDX headers, REUSE.toml annotations and license texts, read from a pull request's files."""

import pytest

from bot.licensing.files import (
    ReuseError,
    ReuseToml,
    added_lines,
    declared_license,
    header_expression,
    is_license_text,
    is_source_file,
    path_matches,
)


@pytest.mark.parametrize(
    ("line", "expression"),
    [
        ("# SPDX-License-Identifier: MIT", "MIT"),
        ("// SPDX-License-Identifier: Apache-2.0 OR MIT", "Apache-2.0 OR MIT"),
        ("/* SPDX-License-Identifier: GPL-2.0-or-later */", "GPL-2.0-or-later"),
        ("<!-- SPDX-License-Identifier: CC-BY-4.0 -->", "CC-BY-4.0"),
        ("-- SPDX-License-Identifier: BSD-3-Clause", "BSD-3-Clause"),
        ('""" SPDX-License-Identifier: MIT """', "MIT"),
        ("{# SPDX-License-Identifier: MIT #}", "MIT"),
        ("# SPDX-License-Identifier:", None),
        ("# License: MIT", None),
    ],
)
def test_the_identifier_is_read_out_of_any_comment_style(line, expression):
    assert header_expression([line]) == expression


def test_a_header_counts_near_the_top_only():
    below = ["x = 1"] * 20 + ["# SPDX-License-Identifier: MIT"]
    assert header_expression(below) is None
    after_shebang = ["#!/usr/bin/env python3", "# SPDX-FileCopyrightText: 2026 Acme", "# SPDX-License-Identifier: MIT"]
    assert header_expression(after_shebang) == "MIT"


def test_an_added_files_patch_is_its_content():
    patch = "@@ -0,0 +1,3 @@\n+#!/bin/sh\n+# SPDX-License-Identifier: MIT\n+echo hi"
    assert added_lines(patch) == ["#!/bin/sh", "# SPDX-License-Identifier: MIT", "echo hi"]
    assert added_lines(None) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("src/app.py", True),
        ("lib/widget.TSX", True),
        ("Makefile", True),
        ("docker/Dockerfile", True),
        ("README.md", False),
        ("logo.png", False),
        ("package-lock.json", False),
        ("LICENSE", False),
    ],
)
def test_text_source_files_by_name(path, source):
    assert is_source_file(path) is source


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("LICENSE", True),
        ("LICENSE.md", True),
        ("LICENCE", True),
        ("COPYING", True),
        ("COPYING.LESSER", True),
        ("NOTICE", True),
        ("vendor/lib/LICENSE-MIT", True),
        ("LICENSES/Apache-2.0.txt", True),
        ("src/license.py", False),  # code about licenses
        ("docs/licensing.md", False),
        ("README.md", False),
    ],
)
def test_license_texts_by_name(path, text):
    assert is_license_text(path) is text


@pytest.mark.parametrize(
    ("glob", "path", "matched"),
    [
        ("src/*.py", "src/app.py", True),
        ("src/*.py", "src/sub/app.py", False),
        ("src/**", "src/sub/deep/app.py", True),
        ("**/*.min.js", "static/js/app.min.js", True),
        ("*.md", "README.md", True),
        ("docs/\\*.md", "docs/*.md", True),
        ("docs/\\*.md", "docs/a.md", False),
        ("Src/*.py", "src/app.py", False),
    ],
)
def test_reuse_globs(glob, path, matched):
    assert path_matches(path, glob) is matched


REUSE = """
version = 1

[[annotations]]
path = ["vendor/**", "third_party/**"]
precedence = "override"
SPDX-FileCopyrightText = "Their authors"
SPDX-License-Identifier = "BSD-3-Clause"

[[annotations]]
path = "src/generated/**"
SPDX-License-Identifier = "Apache-2.0"

[[annotations]]
path = "src/generated/special.py"
precedence = "aggregate"
SPDX-License-Identifier = ["MIT", "ISC"]
"""


def test_the_last_matching_annotation_speaks_for_a_file():
    reuse = ReuseToml.parse(REUSE)
    assert reuse.covering("vendor/left-pad/index.js").license == "BSD-3-Clause"
    assert reuse.covering("src/generated/api.py").license == "Apache-2.0"
    assert reuse.covering("src/generated/special.py").license == "(MIT) AND (ISC)"
    assert reuse.covering("src/app.py") is None


def test_precedence_decides_between_a_header_and_an_annotation():
    reuse = ReuseToml.parse(REUSE)
    # closest: the file's own header wins; the annotation fills in where there is none.
    assert declared_license("MIT", reuse.covering("src/generated/api.py")) == ("MIT", "header")
    assert declared_license(None, reuse.covering("src/generated/api.py")) == ("Apache-2.0", "REUSE.toml")
    # override: the annotation, whatever the file says.
    assert declared_license("GPL-3.0-only", reuse.covering("vendor/x.c")) == ("BSD-3-Clause", "REUSE.toml")
    # aggregate: both.
    assert declared_license("Zlib", reuse.covering("src/generated/special.py")) == ("(Zlib) AND ((MIT) AND (ISC))", "header and REUSE.toml")
    assert declared_license(None, None) == (None, "header")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version = 2", "version must be 1"),
        ("not toml [", "not TOML"),
        ('version = 1\n[[annotations]]\nSPDX-License-Identifier = "MIT"', "path is missing"),
        ('version = 1\n[[annotations]]\npath = "a"\nprecedence = "first"', "precedence must be"),
        ('version = 1\n[[annotations]]\npath = 3', "path must be a string"),
    ],
)
def test_a_broken_reuse_toml_says_what_is_wrong(text, problem):
    with pytest.raises(ReuseError, match=problem):
        ReuseToml.parse(text)
