"""Orders: when the hub last wrote each one (a full stock push reads the store levels of orders changed since the last).

Revision ID: 09a29cad15dd
Revises: c8e2a4f6b0d3
Create Date: 2026-11-30 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '09a29cad15dd'
down_revision = 'c8e2a4f6b0d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_updated_at'), ['updated_at'], unique=False)
    op.execute('UPDATE "order" SET updated_at = received_at')


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_updated_at'))
        batch_op.drop_column('updated_at')
