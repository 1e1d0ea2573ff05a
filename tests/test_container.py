"""The Dockerfile, as far as a machine without a Docker engine can check it: its build stage
is replayed in a scratch directory (the files it COPYs, as Docker copies them, then its
install step), and the installed package must find everything it reads at run time."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import answers, free_port, headers_for, until
from tests.test_setup import callback_path, confirm_on_github, start_registration
from tests.test_welcome import OWNER, REPO, bot_comments, opened_issue

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


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_answers(), reason="no Docker engine answers here (`docker info` fails): the image is not built")
async def test_the_image_registers_through_its_setup_page_and_serves_as_a_non_root_user(tmp_path, fake_github):
    """The image built from this checkout, run as the README says: with no credentials it serves
    the setup page, writes the credentials into its /data volume, and serves webhooks as the new
    app; it is healthy by its own HEALTHCHECK, and stops cleanly on SIGTERM. Host networking,
    so that the container reaches the fake GitHub on the host's loopback."""
    tag, volume, name = "community-bot:test", f"community-bot-test-{uuid.uuid4().hex[:8]}", f"community-bot-test-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(["docker", "build", "--network=host", "-q", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    port = free_port()
    run = [
        "docker", "run", "-d", "--name", name, "--network=host", "-v", f"{volume}:/data",
        "-e", f"PORT={port}", "-e", f"GITHUB_URL={fake_github.url}", "-e", f"GITHUB_API_URL={fake_github.url}", tag,
    ]
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    try:
        base = f"http://127.0.0.1:{port}"
        assert await answers(f"{base}/healthz", timeout=60), _docker("logs", name)
        async with aiohttp.ClientSession(base_url=base) as session:
            location = await confirm_on_github(*await start_registration(session, "octo-org"))
            done = await session.get(callback_path(location))
            assert done.status == 200 and "is registered" in await done.text()
            app = fake_github.registered_apps[0]["app"]

            listing = _docker("exec", name, "sh", "-c", "id -u; stat -c '%a %u %n' /data/.env /data/*.pem")
            assert listing.splitlines()[0] == "10001"
            assert all(line.startswith("600 10001 ") for line in listing.splitlines()[1:]), listing

            fake_github.add_issue(OWNER, REPO, number=1, author="newbie", author_id=9001)
            body = json.dumps(opened_issue(1)).encode()
            answer = await session.post(f"{base}/webhook", data=body, headers=headers_for("issues", body, secret=app["webhook_secret"]))
            assert answer.status == 202
            await until(lambda: bot_comments(fake_github, 1))
        await until(lambda: _docker("inspect", "-f", "{{.State.Health.Status}}", name) == "healthy", timeout=90, interval=1)
        _docker("stop", "-t", "30", name)
        assert _docker("inspect", "-f", "{{.State.ExitCode}}", name) == "0"
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True).stderr
        assert app["webhook_secret"] not in logs and "PRIVATE KEY" not in logs
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120).stdout.strip()
