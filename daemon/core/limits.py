"""The cap on automatic mail to one correspondent (issue 14, item 2), as values.

A vacation responder that sets no RFC 3834 header answers every letter we send, and each answer
quoting our subject is a follow-up that gets a receipt: 21 mails went back and forth in 20 rounds.
A flood of 200 mails from one sender got 200 acknowledgements. Like Mailman's
`autorespond_to_sender` (`chains/hold.py`, `max_autoresponses_per_day`), we answer one address at
most `automatic_mails_per_day` times in 24 hours; past it the mail is still registered and
forwarded, and the history says why nothing was sent. The count is read from the register's
outbox rows (`reads.automatic_mails`), so it holds across restarts and between two daemons.
"""

from __future__ import annotations

from datetime import timedelta

# The letters a mail makes us send back to its own address; the others follow a person's act.
AUTOMATIC_KINDS = ("acknowledgement", "follow_up_received", "command_unaddressed")
WINDOW = timedelta(days=1)


def withheld(address: str, already: int, cap: int) -> str:
    """Why no automatic mail goes to `address` after `already` in the window, or "" when one may."""
    if already < cap:
        return ""
    return (
        f"no automatic mail sent: {already} already went to {address} in the last 24 hours "
        f"(limit {cap} a day, [limits] automatic_mails_per_day)"
    )


RECEIPTS_PER_COMPLAINT = 1  # a day: a customer writing three times a day gets one receipt


def receipt_withheld(address: str, already: int, receipts: int, cap: int) -> str:
    """Why no receipt goes for a customer's follow-up, or "": one already went for this complaint
    in the window, or `address` reached the daily cap."""
    if receipts >= RECEIPTS_PER_COMPLAINT:
        return "no receipt sent: one already went for this complaint in the last 24 hours"
    return withheld(address, already, cap)
