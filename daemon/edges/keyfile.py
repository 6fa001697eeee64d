"""A secret kept in a file of its own, made (0600, 32 random bytes as hex) the first time it is needed:
the web view's cookie key, `erase`'s pseudonym key. Deleting the file makes a new key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from daemon.errors import ConfigError


def secret_key(path: Path | None, key: str) -> str:
    """The key in `path`, made when missing; `key` is the config key naming the file (for errors)."""
    if path is None:
        raise ConfigError(key, "required: the file that keeps the key")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path, key)
    except OSError as exc:
        raise ConfigError(key, f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key(path, key)


def _read_key(path: Path, key: str) -> str:
    try:
        found = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(key, f"cannot read {path}: {exc}") from None
    if len(found) < 32:
        raise ConfigError(key, f"{path} holds too short a key (delete it: a new one is made)")
    return found
