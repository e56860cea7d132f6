"""customers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:56:20.679796
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import elevatedpos.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("marketing_opt_in", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", elevatedpos.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", elevatedpos.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_customers_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("org_id", "email", name=op.f("uq_customers_org_id_email")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_customers_org_id_last_name_first_name",
            ["org_id", "last_name", "first_name", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_org_id_last_name_first_name")
        batch_op.drop_index(batch_op.f("ix_customers_org_id"))

    op.drop_table("customers")
