"""Order lifecycle: the hold window per partnership and the cancellation carried into the system of record.

Revision ID: e3f5a7b9c2d4
Revises: b4e8d2c6a1f7
Create Date: 2026-11-30 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3f5a7b9c2d4'
down_revision = 'b4e8d2c6a1f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_minutes', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sor_cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('change_note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('change_note')
        batch_op.drop_column('sor_cancelled_at')
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('hold_minutes')
