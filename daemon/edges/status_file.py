"""The running daemon's own account of itself, for `complaintsd status`: a small JSON file beside
the attachments (`.complaintsd-status.json`), replaced atomically, private (0600) like every file.

Only the daemon knows when it last reached the mailbox and what it is doing; the register knows
the rest (edges/register/health.py). A file, not a table: it is rewritten every few seconds and
belongs to one host's daemon, not to the shared register.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NAME = ".complaintsd-status.json"


def status_path(storage: Path, register: str = "") -> Path:
    """The daemon's record; with `register`, the record of that register's mailbox loop (the
    registers after the first of a `[[registers]]` config: the first one's is the daemon's)."""
    return Path(storage) / (f".complaintsd-status-{register}.json" if register else NAME)


def write_status(path: Path, data: dict[str, Any]) -> None:
    """Replace the file in one rename; a failure is ignored (a status must never stop the daemon)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass


def read_status(path: Path) -> dict[str, Any] | None:
    """What the daemon last wrote, or None when it never ran here (or the file is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def process_alive(pid: object) -> bool:
    """Whether a process with this id runs on this host (signal 0 checks without sending)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
