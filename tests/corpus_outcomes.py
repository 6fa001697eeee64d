"""The outcome every complete message of tests/corpus must get from a running daemon (issue 14, "What
it must show"): a table like flufl.bounce's DATA (docs/style.md item 16), written from MANIFEST.tsv.

The rule reads each message's category: a person's mail (`real`, `reply`) opens a complaint, a
bounce or an auto-reply (`bounce`, `autoreply`) is a robot's, kept and never answered. Then, from
the corpus itself rather than from the daemon's output:
* a message whose Message-ID an earlier message of the corpus already carries is a duplicate
  (fixture suites copy one sample into many variants: enmime's low-quality set, sisimai's
  bsd/dos/mac copies), whatever its category;
* EXCEPTIONS: the `real` messages that are not a person's complaint after all, each checked by
  hand: no From address a reply could go to (quarantined with its reason), or a list, bulk,
  no-reply or mail-system sender (a robot's, never acknowledged).

mikel-mail's raw_email_incorrect_header.eml, a spam with a malformed line ("quite Delivered-To: …")
in its header section, opens a complaint: a person reading it would register it too (parsing.py
drops the stray line; Python's parser alone ended the header section there and lost the From).
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass

from daemon.core.triage import Outcome
from tests.corpus import corpus_dir, manifest

COMPLETE = ("real", "reply", "bounce", "autoreply")  # the other categories are message bodies only
QUARANTINE, ROBOT = Outcome.QUARANTINE, Outcome.ROBOT
NOT_MAIL = "no header section: the bytes are not an email message"

# `real` messages that are not a complaint: (outcome, the reason the daemon must give).
EXCEPTIONS: dict[str, tuple[Outcome, str]] = {
    # No sender to answer: no From, an empty one, or one that is not an address.
    "real/cpython/msg_19.txt": (QUARANTINE, NOT_MAIL),
    "real/cpython/msg_38.txt": (QUARANTINE, "no sender address"),
    "real/cpython/msg_39.txt": (QUARANTINE, "no sender address"),
    "real/cpython/msg_40.txt": (QUARANTINE, "no sender address"),
    "real/enmime/mail/erroneous.raw": (QUARANTINE, NOT_MAIL),
    "real/enmime/parts/badboundary.raw": (QUARANTINE, "no sender address"),
    "real/enmime/parts/chardet-success-big-5.raw": (QUARANTINE, "no sender address"),
    "real/enmime/parts/missing-closing-param-quote.raw": (QUARANTINE, "no sender address"),
    "real/enmime/parts/multimixed-no-closing-boundary.raw": (QUARANTINE, "no sender address"),
    "real/mikel-mail/error_emails/bad_encoded_subject.eml": (QUARANTINE, "no sender address"),
    "real/mimekit/mbox/content-length.mbox.msg06.eml": (QUARANTINE, "no sender address"),
    "real/mimekit/multipart-related-mhtml.txt": (QUARANTINE, "no sender address"),
    "real/nodemailer-mailparser/mixed.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/000.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/001.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/002.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/003.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/004.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/005.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/006.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/007.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/008.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/009.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/010.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/012.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/013.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/014.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/016.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/018.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/malformed/019.eml": (QUARANTINE, NOT_MAIL),
    "real/stalwart-mail-parser/rfc/004.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/thirdparty/000.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/thirdparty/002.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/thirdparty/004.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/thirdparty/006.eml": (QUARANTINE, "no sender address"),
    "real/stalwart-mail-parser/thirdparty/010.eml": (QUARANTINE, "no sender address"),
    # A person's mail program would not send these: a list, bulk mail, a no-reply or mail-system address.
    "real/cpython/msg_32.txt": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/cpython/msg_33.txt": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/django-mailbox/message_with_image_jpg_mimetype.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/django-mailbox/message_with_utf8_char.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/flanker/apache-message-news-mime.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/flanker/from-encoding.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/flanker/long-links.eml": (ROBOT, "sent by the mail system (postmaster@example.com)"),
    "real/flanker/message-external-body.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/mikel-mail/error_emails/bad_date_header.eml": (ROBOT, "bulk or list mail (Precedence: junk)"),
    "real/mikel-mail/error_emails/empty_in_reply_to.eml": (ROBOT, "mailing-list mail (List-Id)"),
    "real/mikel-mail/error_emails/encoding_madness.eml": (ROBOT, "no-reply address (no-reply@crm.el-example.org)"),
    "real/mimekit/[Announce] GnuPG 2.1.20 released.eml": (ROBOT, "mailing-list mail (List-Id)"),
    "real/mimekit/mbox/content-length.mbox.msg00.eml": (ROBOT, "empty envelope sender (Return-Path: <>)"),
    "real/mimekit/mbox/content-length.mbox.msg24.eml": (ROBOT, "bulk or list mail (Precedence: bulk)"),
    "real/nodemailer-mailparser/large_text.eml": (ROBOT, "mailing-list mail (List-Id)"),
    "real/nodemailer-mailparser/spam.eml": (ROBOT, "no-reply address (noreply@guide-des-vins-de-bourgogne.fr)"),
    "real/spamscope-mail-parser/mail_test_13": (ROBOT, "mailing-list mail (List-Id)"),
    "real/spamscope-mail-parser/mail_test_5": (ROBOT, "mailing-list mail (List-Unsubscribe)"),
    "real/spamscope-mail-parser/mail_test_6": (ROBOT, "no-reply address (noreply@ggg.com)"),
    "real/stalwart-mail-parser/thirdparty/014.eml": (ROBOT, "mailing-list mail (List-Id)"),
}


@dataclass(frozen=True)
class Expected:
    path: str
    category: str
    outcome: Outcome
    why: str  # for a quarantine or a robot: what the daemon's reason must contain


def _message_id(path: str) -> str | None:
    message = email.message_from_bytes((corpus_dir() / path).read_bytes(), policy=email.policy.compat32)
    value = message.get("Message-ID")
    return str(value).strip() if value and str(value).strip() else None


def expected_outcomes() -> list[Expected]:
    """Every complete message of the corpus, in MANIFEST order, with the outcome it must get."""
    table = []
    seen: set[str] = set()
    for row in manifest():
        if row["category"] not in COMPLETE:
            continue
        path, category = row["path"], row["category"]
        message_id = _message_id(path)
        if path in EXCEPTIONS and EXCEPTIONS[path][0] is QUARANTINE:
            outcome, why = EXCEPTIONS[path]
        elif message_id is not None and message_id in seen:
            outcome, why = Outcome.DUPLICATE, f"Message-ID {message_id} came earlier in the corpus"
        elif path in EXCEPTIONS:
            outcome, why = EXCEPTIONS[path]
        elif category in ("bounce", "autoreply"):
            outcome, why = ROBOT, ""
        else:
            outcome, why = Outcome.COMPLAINT, ""
        if message_id is not None:
            seen.add(message_id)
        table.append(Expected(path, category, outcome, why))
    return table
