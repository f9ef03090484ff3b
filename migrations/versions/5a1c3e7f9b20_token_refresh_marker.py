"""Token refresh crash safety: a marker set before a single-use refresh token is spent.

Revision ID: 5a1c3e7f9b20
Revises: e3f5a7b9c2d4
Create Date: 2026-11-30 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a1c3e7f9b20'
down_revision = 'e3f5a7b9c2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_column('refresh_started_at')
