"""Connection settings: a JSON column for a platform's non-secret settings (a file feed's server and mapping).

Revision ID: a8c4e6f2d1b9
Revises: f1b3d5e7a9c2
Create Date: 2026-11-30 02:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a8c4e6f2d1b9"
down_revision = "f1b3d5e7a9c2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_column("settings")
