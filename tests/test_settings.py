"""Settings: each missing or malformed one stops start-up with one clear line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import SettingsError, duration, load_environment, load_settings
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
        ({"DATABASE_URL": "postgresql://u@host:notaport/db"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "sqlite://"}, "DATABASE_URL must name a SQLite file"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL must name a SQLite file"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"REDELIVER_EVERY": "soon"}, "REDELIVER_EVERY"),
        ({"REDELIVER_EVERY": "15 minutes"}, "REDELIVER_EVERY"),
        ({"REDELIVER_EVERY": "-5m"}, "REDELIVER_EVERY"),
        ({"REDELIVER_EVERY": "inf"}, "REDELIVER_EVERY"),
        ({"REDELIVER_EVERY": "30s"}, "REDELIVER_EVERY"),  # under a minute
        ({"REDELIVER_EVERY": "4d"}, "REDELIVER_EVERY"),  # past GitHub's redelivery window
        ({"LEASE_SECONDS": "1m"}, "LEASE_SECONDS"),
        ({"LEASE_SECONDS": "2"}, "LEASE_SECONDS"),  # under the minimum
        ({"LEASE_SECONDS": "7200"}, "LEASE_SECONDS"),
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


def test_redelivery_rounds_are_off_unless_asked_for(env):
    assert load_settings(env).redeliver_every == 0
    for off in ("", "  ", "0", "0s", "off", "OFF"):
        assert load_settings(env | {"REDELIVER_EVERY": off}).redeliver_every == 0, off


@pytest.mark.parametrize(
    "text, seconds", [("15m", 900), ("1h", 3600), ("90", 90), ("1.5h", 5400), ("3d", 3 * 86400), (" 2H ", 7200)]
)
def test_redeliver_every_is_a_duration(env, text, seconds):
    assert load_settings(env | {"REDELIVER_EVERY": text}).redeliver_every == seconds


def test_redeliver_every_names_what_it_takes(env):
    with pytest.raises(SettingsError, match=r"REDELIVER_EVERY must be a duration such as 15m, 1h or 1d, or off; not 'soon'"):
        load_settings(env | {"REDELIVER_EVERY": "soon"})
    with pytest.raises(SettingsError, match=r"REDELIVER_EVERY must be from 1m to 3d, or off; not '10s'"):
        load_settings(env | {"REDELIVER_EVERY": "10s"})


def test_one_reading_of_durations_for_the_settings_and_the_command():
    from bot.__main__ import parser

    assert duration("24h") == 86400 and duration("90m") == 5400 and duration("45") == 45
    for bad in ("", "soon", "h", "-1h", "nan", "inf"):
        with pytest.raises(ValueError, match="not a duration"):
            duration(bad)
    assert parser().parse_args(["redeliver", "--since", "90m"]).since == 5400


def test_lease_seconds(env):
    assert load_settings(env).lease_seconds == 20
    assert load_settings(env | {"LEASE_SECONDS": "10"}).lease_seconds == 10
    assert load_settings(env | {"LEASE_SECONDS": "5"}).lease_seconds == 5
    with pytest.raises(SettingsError, match="LEASE_SECONDS must be from 5 to 3600, not 4"):
        load_settings(env | {"LEASE_SECONDS": "4"})


def test_the_bot_leases_for_lease_seconds(env):
    from bot.app import Bot

    bot = Bot(load_settings(env | {"LEASE_SECONDS": "12", "DATABASE_URL": "sqlite:///unused.db"}), routers=[])
    assert bot.inbox.lease_seconds == 12


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


def test_serve_with_some_credentials_missing_stops_with_one_line(tmp_path):
    # None at all would serve the setup page (tests/test_setup.py); some is a mistake.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")} | {"GITHUB_APP_ID": "12"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "community-bot: cannot start: GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) is not set"
    ]


def test_github_enterprise_servers_api_follows_its_web_address(env):
    assert load_settings(env).api_url == "https://api.github.com"
    assert load_settings(env | {"GITHUB_URL": "https://ghe.example.com/"}).api_url == "https://ghe.example.com/api/v3"
    explicit = {"GITHUB_URL": "https://ghe.example.com", "GITHUB_API_URL": "https://api.ghe.example.com/"}
    assert load_settings(env | explicit).api_url == "https://api.ghe.example.com"
    with pytest.raises(SettingsError, match="GITHUB_URL must be an http"):
        load_settings(env | {"GITHUB_URL": "ghe.example.com"})
