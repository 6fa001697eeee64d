"""Follow-up decisions: a mail about a registered complaint, from its customer, staff or a stranger.

A customer's mail goes into the history, its files are listed with the complaint, it is forwarded
to the handler, and gets a short receipt (or, on a closed complaint whose customer was asked,
records their satisfaction). A staff mail with `#tags` is a command mail:
`commands.decide.decide_command_mail` verifies, plans and answers it.

Anyone can quote a complaint's reference (issue 14, item 4): a mail from another address is
recorded and forwarded as a third party's, and nobody gets a receipt for it; a mail that claims a
handler's address without proof (no token, no trusted DMARC pass) is recorded as unverified, never
as the handler's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from daemon.core.case import Case, current_token, summary, to_customer
from daemon.core.commands.authorization import TokenOwner
from daemon.core.commands.decide import decide_command_mail, verdict_of
from daemon.core.commands.tags import parse_commands
from daemon.core.effects import ACTOR, Effects, HistoryEntry
from daemon.core.htmltext import html_to_text
from daemon.core.letters import (
    AttachmentLine,
    FileToAttach,
    FollowUpForwardFacts,
    FollowUpReceivedFacts,
    LetterToSend,
)
from daemon.core.limits import receipt_withheld
from daemon.core.mail import Address, InboundMail, StoredFile
from daemon.core.policy import Policy
from daemon.core.quotes import top_text
from daemon.core.satisfaction import satisfaction_of
from daemon.core.threads import bounced_ids, delivery_failure
from daemon.core.tokens import handler_message_id
from daemon.core.triage import reply_address


def decide_follow_up(
    case: Case,
    mail: InboundMail,
    owners: tuple[TokenOwner, ...],
    now: datetime,
    policy: Policy,
    references: Mapping[str, int] = {},
    files: tuple[StoredFile, ...] = (),
    automatic_today: int = 0,
    receipts_today: int = 0,
    returned: tuple[str, ...] = (),
    forwards_today: int = 0,
) -> Effects:
    """What a follow-up mail does; `owners` are the register's owners of the tokens the mail quotes,
    `references` the complaints it names by reference (for #related), `files` its attachments as
    the attachment store kept them, `automatic_today` how many automatic letters the customer got
    in the last 24 hours and `receipts_today` how many receipts this complaint gave (core/limits.py);
    `returned` the Message-IDs of our letters the mail came back to by their return path (core/verp.py);
    `forwards_today` how many of this complaint's follow-ups the handler was sent in the last 24 hours.
    From the cap on (either count), the handler's forward is held and grouped (core/flood.py)."""
    if bounced_ids(mail) or returned:
        return _bounce(case, mail, now, policy, bounced_ids(mail) or returned)
    if mail.author.email.lower() in policy.staff:
        return _staff_mail(case, mail, owners, now, policy, references)
    return _customer_mail(case, mail, now, policy, files, (automatic_today, receipts_today, forwards_today))


def _bounce(case: Case, mail: InboundMail, now: datetime, policy: Policy, letters: tuple[str, ...]) -> Effects:
    """A letter of ours came back undelivered (issue 14, item 6): the history says so and the handler,
    who must reach the customer another way, gets the report; nobody else gets anything (a bounce
    answered is a loop), and the returned copies of our letter are not filed. The letter itself is
    marked failed in the outbox, with the report's status as the relay's last word."""
    status = delivery_failure(mail) or "returned to its return path, without a delivery report"
    detail = f"{', '.join(letters)} not delivered ({status}): reach {case.customer_email} another way"
    token, issued = current_token(case)
    text = new_text(mail)
    forward = _forward(case, replace(mail, attachments=()), text, token, mail.author.email, now, policy)
    return Effects(
        case.id,
        history=(HistoryEntry("letter_bounced", mail.author.email, detail[:2000]),),
        letters=(forward,),
        tokens=issued,
        bounced=letters,
    )


def _staff_mail(
    case: Case,
    mail: InboundMail,
    owners: tuple[TokenOwner, ...],
    now: datetime,
    policy: Policy,
    references: Mapping[str, int],
) -> Effects:
    text = new_text(mail)
    commands = parse_commands(text, now.astimezone(policy.timezone).date())
    if not commands.has_commands:
        if not verdict_of(case, mail, owners, policy).allowed:
            claim = f"claims to be from {mail.author.email}, without proof (no command token, no trusted DMARC pass)"
            return Effects(
                case.id, history=(HistoryEntry("unverified_mail", "unverified sender", f"{claim}: {text[:2000]}"),)
            )
        return Effects(case.id, history=(HistoryEntry("handler_mail", mail.author.email, text[:2000]),))
    return decide_command_mail(case, mail, text, commands, owners, now, policy, references)


def _customer_mail(
    case: Case,
    mail: InboundMail,
    now: datetime,
    policy: Policy,
    files: tuple[StoredFile, ...],
    today: tuple[int, int, int],
) -> Effects:
    text = new_text(mail)
    stranger = _third_party(case, mail, policy)
    asked = case.status == "closed" and policy.letters.ask_satisfaction and not stranger
    satisfaction = satisfaction_of(text) if asked else None
    names = ", ".join(f.filename for f in files)
    attached = f"; attachments: {names}" if names else ""
    if satisfaction is not None:
        whole = " (answered as a whole)" if satisfaction.as_a_whole else ""
        entry = HistoryEntry("satisfaction", mail.author.email, f"{satisfaction}{whole}: {text[:500]}")
    elif stranger:
        detail = f"from {stranger}, not the customer{attached}: {text[:2000]}"
        entry = HistoryEntry("third_party_mail", mail.author.email, detail)
    else:
        entry = HistoryEntry("follow_up", mail.author.email, text[:2000])
    token, issued = current_token(case)
    forward = _forward(case, mail, text, token, stranger, now, policy)
    flooding = max(today[0], today[2]) >= policy.automatic_mails_per_day
    letters: tuple[LetterToSend, ...] = (replace(forward, held=flooding),)
    receipt_due = policy.letters.follow_up_received and satisfaction is None and not stranger
    limit = policy.automatic_mails_per_day
    capped = receipt_withheld(case.customer_email, today[0], today[1], limit) if receipt_due else ""
    entries: tuple[HistoryEntry, ...] = (entry,)
    if names and not stranger:
        entries += (HistoryEntry("attachments_added", mail.author.email, names),)
    if capped:
        entries += (HistoryEntry("receipt_withheld", ACTOR, capped),)
    if flooding:
        detail = f"to {case.handler_email}, grouped with this sender's other mails past the cap"
        entries += (HistoryEntry("follow_up_forward_held", ACTOR, detail),)
    if receipt_due and not capped:
        lines = tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments)
        receipt = FollowUpReceivedFacts(
            complaint=summary(case), mail_received_at=now, attachments=lines, organisation=policy.organisation
        )
        letters += (to_customer(case, "follow_up_received", receipt, policy, reply_to=mail),)
    fields = satisfaction.fields() if satisfaction is not None else ()
    return Effects(case.id, history=entries, letters=letters, tokens=issued, files=files, fields=fields)


