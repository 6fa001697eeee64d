"""core/verp.py as a table: the return path a letter leaves with, and which addresses name it.

The runner tests (tests/test_runners_abuse.py) send through a real aiosmtpd and match a bare
bounce; these pin the grammar: the round trip, each way an address can fail to name the letter,
and the bound on what one mail may make the register look up.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from daemon.core.parsing import parse
from daemon.core.verp import MAX_CLAIMS, Claim, Letter, check_of, claims, return_path, returned

OURS = "reclamations@example.com"
MESSAGE_ID = "<REC-2026-000001.ack.abc@example.com>"
LETTERS = {12: Letter(MESSAGE_ID, 1)}


def _bounce(to: str, **headers: str):
    message = EmailMessage()
    message["From"] = "MAILER-DAEMON@mx.client.example"
    message["To"] = to
    message["Subject"] = "failure notice"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("I'm afraid I wasn't able to deliver your message.\n")
    return parse(message.as_bytes())


@pytest.mark.parametrize("delimiter", ["+", "-"])
def test_a_return_path_names_its_letter_and_is_read_back(delimiter):
    path = return_path(OURS, 12, MESSAGE_ID, delimiter)
    assert path == f"reclamations{delimiter}b.12.{check_of(12, MESSAGE_ID)}@example.com"
    assert claims(_bounce(path), OURS, delimiter) == (Claim(12, check_of(12, MESSAGE_ID)),)
    assert returned(_bounce(path), LETTERS, OURS, delimiter) == (LETTERS[12],)


@pytest.mark.parametrize(
    "address",
    [
        pytest.param(f"reclamations+b.12.{'a' * 8}@example.com", id="a wrong check"),
        pytest.param(f"reclamations+b.13.{check_of(12, MESSAGE_ID)}@example.com", id="another id"),
        pytest.param(f"reclamations+b.12.{check_of(12, MESSAGE_ID)}@example.org", id="another domain"),
        pytest.param(f"support+b.12.{check_of(12, MESSAGE_ID)}@example.com", id="another mailbox"),
        pytest.param(f"reclamations-b.12.{check_of(12, MESSAGE_ID)}@example.com", id="another delimiter"),
    ],
)
def test_an_address_that_does_not_name_the_letter_matches_nothing(address):
    assert returned(_bounce(address), LETTERS, OURS, "+") == ()


def test_the_envelope_recipient_headers_count_and_case_does_not():
    path = return_path(OURS, 12, MESSAGE_ID, "+").upper()
    mail = _bounce("postmaster@example.com", X_Original_To=path)
    assert returned(mail, LETTERS, OURS, "+") == (LETTERS[12],)


def test_an_auto_reply_to_the_return_path_is_not_a_bounce():
    mail = _bounce(return_path(OURS, 12, MESSAGE_ID, "+"), Auto_Submitted="auto-replied")
    assert returned(mail, LETTERS, OURS, "+") == ()


def test_a_mail_naming_many_return_paths_is_bounded():
    to = ", ".join(return_path(OURS, n, MESSAGE_ID, "+") for n in range(1, 200))
    assert len(claims(_bounce(to), OURS, "+")) == MAX_CLAIMS
