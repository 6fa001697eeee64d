"""OAuth2 tokens for the mailbox's and the relay's XOAUTH2 login: the token file, refreshed in time.

`TokenSource.access_token()` gives a token good for a few minutes more, refreshing it first when it
is near its end (core/oauth.py's margin); `refresh(stale)` is called once when the server refused a
token it should have taken (revoked early, clock skew). A refresh the provider refuses is written in
the token file (the health watch reads it there: core/health.py) and raised as `TokenRefused`; while
it holds, the provider is asked again at most every REFUSED_RETRY, not at every reconnection.
`login()` is `complaintsd auth login`: the first token, obtained with a person (device code, consent
page) or the application's own secret (client credentials).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from daemon.config import OAuthConfig
from daemon.core.oauth import REFRESH_MARGIN, Token, token_of
from daemon.edges.oauth.providers import Prompt, Provider, provider_for
from daemon.edges.oauth.store import TokenFile
from daemon.errors import TokenRefused

__all__ = ["Prompt", "TokenFile", "TokenSource"]

log = logging.getLogger("complaintsd.oauth")

REFUSED_RETRY = timedelta(minutes=10)
LOGIN_HINT = "run complaintsd auth login"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TokenSource:
    def __init__(
        self,
        config: OAuthConfig,
        clock: Callable[[], datetime] = _utc_now,
        provider: Provider | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.file = TokenFile(config.token_file)
        self.provider = provider or provider_for(config)
        self._lock = threading.Lock()
        self._refused_try: datetime | None = None

    def read(self) -> Token | None:
        return self.file.read()

    def access_token(self) -> str:
        token = self.file.read()
        if token is not None and token.refused_at is None and token.fresh(self.clock()):
            return token.access_token
        return self.refresh(token.access_token if token else None)

    def refresh(self, stale: str | None = None) -> str:
        """A new access token, unless another process already replaced `stale` with a fresh one."""
        with self._lock, self.file.locked():
            now = self.clock()
            token = self.file.read()
            if token is not None and token.refused_at is None and token.access_token != stale and token.fresh(now):
                return token.access_token
            if token is not None and token.refused_at is not None and self._recently_refused(now):
                raise TokenRefused(f"oauth: {token.refused_why}: {LOGIN_HINT}")
            try:
                answer = self._ask(token)
            except TokenRefused as exc:
                self._refused_try = now
                if token is not None:
                    self.file.write(token.refused(now, str(exc)))
                log.error("oauth: %s refused a new token (%s): %s", self.config.provider, exc, LOGIN_HINT)
                raise TokenRefused(f"oauth: {exc}: {LOGIN_HINT}") from None
            fresh = token_of(answer, now, token)
            self.file.write(fresh)
            self._refused_try = None
            log.info(
                "oauth: new access token from %s, valid until %s", self.config.provider, f"{fresh.expires_at:%H:%M}"
            )
            return fresh.access_token

    def ends_at(self, access_token: str) -> datetime | None:
        """When this access token ends, as the token file says (None: replaced since)."""
        token = self.file.read()
        return token.expires_at if token is not None and token.access_token == access_token else None

    def ending(self, ends_at: datetime) -> bool:
        """A token ending this soon is renewed before its next use (core/oauth.py's margin)."""
        return self.clock() + REFRESH_MARGIN >= ends_at

    def _ask(self, token: Token | None) -> dict:
        if token is not None:
            return self.provider.refresh(token)
        if self.config.flow == "client_credentials":
            return self.provider.client_credentials()
        raise TokenRefused("no token yet")

    def _recently_refused(self, now: datetime) -> bool:
        return self._refused_try is not None and now - self._refused_try < REFUSED_RETRY

    def login(self, show: Callable[[str], None], ask: Callable[[str], str]) -> Token:
        """`complaintsd auth login`: obtain the first token (or a new one) and keep it."""
        prompt = self.provider.start_login()
        if prompt.message:
            show(prompt.message)
        answer = ask("address or code: ") if prompt.needs_answer else ""
        with self.file.locked():
            token = token_of(self.provider.finish_login(prompt, answer), self.clock())
            self.file.write(token)
        return token
