"""The token endpoints: Microsoft's through msal, Google's through google-auth, any other by plain HTTP.

Each answers as RFC 6749 §5.1 does (a dict with access_token, expires_in, refresh_token…), whatever
the library, so that core/oauth.py reads one shape. A refusal the admin must act on (a revoked or
expired refresh token, a wrong secret: `invalid_grant`, `invalid_client`…) is `TokenRefused`; the
endpoint out of reach is `TransientError`, retried like any outage.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from daemon.config import OAuthConfig
from daemon.core.oauth import Token
from daemon.errors import TokenRefused, TransientError

log = logging.getLogger("complaintsd.oauth")

TIMEOUT = 30.0
# RFC 8628 §3.5: keep polling while the person has not answered yet.
PENDING = ("authorization_pending", "slow_down")
# The endpoint's trouble, not ours (RFC 6749 §4.1.2.1): worth another try later.
PASSING = ("server_error", "temporarily_unavailable")
# Google's "installed app" clients accept a loopback redirect; the browser's address bar then shows the code.
LOOPBACK_REDIRECT = "http://127.0.0.1:1"


@dataclass(frozen=True)
class Prompt:
    """What `auth login` shows the person: where to go and what to type or paste back."""

    message: str
    state: dict[str, Any]
    needs_answer: bool = False  # the authorization code flow: the person pastes the address they landed on


class Provider(Protocol):
    def refresh(self, token: Token) -> dict[str, Any]: ...
    def client_credentials(self) -> dict[str, Any]: ...
    def start_login(self) -> Prompt: ...
    def finish_login(self, prompt: Prompt, answer: str) -> dict[str, Any]: ...


def provider_for(config: OAuthConfig) -> Provider:
    if config.provider == "microsoft":
        return MicrosoftProvider(config)
    if config.provider == "google":
        return GoogleProvider(config)
    return GenericProvider(config)


# --------------------------------------------------------------------------- plain HTTP (RFC 6749, RFC 8628)


def post_form(url: str, fields: dict[str, str]) -> dict[str, Any]:
    """POST a form to a token endpoint and return its JSON answer; an `error` answer raises."""
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode("ascii"), headers={"Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return _json(response.read(), url)
    except urllib.error.HTTPError as exc:
        body = _json(exc.read(), url) if exc.code < 500 else {}
        raise _refusal(body, f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TransientError(f"oauth: {url}: {getattr(exc, 'reason', exc)}") from None


def _json(raw: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise TransientError(f"oauth: {url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise TransientError(f"oauth: {url} did not answer a JSON object")
    return data


def _refusal(answer: dict[str, Any], where: str) -> Exception:
    error = str(answer.get("error") or "")
    words = f"{error}: {answer.get('error_description') or ''}".strip(": ").splitlines()
    why = words[0][:300] if words else where
    if error in PENDING:
        return _Pending(error)
    if not error or error in PASSING:
        return TransientError(f"oauth: {where}: {why}")
    return TokenRefused(why)


class _Pending(Exception):
    """The person has not answered the device code yet (RFC 8628 §3.5)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.slow_down = error == "slow_down"


class GenericProvider:
    """Any RFC 6749 token endpoint (`token_url`), with RFC 8628's device flow (`device_code_url`)."""

    def __init__(self, config: OAuthConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.sleep = sleep

    def _client(self) -> dict[str, str]:
        fields = {"client_id": self.config.client_id}
        if self.config.client_secret:
            fields["client_secret"] = self.config.client_secret
        return fields

    def refresh(self, token: Token) -> dict[str, Any]:
        if not token.refresh_token:
            return self.client_credentials()
        fields = {"grant_type": "refresh_token", "refresh_token": token.refresh_token, **self._client()}
        return post_form(self.config.token_url, fields)

    def client_credentials(self) -> dict[str, Any]:
        fields = {"grant_type": "client_credentials", "scope": " ".join(self.config.scopes), **self._client()}
        return post_form(self.config.token_url, fields)

    def start_login(self) -> Prompt:
        if self.config.flow == "client_credentials":
            return Prompt("", {})
        if self.config.flow == "authorization_code":
            return authorization_prompt(self.config)
        answer = post_form(self.config.device_code_url, {"scope": " ".join(self.config.scopes), **self._client()})
        uri = (
            answer.get("verification_uri_complete") or answer.get("verification_uri") or answer.get("verification_url")
        )
        message = f"To sign in, open {uri} and enter the code {answer.get('user_code')}"
        return Prompt(message, answer)

    def finish_login(self, prompt: Prompt, answer: str) -> dict[str, Any]:
        if self.config.flow == "client_credentials":
            return self.client_credentials()
        if self.config.flow == "authorization_code":
            return exchange_code(self.config, answer)
        return self._poll(prompt.state)

    def _poll(self, device: dict[str, Any]) -> dict[str, Any]:
        """Ask for the token every `interval` seconds until the person answered or the code expired."""
        interval = float(device.get("interval") or 5)
        deadline = time.monotonic() + float(device.get("expires_in") or 900)
        fields = {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": str(device.get("device_code")),
            **self._client(),
        }
        while time.monotonic() < deadline:
            try:
                return post_form(self.config.token_url, fields)
            except _Pending as pending:
                interval += 5 if pending.slow_down else 0
                self.sleep(interval)
        raise TokenRefused("the sign-in code expired before it was used: run complaintsd auth login again")


def authorization_prompt(config: OAuthConfig) -> Prompt:
    """The consent page's address (Google's "installed app" flow): the browser lands on a loopback
    address that does not load, whose `code=` the person pastes back."""
    query = {
        "client_id": config.client_id,
        "redirect_uri": LOOPBACK_REDIRECT,
        "response_type": "code",
        "scope": " ".join(config.scopes),
        "access_type": "offline",
        "prompt": "consent",
    }
    url = f"{config.device_code_url}?{urllib.parse.urlencode(query)}"
    message = (
        f"To sign in, open this address in a browser, accept, then paste here the address the browser "
        f"lands on ({LOOPBACK_REDIRECT}/?code=…; the page itself does not load):\n{url}"
    )
    return Prompt(message, {}, needs_answer=True)


def exchange_code(config: OAuthConfig, answer: str) -> dict[str, Any]:
    text = answer.strip()
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(text).query).get("code", [""])[0] if "code=" in text else text
    if not code:
        raise TokenRefused("no authorization code was given")
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": LOOPBACK_REDIRECT,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }
    return post_form(config.token_url, fields)


