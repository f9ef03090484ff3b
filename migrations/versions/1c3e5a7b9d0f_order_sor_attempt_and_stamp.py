"""Orders: when the hub first tried to create each one in the system of record (only an order tried before is
looked up by its marker before the create), and the store's `updatedAt` of the order as the hub last read it (an
order whose stamp has not moved is not read again).

Revision ID: 1c3e5a7b9d0f
Revises: 09a29cad15dd
Create Date: 2026-11-30 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1c3e5a7b9d0f'
down_revision = '09a29cad15dd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sor_attempted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sor_updated_at', sa.DateTime(timezone=True), nullable=True))
    # Any order still on its way may have been tried before this column existed: each is looked up once more.
    op.execute('UPDATE "order" SET sor_attempted_at = received_at '
               "WHERE sor_remote_order_id IS NULL AND status IN ('received', 'failed')")


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('sor_updated_at')
        batch_op.drop_column('sor_attempted_at')
