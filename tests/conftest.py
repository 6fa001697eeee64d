"""Fixtures that start real servers on loopback: a private Dovecot (IMAP) and an aiosmtpd sink (SMTP).

Markers follow the fixtures: a test that uses `dovecot`, `imap_account` or `make_imap_account`
carries `@pytest.mark.dovecot`, one that uses `smtp_sink` carries `@pytest.mark.smtp`. Write the
marker on the test; `pytest_collection_modifyitems` adds a forgotten one, so that
`pytest -m "not dovecot"` always deselects every test that needs Dovecot.

When a server cannot start here (no `dovecot` binary, no aiosmtpd), its tests are skipped, except
under CI (`CI=true`), where they fail with the reason: a green CI must mean they ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.harness import compile_daemon
from tests.servers import DovecotServer, ImapAccount, SmtpSink, dovecot_unavailable, smtp_unavailable

# Which fixtures mean which marker.
FIXTURE_MARKERS = {
    "dovecot": {"dovecot", "imap_account", "make_imap_account"},
    "smtp": {"smtp_sink", "ascii_smtp_sink"},
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require(reason: str | None) -> None:
    """Skip the test when `reason` says a server cannot run here; fail instead under CI."""
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason}; CI=true requires every test server (run `make test-deps`)", pytrace=False)
    pytest.skip(reason)


def pytest_sessionstart(session: pytest.Session) -> None:
    compile_daemon()  # the daemons the tests start read compiled modules, as an installed one does


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in FIXTURE_MARKERS.items():
            if used & fixtures and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One private Dovecot for the whole session (separator `/`), with user
    `reclamations@example.com` / `secret`. Tests that need an empty mailbox use `imap_account`."""
    require(dovecot_unavailable())
    with DovecotServer() as server:
        yield server


@pytest.fixture
def make_imap_account(dovecot: DovecotServer, request: pytest.FixtureRequest) -> Callable[..., ImapAccount]:
    """Factory for fresh, empty mailbox users on the session's Dovecot:
    `make_imap_account(user=None, password="secret") -> ImapAccount`."""

    def make(user: str | None = None, password: str = "secret") -> ImapAccount:
        return dovecot.add_user(user, password, hint=request.node.name)

    return make


@pytest.fixture
def imap_account(make_imap_account: Callable[..., ImapAccount]) -> ImapAccount:
    """A fresh, empty mailbox user of its own for this test."""
    return make_imap_account()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A new SMTP sink on 127.0.0.1 for this test, accepting everything until told otherwise."""
    require(smtp_unavailable())
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def ascii_smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP sink that does not offer SMTPUTF8: a relay that cannot take an internationalised address."""
    require(smtp_unavailable())
    with SmtpSink(smtputf8=False) as sink:
        yield sink
