"""Tamper evidence (issue 13, item 1): history events chained per complaint and per register.

Revision ID: 0006
Revises: 0005

The events already in the register are chained here, in id order, with core/chain.py's canonical
form (docs/chain.md): from this revision on, every event is covered.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from daemon.core.chain import GENESIS, EventContent, digest, link

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHAIN = ("digest", "register_prev", "complaint_prev", "hash")


def upgrade() -> None:
    with op.batch_alter_table("history") as batch_op:
        for name in CHAIN:
            batch_op.add_column(sa.Column(name, sa.String(length=64), nullable=False, server_default=""))
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    events, last = _chain_existing(op.get_bind())
    op.bulk_insert(head, [{"id": 1, "events": events, "last_hash": last}])


def _chain_existing(connection) -> tuple[int, str]:
    history = sa.table(
        "history",
        *(sa.column(name) for name in ("id", "complaint_id", "at", "event", "actor", "detail", *CHAIN)),
    )
    rows = connection.execute(
        sa.select(
            history.c.id, history.c.complaint_id, history.c.at, history.c.event, history.c.actor, history.c.detail
        ).order_by(history.c.id)
    ).all()
    last, count = GENESIS, 0
    last_of: dict[int, str] = {}
    for id_, complaint_id, at, event, actor, detail in rows:
        at = _aware(at)
        content = digest(EventContent(complaint_id, at, event, actor or "", detail or ""))
        previous = last_of.get(complaint_id, GENESIS)
        chained = link(last, previous, content)
        connection.execute(
            history.update()
            .where(history.c.id == id_)
            .values(digest=content, register_prev=last, complaint_prev=previous, hash=chained)
        )
        last, last_of[complaint_id], count = chained, chained, count + 1
    return count, last


def _aware(at):
    """The register stores UTC without an offset (models.UTCDateTime); SQLite may give text."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def downgrade() -> None:
    op.drop_table("chain_head")
    with op.batch_alter_table("history") as batch_op:
        for name in reversed(CHAIN):
            batch_op.drop_column(name)
