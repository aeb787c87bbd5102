"""Where each conversation stands as of its last stored event (slots, active form, pause),
so the tracker store loads a bounded window of events per turn instead of the whole session.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracker_state",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_from", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tracker_state")
