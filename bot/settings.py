"""Settings from the environment, or from a ``.env`` file in the working directory."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///community-bot.db"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it in one line."""


@dataclasses.dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: str = dataclasses.field(repr=False)
    webhook_secrets: tuple[str, ...] = dataclasses.field(repr=False)
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "INFO"
    app_slug: str | None = None
    workers: int = 8
    # GitHub's documented secondary limits for content-creating requests; 0 lifts a limit
    # (a benchmark against a local fake does).
    writes_per_minute: int = 80
    writes_per_hour: int = 500
    retention_days: int = 7

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never reach a log line."""
        return (self.private_key, *self.webhook_secrets)


def load_environment(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the ``.env`` file: a variable set outside wins."""
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.is_file() else {}
    values.update(os.environ if environ is None else environ)
    return values


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise SettingsError(f"{name} must be {bound}, not {value}")
    return value


def _private_key(env: Mapping[str, str]) -> str:
    text = env.get("GITHUB_PRIVATE_KEY", "").strip()
    name = "GITHUB_PRIVATE_KEY"
    if not text:
        path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
        if not path:
            raise SettingsError("GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) is not set")
        name = "GITHUB_PRIVATE_KEY_PATH"
        try:
            text = Path(path).expanduser().read_text()
        except OSError as exc:
            raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH cannot be read: {exc.strerror}") from None
    # Hosting panels often store a PEM on one line with literal "\n".
    text = text.replace("\\n", "\n").strip() + "\n"
    try:
        load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{name} is not a PEM private key") from None
    return text


def database_url(raw: str) -> str:
    """The URL the inbox opens: SQLite as given, PostgreSQL through asyncpg."""
    scheme = raw.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return raw
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return "postgresql+asyncpg:" + raw.split(":", 1)[1]
    raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgresql://, not {scheme!r}")


def _api_url(env: Mapping[str, str]) -> str:
    url = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"GITHUB_API_URL must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {level!r}")
    return level


def _webhook_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    # An empty secret would make gidgethub skip verification: refuse it outright.
    current = env.get("GITHUB_WEBHOOK_SECRET", "")
    if not current.strip():
        raise SettingsError("GITHUB_WEBHOOK_SECRET is not set (an empty secret would accept anyone's deliveries)")
    previous = env.get("GITHUB_WEBHOOK_SECRET_PREVIOUS", "")
    return (current, previous) if previous.strip() else (current,)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Every setting the server needs, or a SettingsError naming the first bad one."""
    app_id = _required(env, "GITHUB_APP_ID")
    if not app_id.isdigit():
        raise SettingsError(f"GITHUB_APP_ID must be the app's numeric id, not {app_id!r}")
    return Settings(
        app_id=app_id,
        private_key=_private_key(env),
        webhook_secrets=_webhook_secrets(env),
        api_url=_api_url(env),
        database_url=database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL),
        host=env.get("HOST", "").strip() or "127.0.0.1",
        port=_integer(env, "PORT", 3000, low=1, high=65535),
        log_level=_log_level(env),
        app_slug=env.get("GITHUB_APP_SLUG", "").strip() or None,
        workers=_integer(env, "WORKERS", 8, low=1, high=256),
        writes_per_minute=_integer(env, "GITHUB_WRITES_PER_MINUTE", 80),
        writes_per_hour=_integer(env, "GITHUB_WRITES_PER_HOUR", 500),
        retention_days=_integer(env, "DELIVERY_RETENTION_DAYS", 7, low=7),
    )
