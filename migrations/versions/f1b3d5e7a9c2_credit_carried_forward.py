"""Credit carried forward: a partnership's credit beyond its last invoice, applied to the next one.

Revision ID: f1b3d5e7a9c2
Revises: c7a9e1f3b5d8
Create Date: 2026-11-30 01:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b3d5e7a9c2'
down_revision = 'c7a9e1f3b5d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('credit_balance', sa.Numeric(precision=14, scale=4), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('credit_balance')
