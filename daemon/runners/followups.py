"""Follow-ups: mails about a registered complaint, acted on after ingestion committed them.

Ingestion records a follow-up (raw bytes, the complaint it belongs to, `handled = False`) in its
batch transaction; this runner then handles each one in a transaction of its own and marks it
handled there, so a crash in between means it is handled on the next pass, once. Load the case and
the owners of the tokens the mail quotes, decide (core.follow_up), apply, commit. Its attachments
are kept in the attachment store first, like a complaint's, and listed with the complaint.

A follow-up that the register refuses for a reason of its own (runners/poison.py) is marked
handled with that reason, like any other failure of its own: it never stops the ones behind it.
"""

from __future__ import annotations

import logging

import jinja2
from sqlmodel import Session

from daemon.core.follow_up import decide_follow_up
from daemon.core.limits import WINDOW
from daemon.core.mail import InboundMail
from daemon.core.parsing import parse
from daemon.core.references import find_references
from daemon.core.threads import named_ids
from daemon.core.tokens import tokens_in
from daemon.core.verp import claims, returned
from daemon.edges.register.reads import (
    automatic_mails,
    complaint_ids,
    follow_up,
    letters_by_id,
    load_case,
    pending_follow_ups,
    receipts,
    token_owners,
)
from daemon.edges.register.writes import claim_follow_up, follow_up_handled
from daemon.errors import TransientError
from daemon.runners.desk import Desk

log = logging.getLogger("complaintsd.followups")

MAX_NAMED = 50  # references a mail's text may name for #related: bounded before they reach SQL


class FollowUps:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def handle_pending(self) -> int:
        with self.desk.register.session() as session:
            ids = pending_follow_ups(session, self.desk.only)
        for inbound_id in ids:
            try:
                self._handle(inbound_id)
            except jinja2.TemplateError as exc:
                log.error("a letter does not render, follow-up %d left for the next pass: %s", inbound_id, exc)
            except TransientError:
                raise
            except Exception as exc:  # the one catch-all per follow-up: record it, go on
                self._failed(inbound_id, exc)
        return len(ids)

    def _failed(self, inbound_id: int, exc: Exception) -> None:
        log.error("follow-up %d could not be handled: %s: %s", inbound_id, exc.__class__.__name__, exc)
        with self.desk.register.transaction() as session:
            reason = f"could not be handled: {exc.__class__.__name__}: {exc}"
            follow_up_handled(session, inbound_id, reason, self.desk.clock())

    def _returned(self, session: Session, mail: InboundMail, complaint_id: int) -> tuple[str, ...]:
        """The Message-IDs of this complaint's letters that `mail` came back to by their return path."""
        policy = self.desk.policy
        named = letters_by_id(session, [c.outbox_id for c in claims(mail, policy.sender.email, policy.verp_delimiter)])
        found = returned(mail, named, policy.sender.email, policy.verp_delimiter) if named else ()
        return tuple(letter.message_id for letter in found if letter.complaint_id == complaint_id)

    def _handle(self, inbound_id: int) -> None:
        now = self.desk.clock()
        with self.desk.register.transaction() as session:
            if not claim_follow_up(session, inbound_id):
                return  # handled meanwhile by another process
            raw, complaint_id = follow_up(session, inbound_id)
            mail = parse(raw)
            case = load_case(session, complaint_id)
            owners = token_owners(session, tokens_in(mail.subject, named_ids(mail)))
            named = find_references(mail.text_body.upper(), self.desk.policy.prefix)[:MAX_NAMED]
            references = complaint_ids(session, named)
            files = self.desk.store.keep(mail)
            customer = case.customer_email.lower()
            today = automatic_mails(session, [customer], now - WINDOW).get(customer, 0)
            given = receipts(session, case.id, now - WINDOW)
            back = self._returned(session, mail, case.id)
            forwards = receipts(session, case.id, now - WINDOW, "follow_up_forward")
            effects = decide_follow_up(
                case, mail, owners, now, self.desk.policy, references, files, today, given, back, forwards
            )
            self.desk.apply(session, effects, now)
            follow_up_handled(session, inbound_id)
