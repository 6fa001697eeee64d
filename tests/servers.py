"""Real mail servers on loopback for the tests and the benchmarks: a private Dovecot and an SMTP sink.

`DovecotServer` starts its own Dovecot (`dovecot -F -c OWN.conf`) in a temporary directory, with its
own config, sockets, state, log and Maildir store, listening on 127.0.0.1 on a free port, with one
passwd-file per user, which Dovecot reads at the user's first login (so a test adds a fresh, empty
mailbox in microseconds). `SmtpSink` is an aiosmtpd `Controller` on 127.0.0.1 that keeps every message it
accepts and can be told to answer 4xx (retry later) or 5xx (refused), as a real relay does.

Theory of operation (Dovecot as root). Dovecot refuses to run its login and mail processes as root
(docs/notes.md). As root we keep Debian's packaged service users, `dovecot` for the internal
processes (auth reads the users file, so the file is group-readable by `dovecot`) and `dovenull` for
the login processes, and store the mail as `nobody`. As any other user, the whole instance runs as
that user, with no chroot. The folder separator is `/` by default (`separator=` to change it);
folders are siblings of INBOX (`Registered`, `Quarantine`) or below it (`INBOX/Registered`).

Nothing here is left behind: `stop()` ends Dovecot's whole process group, an `atexit` hook stops
whatever a crashed or interrupted run left running, and on Linux Dovecot's master gets SIGTERM if the
thread that started it dies (`setpriv --pdeathsig`), so even `kill -9` of pytest leaves no server.
Third-party imports (imapclient, aiosmtpd) happen inside the classes: importing this module never
fails, and `dovecot_unavailable()` / `smtp_unavailable()` say why a server cannot start.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import email
import email.message
import email.policy
import grp
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
DEFAULT_USER = "reclamations@example.com"
DEFAULT_PASSWORD = "secret"

# Root may run Dovecot only with these (Debian's `dovecot-core` creates the first two).
_ROOT_USERS = ("dovecot", "dovenull", "nobody")
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
_PREFIX = "complaintsd-dovecot-"

# Servers still running, stopped at interpreter exit if their owner could not (Ctrl-C, crash).
_live: set[Any] = set()
_live_lock = threading.Lock()


def _stop_all_live() -> None:
    with _live_lock:
        servers = list(_live)
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all_live)


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on now (the caller binds it soon after; start() retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def find_dovecot() -> str | None:
    """Path of the `dovecot` binary, also in the sbin directories a non-root PATH may lack."""
    return shutil.which("dovecot") or shutil.which("dovecot", path=_SBIN)


def dovecot_unavailable() -> str | None:
    """Why `DovecotServer` cannot start on this machine, or None when it can."""
    if find_dovecot() is None:
        return "the `dovecot` binary is not installed (Debian: apt-get install dovecot-imapd; or `make test-deps`)"
    if os.geteuid() == 0:
        for name in _ROOT_USERS:
            try:
                pwd.getpwnam(name)
            except KeyError:
                return f"running as root, Dovecot needs the system user {name!r}, which does not exist"
    try:
        import imapclient  # noqa: F401
    except ImportError:
        return "the Python package `imapclient` is not installed"
    return None


def smtp_unavailable() -> str | None:
    """Why `SmtpSink` cannot start here, or None when it can."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError:
        return "the Python package `aiosmtpd` is not installed"
    return None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------------------------
# Dovecot
# ----------------------------------------------------------------------------------------------

