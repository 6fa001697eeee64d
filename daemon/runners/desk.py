"""The desk every runner works at, built once from the configuration: the register, the postbox
(templates and sender), the attachment store, the policy and the clock. A config of several
registers (`[[registers]]`) gives one desk each, on the one database, each working only the
complaints numbered with its prefix (`only`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from daemon.config import Config, policy_of
from daemon.core.effects import Effects
from daemon.core.letters import OutgoingMail, Postbox, Templates
from daemon.core.policy import Policy
from daemon.edges.register import Register
from daemon.edges.register.writes import apply
from daemon.edges.storage import AttachmentStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Desk:
    register: Register
    postbox: Postbox
    store: AttachmentStore
    policy: Policy
    clock: Clock = utc_now
    only: str | None = None  # the prefix of this desk's complaints when it is one of several registers

    @classmethod
    def of(cls, config: Config, register: Register, clock: Clock = utc_now) -> Desk:
        templates = Templates.of(config.register)
        return cls(
            register,
            Postbox(templates, config.smtp.sender),
            AttachmentStore(config.storage.path),
            policy_of(config),
            clock,
            config.register.reference_prefix if config.name else None,
        )

    def owns(self, reference: str) -> bool:
        """Whether a complaint is this desk's (always, for a config of one register)."""
        return self.only is None or reference.split("-", 1)[0] == self.only

    def compose(self, effects: Effects, now: datetime) -> list[OutgoingMail]:
        """Every letter of a decision, rendered and composed (stored files loaded): pure work done
        before the write transaction opens, so it stays short."""
        return [self.postbox.compose(self.store.attach(letter), now) for letter in effects.letters]

    def apply(self, session: Session, effects: Effects, now: datetime) -> None:
        apply(session, effects, self.compose(effects, now), now)


def desks_of(config: Config, register: Register, clock: Clock = utc_now) -> tuple[Desk, ...]:
    """One desk per register of the config, on the one database: the first is the config's own."""
    return tuple(Desk.of(each, register, clock) for each in config.each)


def desk_for(desks: tuple[Desk, ...], reference: str) -> Desk:
    """The desk of the register a complaint belongs to (by its prefix); the first when none claims it."""
    return next((desk for desk in desks if desk.owns(reference)), desks[0])
