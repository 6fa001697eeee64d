"""The attachment store: files on disk named by the SHA-256 of their content.

Writing is idempotent (same content, same name) and atomic (temporary file, fsync, rename), so
files are written *before* the register's transaction commits: a crash leaves at worst an unused
file, never a row pointing at a missing or half-written one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from daemon.core.letters import FileToAttach, LetterToSend
from daemon.core.mail import InboundMail, StoredFile
from daemon.errors import ConfigError, TransientError


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def save(self, content: bytes, sha256: str | None = None) -> tuple[str, Path]:
        """Store `content` (whose hash the caller may already know); return its hash and path.
        Safe to call again after a crash."""
        sha256 = sha256 or hashlib.sha256(content).hexdigest()
        return sha256, self._write(sha256, len(content), iter((content,)))

    def _write(self, sha256: str, size: int, pieces: Iterator[bytes]) -> Path:
        """The file named `sha256` written from `pieces` (a large attachment is never whole in memory)."""
        path = self.path_for(sha256)
        if path.exists() and path.stat().st_size == size:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return path

    def keep(self, mail: InboundMail) -> tuple[StoredFile, ...]:
        """Store every attachment of `mail` (before the register commits, see the module docstring)."""
        files = []
        for attachment in mail.attachments:
            try:
                sha, path = attachment.sha256, self._write(attachment.sha256, attachment.size, attachment.pieces())
            except OSError as exc:
                raise TransientError(f"attachment store: cannot write {self.root}: {exc.strerror}") from None
            files.append(StoredFile(attachment.filename, attachment.content_type, attachment.size, sha, str(path)))
        return tuple(files)

    def attach(self, letter: LetterToSend) -> LetterToSend:
        """The letter with the stored files it names loaded, ready for the postbox."""
        if not letter.stored_files:
            return letter
        loaded = tuple(FileToAttach(f.filename, f.content_type, self.load(f.sha256)) for f in letter.stored_files)
        return replace(letter, files=letter.files + loaded, stored_files=())

    def digest_of(self, sha256: str) -> str | None:
        """The SHA-256 of the file stored under `sha256` as it is on disk now, None when it is gone:
        `complaintsd verify` compares the two. Read in blocks, so a 30 MB file costs no memory."""
        try:
            with open(self.path_for(sha256), "rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        except FileNotFoundError:
            return None

    def forget(self, sha256: str) -> bool:
        """Delete a stored file no complaint lists any more (a retention purge); False if already gone."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

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
