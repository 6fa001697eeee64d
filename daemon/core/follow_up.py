"""Follow-up decisions: a mail about a registered complaint, from its customer or from staff.

A customer's mail goes into the history, is forwarded to the handler, and gets a short receipt (or,
on a closed complaint whose customer was asked, records their satisfaction). A staff mail with
`#tags` is a command mail: `commands.decide.decide_command_mail` verifies, plans and answers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from daemon.core.case import Case, summary, to_customer
from daemon.core.commands.authorization import TokenOwner
from daemon.core.commands.decide import decide_command_mail
from daemon.core.commands.tags import parse_commands
from daemon.core.effects import Effects, HistoryEntry, TokenToIssue
from daemon.core.letters import (
    AttachmentLine,
    FileToAttach,
    FollowUpForwardFacts,
    FollowUpReceivedFacts,
    LetterToSend,
)
from daemon.core.mail import Address, InboundMail
from daemon.core.policy import Policy
from daemon.core.quotes import top_text
from daemon.core.tokens import handler_message_id, new_token

YES = frozenset({"oui", "yes", "satisfait", "satisfaite", "satisfied"})
NO = frozenset({"non", "no", "insatisfait", "insatisfaite", "unsatisfied"})


def decide_follow_up(
    case: Case,
    mail: InboundMail,
    owners: tuple[TokenOwner, ...],
    now: datetime,
    policy: Policy,
    references: Mapping[str, int] = {},
) -> Effects:
    """What a follow-up mail does; `owners` are the register's owners of the tokens the mail quotes,
    `references` the complaints it names by reference (for #related)."""
    if mail.author.email.lower() in policy.staff:
        return _staff_mail(case, mail, owners, now, policy, references)
    return _customer_mail(case, mail, now, policy)


def _staff_mail(
    case: Case,
    mail: InboundMail,
    owners: tuple[TokenOwner, ...],
    now: datetime,
    policy: Policy,
    references: Mapping[str, int],
) -> Effects:
    text = top_text(mail.text_body, mail.html_body)
    commands = parse_commands(text, now.astimezone(policy.timezone).date())
    if not commands.has_commands:
        return Effects(case.id, history=(HistoryEntry("handler_mail", mail.author.email, text[:2000]),))
    return decide_command_mail(case, mail, text, commands, owners, now, policy, references)


def _customer_mail(case: Case, mail: InboundMail, now: datetime, policy: Policy) -> Effects:
    text = top_text(mail.text_body, mail.html_body)
    asked = case.status == "closed" and policy.letters.ask_satisfaction
    satisfaction = satisfaction_of(text) if asked else None
    if satisfaction is not None:
        entry = HistoryEntry("satisfaction", mail.author.email, f"{satisfaction}: {text[:500]}")
    else:
        entry = HistoryEntry("follow_up", mail.author.email, text[:2000])
    lines = tuple(AttachmentLine(a.filename, a.size) for a in mail.attachments)
    token, issued = current_token(case)
    forward = LetterToSend(
        kind="follow_up_forward",
        facts=FollowUpForwardFacts(
            complaint=summary(case),
            token=token,
            handler_name=case.handler_name,
            mail_received_at=now,
            text=text,
            attachments=lines,
            attachments_attached=True,
        ),
        to=Address(case.handler_name, case.handler_email),
        message_id=handler_message_id(case.reference, token, policy.domain),
        files=tuple(FileToAttach(a.filename, a.content_type, a.content) for a in mail.attachments),
    )
    letters: tuple[LetterToSend, ...] = (forward,)
    if policy.letters.follow_up_received and satisfaction is None:
        receipt = FollowUpReceivedFacts(
            complaint=summary(case), mail_received_at=now, attachments=lines, organisation=policy.organisation
        )
        letters += (to_customer(case, "follow_up_received", receipt, policy, reply_to=mail),)
    return Effects(case.id, history=(entry,), letters=letters, tokens=issued)


def current_token(case: Case) -> tuple[str, tuple[TokenToIssue, ...]]:
    """The current handler's command token, and the token to record when the register had none."""
    token = case.token_of(case.handler_email)
    if token is not None:
        return token, ()
    token = new_token()
    return token, (TokenToIssue(token, case.handler_email),)


def satisfaction_of(text: str) -> str | None:
    """ "satisfied" / "not satisfied" from the first word of a customer's reply, else None."""
    words = text.strip().split(None, 1)
    first = words[0].strip(".,;:!").lower() if words else ""
    if first in YES:
        return "satisfied"
    if first in NO:
        return "not satisfied"
    return None
