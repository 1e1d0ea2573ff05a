"""Settings from the environment, or from a ``.env`` file in the working directory."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_GITHUB_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///community-bot.db"
PERSPECTIVE_URL = "https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# REDELIVER_EVERY: at least a minute (each round reads GitHub's delivery log), at most GitHub's
# redelivery window of three days (a delivery failed just after one round must still be
# redeliverable at the next).
REDELIVER_EVERY_RANGE = ("1m", "3d")


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
    # Seconds between rounds asking GitHub for the deliveries it could not deliver; 0: none.
    redeliver_every: float = 0.0
    # How long a claimed delivery stays with its process without being renewed (renewed every
    # third of it): after a crash, another process takes it over once it runs out.
    # A dead process's deliveries go to another within a lease and a third (renewal's period):
    # under 30 s.
    lease_seconds: float = 20.0
    # Community activity rows (insights) are kept this long.
    activity_retention_days: int = 730
    # GitHub's web address (sign-in pages live there, not on the API).
    github_url: str = DEFAULT_GITHUB_URL
    # The app's OAuth client, for "Sign in with GitHub" on the insights pages; None: no sign-in.
    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    # Where people reach this server, for OAuth's redirect; None: the address they used.
    public_url: str | None = None
    # Google's Perspective API, for repositories that opt in (conduct.perspective); None: none.
    perspective_api_key: str | None = dataclasses.field(default=None, repr=False)
    perspective_url: str = PERSPECTIVE_URL

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never reach a log line."""
        optional = (self.client_secret, self.perspective_api_key)
        return (self.private_key, *self.webhook_secrets, *(secret for secret in optional if secret))


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


def integer(env: Mapping[str, str], name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
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


def duration(text: str) -> float:
    """``30s``, ``90m``, ``24h``, ``3d`` (or plain seconds) as seconds; ValueError otherwise."""
    raw = text.strip().lower()
    number, unit = (raw[:-1], _UNITS[raw[-1]]) if raw[-1:] in _UNITS else (raw, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a duration: {text!r} (e.g. 30s, 90m, 24h, 3d)")
    return seconds


def _every(env: Mapping[str, str], name: str, low: str, high: str) -> float:
    """A period in seconds, from ``low`` to ``high``, or 0.0 for off (unset, empty, ``0`` or ``off``)."""
    raw = env.get(name, "").strip()
    if raw.lower() in ("", "0", "off"):
        return 0.0
    try:
        seconds = duration(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a duration such as 15m, 1h or 1d, or off; not {raw!r}") from None
    if seconds == 0:
        return 0.0
    if not duration(low) <= seconds <= duration(high):
        raise SettingsError(f"{name} must be from {low} to {high}, or off; not {raw!r}")
    return seconds


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
        url = raw
    elif scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        url = "postgresql+asyncpg:" + raw.split(":", 1)[1]
    else:
        raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgresql://, not {scheme!r}")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise SettingsError(f"DATABASE_URL is not a database URL: {exc}") from None
    if scheme == "sqlite" and parsed.database in (None, "", ":memory:"):
        # Deliveries are acknowledged once on disk: a database in memory would lose them.
        raise SettingsError("DATABASE_URL must name a SQLite file (sqlite:///path.db), not a database in memory")
    return url


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def web_url(env: Mapping[str, str], name: str) -> str | None:
    """An http(s) address without its trailing slash, or None if unset."""
    url = env.get(name, "").strip().rstrip("/")
    if url and not is_web_url(url):
        raise SettingsError(f"{name} must be an http(s) URL, not {url!r}")
    return url or None


def github_url(env: Mapping[str, str]) -> str:
    """GitHub's web address: github.com, or a GitHub Enterprise Server's."""
    return web_url(env, "GITHUB_URL") or DEFAULT_GITHUB_URL


def api_url(env: Mapping[str, str]) -> str:
    """GITHUB_API_URL, or the API of GITHUB_URL's GitHub: Enterprise Server keeps it under /api/v3."""
    explicit = web_url(env, "GITHUB_API_URL")
    if explicit:
        return explicit
    web = github_url(env)
    return DEFAULT_API_URL if web == DEFAULT_GITHUB_URL else f"{web}/api/v3"


def log_level(env: Mapping[str, str]) -> str:
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
        api_url=api_url(env),
        database_url=database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL),
        host=env.get("HOST", "").strip() or "127.0.0.1",
        port=integer(env, "PORT", 3000, low=1, high=65535),
        log_level=log_level(env),
        app_slug=env.get("GITHUB_APP_SLUG", "").strip() or None,
        workers=integer(env, "WORKERS", 8, low=1, high=256),
        writes_per_minute=integer(env, "GITHUB_WRITES_PER_MINUTE", 80),
        writes_per_hour=integer(env, "GITHUB_WRITES_PER_HOUR", 500),
        retention_days=integer(env, "DELIVERY_RETENTION_DAYS", 7, low=7),
        redeliver_every=_every(env, "REDELIVER_EVERY", *REDELIVER_EVERY_RANGE),
        lease_seconds=float(integer(env, "LEASE_SECONDS", 20, low=5, high=3600)),
        activity_retention_days=integer(env, "ACTIVITY_RETENTION_DAYS", 730, low=1),
        github_url=github_url(env),
        client_id=env.get("GITHUB_CLIENT_ID", "").strip() or None,
        client_secret=env.get("GITHUB_CLIENT_SECRET", "").strip() or None,
        public_url=web_url(env, "PUBLIC_URL"),
        perspective_api_key=env.get("PERSPECTIVE_API_KEY", "").strip() or None,
        perspective_url=web_url(env, "PERSPECTIVE_URL") or PERSPECTIVE_URL,
    )