def _third_party(case: Case, mail: InboundMail, policy: Policy) -> str:
    """The sender's address when it is not the complaint's customer's, else "" (module docstring)."""
    customer = case.customer_email.strip().lower()
    target = reply_address(mail, policy.own_addresses)
    if mail.author.normalized == customer or (target is not None and target.normalized == customer):
        return ""
    return mail.author.email


def _forward(
    case: Case, mail: InboundMail, text: str, token: str, stranger: str, now: datetime, policy: Policy
) -> LetterToSend:
    """The mail to the handler; past `attach_limit` its files are listed, not attached (they are in
    the register), so a 30 MB attachment does not travel again."""
    lines = tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments)
    attached = sum(a.size for a in mail.attachments) <= policy.attach_limit
    files = tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments) if attached else ()
    return LetterToSend(
        kind="follow_up_forward",
        facts=FollowUpForwardFacts(
            complaint=summary(case),
            token=token,
            handler_name=case.handler_name,
            mail_received_at=now,
            text=text,
            attachments=lines,
            attachments_attached=attached,
            third_party=stranger,
        ),
        to=Address(case.handler_name, case.handler_email),
        message_id=handler_message_id(case.reference, token, policy.domain),
        files=files,
    )


def new_text(mail: InboundMail) -> str:
    """What the sender typed, above the quote. An HTML-only mail is cut on its HTML structure
    (blockquote, the clients' reply divs) before it becomes text: its `text_body` is the parser's
    rendering of the whole HTML, quote included, and a command quoted there was read as typed when
    the handler had deleted the attribution line (issue 14, item 7)."""
    if mail.html_body.strip() and mail.text_body == html_to_text(mail.html_body):
        return top_text("", mail.html_body)
    return top_text(mail.text_body, mail.html_body)
