"""The token file: the only place the OAuth tokens live, readable by the service's user only (0600).

The daemon and its sender process both log in with it, so a refresh is done under a lock (flock on
`<token_file>.lock`) and written by rename: one process refreshes, the other reads the new token.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from daemon.core.oauth import Token, from_json, to_json
from daemon.errors import ConfigError

PRIVATE_FILE = 0o600


class TokenFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Token | None:
        """The stored token, or None before the first `auth login`."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError("oauth.token_file", f"cannot read {self.path}: {exc.strerror}") from None
        except ValueError:
            raise ConfigError(
                "oauth.token_file", f"{self.path} is not a token file: run complaintsd auth login"
            ) from None
        try:
            return from_json(data)
        except (ValueError, TypeError, AttributeError):
            raise ConfigError(
                "oauth.token_file", f"{self.path} is not a token file: run complaintsd auth login"
            ) from None

    def write(self, token: Token) -> None:
        """Atomically, 0600 whatever the umask: a reader sees the old token or the new one, never half."""
        self._directory()
        owner = self._owner()
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        try:
            os.fchmod(descriptor, PRIVATE_FILE)
            if owner is not None:
                os.fchown(descriptor, *owner)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(to_json(token), out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held while a token is refreshed, so that two processes do not both spend the refresh token."""
        self._directory()
        owner = self._owner()
        descriptor = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            if owner is not None:
                os.fchown(descriptor, *owner)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _owner(self) -> tuple[int, int] | None:
        """Root writing the file (`auth login`, or `check` refreshing it, run by hand) leaves it to
        whoever owns it, or its directory: the service's user, who must go on reading it."""
        if os.geteuid() != 0:
            return None
        try:
            found = self.path.stat()
        except FileNotFoundError:
            found = self.path.parent.stat()
        return found.st_uid, found.st_gid

    def _directory(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError("oauth.token_file", f"cannot create {self.path.parent}: {exc.strerror}") from None