_CONF = """\
# Written by tests/servers.py for one test run; nothing here is read from /etc/dovecot.
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = {instance}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
# A wrong password is answered at once, not after the usual 2 s (and, below, without the auth
# penalty that would slow every later login from 127.0.0.1 by up to 15 s).
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
mail_plugins =
namespace inbox {{
  inbox = yes
  prefix =
  separator = {separator}
}}
# Tests and benchmarks open many connections from 127.0.0.1 to one mailbox.
mail_max_userip_connections = 1000
# One passwd-file per user: Dovecot stats a passwd-file at most once a second, so a user added to
# a shared file in the same second as the last lookup would be unknown; a new file is read at once.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
{oauth_passdb}userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot = {login_chroot}
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot = {anvil_chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclasses.dataclass(frozen=True)
class ImapAccount:
    """One mailbox user on a `DovecotServer`, with the server's helpers bound to it."""

    server: DovecotServer
    user: str
    password: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def connect(self) -> Any:
        """A logged-in `imapclient.IMAPClient`; the caller logs out (it is a context manager)."""
        return self.server.connect(self.user)

    def append(self, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int:
        return self.server.append(self.user, folder, raw, flags)

    def create_folder(self, folder: str) -> None:
        self.server.create_folder(self.user, folder)

    def folders(self) -> list[str]:
        return self.server.folders(self.user)

    def folder_uids(self, folder: str = "INBOX") -> list[int]:
        return self.server.folder_uids(self.user, folder)

    def fetch_all(self, folder: str = "INBOX") -> list[bytes]:
        return self.server.fetch_all(self.user, folder)


class DovecotServer:
    """A private Dovecot IMAP server on 127.0.0.1, a free port and a temporary directory.

    `DovecotServer().start()` (or `with DovecotServer() as server:`) returns once the port answers
    with its greeting. `users` maps each user to its password; `add_user()` adds an empty mailbox.
    """

    def __init__(
        self,
        *,
        user: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        separator: str = "/",
        host: str = LOOPBACK,
        start_timeout: float = 10.0,
        oauth2_introspection_url: str | None = None,
    ) -> None:
        if separator not in ("/", "."):
            raise ValueError(f"separator must be '/' or '.', not {separator!r}")
        self.host = host
        self.port = 0
        self.separator = separator
        # XOAUTH2 checked by Dovecot's oauth2 passdb, which POSTs the token to this URL (RFC 7662).
        self.oauth2_introspection_url = oauth2_introspection_url
        self.users: dict[str, str] = {}
        self.root: Path | None = None
        self._first_user = (user, password)
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._uid = self._gid = 0
        self._users_group = -1

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DovecotServer {self.host}:{self.port} {state} root={self.root}>"

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        assert self.root is not None, "not started"
        return self.root / "dovecot.log"

    def log_text(self) -> str:
        """Everything Dovecot logged so far (auth failures, mailbox errors...)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self) -> DovecotServer:
        binary = find_dovecot()
        if binary is None:
            raise RuntimeError(dovecot_unavailable())
        # A short base: Dovecot's unix sockets must fit in 108 bytes.
        tmp = tempfile.gettempdir()
        parent = Path(tmp if len(tmp) < 40 else "/tmp")
        _sweep_stale(parent)
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=parent))
        (self.root / "owner.pid").write_text(f"{os.getpid()}\n")
        try:
            self._prepare()
            last_error = ""
            # The free port may be taken between our probe and Dovecot's bind: try a few.
            for _attempt in range(5):
                self.port = free_port(self.host)
                self._write_conf()
                last_error = self._spawn(binary)
                if not last_error:
                    with _live_lock:
                        _live.add(self)
                    return self
                if "Address already in use" not in last_error:
                    break
            raise RuntimeError(f"Dovecot did not start:\n{last_error}")
        except BaseException:
            self.stop()
            raise

    def crash_and_restart(self, down: float = 0.0) -> None:
        """Kill Dovecot and all its processes at once (SIGKILL, as a crash or an OOM kill), keep its
        mailboxes, and start it again on the same port `down` seconds later: clients see their
        connections cut, then refused, then a server that recovered its indexes by itself."""
        binary = find_dovecot()
        assert binary is not None and self.root is not None and self._proc is not None, "not started"
        _killpg(self._proc.pid, signal.SIGKILL)
        self._terminate()
        time.sleep(down)
        error = self._spawn(binary)
        if error:
            raise RuntimeError(f"Dovecot did not restart:\n{error}")

    def _prepare(self) -> None:
        assert self.root is not None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self._uid, self._gid = nobody.pw_uid, nobody.pw_gid
            self._users_group = grp.getgrnam("dovecot").gr_gid if _group_exists("dovecot") else -1
        else:
            self._uid, self._gid = os.getuid(), os.getgid()
        # Dovecot's own processes (auth as `dovecot`, mail as `nobody`) must traverse the root.
        self.root.chmod(0o755)
        mail = self.root / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, self._uid, self._gid)
        (self.root / "state").mkdir(mode=0o750)
        users = self.root / "users"
        users.mkdir(mode=0o750)
        os.chown(users, -1, self._users_group)
        self.users = {}
        user, password = self._first_user
        self.add_user(user, password)

    def _write_conf(self) -> None:
        assert self.root is not None
        if os.geteuid() == 0:
            internal_user, internal_group, login_user = "dovecot", "dovecot", "dovenull"
            login_chroot, anvil_chroot = "login", "empty"
        else:
            internal_user = login_user = pwd.getpwuid(os.getuid()).pw_name
            internal_group = grp.getgrgid(os.getgid()).gr_name
            # Only root may chroot.
            login_chroot = anvil_chroot = ""
        conf = _CONF.format(
            host=self.host,
            port=self.port,
            root=self.root,
            instance=f"complaintsd-test-{os.getpid()}-{self.root.name}",
            internal_user=internal_user,
            internal_group=internal_group,
            login_user=login_user,
            uid=self._uid,
            gid=self._gid,
            separator=self.separator,
            login_chroot=login_chroot,
            anvil_chroot=anvil_chroot,
            oauth_mechanisms=" xoauth2 oauthbearer" if self.oauth2_introspection_url else "",
            oauth_passdb=self._oauth_passdb(),
        )
        (self.root / "dovecot.conf").write_text(conf)

    def _oauth_passdb(self) -> str:
        """Dovecot 2.3's oauth2 passdb (doc.dovecot.org/2.3, "Open Authentication v2.0 database"),
        asking the introspection URL whether a token is active and whose it is."""
        if not self.oauth2_introspection_url:
            return ""
        assert self.root is not None
        args = self.root / "oauth2.conf.ext"
        args.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.oauth2_introspection_url}\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            "force_introspection = yes\n"
        )
        args.chmod(0o644)
        return f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {args}\n}}\n"

    def _spawn(self, binary: str) -> str:
        """Start Dovecot and wait for its greeting; '' on success, else what went wrong."""
        assert self.root is not None
        command = [binary, "-F", "-c", str(self.root / "dovecot.conf")]
        setpriv = shutil.which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            # The kernel signals Dovecot if the thread that started it dies (pytest killed by -9).
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        stderr_path = self.root / "stderr.log"
        with open(stderr_path, "ab") as stderr:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # Ctrl-C in the terminal is ours to handle, not Dovecot's.
                close_fds=True,
            )
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            status = self._proc.poll()
            if status is not None:
                self._terminate()
                error = f"{_tail(stderr_path)}\n{self.log_text()[-3000:]}".strip()
                return error or f"dovecot exited with status {status}"
            if self._greets():
                return ""
            time.sleep(0.02)
        self._terminate()
        return f"no IMAP greeting on {self.host}:{self.port} within {self._start_timeout} s\n{self.log_text()[-3000:]}"

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                greeted = sock.recv(64).startswith(b"* OK")
                if greeted:
                    sock.sendall(b"a LOGOUT\r\n")
                    sock.recv(256)
                return greeted
        except OSError:
            return False

    def stop(self) -> None:
        """Stop Dovecot and all its processes, then remove its directory. Safe to call twice."""
        with _live_lock:
            _live.discard(self)
        self._terminate()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session made the master its process group's leader.
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _killpg(pgid, signal.SIGKILL)
                proc.wait(timeout=10)
        # The master stops its children, some (the log process) a moment after it exits.
        deadline = time.monotonic() + 3
        while _live_group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.01)
        _killpg(pgid, signal.SIGKILL)

    # -- users ---------------------------------------------------------------------------------

    def add_user(self, user: str | None = None, password: str = DEFAULT_PASSWORD, *, hint: str = "") -> ImapAccount:
        """Add a mailbox user (a fresh, unique one when `user` is None) and return its account.

        Dovecot re-reads the passwd-file when it changes, so the user can log in at once.
        `hint` (e.g. a test's name) makes a generated name easier to find in the log.
        """
        with self._lock:
            if user is None:
                slug = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:40]
                user = f"box{next(self._counter):04d}{'-' + slug if slug else ''}@example.com"
            if user in self.users:
                raise ValueError(f"user {user!r} already exists")
            if any(c in user + password for c in ":\n\r") or not user:
                raise ValueError("user and password may not be empty or contain ':' or newlines")
            if "/" in user or user.startswith("."):
                raise ValueError(f"user {user!r} may not contain '/' or start with '.'")
            self._write_user(user, password)
            self.users[user] = password
        return ImapAccount(self, user, password)

    def account(self, user: str = DEFAULT_USER) -> ImapAccount:
        return ImapAccount(self, user, self.users[user])

    def _write_user(self, user: str, password: str) -> None:
        # Written once and never changed (see the passdb comment in _CONF); readable by auth.
        assert self.root is not None
        tmp = self.root / "users" / f".{user}.tmp"
        tmp.write_text(f"{user}:{{PLAIN}}{password}::::::\n")
        os.chown(tmp, -1, self._users_group)
        tmp.chmod(0o640)
        os.replace(tmp, self.root / "users" / user)

    # -- IMAP helpers (each opens its own connection) ------------------------------------------

    def connect(self, user: str = DEFAULT_USER, password: str | None = None, *, timeout: float = 10.0) -> Any:
        """A logged-in `imapclient.IMAPClient` for `user`; use it as a context manager."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self.users[user] if password is None else password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, user: str, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int:
        """APPEND `raw` to `folder` (created if missing) and return its UID."""
        with self.connect(user) as client:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags))
        match = re.search(rb"APPENDUID \d+ (\d+)", response if isinstance(response, bytes) else b"")
        if match is None:
            raise RuntimeError(f"no APPENDUID in Dovecot's answer: {response!r}")
        return int(match.group(1))

    def create_folder(self, user: str, folder: str) -> None:
        with self.connect(user) as client:
            client.create_folder(folder)

    def folders(self, user: str) -> list[str]:
        with self.connect(user) as client:
            return [name for _flags, _sep, name in client.list_folders()]

    def folder_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        """UIDs of the messages in `folder`, ascending; [] while the folder does not exist, so
        that a test can poll for the daemon's `Registered` before the daemon created it."""
        with self.connect(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def fetch_all(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw bytes of every message in `folder` by ascending UID, without setting \\Seen;
        [] while the folder does not exist."""
        with self.connect(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[]"])
            return [data[uid][b"BODY[]"] for uid in uids]


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale(parent: Path) -> None:
    """Remove what a killed run left (its owner is dead): the directory, and a Dovecot still in it."""
    for root in parent.glob(f"{_PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner) or not os.access(root, os.W_OK):
            continue
        try:
            master = int((root / "run" / "master.pid").read_text())
            if _pid_alive(master) and str(root) in Path(f"/proc/{master}/cmdline").read_text(errors="replace"):
                _killpg(master, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        shutil.rmtree(root, ignore_errors=True)


def _live_group_members(pgid: int) -> list[int]:
    """PIDs of the processes of group `pgid` that still run (zombies excepted; Linux /proc)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the parenthesised command: state, ppid, pgrp, ...
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.parent.name))
    return pids


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ----------------------------------------------------------------------------------------------
# SMTP
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReceivedMessage:
    """One message the sink accepted (250 after DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    arrived_monotonic: float  # time.monotonic() at the end of DATA
    arrived_at: float  # time.time() at the end of DATA
    auth_login: str | None = None
    peer: tuple[str, int] | None = None  # the client's address and port: one per connection
    mail_options: tuple[str, ...] = ()  # MAIL FROM's parameters, e.g. SMTPUTF8

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True)
class Rejection:
    """One reply the sink gave instead of accepting: `stage` is 'mail', 'rcpt' or 'data'."""

    stage: str
    mail_from: str | None
    rcpt: str | None
    reply: str
    at_monotonic: float


class SmtpSink:
    """An aiosmtpd SMTP server on 127.0.0.1 and a free port that keeps what it receives.

    `fail_next(n)` answers the next `n` transactions with a temporary failure (451 by default);
    `refuse(addr, ...)` permanently refuses those recipients (550) until `reset()`. With `auth`
    ({login: password}) it advertises AUTH PLAIN/LOGIN without TLS and requires it. It offers
    SMTPUTF8 (RFC 6531) unless `smtputf8=False`: a relay that cannot take an internationalised address.
    With `pipelining=True` it offers PIPELINING (RFC 2920), as Postfix does: aiosmtpd reads each
    command line from its stream and answers it before reading the next, so commands written at
    once are answered one by one, in order.
    """

    TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"
    REFUSED = "550 5.1.1 Mailbox unavailable"

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        auth: dict[str, str] | None = None,
        smtputf8: bool = True,
        latency: float = 0.0,
        max_connections: int = 0,
        pipelining: bool = False,
        starttls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.pipelining = pipelining
        self.starttls = starttls  # the server's certificate: STARTTLS offered and required before MAIL
        self.pipelined = 0  # transactions whose RCPT had arrived with their MAIL: written at once
        self.max_connections = max_connections  # beyond this many at once, a 421 greeting (0: no limit)
        self.connections = 0  # open now
        self.latency = latency  # seconds before each answer to MAIL, RCPT and DATA: a relay far away
        self.smtputf8 = smtputf8
        self.port = 0
        self.auth = dict(auth) if auth else None
        self._controller: Any = None
        self._cond = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._rejections: list[Rejection] = []
        self._fail_budget = 0
        self._fail_reply = self.TEMPFAIL
        self._fail_stage = "data"
        self._refused: dict[str, str] = {}
        self._delays: dict[str, float] = {}

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SmtpSink:
        error: Exception | None = None
        for _attempt in range(5):
            self.port = free_port(self.host)
            try:
                self._listen()
            except OSError as exc:  # Someone took the port between probe and bind.
                error = exc
                continue
            return self
        raise RuntimeError(f"SMTP sink did not start: {error}")

    def resume(self) -> None:
        """After `stop()`, listen again on the same port, keeping what was received: a relay back
        from an outage."""
        self._listen()

    def _listen(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        kwargs: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.starttls is not None:
            kwargs.update(tls_context=self.starttls, require_starttls=True)
        if self.auth is not None:
            # AUTH without TLS, as on loopback; MAIL FROM enforces it (auth_required=True would
            # make aiosmtpd warn at every connection).
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        sink = self

        class LimitedSMTP(SMTP):
            """aiosmtpd's server, greeting with 421 beyond the sink's `max_connections` (a relay that
            takes fewer connections than the client opens)."""

            refused = False

            def connection_made(self, transport: Any) -> None:
                with sink._cond:
                    self.refused = 0 < sink.max_connections <= sink.connections
                    sink.connections += not self.refused
                if self.refused:
                    transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
                    transport.close()
                    return
                super().connection_made(transport)

            def connection_lost(self, error: Exception | None) -> None:
                if self.refused:
                    return
                with sink._cond:
                    sink.connections -= 1
                super().connection_lost(error)

        class Limited(Controller):
            def factory(self) -> Any:
                return LimitedSMTP(self.handler, **self.SMTP_kwargs)

        controller = Limited(self._handler(), hostname=self.host, port=self.port, **kwargs)
        controller.start()
        self._controller = controller
        with _live_lock:
            _live.add(self)

    def _handler(self) -> Any:
        """The aiosmtpd handler: its `auth_<MECHANISM>` methods are the AUTH mechanisms offered."""
        return _PipeliningHandler(self) if self.pipelining else _SinkHandler(self)

    def stop(self) -> None:
        with _live_lock:
            _live.discard(self)
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    # -- behaviour -----------------------------------------------------------------------------

    def fail_next(self, count: int = 1, reply: str = TEMPFAIL, *, stage: str = "data") -> None:
        """Answer the next `count` transactions with `reply` at `stage` ('mail', 'rcpt', 'data')."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(f"stage must be 'mail', 'rcpt' or 'data', not {stage!r}")
        with self._cond:
            self._fail_budget, self._fail_reply, self._fail_stage = count, reply, stage

    def refuse(self, *recipients: str, reply: str = REFUSED) -> None:
        """Refuse these recipients at RCPT TO (case-insensitive) until `reset()`."""
        with self._cond:
            for rcpt in recipients:
                self._refused[rcpt.lower()] = reply

    def delay_once(self, recipient: str, seconds: float) -> None:
        """Answer the next DATA of a transaction to `recipient` (or from that return path) only after
        `seconds` (a slow relay)."""
        with self._cond:
            self._delays[recipient.lower()] = seconds

    def _take_delay(self, recipients: list[str]) -> float:
        with self._cond:
            return max((self._delays.pop(r.lower(), 0.0) for r in recipients), default=0.0)

    def reset(self) -> None:
        """Forget received messages, rejections, planned failures, refusals and delays."""
        with self._cond:
            self._messages.clear()
            self._rejections.clear()
            self._fail_budget = 0
            self._refused.clear()
            self._delays.clear()

    # -- what arrived --------------------------------------------------------------------------

    def messages(self) -> list[ReceivedMessage]:
        with self._cond:
            return list(self._messages)

    def rejections(self) -> list[Rejection]:
        with self._cond:
            return list(self._rejections)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Wait until at least `count` messages arrived and return them all; TimeoutError if not."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout=timeout):
                raise TimeoutError(
                    f"SMTP sink got {len(self._messages)} of {count} messages within {timeout} s "
                    f"(rejections: {[r.reply for r in self._rejections]})"
                )
            return list(self._messages)

    # -- called from the server's thread -------------------------------------------------------

    def _take_failure(self, stage: str) -> str | None:
        with self._cond:
            if self._fail_budget > 0 and self._fail_stage == stage:
                self._fail_budget -= 1
                return self._fail_reply
            return None

    def _refusal(self, rcpt: str) -> str | None:
        with self._cond:
            return self._refused.get(rcpt.lower())

    def _reject(self, stage: str, mail_from: str | None, rcpt: str | None, reply: str) -> str:
        with self._cond:
            self._rejections.append(Rejection(stage, mail_from, rcpt, reply, time.monotonic()))
        return reply

    def _accept(self, message: ReceivedMessage) -> None:
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert self.auth is not None
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            if self.auth.get(login) == auth_data.password.decode("utf-8", "replace"):
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


