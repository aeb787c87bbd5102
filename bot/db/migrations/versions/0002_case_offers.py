"""Case notifications: when counsellors were told of a case, and which messages to update.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
    op.create_table(
        "case_offers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("counsellor_id", sa.String(64), sa.ForeignKey("counsellors.id"),
                  nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_offers")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("notified_at")
