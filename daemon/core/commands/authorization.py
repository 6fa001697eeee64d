"""Who may command a complaint by mail, and with what proof (docs/design.md, "Commands by email").

Pure: the shell looks up the tokens the mail carries and hands over the Authentication-Results
headers; this returns a verdict as a value. A command runs only if the sender is the complaint's
handler (or the supervisor) AND the mail proves it: a token we put in a mail to that very person
about that very complaint, or an Authentication-Results header from a server we trust showing
dmarc=pass (or an aligned dkim=pass) for the sender's domain. RFC 8601 gives the header's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Refusal(StrEnum):
    """Why a command mail was not executed (the refusal letter words each one)."""

    NOT_A_HANDLER = "not_a_handler"  # the sender is neither this complaint's handler nor the supervisor
    UNVERIFIED = "unverified"  # no token and no trusted DMARC/DKIM pass
    TOKEN_OF_ANOTHER_COMPLAINT = "token_of_another_complaint"
    TOKEN_OF_ANOTHER_HANDLER = "token_of_another_handler"  # the token was given to someone else


@dataclass(frozen=True)
class TokenOwner:
    token: str
    complaint_id: int
    handler_email: str


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    refusal: Refusal | None = None
    proof: str = ""  # how the sender proved it, for the history

    def __post_init__(self) -> None:
        if self.allowed == (self.refusal is not None):
            raise ValueError("a verdict either allows (with a proof) or refuses (with a reason)")


def authorize(
    sender: str,
    complaint_id: int,
    handler: str,
    supervisor: str,
    tokens: tuple[TokenOwner, ...],
    auth_results: tuple[str, ...],
    trusted_authserv_ids: frozenset[str],
) -> Verdict:
    """May `sender` command complaint `complaint_id`? Tokens are those the mail carried."""
    sender = sender.strip().lower()
    if sender not in (handler.lower(), supervisor.lower()):
        return Verdict(False, Refusal.NOT_A_HANDLER)
    for owner in tokens:
        if owner.complaint_id != complaint_id:
            return Verdict(False, Refusal.TOKEN_OF_ANOTHER_COMPLAINT)
        if owner.handler_email.lower() != sender:
            return Verdict(False, Refusal.TOKEN_OF_ANOTHER_HANDLER)
    if tokens:
        return Verdict(True, proof="command token")
    domain = sender.rpartition("@")[2]
    if dmarc_pass(auth_results, trusted_authserv_ids, domain):
        return Verdict(True, proof=f"DMARC/DKIM pass for {domain}")
    return Verdict(False, Refusal.UNVERIFIED)


_RESULT = re.compile(r"\b(dmarc|dkim)\s*=\s*pass\b([^;]*)", re.IGNORECASE)
_PROPERTY = re.compile(r"\bheader\.(from|d|i)\s*=\s*\"?@?([^\s;\"]+)", re.IGNORECASE)


def dmarc_pass(headers: tuple[str, ...], trusted: frozenset[str], domain: str) -> bool:
    """True if a header written by a trusted server says dmarc=pass for `domain`'s From, or an
    aligned dkim=pass (signing domain = `domain`). Headers from other servers are ignored: anyone
    can write an Authentication-Results header into the mail they send."""
    domain = domain.lower()
    for header in headers:
        authserv = header.split(";", 1)[0].strip().split()[0].lower() if header.strip() else ""
        if authserv not in {t.lower() for t in trusted}:
            continue
        for _method, properties in _RESULT.findall(header):
            for _name, value in _PROPERTY.findall(properties):
                if value.lower().rpartition("@")[2] == domain:
                    return True
    return False
