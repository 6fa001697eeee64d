"""A local OAuth2 provider for the XOAUTH2 tests: no network, nothing left running.

`TokenEndpoint` is a small HTTP server on 127.0.0.1 (and the same on HTTPS, with a self-signed
certificate, for msal, which accepts only https authorities) that issues, refreshes and refuses
tokens as Microsoft's and Google's endpoints do (RFC 6749 answers, `invalid_grant` for a revoked or
expired refresh token, RFC 8628's device flow, an authorization code), answers Dovecot's
introspection (RFC 7662: `active`, `username`) and serves msal's tenant discovery document. It stops
by itself after `lifetime` seconds if its owner forgot to (threads are daemons, the timer too).
`XOAuthSmtpSink` is the tests' SMTP sink whose aiosmtpd handler implements `auth_XOAUTH2`, checking
the bearer token with the endpoint.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import ssl
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.servers import LOOPBACK, SmtpSink, _SinkHandler

TENANT = "contoso-tenant"
CLIENT_ID = "complaintsd-test-client"
CLIENT_SECRET = "test-client-secret"
GOOD_CODE = "the-code-the-browser-got"


@dataclass
class Issued:
    user: str
    expires_at: float  # time.time()


@dataclass
class EndpointState:
    user: str
    access_lifetime: int = 3600
    refresh_lifetime: int | None = None  # said as refresh_token_expires_in when set
    access: dict[str, Issued] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    refused: set[str] = field(default_factory=set)  # refresh tokens revoked or expired
    grants: list[str] = field(default_factory=list)  # every grant_type asked, in order
    introspected: list[str] = field(default_factory=list)
    pending_polls: int = 1  # device flow: "authorization_pending" this many times first


class TokenEndpoint:
    def __init__(self, user: str, *, https: bool = False, lifetime: float = 300.0, workdir: Path | None = None) -> None:
        self.state = EndpointState(user)
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._servers: list[ThreadingHTTPServer] = []
        self._https = https
        self._workdir = workdir
        self._lifetime = lifetime
        self.url = self.https_url = ""
        self.ca_file: Path | None = None

    def __enter__(self) -> TokenEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> TokenEndpoint:
        self.url = self._serve(None)
        if self._https:
            assert self._workdir is not None, "https needs a directory for the certificate"
            self.https_url = self._serve(self._tls_context(self._workdir))
        timer = threading.Timer(self._lifetime, self.stop)
        timer.daemon = True
        timer.start()
        return self

    def _serve(self, context: ssl.SSLContext | None) -> str:
        endpoint = self

        class Handler(_Handler):
            owner = endpoint

        server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        server.daemon_threads = True
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._servers.append(server)
        scheme = "https" if context else "http"
        return f"{scheme}://{LOOPBACK}:{server.server_address[1]}"

    def _tls_context(self, workdir: Path) -> ssl.SSLContext:
        """A self-signed certificate for 127.0.0.1; `ca_file` is what REQUESTS_CA_BUNDLE must name."""
        key, cert = workdir / "endpoint.key", workdir / "endpoint.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        self.ca_file = cert
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()
            server.server_close()

    # -- what the tests do -----------------------------------------------------------------------

    def issue(self, access_lifetime: int | None = None) -> dict[str, Any]:
        """A token pair as a login would get it (the tests write it in the token file)."""
        with self._lock:
            return self._tokens(with_refresh=True, lifetime=access_lifetime)

    def expire_access_tokens(self) -> None:
        """Every access token given so far ends now (the server refuses them; a refresh mends it)."""
        with self._lock:
            for issued in self.state.access.values():
                issued.expires_at = 0

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self.state.refused |= set(self.state.refresh)

    def valid(self, token: str, user: str | None = None) -> bool:
        with self._lock:
            issued = self.state.access.get(token)
            return issued is not None and issued.expires_at > time.time() and user in (None, issued.user)

    @property
    def grants(self) -> list[str]:
        with self._lock:
            return list(self.state.grants)

    # -- called by the handler ---------------------------------------------------------------------

    def _tokens(self, *, with_refresh: bool, lifetime: int | None = None) -> dict[str, Any]:
        number = next(self._counter)
        access = f"access-{number}-{secrets.token_hex(4)}"
        life = self.state.access_lifetime if lifetime is None else lifetime
        self.state.access[access] = Issued(self.state.user, time.time() + life)
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": life}
        if with_refresh:
            refresh = f"refresh-{number}-{secrets.token_hex(4)}"
            self.state.refresh[refresh] = self.state.user
            answer["refresh_token"] = refresh
            if self.state.refresh_lifetime is not None:
                answer["refresh_token_expires_in"] = self.state.refresh_lifetime
        return answer

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        with self._lock:
            self.state.grants.append(grant)
            if grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self.state.refresh or refresh in self.state.refused:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS700082: The refresh token has expired due to inactivity.",
                    }
                return 200, self._tokens(with_refresh=True)
            if grant == "client_credentials":
                if form.get("client_secret") != CLIENT_SECRET:
                    return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid secret"}
                return 200, self._tokens(with_refresh=False)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                if self.state.pending_polls > 0:
                    self.state.pending_polls -= 1
                    return 400, {"error": "authorization_pending"}
                return 200, self._tokens(with_refresh=True)
            if grant == "authorization_code":
                if form.get("code") != GOOD_CODE:
                    return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
                return 200, self._tokens(with_refresh=True)
        return 400, {"error": "unsupported_grant_type"}

    def device_code(self) -> dict[str, Any]:
        return {
            "device_code": "device-" + secrets.token_hex(4),
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 60,
            "interval": 1,
            "message": "To sign in, use a web browser to open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
        }

    def introspect(self, token: str) -> dict[str, Any]:
        with self._lock:
            self.state.introspected.append(token)
            issued = self.state.access.get(token)
            if issued is None or issued.expires_at <= time.time():
                return {"active": False}
            return {"active": True, "username": issued.user}

    def discovery(self, base: str) -> dict[str, Any]:
        root = f"{base}/{TENANT}"
        return {
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        }


class _Handler(BaseHTTPRequestHandler):
    owner: TokenEndpoint

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith("/.well-known/openid-configuration"):
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            host, port = self.server.server_address[:2]
            self._answer(200, self.owner.discovery(f"{scheme}://{host}:{port}"))
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
        path = self.path.split("?")[0]
        if path.endswith("/token"):
            self._answer(*self.owner.token(form))
        elif path.endswith("/devicecode"):
            self._answer(200, self.owner.device_code())
        elif path.endswith("/introspect"):
            self._answer(200, self.owner.introspect(form.get("token", "")))
        else:
            self._answer(404, {"error": "not_found"})


class _XOAuthHandler(_SinkHandler):
    """The sink's hooks, plus the XOAUTH2 mechanism: the bearer token must be one the endpoint gave
    `user`, still valid; else the JSON error challenge and 535, as Gmail and Outlook answer."""

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> Any:
        from aiosmtpd.smtp import AuthResult

        sink = self.sink
        assert isinstance(sink, XOAuthSmtpSink)
        blob = args[1] if len(args) > 1 else ""
        fields = dict(part.split("=", 1) for part in base64.b64decode(blob).decode().split("\x01") if "=" in part)
        user, bearer = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        sink.attempts.append((user, bearer))
        if sink.endpoint.valid(bearer, user):
            return AuthResult(success=True, auth_data=user)
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


class XOAuthSmtpSink(SmtpSink):
    def __init__(self, endpoint: TokenEndpoint) -> None:
        super().__init__()
        self.auth = {}  # AUTH required before MAIL, without TLS on loopback; no password is ever right
        self.endpoint = endpoint
        self.attempts: list[tuple[str, str]] = []

    def _handler(self) -> Any:
        return _XOAuthHandler(self)
