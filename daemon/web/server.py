"""`complaintsd web`: the web view served by uvicorn on `[web] listen`, beside (not inside) `complaintsd run`.

The session cookies are signed with a key kept in `[web] secret_key_file`, made (0600) at the first
start: restarting the view keeps everyone logged in, and deleting the file logs everyone out.
Uvicorn is told to believe no X-Forwarded-For: the trusted proxy is recognised by its own address.
"""

from __future__ import annotations

from pathlib import Path

import uvicorn

from daemon.config import Config
from daemon.edges import keyfile
from daemon.edges.register import Register
from daemon.web.app import Site, create_app


def secret_key(path: Path | None) -> str:
    """The session cookies' key (edges/keyfile.py: made at the first start)."""
    return keyfile.secret_key(path, "web.secret_key_file")


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
