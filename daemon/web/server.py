"""`complaintsd web`: the web view served by uvicorn on `[web] listen`, beside (not inside) `complaintsd run`.

The session cookies are signed with a key kept in `[web] secret_key_file`, made (0600) at the first
start: restarting the view keeps everyone logged in, and deleting the file logs everyone out.
Uvicorn is told to believe no X-Forwarded-For: the trusted proxy is recognised by its own address.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import uvicorn

from daemon.config import Config
from daemon.edges.register import Register
from daemon.errors import ConfigError
from daemon.web.app import Site, create_app


def secret_key(path: Path | None) -> str:
    if path is None:
        raise ConfigError("web.secret_key_file", "required: the file that keeps the session cookies' key")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise ConfigError("web.secret_key_file", f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("web.secret_key_file", f"cannot read {path}: {exc}") from None
    if len(key) < 32:
        raise ConfigError("web.secret_key_file", f"{path} holds too short a key (delete it: a new one is made)")
    return key


def serve(config: Config) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn's handlers finish the requests in flight, then return)."""
    key = secret_key(config.web.secret_key_file)
    app = create_app(Site(config, Register(config.database.url)), key)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.web.host,
            port=config.web.port,
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,
        )
    )
    server.run()
