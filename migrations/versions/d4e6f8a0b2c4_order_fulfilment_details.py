"""Order fulfilment details: the customer's phone, order note and checkout attributes, and the shipping method.

Revision ID: d4e6f8a0b2c4
Revises: b2d4f6a8c0e1
Create Date: 2026-11-30 01:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e6f8a0b2c4'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('note_attributes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('shipping_method', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('shipping_code', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('shipping_code')
        batch_op.drop_column('shipping_method')
        batch_op.drop_column('note_attributes')
        batch_op.drop_column('note')
        batch_op.drop_column('phone')
