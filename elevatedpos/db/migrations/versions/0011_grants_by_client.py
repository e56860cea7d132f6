"""grants by client

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Listing an app's grants and uninstalling it look sessions up by client_id; sign-ins
    # are never pruned, so without an index both would read every session the org has had.
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_client_id"))
