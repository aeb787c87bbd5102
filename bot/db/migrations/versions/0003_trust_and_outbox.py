"""Counsellors by Telegram user id, coordinators, escalation time, kinds of counsellor-chat
messages, and the durable outbox of Telegram calls.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counsellors") as batch:
        batch.alter_column("telegram_chat_id", new_column_name="telegram_user_id",
                           existing_type=sa.BigInteger(), existing_nullable=True)
        batch.add_column(sa.Column("coordinator", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("counsellors") as batch:
        batch.alter_column("coordinator", server_default=None)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("case_offers") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="offer"))
        batch.create_index("ix_case_offers_chat_message", ["chat_id", "message_id"])
    with op.batch_alter_table("case_offers") as batch:
        batch.alter_column("kind", server_default=None)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Enum("send", "edit", "erase", "erasure_report",
                                  name="outboxkind", native_enum=False, length=16),
                  nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"),
                  nullable=True, index=True),
        sa.Column("counsellor_id", sa.String(64), nullable=True),
        sa.Column("record", sa.String(16), nullable=True),
        sa.Column("batch", sa.String(32), nullable=True, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(16), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["done_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("case_offers") as batch:
        batch.drop_index("ix_case_offers_chat_message")
        batch.drop_column("kind")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("escalated_at")
    with op.batch_alter_table("counsellors") as batch:
        batch.drop_column("coordinator")
        batch.alter_column("telegram_user_id", new_column_name="telegram_chat_id",
                           existing_type=sa.BigInteger(), existing_nullable=True)
