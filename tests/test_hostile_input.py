"""Whatever reaches the public address, the core answers with a value, never an exception (issue 14).

The invariant, stated as h11's `fuzz/afl-server.py` states its own: any bytes give an `InboundMail`
or a `MailError` with a reason (a quarantine), and every mail the parser lets through is triaged,
made row-ready and, when it is a complaint, given its effects and its letters composed, without
raising. An exception out of these pure stages would be a poison mail: three tries, a quarantine,
a customer nobody answered. Three sources of input: arbitrary bytes; the corpus's real mails
mutated at random; and odd but well-formed messages built from the parts hostile senders play with
(addresses quoted, grouped, internationalised or empty; encoded words in unknown charsets; control
characters; Message-IDs and references of every shape; nested and broken MIME; robots' headers).

Under CI (`CI=true`, the "hostile-ci" profile) Hypothesis tries 10,000 arbitrary byte strings, 2,000
mutated and 2,000 odd messages, and composes the letters of 1,000 more; locally (the "hostile"
profile) a twentieth of that, so a developer's run stays quick and CI digs deeper.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.config import parse_config, policy_of
from daemon.core.intake import Prior, decide_registration, intake_of, triage_batch
from daemon.core.letters import Postbox, Templates
from daemon.core.mail import Fetched, InboundMail
from daemon.core.parsing import parse
from daemon.core.references import Reference
from daemon.core.triage import Outcome
from daemon.errors import MailError
from tests.conftest import in_ci
from tests.corpus import corpus_dir, manifest

settings.register_profile(
    "hostile",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("hostile-ci", settings.get_profile("hostile"), max_examples=10_000)
BYTES = settings.get_profile("hostile-ci" if in_ci() else "hostile")
# A message is built or mutated (~10 ms of generation and parsing, against ~1 ms for bare bytes), and
# a complaint's letters rendered and composed (~8 ms more): fewer of those, so CI stays near a minute.
MESSAGES = settings(BYTES, max_examples=BYTES.max_examples // 5)
LETTERS = settings(BYTES, max_examples=BYTES.max_examples // 10)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIG = parse_config(
    {
        "mailbox": {"kind": "maildir", "path": "/nonexistent/maildir"},
        "smtp": {"host": "127.0.0.1", "tls": "none", "from": "Service réclamations <reclamations@example.com>"},
        "database": {"url": "sqlite:////nonexistent/register.db"},
        "storage": {"path": "/nonexistent/attachments"},
        "handlers": [
            {"name": "Alice Martin", "email": "alice@example.com", "keywords": ["facture"]},
            {"name": "Bob Durand", "email": "bob@example.com"},
        ],
        "routing": {"default_handler": "bob@example.com", "supervisor": "qualite@example.com"},
    }
)
POLICY = policy_of(CONFIG)
POSTBOX = Postbox(Templates.of(CONFIG.register), CONFIG.smtp.sender)
KNOWN_ID = "<REC-2026-000001.ack.abc@example.com>"
# The register as it would answer for a batch naming a known letter and a known reference, so that
# threading and follow-ups are reached, not only new complaints.
PRIOR = Prior(
    outcomes={},
    message_ids=frozenset({"<seen@client.example>"}),
    thread_ids={KNOWN_ID: 1},
    thread_references={"REC-2026-000001": 1},
    automatic_mails={"camille@client.example": 4},
)


def through_the_core(raw: bytes, compose: bool = False) -> None:
    """Parse, triage and make row-ready; with `compose`, for a complaint, decide and compose its
    letters too (three times the cost: the letters' tests run it on fewer examples)."""
    try:
        mail: InboundMail | MailError = parse(raw)
    except MailError as error:
        assert error.reason, "a quarantine says why"
        mail = error
    sha = hashlib.sha256(raw).hexdigest()
    [triaged] = triage_batch([(Fetched("k", raw, NOW), sha, mail)], PRIOR, POLICY, NOW)
    assert triaged.outcome is not None
    if triaged.outcome is Outcome.QUARANTINE:
        assert triaged.reason
    intake = intake_of(triaged, (), NOW, POLICY)
    if compose and intake.outcome is Outcome.COMPLAINT:
        effects = decide_registration(intake, Reference("REC", 2026, 42), "Tok3n_x", NOW, POLICY)
        for letter in effects.letters:
            composed = POSTBOX.compose(letter, NOW)
            assert composed.recipients and composed.raw


@BYTES
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise_out_of_the_core(raw: bytes) -> None:
    through_the_core(raw)


# --- real mails, mutated --------------------------------------------------------------------------


def _seeds() -> list[bytes]:
    """Small complete messages of the corpus (a reply, a bounce, an auto-reply, a real mail…)."""
    rows = [r for r in manifest() if r["category"] in ("real", "reply", "bounce", "autoreply")]
    sizes = sorted(rows, key=lambda r: int(r["bytes"]))
    return [
        (corpus_dir() / r["path"]).read_bytes() for r in sizes[:: max(1, len(sizes) // 40)] if int(r["bytes"]) < 20_000
    ]


SEEDS = _seeds()
TOKENS = [b"\n", b"\r\n", b"\r", b"--", b":", b";", b"=?", b"?=", b"<", b">", b"\x00", b"\xff", b'"', b"\t", b"="]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 10))):
        at = draw(st.integers(0, len(data)))
        chunk = draw(st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=8)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert":
            data[at:at] = chunk
        elif action == "delete":
            del data[at : at + len(chunk) * draw(st.integers(1, 40))]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@MESSAGES
@given(mutated())
def test_mutated_real_mails_never_raise_out_of_the_core(raw: bytes) -> None:
    through_the_core(raw)


