"""`complaintsd auth login|status`: the OAuth token the mailbox and the relay log in with (XOAUTH2).

`login` obtains the first token (Microsoft's device code: it prints the address and the code, then
waits for the person to sign in; Google's consent page: the person pastes back the address the
browser landed on; client credentials: nothing to ask) and keeps it in `[oauth] token_file`, 0600.
`status` says when the access token and the refresh token end (`complaintsd status` shows it too).
Run as root, the token file is left to the owner of its directory (edges/oauth/store.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from daemon.config import OAuthConfig, load_config
from daemon.core.oauth import Token
from daemon.errors import ComplaintsError


def add_commands(command) -> None:
    """Wire `auth login|status` into the parser; `command` is cli's subcommand maker."""
    parser = command("auth", cmd_auth, "obtain the OAuth token for XOAUTH2 (login), or show its expiry (status)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("login", help="obtain the first token (device code, consent page or client credentials)")
    status = actions.add_parser("status", help="when the access token and the refresh token end")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for action in actions.choices.values():
        action.add_argument("--config", default=argparse.SUPPRESS, help="TOML file (as for every command)")
        action.add_argument("--register", metavar="NAME", help="with [[registers]]: this register's mailbox")


def cmd_auth(args: argparse.Namespace) -> int:
    config = load_config(args.config).named(args.register)
    if config.oauth is None:
        raise ComplaintsError("oauth: no [oauth] table in the config (see README, Microsoft 365 and Gmail)")
    if args.action == "login":
        return _login(config.oauth)
    data = token_status(config.oauth)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0


def _login(oauth: OAuthConfig) -> int:
    def show(message: str) -> None:
        print(message, flush=True)

    def ask(question: str) -> str:
        print(question, end="", flush=True)
        return sys.stdin.readline()

    from daemon.edges.oauth import TokenSource  # here: every command builds the parser, few log in

    token = TokenSource(oauth).login(show, ask)
    print(f"oauth: token kept in {oauth.token_file}; {_ends(token)}")
    return 0


def _ends(token: Token) -> str:
    refresh = (
        f"the refresh token ends {token.refresh_expires_at:%Y-%m-%d %H:%M} UTC"
        if token.refresh_expires_at
        else ("a refresh token whose end the provider does not say" if token.refresh_token else "no refresh token")
    )
    return f"the access token ends {token.expires_at:%Y-%m-%d %H:%M} UTC, {refresh}"


def token_status(oauth: OAuthConfig, now: datetime | None = None) -> dict[str, Any]:
    """What `auth status` and `status` show of the token (no secret: never the tokens themselves)."""
    from daemon.edges.oauth import TokenFile

    now = now or datetime.now(UTC)
    token = TokenFile(oauth.token_file).read()
    base: dict[str, Any] = {"provider": oauth.provider, "flow": oauth.flow, "token_file": str(oauth.token_file)}
    if token is None:
        return base | {"state": "no token: run complaintsd auth login"}
    state = "refused: run complaintsd auth login" if token.refused_at else ("valid" if token.fresh(now) else "expired")
    return base | {
        "state": state,
        "access_token_expires_at": token.expires_at.isoformat(),
        "refresh_token": bool(token.refresh_token),
        "refresh_token_expires_at": token.refresh_expires_at.isoformat() if token.refresh_expires_at else None,
        "obtained_at": token.obtained_at.isoformat() if token.obtained_at else None,
        "refused_at": token.refused_at.isoformat() if token.refused_at else None,
        "refused_why": token.refused_why or None,
    }


def render(data: dict[str, Any]) -> str:
    """One line: the provider, the state, and both ends."""
    if "access_token_expires_at" not in data:
        return f"{data['provider']} ({data['flow']}): {data['state']}"
    refresh = data["refresh_token_expires_at"] or ("end not said" if data["refresh_token"] else "none")
    why = f" ({data['refused_why']})" if data.get("refused_why") else ""
    return (
        f"{data['provider']} ({data['flow']}): {data['state']}{why}; access token until "
        f"{data['access_token_expires_at']}, refresh token until {refresh}"
    )
