"""Settings: each missing or malformed one stops start-up with one clear line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_environment, load_settings
from tests.fakes import make_private_key


@pytest.fixture
def env():
    return {
        "GITHUB_APP_ID": "12345",
        "GITHUB_PRIVATE_KEY": make_private_key()[0],
        "GITHUB_WEBHOOK_SECRET": "s3cret",
    }


def test_defaults(env):
    settings = load_settings(env)
    assert settings.app_id == "12345"
    assert settings.api_url == "https://api.github.com"
    assert settings.database_url == "sqlite:///community-bot.db"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 3000, "INFO")
    assert settings.webhook_secrets == ("s3cret",)


def test_secrets_are_not_in_the_repr(env):
    text = repr(load_settings(env))
    assert "s3cret" not in text
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize(
    "change, named",
    [
        ({"GITHUB_APP_ID": None}, "GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "my-app"}, "GITHUB_APP_ID"),
        ({"GITHUB_PRIVATE_KEY": None}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY": "not a key"}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_PRIVATE_KEY": None, "GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),
        ({"GITHUB_WEBHOOK_SECRET": None}, "GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_WEBHOOK_SECRET": ""}, "GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_WEBHOOK_SECRET": "   "}, "GITHUB_WEBHOOK_SECRET"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_are_named(env, change, named):
    for key, value in change.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    message = str(info.value)
    assert named in message
    assert "\n" not in message


def test_private_key_from_a_file_and_from_one_line(env, tmp_path):
    pem = env.pop("GITHUB_PRIVATE_KEY")
    path = tmp_path / "key.pem"
    path.write_text(pem)
    assert load_settings(env | {"GITHUB_PRIVATE_KEY_PATH": str(path)}).private_key.strip() == pem.strip()
    one_line = pem.strip().replace("\n", "\\n")
    assert load_settings(env | {"GITHUB_PRIVATE_KEY": one_line}).private_key.strip() == pem.strip()


def test_previous_secret_during_rotation(env):
    settings = load_settings(env | {"GITHUB_WEBHOOK_SECRET_PREVIOUS": "old"})
    assert settings.webhook_secrets == ("s3cret", "old")


def test_database_urls(env):
    assert load_settings(env | {"DATABASE_URL": "postgresql://u@h:5432/db"}).database_url == "postgresql+asyncpg://u@h:5432/db"
    assert load_settings(env | {"DATABASE_URL": "sqlite:////var/lib/bot.db"}).database_url == "sqlite:////var/lib/bot.db"


def test_dot_env_file_under_the_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text('GITHUB_APP_ID=1\nPORT=4000\nLOG_LEVEL="debug"\n')
    values = load_environment({"PORT": "5000"}, env_file)
    assert values["GITHUB_APP_ID"] == "1"
    assert values["PORT"] == "5000"  # the real environment wins
    assert values["LOG_LEVEL"] == "debug"


def test_serve_without_settings_stops_with_one_line(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["community-bot: cannot start: GITHUB_APP_ID is not set"]
