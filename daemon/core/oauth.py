"""OAuth2 tokens as values: what a token endpoint answered, when to refresh, and the XOAUTH2 string.

Microsoft 365 and Gmail turn basic authentication off: the mailbox and the relay take an access token
(an hour's life) in the SASL XOAUTH2 exchange, and a refresh token (days to months) buys the next one.
The edge (edges/oauth/) asks the provider and keeps the token file; here are only the decisions: a
token is refreshed REFRESH_MARGIN before it expires (a login in the last seconds of its life would be
refused in the middle of a batch), and the refresh token's own end, when the provider says it, is
what the health watch warns about (core/health.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Token:
    """The token file's content: the access token, its end, the refresh token and its end (None: the
    provider did not say), and the last refusal of a refresh (the admin must run `auth login`)."""

    access_token: str
    expires_at: datetime
    refresh_token: str = ""
    refresh_expires_at: datetime | None = None
    obtained_at: datetime | None = None
    refused_at: datetime | None = None
    refused_why: str = ""

    def __post_init__(self) -> None:
        for name in ("expires_at", "refresh_expires_at", "obtained_at", "refused_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime")

    def fresh(self, now: datetime) -> bool:
        """Usable for a login now, with the margin a batch needs."""
        return bool(self.access_token) and now + REFRESH_MARGIN < self.expires_at

    def refused(self, now: datetime, why: str) -> Token:
        """The same token, marked as refused by the provider (a revoked or expired refresh token)."""
        return replace(self, refused_at=self.refused_at or now, refused_why=why)


def token_of(answer: dict[str, Any], now: datetime, previous: Token | None = None) -> Token:
    """A token endpoint's JSON answer (RFC 6749 §5.1) as a Token. A refresh that brings no new refresh
    token keeps the previous one (Google does not rotate it; Microsoft does), and with it its end."""
    access = answer.get("access_token")
    if not isinstance(access, str) or not access:
        raise ValueError("the token endpoint answered without an access_token")
    lifetime = _seconds(answer.get("expires_in"), 3600)
    refresh = answer.get("refresh_token") or (previous.refresh_token if previous else "")
    refresh_life = _seconds(answer.get("refresh_token_expires_in"), 0)
    if refresh_life:
        refresh_end: datetime | None = now + timedelta(seconds=refresh_life)
    elif previous is not None and refresh == previous.refresh_token:
        refresh_end = previous.refresh_expires_at
    else:
        refresh_end = None
    return Token(access, now + timedelta(seconds=lifetime), str(refresh), refresh_end, now)


def _seconds(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def xoauth2(user: str, access_token: str) -> str:
    """The SASL XOAUTH2 initial response, base64-encoded, as Google and Microsoft document it."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {access_token}\x01\x01".encode()).decode("ascii")


def to_json(token: Token) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "access_token": token.access_token,
        "expires_at": iso(token.expires_at),
        "refresh_token": token.refresh_token,
        "refresh_expires_at": iso(token.refresh_expires_at),
        "obtained_at": iso(token.obtained_at),
        "refused_at": iso(token.refused_at),
        "refused_why": token.refused_why,
    }


def from_json(data: dict[str, Any]) -> Token:
    def at(key: str) -> datetime | None:
        value = data.get(key)
        return datetime.fromisoformat(value) if value else None

    expires = at("expires_at")
    if expires is None:
        raise ValueError("no expires_at")
    return Token(
        str(data.get("access_token") or ""),
        expires,
        str(data.get("refresh_token") or ""),
        at("refresh_expires_at"),
        at("obtained_at"),
        at("refused_at"),
        str(data.get("refused_why") or ""),
    )