# --- odd but well-formed messages -----------------------------------------------------------------

ODD_TEXT = st.lists(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(["\x1b[2J", "\u202e", "\x00", "\x85", "é", "=?", "?=", '"', "\\", ",", "@", "<", ">", "\r\n "]),
    max_size=30,
).map("".join)
LOCAL = st.sampled_from(["camille", "jörg", '"a@x,b"', "a.b+c", "", "MAILER-DAEMON", "no-reply", "x" * 70, "ré sumé"])
DOMAIN = st.sampled_from(["client.example", "bücher.example", "example.com", "[127.0.0.1]", "", "x", "a..b"])
ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}" if domain else local, LOCAL, DOMAIN)
MAILBOX = st.one_of(
    ADDRESS,
    st.builds(lambda name, address: f'"{name}" <{address}>', ODD_TEXT, ADDRESS),
    st.builds(lambda name, address: f"{name} <{address}>", ODD_TEXT, ADDRESS),
    st.builds(lambda a, b: f"{a}, {b}", ADDRESS, ADDRESS),
    st.builds(lambda a: f"undisclosed-recipients:; {a}", ADDRESS),
    st.just("<>"),
)
ENCODED = st.builds(
    lambda charset, kind, text: f"=?{charset}?{kind}?{text}?=",
    st.sampled_from(["utf-8", "iso-8859-1", "x-unknown", "utf-7", "", "gb2312", "UTF-8*fr"]),
    st.sampled_from(["q", "b", "Q", "x"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?"), max_size=30),
)
MESSAGE_ID = st.one_of(
    st.sampled_from([KNOWN_ID, "<seen@client.example>", "<>", "", "<a@b> <c@d>", "<\x01@x>", "no brackets"]),
    st.builds(lambda text: f"<{text}@client.example>", ODD_TEXT),
)
HEADER_VALUE = st.one_of(
    ODD_TEXT, ENCODED, MAILBOX, MESSAGE_ID, st.sampled_from(["REC-2026-000001", "REC-2026-999999"])
)
EXTRA_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Reply-To",
                "References",
                "In-Reply-To",
                "Auto-Submitted",
                "Precedence",
                "List-Id",
                "Return-Path",
                "Authentication-Results",
                "Cc",
                "Sender",
                "X-Auto-Response-Suppress",
                "Content-Disposition",
            ]
        ),
        HEADER_VALUE,
    ),
    max_size=6,
)
DATE = st.one_of(st.just("Mon, 23 Nov 2026 10:00:00 +0100"), st.just("32 Foo 99999 99:99:99 -2500"), ODD_TEXT)
CHARSET = st.sampled_from(["utf-8", "iso-8859-1", "us-ascii", "x-unknown", "utf-16", "cp1252", ""])
CTE = st.sampled_from(["7bit", "8bit", "quoted-printable", "base64", "x-uuencode", ""])


@st.composite
def body_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    kind = draw(st.sampled_from(["text", "html", "file", "rfc822", "report"] + (["multipart"] if depth < 3 else [])))
    if kind == "multipart":
        boundary = draw(st.sampled_from(["b1", "b2", "=_x", ""])) + str(depth)
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed"]))
        parts = draw(st.lists(body_part(depth + 1), max_size=3))
        inner = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        closing = draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b""]))
        return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode() + inner + closing
    text = draw(ODD_TEXT).encode("utf-8", "surrogatepass")
    if kind == "html":
        tags = draw(st.sampled_from(["<blockquote>", "<div class=gmail_quote>", "<p>", "<script>", "<br>", "</div>"]))
        text = b"<html><body>" + tags.encode() + text + b"</body></html>"
    header = {
        "text": f"Content-Type: text/plain; charset={draw(CHARSET)}",
        "html": f"Content-Type: text/html; charset={draw(CHARSET)}",
        "file": f'Content-Type: application/pdf; name="{draw(ODD_TEXT)}"\r\nContent-Disposition: attachment; '
        f'filename="{draw(ODD_TEXT)}"',
        "rfc822": "Content-Type: message/rfc822",
        "report": "Content-Type: message/delivery-status",
    }[kind]
    if kind == "report":
        text = (
            b"Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; "
            + text
            + b"\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        )
    header_bytes = header.encode("utf-8", "surrogatepass")
    return header_bytes + f"\r\nContent-Transfer-Encoding: {draw(CTE)}\r\n\r\n".encode() + text


@st.composite
def odd_message(draw: st.DrawFn) -> bytes:
    headers = [
        ("From", draw(MAILBOX)),
        ("To", "reclamations@example.com"),
        (
            "Subject",
            draw(st.one_of(ODD_TEXT, ENCODED, st.just("RE: [REC-2026-000001] Votre réclamation [jeton:Tok3n_x]"))),
        ),
        ("Date", draw(DATE)),
        ("Message-ID", draw(MESSAGE_ID)),
        *draw(EXTRA_HEADERS),
    ]
    head = b"".join(f"{name}: {value}\r\n".encode("utf-8", "surrogatepass") for name, value in headers)
    return head + b"MIME-Version: 1.0\r\n" + draw(body_part())


@MESSAGES
@given(odd_message())
def test_odd_but_well_formed_messages_never_raise_out_of_the_core(raw: bytes) -> None:
    through_the_core(raw)


@LETTERS
@given(st.one_of(odd_message(), mutated()))
def test_a_complaint_from_any_of_them_gets_its_letters_composed(raw: bytes) -> None:
    through_the_core(raw, compose=True)


def test_the_seeds_are_the_corpus():
    """The mutations start from real mails: an empty corpus would make that test vacuous."""
    assert len(SEEDS) >= 20
    assert Path(corpus_dir()).is_dir()
