"""The mailbox adapters: the only code that talks to the IMAP server or reads the Maildir.

Both offer the same narrow port — fetch a batch, move keys to a folder, wait for new mail — so the
service does not care where mail comes from. Network and protocol failures become TransientError
(the service reconnects with backoff); nothing here decides what a message is.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from daemon.config import MailboxConfig
from daemon.core.mail import Fetched
from daemon.edges.oauth import TokenSource
from daemon.errors import LoginRefused, TransientError

log = logging.getLogger("complaintsd.mailbox")

NETWORK_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.abort, imaplib.IMAP4.error, ssl.SSLError, socket.timeout)
IDLE_REFRESH = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
# A batch's messages are all in memory at once: past this many bytes the rest wait for the next batch
# (one message is always taken), so five 30 MB videos are read one after the other (issue 14, item 5).
BATCH_BYTES = 32 * 1024 * 1024
K = TypeVar("K")
TURN = 0.5  # seconds: how often a wait comes back to check the stop request and call `beat`


def _no_beat() -> None:
    pass


class Mailbox(Protocol):
    def connect(self) -> None: ...
    def probe(self) -> str: ...
    def fetch(self, limit: int) -> list[Fetched]: ...
    def move(self, keys: list[str], folder: str) -> None: ...
    def wait(self, stop: threading.Event, beat: Callable[[], None] = _no_beat) -> None: ...
    def close(self) -> None: ...
    def describe(self) -> str: ...


def open_mailbox(config: MailboxConfig) -> Mailbox:
    return MaildirMailbox(config) if config.kind == "maildir" else ImapMailbox(config)


class ImapMailbox:
    def __init__(self, config: MailboxConfig, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        self._client: IMAPClient | None = None
        self.can_idle = False
        self.can_move = False
        self.tokens = TokenSource(config.oauth) if config.auth == "xoauth2" and config.oauth else None
        self._token_ends: datetime | None = None  # the end of the token this session logged in with

    @property
    def client(self) -> IMAPClient:
        """The connection; only used between connect() and close()."""
        if self._client is None:
            raise TransientError("IMAP: not connected")
        return self._client

    def describe(self) -> str:
        return f"imap://{self.config.username}@{self.config.host}:{self.config.port}/{self.config.folder}"

    def _open(self) -> IMAPClient:
        cfg = self.config
        context = ssl.create_default_context() if cfg.tls != "none" else None
        client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.tls == "ssl", ssl_context=context, timeout=self.timeout)
        client.normalise_times = False  # keep INTERNALDATE's offset: it is the date of receipt
        _quiet(client)
        if cfg.tls == "starttls":
            client.starttls(context)
        return client

    def _login(self) -> IMAPClient:
        cfg = self.config
        client = self._open()
        if self.tokens is None:
            client.login(cfg.username, cfg.password)
            return client
        token = self.tokens.access_token()
        try:
            client.oauth2_login(cfg.username, token)
        except LoginError as exc:
            # A token refused before its end (revoked, clock skew): one refresh and one more try, on a
            # new connection (the failed AUTHENTICATE leaves the old one in the server's error dialogue).
            log.info("IMAP refused the access token (%s); refreshing it once", _why(exc))
            _shut(client)
            token = self.tokens.refresh(stale=token)
            client = self._open()
            client.oauth2_login(cfg.username, token)
        self._token_ends = self.tokens.ends_at(token)
        return client

    def _token_ending(self) -> bool:
        """Exchange Online ends an IMAP session when its token expires (BYE AccessTokenExpired): log in
        again with a fresh token a few minutes before, between two waits, rather than be cut off."""
        return self.tokens is not None and self._token_ends is not None and self.tokens.ending(self._token_ends)

    def _login_again(self) -> None:
        log.info("IMAP: the session's access token ends at %s; logging in again with a fresh one", self._token_ends)
        self.close()
        self.connect()

    def probe(self) -> str:
        """For `check`: log in and look at the folders, changing nothing (`run` creates a missing
        processed or quarantine folder; a missing inbox folder is a mistake)."""
        cfg = self.config
        try:
            client = self._login()
            try:
                missing = [
                    f for f in (cfg.folder, cfg.processed_folder, cfg.quarantine_folder) if not client.folder_exists(f)
                ]
            finally:
                client.logout()
        except NETWORK_ERRORS as exc:
            raise TransientError(f"IMAP {cfg.host}:{cfg.port}: {_why(exc)}") from None
        if cfg.folder in missing:
            raise TransientError(f"{self.describe()}: folder {cfg.folder!r} does not exist (mailbox.folder)")
        return f"{self.describe()} answered" + (f"; run will create {', '.join(missing)}" if missing else "")

    def connect(self) -> None:
        cfg = self.config
        try:
            client = self._login()
            capabilities = client.capabilities()
            self.can_idle = cfg.idle and b"IDLE" in capabilities
            self.can_move = b"MOVE" in capabilities
            for folder in (cfg.processed_folder, cfg.quarantine_folder):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
            client.select_folder(cfg.folder)
        except LoginError as exc:
            raise LoginRefused(f"IMAP {cfg.host}:{cfg.port}: login refused for {cfg.username}: {_why(exc)}") from None
        except NETWORK_ERRORS as exc:
            raise TransientError(f"IMAP {cfg.host}:{cfg.port}: {_why(exc)}") from None
        self._client = client

    def fetch(self, limit: int) -> list[Fetched]:
        try:
            uids = sorted(self.client.search("UNDELETED"))[:limit]
            if not uids:
                return []
            sizes = self.client.fetch(uids, ["RFC822.SIZE"])
            uids = within_budget(uids, [sizes.get(uid, {}).get(b"RFC822.SIZE", 0) for uid in uids])
            answer = self.client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        except NETWORK_ERRORS as exc:
            raise TransientError(f"IMAP fetch: {_why(exc)}") from None
        fetched = []
        for uid in uids:
            data = answer.get(uid)
            if data is None or b"BODY[]" not in data:
                continue  # expunged meanwhile by someone else
            fetched.append(Fetched(key=str(uid), raw=data[b"BODY[]"], arrived_at=_aware(data.get(b"INTERNALDATE"))))
        return fetched

    def move(self, keys: list[str], folder: str) -> None:
        if not keys:
            return
        uids = [int(key) for key in keys]
        try:
            if self.can_move:
                self.client.move(uids, folder)
            else:
                self.client.copy(uids, folder)
                self.client.delete_messages(uids)
                self.client.uid_expunge(uids) if self.client.has_capability("UIDPLUS") else self.client.expunge()
        except NETWORK_ERRORS as exc:
            raise TransientError(f"IMAP move to {folder}: {_why(exc)}") from None

    def wait(self, stop: threading.Event, beat: Callable[[], None] = _no_beat) -> None:
        """Return when new mail may be there: IDLE when offered, else after poll_interval.
        `beat` is called every TURN seconds while waiting: the loop is alive (the systemd watchdog)."""
        if self._token_ending():
            self._login_again()
        try:
            # Re-select: its EXISTS count covers mail that arrived while we were busy, which
            # IDLE would not announce again.
            if self.client.select_folder(self.config.folder).get(b"EXISTS", 0):
                return
            if not self.can_idle:
                pause(stop, self.config.poll_interval.total_seconds(), beat)
                return
            self._idle(stop, beat)
        except NETWORK_ERRORS as exc:
            raise TransientError(f"IMAP wait: {_why(exc)}") from None

    def _idle(self, stop: threading.Event, beat: Callable[[], None]) -> None:
        self.client.idle()
        try:
            started = time.monotonic()
            while not stop.is_set() and time.monotonic() - started < IDLE_REFRESH and not self._token_ending():
                beat()
                responses = self.client.idle_check(timeout=TURN)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return
                if any(r and r[0] == b"BYE" for r in responses):
                    raise TransientError("IMAP server closed the connection (BYE)")
        finally:
            self.client.idle_done()

    def close(self) -> None:
        if self._client is None:
            return
        with contextlib.suppress(*NETWORK_ERRORS):
            self._client.logout()
        self._client = None


class MaildirMailbox:
    """A local Maildir (new/ and cur/); folders are Maildir++ subfolders such as `.Registered`."""

    def __init__(self, config: MailboxConfig) -> None:
        self.config = config
        assert config.path is not None, "a maildir mailbox has a path (config checks it)"
        self.root = Path(config.path)

    def describe(self) -> str:
        return f"maildir:{self.root}"

    def _folder(self, name: str) -> Path:
        return self.root if name in ("", "INBOX") else self.root / f".{name}"

    def probe(self) -> str:
        """For `check`: the inbox must already be a Maildir (a mistyped path is reported, not created);
        `run` creates the processed and quarantine folders."""
        inbox = self._folder(self.config.folder)
        if not all((inbox / sub).is_dir() for sub in ("new", "cur", "tmp")):
            raise TransientError(
                f"maildir {inbox} is not a Maildir (no new/, cur/ and tmp/ folders): check mailbox.path"
            )
        if not os.access(inbox / "new", os.R_OK | os.W_OK | os.X_OK):
            raise TransientError(f"maildir {inbox / 'new'} is not readable and writable by this user")
        missing = [
            name
            for name in (self.config.processed_folder, self.config.quarantine_folder)
            if not self._folder(name).is_dir()
        ]
        return f"{self.describe()} is a Maildir" + (f"; run will create {', '.join(missing)}" if missing else "")

    def connect(self) -> None:
        try:
            for folder in (self.config.folder, self.config.processed_folder, self.config.quarantine_folder):
                for sub in ("new", "cur", "tmp"):
                    (self._folder(folder) / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransientError(f"maildir {self.root}: {exc.strerror}") from None

    def _keys(self) -> list[tuple[float, str, int]]:
        inbox = self._folder(self.config.folder)
        keys = []
        for sub in ("new", "cur"):
            for entry in os.scandir(inbox / sub):
                if entry.is_file() and not entry.name.startswith("."):
                    stat = entry.stat()
                    keys.append((stat.st_mtime, f"{sub}/{entry.name}", stat.st_size))
        return sorted(keys)

    def fetch(self, limit: int) -> list[Fetched]:
        inbox = self._folder(self.config.folder)
        fetched = []
        try:
            keys = self._keys()[:limit]
            for mtime, key, _ in within_budget(keys, [size for _, _, size in keys]):
                raw = (inbox / key).read_bytes()
                fetched.append(Fetched(key=key, raw=raw, arrived_at=datetime.fromtimestamp(mtime, UTC)))
        except OSError as exc:
            raise TransientError(f"maildir {inbox}: {exc.strerror}") from None
        return fetched

    def move(self, keys: list[str], folder: str) -> None:
        inbox, target = self._folder(self.config.folder), self._folder(folder) / "cur"
        for key in keys:
            name = key.split("/", 1)[1]
            try:
                os.replace(inbox / key, target / (name if ":2," in name else name + ":2,S"))
            except FileNotFoundError:
                continue  # already moved before a crash
            except OSError as exc:
                raise TransientError(f"maildir move to {folder}: {exc.strerror}") from None

    def wait(self, stop: threading.Event, beat: Callable[[], None] = _no_beat) -> None:
        interval = self.config.poll_interval.total_seconds()
        started = time.monotonic()
        while not stop.is_set() and time.monotonic() - started < interval:
            beat()
            if self._keys():
                return
            stop.wait(min(0.2, interval))

    def close(self) -> None:
        pass


def within_budget(keys: list[K], sizes: list[int], budget: int = BATCH_BYTES) -> list[K]:
    """The first keys whose sizes add up to at most `budget`; always the first one."""
    taken: list[K] = []
    total = 0
    for key, size in zip(keys, sizes, strict=True):
        if taken and total + size > budget:
            break
        taken.append(key)
        total += size
    return taken


def pause(stop: threading.Event, seconds: float, beat: Callable[[], None]) -> None:
    """Wait `seconds` (or until a stop request), calling `beat` every TURN seconds."""
    until = time.monotonic() + seconds
    while not stop.is_set() and (left := until - time.monotonic()) > 0:
        beat()
        stop.wait(min(TURN, left))


def _quiet(client: IMAPClient) -> None:
    """imapclient sets imaplib's debug level to 5 for its protocol log, and at that level imaplib
    formats the repr of every response, literals included, before the logger drops it: 90 MB of text
    for a 40 MB message (issue 10). The level is kept only while someone listens at DEBUG."""
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


def _shut(client: IMAPClient) -> None:
    with contextlib.suppress(*NETWORK_ERRORS):
        client.shutdown()


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _why(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:200]
