"""Sector profiles and the consumer-mediation dates: what a complaint's rules are by default in a sector.

A profile (`[register] profile`) sets the default acknowledgement and answer rules and the few
behaviours a sector's text adds; an explicit `ack_deadline` / `answer_deadline` (or a category's)
still wins. Each profile cites the text it follows; README "Sector profiles" says what each text
asks and what this daemon does about it.

Theory of operation
-------------------
* consumer: 48 h to acknowledge, 10 calendar days to answer. No text fixes these: they are the
  practice of NF X 50-056-style services, and what this daemon always did.
* acpr: ACPR recommendation 2024-R-02 (banking and insurance; it replaced 2022-R-01 in 2024):
  acknowledge within 10 jours ouvrables unless the answer is given within them, answer within two
  months, and give the mediator's contact in any answer that does not grant the request in full.
  So an answer given first meets the acknowledgement deadline (`answer_meets_ack`) and a mediator
  must be configured (`needs_mediator`).
* qualiopi: indicator 31 of the Qualiopi national quality framework (training providers) asks for
  a way to handle the difficulties, complaints and hazards of every stakeholder, trainees and
  funders included, with a trace of each answer; it fixes no deadline, so the consumer ones stay.

The mediation dates are computed, never stored: from `received_at`, the date from which the
customer may refer to the consumer mediator (`refer_after`, two months by default: the Code de la
consommation fixes no wait, mediators' charters commonly ask for two months without a final answer)
and the limit after which the mediator may refuse the request, one year after the written complaint
(Code de la consommation, art. L.612-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from daemon.core.deadlines import ClosedDays, DeadlineRule, Unit, due_at

__all__ = ["PROFILES", "MediationDates", "Profile", "mediation_dates"]

ONE_YEAR = DeadlineRule(12, Unit.MONTHS)


@dataclass(frozen=True)
class Profile:
    """A sector's defaults: its deadline rules and the behaviours its text adds."""

    name: str
    ack_deadline: DeadlineRule
    answer_deadline: DeadlineRule
    answer_meets_ack: bool = False  # an answer given before the acknowledgement deadline meets it
    needs_mediator: bool = False  # the mediator's contact must be in every non-favourable answer
    source: str = ""


PROFILES: dict[str, Profile] = {
    "consumer": Profile("consumer", DeadlineRule(48, Unit.HOURS), DeadlineRule(10, Unit.CALENDAR_DAYS)),
    "acpr": Profile(
        "acpr",
        DeadlineRule(10, Unit.OUVRABLE_DAYS),
        DeadlineRule(2, Unit.MONTHS),
        answer_meets_ack=True,
        needs_mediator=True,
        source="ACPR recommendation 2024-R-02",
    ),
    "qualiopi": Profile(
        "qualiopi",
        DeadlineRule(48, Unit.HOURS),
        DeadlineRule(10, Unit.CALENDAR_DAYS),
        source="Qualiopi national quality framework, indicator 31",
    ),
}


@dataclass(frozen=True)
class MediationDates:
    """When the customer may refer the complaint to the mediator, and until when (aware, UTC)."""

    refer_from: datetime
    limit: datetime


def mediation_dates(received_at: datetime, refer_after: DeadlineRule, tz: tzinfo, closed: ClosedDays) -> MediationDates:
    """The mediation dates of a complaint received at `received_at` (see the module docstring)."""
    return MediationDates(
        refer_from=due_at(received_at, refer_after, tz, closed).at,
        limit=due_at(received_at, ONE_YEAR, tz, closed).at,
    )
