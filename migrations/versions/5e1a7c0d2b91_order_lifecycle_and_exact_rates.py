"""Exact rates: FX rates and markups keep eight decimals, so a rate is stored as typed.

Revision ID: 5e1a7c0d2b91
Revises: 3b9d2f1c7a40
Create Date: 2026-11-30 00:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a7c0d2b91'
down_revision = '3b9d2f1c7a40'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=4)
RATE = sa.Numeric(precision=18, scale=8)


def upgrade():
    with op.batch_alter_table('price_list', schema=None) as batch_op:
        batch_op.alter_column('fx_rate', existing_type=MONEY, type_=RATE)
        batch_op.alter_column('markup_percent', existing_type=MONEY, type_=RATE)
    with op.batch_alter_table('price_list_item', schema=None) as batch_op:
        batch_op.alter_column('markup_value', existing_type=MONEY, type_=RATE)


def downgrade():
    with op.batch_alter_table('price_list_item', schema=None) as batch_op:
        batch_op.alter_column('markup_value', existing_type=RATE, type_=MONEY)
    with op.batch_alter_table('price_list', schema=None) as batch_op:
        batch_op.alter_column('markup_percent', existing_type=RATE, type_=MONEY)
        batch_op.alter_column('fx_rate', existing_type=RATE, type_=MONEY)