# --------------------------------------------------------------------------- Microsoft (msal)


class MicrosoftProvider:
    """Microsoft identity platform through msal: device code (a person signs in once, the refresh token
    then rotates) or client credentials (the application's own permission, IMAP.AccessAsApp)."""

    def __init__(self, config: OAuthConfig) -> None:
        self.config = config

    @property
    def authority(self) -> str:
        return self.config.authority or f"https://login.microsoftonline.com/{self.config.tenant}"

    def _app(self) -> Any:
        """A new application each time: msal's in-memory cache would hand back the token just refused."""
        import msal
        import requests

        options: dict[str, Any] = {"authority": self.authority}
        if self.config.authority:  # a sovereign cloud, or the tests' local endpoint: no discovery at Microsoft
            options |= {"validate_authority": False, "instance_discovery": False}
        try:
            if self.config.flow == "client_credentials":
                return msal.ConfidentialClientApplication(
                    self.config.client_id, client_credential=self.config.client_secret, **options
                )
            # The device code is a public client's flow (msal offers it on PublicClientApplication only).
            return msal.PublicClientApplication(self.config.client_id, **options)
        except requests.RequestException as exc:
            raise TransientError(f"oauth: {self.authority}: {exc.__class__.__name__}") from None
        except ValueError as exc:
            raise TokenRefused(f"{self.authority}: {str(exc).splitlines()[0][:300]}") from None

    def _call(self, action: Callable[[Any], dict[str, Any] | None]) -> dict[str, Any]:
        import requests

        try:
            answer = action(self._app())
        except requests.RequestException as exc:
            raise TransientError(f"oauth: {self.authority}: {exc.__class__.__name__}") from None
        if not answer:
            raise TokenRefused("msal returned no token")
        if "error" in answer:
            raise _refusal(answer, self.authority)
        return answer

    def refresh(self, token: Token) -> dict[str, Any]:
        if self.config.flow == "client_credentials" or not token.refresh_token:
            return self.client_credentials()
        scopes = list(self.config.scopes)
        return self._call(lambda app: app.acquire_token_by_refresh_token(token.refresh_token, scopes))

    def client_credentials(self) -> dict[str, Any]:
        return self._call(lambda app: app.acquire_token_for_client(list(self.config.scopes)))

    def start_login(self) -> Prompt:
        if self.config.flow == "client_credentials":
            return Prompt("", {})
        app = self._app()
        flow = app.initiate_device_flow(scopes=list(self.config.scopes))
        if "user_code" not in flow:
            raise _refusal(flow, self.authority)
        return Prompt(str(flow.get("message")), {"flow": flow, "app": app})

    def finish_login(self, prompt: Prompt, answer: str) -> dict[str, Any]:
        if self.config.flow == "client_credentials":
            return self.client_credentials()
        return self._call(lambda _: prompt.state["app"].acquire_token_by_device_flow(prompt.state["flow"]))


# --------------------------------------------------------------------------- Google (google-auth)


class GoogleProvider:
    """Gmail: an OAuth client of type "Desktop app"; the refresh token is exchanged by google-auth."""

    def __init__(self, config: OAuthConfig) -> None:
        self.config = config

    def refresh(self, token: Token) -> dict[str, Any]:
        import google.auth.exceptions
        import google.auth.transport.requests
        from google.oauth2.credentials import Credentials

        if not token.refresh_token:
            raise TokenRefused("no refresh token: run complaintsd auth login")
        credentials = Credentials(
            token=None,
            refresh_token=token.refresh_token,
            token_uri=self.config.token_url,
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scopes=list(self.config.scopes),
        )
        try:
            credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.RefreshError as exc:
            why = str(exc.args[0] if exc.args else exc).splitlines()[0][:300]
            if exc.retryable:
                raise TransientError(f"oauth: {self.config.token_url}: {why}") from None
            raise TokenRefused(why) from None
        except google.auth.exceptions.TransportError as exc:
            raise TransientError(f"oauth: {self.config.token_url}: {exc}") from None
        expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else datetime.now(UTC)
        return {
            "access_token": credentials.token,
            "expires_in": max(0, int((expiry - datetime.now(UTC)).total_seconds())),
            "refresh_token": credentials.refresh_token,
        }

    def client_credentials(self) -> dict[str, Any]:
        raise TokenRefused("Gmail has no client-credentials flow for a mailbox: run complaintsd auth login")

    def start_login(self) -> Prompt:
        return authorization_prompt(self.config)

    def finish_login(self, prompt: Prompt, answer: str) -> dict[str, Any]:
        return exchange_code(self.config, answer)
