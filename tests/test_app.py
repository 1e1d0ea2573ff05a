"""The running app as an operator meets it: health, metrics, replay, serve and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from gidgethub.routing import Router

from bot import __main__ as cli
from tests.conftest import SECRET, bot_of, deliver, free_port, headers_for, installed, settle
from tests.fakes import example, make_private_key


async def test_healthz(start_bot):
    client = await start_bot()
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["ok"] is True and body["database"] is True and body["version"]


async def test_healthz_reports_an_unreachable_database(start_bot, monkeypatch):
    client = await start_bot()

    async def down():
        return False

    monkeypatch.setattr(bot_of(client).inbox, "ping", down)
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["database"] is False


async def test_metrics(start_bot):
    router = Router()

    @router.register("issues", action="opened")
    async def broken(event, ctx):
        raise ValueError("x")

    client = await start_bot([router])
    await deliver(client, "issues", installed(example("issues", "opened")))
    await deliver(client, "ping", example("ping"))
    await client.post("/webhook", data=b"{}", headers={"Content-Type": "application/json"})
    await settle(client)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    for line in [
        'communitybot_deliveries_received_total{event="issues"} 1.0',
        'communitybot_deliveries_rejected_total{reason="missing_header"} 1.0',
        'communitybot_deliveries_processed_total{event="ping"} 1.0',
        'communitybot_deliveries_failed_total{event="issues"} 1.0',
        "communitybot_handler_errors_total{handler=",
        "communitybot_processing_seconds_count 2.0",
    ]:
        assert line in text, line


async def test_replay_prints_the_calls_it_would_make_and_makes_none(monkeypatch, capsys):
    router = Router()

    @router.register("issues", action="opened")
    async def greet(event, ctx):
        await ctx.comment(event.data["issue"]["number"], "greeting", "greeting.md")

    monkeypatch.setattr(cli, "registered_routers", lambda: [router])
    monkeypatch.setattr(cli, "Renderer", lambda: _StubRenderer())
    payload = installed(example("issues", "opened"))
    failed = await cli._replay(payload, "issues", None, "community-bot")
    assert failed == []
    calls = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    owner, repo = payload["repository"]["full_name"].split("/")
    number = payload["issue"]["number"]
    assert calls[-1] == {
        "method": "POST",
        "path": f"/repos/{owner}/{repo}/issues/{number}/comments",
        "body": {"body": "Hello\n\n<!-- community-bot:greeting -->\n"},
    }
    assert {call["method"] for call in calls} == {"GET", "POST"}


class _StubRenderer:
    def render(self, name, variables, *, override=None):
        return "Hello"


def test_replay_command_line(tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(example("issues", "opened")))
    config = tmp_path / "config.yml"
    config.write_text("welcome:\n  enabled: false\n")
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(payload), "--event", "issues", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    config.write_text("welcome: [broken\n")
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "replay", str(payload), "--event", "issues", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2
    assert "not valid YAML" in bad.stderr


def test_serve_records_answers_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "GITHUB_APP_ID": "1",
        "GITHUB_PRIVATE_KEY": make_private_key()[0],
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": "http://127.0.0.1:9",  # never reached: no handler calls GitHub here
        "PORT": str(port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                    assert json.load(answer)["ok"] is True
                break
            except OSError:
                time.sleep(0.1)
        body = json.dumps(example("ping")).encode()
        request = urllib.request.Request(f"{base}/webhook", data=body, headers=headers_for("ping", body, delivery_id="p-1"))
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 202
        for _ in range(100):
            with urllib.request.urlopen(f"{base}/metrics", timeout=1) as answer:
                if 'communitybot_deliveries_processed_total{event="ping"} 1.0' in answer.read().decode():
                    break
            time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
        stderr = server.stderr.read()
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any(line["message"] == "delivery processed" and line["delivery"] == "p-1" for line in lines)
    assert SECRET not in stderr and "PRIVATE KEY" not in stderr
    assert (tmp_path / "community-bot.db").exists()  # the embedded default


def test_app_manifest_is_complete():
    from pathlib import Path

    import yaml

    from tests.fakes import load_examples

    manifest = yaml.safe_load((Path(__file__).parent.parent / "app.yaml").read_text())
    for key in ("name", "url", "hook_attributes", "redirect_url", "public", "default_permissions", "default_events"):
        assert key in manifest, key
    assert manifest["hook_attributes"]["url"].endswith("/webhook")
    assert set(manifest["default_permissions"].values()) <= {"read", "write"}
    # Least privilege: nothing the bot never uses.
    assert "administration" not in manifest["default_permissions"]
    assert manifest["default_permissions"]["contents"] == "read"
    known_events = {event for event, _ in load_examples()}
    assert set(manifest["default_events"]) <= known_events


def test_serve_with_an_unreachable_database_stops_with_one_line(tmp_path):
    env = {
        **os.environ,
        "GITHUB_APP_ID": "1",
        "GITHUB_PRIVATE_KEY": make_private_key()[0],
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PORT": str(free_port()),
    }
    result = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("community-bot: cannot start: the database does not answer")