class _SinkHandler:
    """aiosmtpd hooks; each returns the reply, as aiosmtpd handlers do (docs/handlers.rst)."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        if b"RCPT" in getattr(server._reader, "_buffer", b""):  # aiosmtpd's StreamReader: what it holds unread
            with self.sink._cond:
                self.sink.pipelined += 1
        if self.sink.latency:
            await asyncio.sleep(self.sink.latency)
        if self.sink.auth is not None and not session.authenticated:
            return self.sink._reject("mail", address, None, "530 5.7.0 Authentication required")
        reply = self.sink._take_failure("mail")
        if reply is not None:
            return self.sink._reject("mail", address, None, reply)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.sink_rcpt_failure = None
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.sink.latency:
            await asyncio.sleep(self.sink.latency)
        refusal = self.sink._refusal(address)
        if refusal is not None:
            return self.sink._reject("rcpt", envelope.mail_from, address, refusal)
        # A transaction chosen to fail at RCPT fails for every recipient, like greylisting.
        failure = getattr(envelope, "sink_rcpt_failure", None) or self.sink._take_failure("rcpt")
        if failure is not None:
            envelope.sink_rcpt_failure = failure
            return self.sink._reject("rcpt", envelope.mail_from, address, failure)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        delay = self.sink.latency + self.sink._take_delay([envelope.mail_from, *envelope.rcpt_tos])
        if delay:
            await asyncio.sleep(delay)
        reply = self.sink._take_failure("data")
        if reply is not None:
            return self.sink._reject("data", envelope.mail_from, None, reply)
        data = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        auth_data = getattr(session, "auth_data", None)
        self.sink._accept(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=bytes(data),
                arrived_monotonic=time.monotonic(),
                arrived_at=time.time(),
                auth_login=auth_data if isinstance(auth_data, str) else None,
                peer=tuple(session.peer) if session.peer else None,
                mail_options=tuple(envelope.mail_options),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


class _PipeliningHandler(_SinkHandler):
    """The sink's hooks, and PIPELINING in the EHLO reply (aiosmtpd's "new" EHLO hook: it gets the
    reply lines and returns them; the client's name is then the hook's to keep)."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]
