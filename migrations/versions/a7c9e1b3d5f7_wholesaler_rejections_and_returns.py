"""Lines the wholesaler cannot fill (rejected, with the reason, told to the retailer's store) and returned lines.

Revision ID: a7c9e1b3d5f7
Revises: f6a8b0c2d4e6
Create Date: 2026-11-30 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1b3d5f7'
down_revision = 'f6a8b0c2d4e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rejection_sent_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_quantity', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('returned_quantity', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returns_credit', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('returns_credit')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('returned_quantity')
        batch_op.drop_column('rejected_quantity')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('rejection_sent_at')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('rejected_at')
