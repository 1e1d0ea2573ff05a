"""Google's Perspective API, an optional second opinion on a comment's tone.

Used only where a repository opts in (``conduct.perspective: true``) and the server has a key
(``PERSPECTIVE_API_KEY``). It is never waited on for long and never in the way: on any error,
refusal or timeout the local detector decides alone, and the first failure of each kind is
logged (then one line an hour), so a spent quota does not flood the log.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0
QUIET_SECONDS = 3600  # a failure of the same kind is logged again after this long


class Perspective:
    def __init__(self, session: aiohttp.ClientSession, api_key: str, *, url: str) -> None:
        self._session = session
        self._api_key = api_key
        self._url = url
        self._logged: dict[str, float] = {}  # failure kind -> when last logged

    async def toxicity(self, text: str) -> float | None:
        """Perspective's TOXICITY probability for ``text`` (0 to 1), or None where it gives
        none: then the local detector decides."""
        request = {
            "comment": {"text": text[:20000]},  # Perspective takes at most 20 KB of text
            "requestedAttributes": {"TOXICITY": {}},
            "languages": ["en"],
            "doNotStore": True,  # comments are only scored, never kept for training
        }
        try:
            async with self._session.post(
                # The key in a header, not the URL: a URL can end up in an error message.
                self._url,
                headers={"X-Goog-Api-Key": self._api_key},
                json=request,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            ) as answer:
                body = await answer.json(content_type=None)
                if answer.status != 200:
                    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                    self._failed(f"http {answer.status}", error.get("message") or answer.reason or "")
                    return None
            return float(body["attributeScores"]["TOXICITY"]["summaryScore"]["value"])
        except asyncio.TimeoutError:
            self._failed("timeout", f"no answer within {TIMEOUT_SECONDS:g} s")
        except (aiohttp.ClientError, ValueError, KeyError, TypeError) as exc:
            self._failed(type(exc).__name__, str(exc))
        return None

    def _failed(self, kind: str, detail: str) -> None:
        now = time.monotonic()
        if now - self._logged.get(kind, -QUIET_SECONDS) >= QUIET_SECONDS:
            self._logged[kind] = now
            log.warning("Perspective API unavailable (%s): %s; the local detector decides", kind, detail, extra={"fields": {"failure": kind}})
