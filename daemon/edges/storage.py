"""The attachment store: files on disk named by the SHA-256 of their content.

Writing is idempotent (same content, same name) and atomic (temporary file, fsync, rename), so
files are written *before* the register's transaction commits: a crash leaves at worst an unused
file, never a row pointing at a missing or half-written one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from daemon.errors import ConfigError


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def save(self, content: bytes) -> tuple[str, Path]:
        """Store `content`; return its hash and path. Safe to call again after a crash."""
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.path_for(sha256)
        if path.exists() and path.stat().st_size == len(content):
            return sha256, path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return sha256, path

    def load(self, sha256: str) -> bytes:
        """The stored content with this hash (e.g. to send a complaint's files to a new handler)."""
        return self.path_for(sha256).read_bytes()

    def check(self) -> str:
        """One line for `complaintsd check`; raises ConfigError when the folder is unusable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".complaintsd-check"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError("storage.path", f"{self.root} is not writable: {exc.strerror}") from None
        return f"storage: {self.root} is writable"
