"""Threading: a mail about a registered complaint attaches to it (issue 5, point 1)."""

from __future__ import annotations

import pytest

from daemon.core.parsing import parse
from daemon.core.threads import thread_of

IDS = {"<REC-2026-000042.ack.x@example.com>": 42}
REFS = {"REC-2026-000042": 42, "REC-2026-000007": 7}


def mail(subject: str, in_reply_to: str = "", references: str = "") -> object:
    headers = f"From: c@client.example\nSubject: {subject}\nMessage-ID: <n@client.example>\n"
    if in_reply_to:
        headers += f"In-Reply-To: {in_reply_to}\n"
    if references:
        headers += f"References: {references}\n"
    return parse((headers + "\nbody\n").encode())


@pytest.mark.parametrize(
    "subject, in_reply_to, references, expected",
    [
        ("Re: [REC-2026-000042] Accusé de réception", "", "", 42),
        ("RE : [REC-2026-000042] x", "", "", 42),
        ("AW: TR: Fwd: [REC-2026-000007] x", "", "", 7),
        ("Re: sans référence", "<REC-2026-000042.ack.x@example.com>", "", 42),
        ("Re: sans référence", "<other@x>", "<a@b> <REC-2026-000042.ack.x@example.com>", 42),
        ("Re: [REC-2026-999999] inconnue", "", "", None),
        ("[CPL-2026-000042] another prefix", "", "", None),
        ("Nouvelle réclamation", "", "", None),
    ],
)
def test_thread_of(subject, in_reply_to, references, expected):
    assert thread_of(mail(subject, in_reply_to, references), "REC", IDS, REFS) == expected


def test_a_quoted_message_id_wins_over_the_subject():
    assert thread_of(mail("Re: [REC-2026-000007]", "<REC-2026-000042.ack.x@example.com>"), "REC", IDS, REFS) == 42
