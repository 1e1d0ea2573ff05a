"""The Dockerfile, as far as a machine without a Docker engine can check it: its build stage
is replayed in a scratch directory (the files it COPYs, as Docker copies them, then its
install step), and the installed package must find everything it reads at run time."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _build_stage() -> tuple[list[tuple[list[str], str]], str]:
    """The first stage's COPY instructions (sources, destination) and its RUN command."""
    copies, run = [], ""
    for line in (ROOT / "Dockerfile").read_text().split("\nFROM ", 2)[1].splitlines():
        words = shlex.split(line)
        if words[:1] == ["COPY"] and not any(word.startswith("--") for word in words):
            copies.append((words[1:-1], words[-1]))
        elif words[:1] == ["RUN"]:
            run = line.removeprefix("RUN ").strip()
    return copies, run


def _tracked(path: str) -> bool:
    listed = subprocess.run(["git", "ls-files", "--", path], cwd=ROOT, capture_output=True, text=True, check=True)
    return bool(listed.stdout.strip())


def test_the_build_stage_copies_only_tracked_files_and_installs_a_package_that_finds_its_files(tmp_path):
    copies, run = _build_stage()
    assert run.startswith("pip install") and "--prefix=/install" in run
    src = tmp_path / "src"
    src.mkdir()
    for sources, destination in copies:
        for source in sources:
            assert _tracked(source), f"the Dockerfile copies {source}, which a clean checkout lacks"
            target = src / destination / Path(source).name if destination.endswith("/") else src / destination
            if (ROOT / source).is_dir():
                # Docker copies symbolic links as links, so one pointing outside what was copied breaks.
                shutil.copytree(ROOT / source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / source, target)
    prefix = tmp_path / "install"
    # --ignore-installed: pip would otherwise first uninstall the package from the environment
    # running the tests (the checkout's editable install), and later tests would not find it.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", f"--prefix={prefix}", "."],
        cwd=src,
        check=True,
    )
    [site] = prefix.glob("lib/python*/site-packages")
    probe = (
        "import importlib.resources as r; from bot.setup import app_manifest; from bot.config import DEFAULTS; "
        "from bot.heat import lexicon; assert lexicon(); "
        "assert app_manifest()['default_permissions']; "
        "names = {p.name for p in r.files('templates').iterdir()}; "
        "assert {'welcome_issue.md', 'setup_page.html'} <= names, names; "
        "assert r.files('bot').joinpath('config-schema.json').is_file(); print('ok')"
    )
    environ = {**os.environ, "PYTHONPATH": str(site)}
    answer = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=environ, capture_output=True, text=True)
    assert answer.returncode == 0 and answer.stdout.strip() == "ok", answer.stderr
    checkout = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path, capture_output=True, text=True)
    assert checkout.stdout.strip() == str(ROOT / "bot" / "__init__.py"), "the environment running the tests lost the package"
    assert str(site) in subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path, env=environ, capture_output=True, text=True
    ).stdout, "the probe must have used the installed copy, not the checkout"
