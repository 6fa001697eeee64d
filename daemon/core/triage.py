"""Decide what a parsed mail is for the ingestion stage: a new complaint, a duplicate, a robot, or quarantine.

This stage's sole purpose in life is `classify(mail, facts) -> Disposition`, a pure function: the shell
looks up the `Facts` in the register (is this raw message or Message-ID known? which addresses are
ours?) and acts on the returned value. Nothing here reads a clock, a database or the network.

Theory of operation
-------------------
The order is fixed: a duplicate first (a crash between the register commit and the IMAP move makes
the same message come back; docs/design.md "Crash safety"), then a robot (never acknowledge an
auto-reply, a bounce, a list or ourselves; docs/design.md "Loop safety", RFC 3834 section 2), then a
mail without a usable sender address (nobody to acknowledge: quarantine), and only then a complaint.

`robot_reason` is the one loop-safety predicate, like Mailman's `can_acknowledge` but returning the
reason. Each rule below cites where it comes from: RFC 3834 for the standard signals, and the
corpus file (tests/corpus) that showed a robot carrying only that signal. The rules look at the
top-level header and the top-level MIME parts only, never inside an attached message/rfc822, so a
customer who forwards a bounce or an out-of-office reply to us is still a customer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from daemon.core.mail import Address, InboundMail

__all__ = ["Outcome", "Facts", "Disposition", "robot_reason", "classify", "fingerprint", "reply_address"]


class Outcome(StrEnum):
    COMPLAINT = "complaint"
    DUPLICATE = "duplicate"
    FOLLOW_UP = "follow_up"  # about a registered complaint: a customer's addition or a handler's commands
    ROBOT = "robot"
    QUARANTINE = "quarantine"
    # A handler's (or the supervisor's) mail with #tags that names no complaint: kept, answered with
    # a command error, never a complaint (core/intake.py).
    UNADDRESSED_COMMAND = "unaddressed_command"


@dataclass(frozen=True)
class Facts:
    """What the shell looked up in the register for this mail."""

    sha256_known: bool
    message_id_known: bool
    own_addresses: frozenset[str]  # lower-cased, e.g. {"reclamations@example.fr"}
    thread: int | None = None  # the complaint this mail is about (threads.thread_of), if any
    fingerprint_known: bool = False  # `fingerprint(mail)` is already registered

    def __post_init__(self) -> None:
        for address in self.own_addresses:
            if "@" not in address or address != address.strip().lower():
                raise ValueError(f"own address must be a lower-cased address: {address!r}")


@dataclass(frozen=True)
class Disposition:
    outcome: Outcome
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome is not Outcome.COMPLAINT and not self.reason:
            raise ValueError(f"a {self.outcome} disposition needs a reason")


def classify(mail: InboundMail, facts: Facts) -> Disposition:
    """Duplicate, then robot, then no sender (quarantine), then a follow-up of a registered
    complaint (issue 5: threading), else a new complaint."""
    if facts.sha256_known:
        return Disposition(Outcome.DUPLICATE, "the same raw message (SHA-256) is already registered")
    if facts.message_id_known:
        return Disposition(Outcome.DUPLICATE, f"Message-ID {_short(mail.message_id or '')} is already registered")
    if facts.fingerprint_known:
        return Disposition(
            Outcome.DUPLICATE, "the same mail (sender, date, subject, text, files) is already registered"
        )
    reason = robot_reason(mail, facts.own_addresses)
    if reason is not None:
        return Disposition(Outcome.ROBOT, reason)
    if mail.sender is None:
        return Disposition(Outcome.QUARANTINE, "no sender address")
    if facts.thread is not None:
        return Disposition(Outcome.FOLLOW_UP, "about a registered complaint (reference or thread)")
    return Disposition(Outcome.COMPLAINT)


# RFC 3834 section 5: Precedence is not standard, but bulk/junk/list are what lists and bulk senders
# use (real/cpython/msg_32.txt, real/mikel-mail/error_emails/bad_date_header.eml "junk",
# bounces/mimekit/delivery-status.txt "junk"); auto_reply is what some vacation programs send.
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# RFC 2369 and RFC 2919: a list-expanded message (real/mikel-mail/error_emails/empty_in_reply_to.eml
# has only List-Id; real/spamscope-mail-parser/mail_test_13 is a newsletter with List-Unsubscribe).
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner")
# RFC 3464 (DSN), RFC 8098 (MDN), RFC 5965 (ARF) report bodies, top-level or as a top-level part
# (bounces/flanker/bounce-delayed-broken.eml is a bare message/delivery-status).
_REPORT_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
    }
)
# RFC 5321 section 4.5.5 / RFC 2142: the mail system's own mailboxes send bounces and reports
# (bounces/sisimai/bsd/lhost-yahoo-01.eml, lhost-zoho-01.eml, bounces/flanker/bounce-broken-mime.eml).
_SYSTEM_LOCAL_PARTS = frozenset({"mailer-daemon", "mailerdaemon", "mailer_daemon", "postmaster"})
# Addresses that say nobody reads replies (bounces/sisimai/bsd/lhost-kddi-01.eml).
_NO_REPLY_LOCAL_PARTS = frozenset({"no-reply", "noreply", "no_reply", "do-not-reply", "donotreply", "do_not_reply"})
# Vendor headers of vacation and autoresponder programs. X-Failed-Recipients is Exim's and Gmail's
# bounce header (bounces/sisimai/bsd/lhost-exim-01.eml).
_AUTOMATON_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autogenerated",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-Failed-Recipients",
)
# Microsoft's MS-OXCMAIL 2.2.3.2.14: Exchange puts "All" on its OOF replies (autoreplies/sisimai/bsd/
# rfc3834-02.eml, -04.eml), transactional senders "OOF, AutoReply, ..." (rfc3834-06.eml). Outlook
# does not add it to a person's mail (no reply in the corpus has it), so only these values count.
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})


def robot_reason(mail: InboundMail, own_addresses: frozenset[str]) -> str | None:
    """Why `mail` was sent by a program that must never get our acknowledgement, or None for a person.

    Every rule, with its source:
    1. Auto-Submitted other than "no" (RFC 3834 section 5: auto-replied, auto-generated,
       auto-notified). Most bounces and vacation replies of the corpus carry it.
    2. A report: top-level multipart/report (RFC 6522; DSN, MDN, ARF: autoreplies/flanker/
       disposition-notification.eml, bounces/cpython/msg_05.txt, whose From is not even an address),
       or a top-level delivery-status / disposition-notification / feedback-report part.
    3. An empty envelope sender, Return-Path `<>` (RFC 3834 section 3.1.1, RFC 5321 section 4.5.5):
       what bounces and well-behaved auto-replies use (autoreplies/sisimai/bsd/rfc3834-02.eml), or
       a Return-Path of MAILER-DAEMON (bounces/sisimai/bsd/lhost-ezweb-01.eml).
    4. From a mail-system mailbox: MAILER-DAEMON or postmaster (RFC 3834 section 2, last paragraph).
    5. The address we would answer (Reply-To, else From) is a no-reply address: nobody can read the
       acknowledgement (bounces/sisimai/bsd/lhost-kddi-01.eml). A web form that sends From
       no-reply@ with Reply-To the customer is NOT a robot: that Reply-To is a person.
    6. One of our own addresses as sender: our own mail coming back (docs/design.md "Loop safety").
    7. Mailing-list headers List-Id, List-Unsubscribe... (RFC 2369, RFC 2919; RFC 3834 section 2).
    8. Precedence bulk, junk, list or auto_reply (RFC 3834 section 5, a non-standard header).
    9. Vendor autoresponder headers: X-Autoreply, X-Autorespond..., X-Failed-Recipients, and
       X-Loop (procmail/list loop marker: bounces/flanker/complaints-aol.eml,
       bounces/sisimai/bsd/arf-01.eml).
    10. X-Auto-Response-Suppress: All, OOF or AutoReply (Microsoft's auto-generated mail).
    11. Apple iCloud vacation replies, which carry no RFC 3834 header but X-Apple-Action: VACATION
        (autoreplies/sisimai/bsd/rfc3834-03.eml).
    12. An Outlook read receipt sent as one TNEF blob: the whole message is application/ms-tnef and
        the subject starts "Read:" (or French "Lu :") (autoreplies/zbateson-mmp/m4006.txt).
    """
    for rule in _RULES:
        reason = rule(mail, own_addresses)
        if reason is not None:
            return reason
    return None


def _auto_submitted(mail: InboundMail, own: frozenset[str]) -> str | None:
    for value in mail.header_all("Auto-Submitted"):
        token = _first_token(value)
        if token and token != "no":
            return f"automatic message (Auto-Submitted: {_short(value)})"
    return None


def _report(mail: InboundMail, own: frozenset[str]) -> str | None:
    if mail.content_type == "multipart/report":
        return "delivery, read or feedback report (multipart/report)"
    for ctype in (mail.content_type, *(part.content_type for part in mail.attachments)):
        if ctype in _REPORT_TYPES:
            return f"delivery, read or feedback report ({ctype})"
    return None


def _null_return_path(mail: InboundMail, own: frozenset[str]) -> str | None:
    for value in mail.header_all("Return-Path"):
        path = value.strip().strip("<>").strip()
        if not path:
            return "empty envelope sender (Return-Path: <>)"
        if _local_part(path) in _SYSTEM_LOCAL_PARTS:
            return f"sent by the mail system (Return-Path: {_short(value)})"
    return None


def _system_sender(mail: InboundMail, own: frozenset[str]) -> str | None:
    if mail.sender is not None and _local_part(mail.sender.email) in _SYSTEM_LOCAL_PARTS:
        return f"sent by the mail system ({_short(mail.sender.email)})"
    return None


def _no_reply(mail: InboundMail, own: frozenset[str]) -> str | None:
    target = reply_address(mail, own)
    if target is not None and _local_part(target.email) in _NO_REPLY_LOCAL_PARTS:
        return f"no-reply address ({_short(target.email)})"
    return None


def _ourselves(mail: InboundMail, own: frozenset[str]) -> str | None:
    if mail.sender is not None and mail.sender.normalized in own:
        return f"sent by one of our own addresses ({_short(mail.sender.normalized)})"
    target = reply_address(mail, own)
    if target is not None and target.normalized in own:
        return f"asks for the answer at one of our own addresses (Reply-To: {_short(target.normalized)})"
    return None


def fingerprint(mail: InboundMail) -> str | None:
    """What makes a mail without a Message-ID the same mail when it comes again by another route
    (other `Received` lines, so other bytes and another SHA-256; issue 14, item 8): its sender,
    date, subject, text and files. None when it has a Message-ID (that decides) or lacks a sender
    or a date (too little to tell two mails apart: both are kept)."""
    if mail.message_id or mail.sender is None or mail.date is None:
        return None
    parts = [
        mail.sender.normalized,
        mail.date.isoformat(),
        " ".join(mail.subject.split()),
        " ".join(mail.text_body.split()),
        *sorted(attachment.sha256 for attachment in mail.attachments),
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def reply_address(mail: InboundMail, own_addresses: frozenset[str]) -> Address | None:
    """Where every automatic letter about `mail` goes: its sender's own address (issue 14, item 1).

    A Reply-To is followed only within the sender's domain (`InboundMail.customer`), or when the
    sender is a no-reply address of one of our own domains: our own web form sends From no-reply@
    with the customer as Reply-To (a From forged in our domain is for our MX's DMARC policy to
    refuse). Anything else would let anyone aim our letters, and the subject they echo, at a
    third party. The result may be one of our own addresses: `_ourselves` then makes the mail a
    robot's.
    """
    sender = mail.sender
    if sender is None:
        return None
    own_domains = {address.rpartition("@")[2] for address in own_addresses}
    our_form = sender.domain in own_domains and _local_part(sender.email) in _NO_REPLY_LOCAL_PARTS
    if mail.reply_to is not None and our_form:
        return mail.reply_to
    return mail.customer


def _mailing_list(mail: InboundMail, own: frozenset[str]) -> str | None:
    for name in _LIST_HEADERS:
        if mail.header(name) is not None:
            return f"mailing-list mail ({name})"
    return None


def _precedence(mail: InboundMail, own: frozenset[str]) -> str | None:
    for value in mail.header_all("Precedence"):
        if _first_token(value) in _PRECEDENCE:
            return f"bulk or list mail (Precedence: {_short(value)})"
    return None


def _vendor_headers(mail: InboundMail, own: frozenset[str]) -> str | None:
    for name in (*_AUTOMATON_HEADERS, "X-Loop"):
        if mail.header(name) is not None:
            return f"sent by an autoresponder or a loop-protected program ({name})"
    return None


def _suppress(mail: InboundMail, own: frozenset[str]) -> str | None:
    for value in mail.header_all("X-Auto-Response-Suppress"):
        words = {word.strip().lower() for word in value.split(",")}
        if words & _SUPPRESS_VALUES:
            return f"Microsoft automatic message (X-Auto-Response-Suppress: {_short(value)})"
    return None


def _apple_vacation(mail: InboundMail, own: frozenset[str]) -> str | None:
    if any(value.strip().lower() == "vacation" for value in mail.header_all("X-Apple-Action")):
        return "Apple vacation reply (X-Apple-Action: VACATION)"
    return None


def _tnef_read_receipt(mail: InboundMail, own: frozenset[str]) -> str | None:
    subject = mail.subject.lower()
    if mail.content_type == "application/ms-tnef" and subject.startswith(("read:", "lu :", "lu:")):
        return "Outlook read receipt (application/ms-tnef, Subject: Read:)"
    return None


_RULES = (
    _auto_submitted,
    _report,
    _null_return_path,
    _system_sender,
    _no_reply,
    _ourselves,
    _mailing_list,
    _precedence,
    _vendor_headers,
    _suppress,
    _apple_vacation,
    _tnef_read_receipt,
)


def _first_token(value: str) -> str:
    """`auto-generated (failure)` -> `auto-generated`; `bulk; x=y` -> `bulk`."""
    for separator in "(;,":
        value = value.split(separator, 1)[0]
    words = value.split()
    return words[0].lower() if words else ""


def _local_part(address: str) -> str:
    return address.rpartition("@")[0].strip().lower() if "@" in address else address.strip().lower()


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
