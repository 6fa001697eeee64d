"""The authorization rule (docs/design.md, "Commands by email"): who may command, with what proof."""

from __future__ import annotations

import pytest

from daemon.core.commands.authorization import Refusal, TokenOwner, authorize, dmarc_pass

ALICE, BOB, BOSS = "alice@example.com", "bob@example.com", "qualite@example.com"
TRUSTED = frozenset({"mx.example.com"})


def verdict(sender, tokens=(), auth=(), complaint=1, handler=ALICE):
    return authorize(sender, complaint, handler, BOSS, tuple(tokens), tuple(auth), TRUSTED)


@pytest.mark.parametrize(
    "case, sender, tokens, auth, allowed, refusal",
    [
        ("valid token from the handler", ALICE, [TokenOwner("t1", 1, ALICE)], [], True, None),
        ("sender case does not matter", "Alice@Example.COM", [TokenOwner("t1", 1, ALICE)], [], True, None),
        ("forged From: without a token", ALICE, [], [], False, Refusal.UNVERIFIED),
        (
            "token for another complaint",
            ALICE,
            [TokenOwner("t2", 2, ALICE)],
            [],
            False,
            Refusal.TOKEN_OF_ANOTHER_COMPLAINT,
        ),
        ("token for another handler", ALICE, [TokenOwner("t3", 1, BOB)], [], False, Refusal.TOKEN_OF_ANOTHER_HANDLER),
        (
            "valid token from a non-handler",
            "eve@evil.example",
            [TokenOwner("t1", 1, ALICE)],
            [],
            False,
            Refusal.NOT_A_HANDLER,
        ),
        (
            "a handler of other complaints is not this one's",
            BOB,
            [TokenOwner("t4", 1, BOB)],
            [],
            False,
            Refusal.NOT_A_HANDLER,
        ),
        (
            "DMARC pass from our own MX",
            ALICE,
            [],
            ["mx.example.com; dmarc=pass (p=reject) header.from=example.com"],
            True,
            None,
        ),
        (
            "aligned DKIM pass from our own MX",
            ALICE,
            [],
            ["mx.example.com; dkim=pass header.d=example.com header.s=sel"],
            True,
            None,
        ),
        (
            "DMARC pass written by a stranger",
            ALICE,
            [],
            ["mx.evil.example; dmarc=pass header.from=example.com"],
            False,
            Refusal.UNVERIFIED,
        ),
        (
            "DKIM pass for another domain",
            ALICE,
            [],
            ["mx.example.com; dkim=pass header.d=evil.example"],
            False,
            Refusal.UNVERIFIED,
        ),
        ("DMARC fail", ALICE, [], ["mx.example.com; dmarc=fail header.from=example.com"], False, Refusal.UNVERIFIED),
        (
            "the supervisor with DMARC pass",
            BOSS,
            [],
            ["mx.example.com; dmarc=pass header.from=example.com"],
            True,
            None,
        ),
        ("the supervisor without proof", BOSS, [], [], False, Refusal.UNVERIFIED),
    ],
)
def test_authorization(case, sender, tokens, auth, allowed, refusal):
    result = verdict(sender, tokens, auth)
    assert (result.allowed, result.refusal) == (allowed, refusal), case


def test_dmarc_reads_the_rfc_8601_shape():
    header = (
        "mx.example.com;\r\n dkim=pass (2048-bit key) header.d=example.com header.i=@example.com;\r\n"
        " spf=pass smtp.mailfrom=example.com"
    )
    assert dmarc_pass((header,), TRUSTED, "example.com")
    assert not dmarc_pass(("",), TRUSTED, "example.com")
