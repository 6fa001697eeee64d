"""A letter to the customer that the relay will never deliver: the handler must reach them otherwise.

The history already says `<kind>_refused` or `<kind>_failed` with the relay's word (the register
edge writes it with the outbox row's fate), but nobody reads a history unprompted: a customer whose
address the relay refuses (`jörg@…` without SMTPUTF8, a 550) would wait for an acknowledgement that
never comes. So the handler gets a letter saying which one, to whom and why. Only letters to the
complaint's customer count: a refused letter to staff must not make another letter to staff.
"""

from __future__ import annotations

from datetime import datetime

from daemon.core.case import Case, current_token, summary
from daemon.core.effects import Effects
from daemon.core.letters import LetterRefusedFacts, LetterToSend
from daemon.core.mail import Address
from daemon.core.policy import Policy
from daemon.core.tokens import handler_message_id


def decide_undelivered(case: Case, letter: str, recipient: str, reason: str, now: datetime, policy: Policy) -> Effects:
    """The handler's notice that the `letter` of `case` to `recipient` will never be delivered."""
    if recipient.strip().lower() != case.customer_email.strip().lower():
        return Effects()
    token, issued = current_token(case)
    facts = LetterRefusedFacts(summary(case), token, case.handler_name, letter, recipient, reason, now)
    notice = LetterToSend(
        kind="letter_refused",
        facts=facts,
        to=Address(case.handler_name, case.handler_email),
        message_id=handler_message_id(case.reference, token, policy.domain),
    )
    return Effects(case.id, letters=(notice,), tokens=issued)
