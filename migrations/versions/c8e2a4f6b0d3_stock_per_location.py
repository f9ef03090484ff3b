"""Stock per location: the wholesaler's locations, each variant's quantity there, and per partnership which count.

Revision ID: c8e2a4f6b0d3
Revises: a3c5e7f9b1d2
Create Date: 2026-11-30 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8e2a4f6b0d3'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wholesaler_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('fulfills_online_orders', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], name=op.f('fk_stock_location_connection_id_connection')),
    sa.ForeignKeyConstraint(['wholesaler_id'], ['organization.id'], name=op.f('fk_stock_location_wholesaler_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_location')),
    sa.UniqueConstraint('connection_id', 'remote_id', name=op.f('uq_stock_location_connection_id_remote_id'))
    )
    with op.batch_alter_table('stock_location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_location_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_location_wholesaler_id'), ['wholesaler_id'], unique=False)

    op.create_table('variant_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['stock_location.id'], name=op.f('fk_variant_stock_location_id_stock_location')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_variant_stock_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant_stock')),
    sa.UniqueConstraint('variant_id', 'location_id', name=op.f('uq_variant_stock_variant_id_location_id'))
    )
    with op.batch_alter_table('variant_stock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_stock_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variant_stock_variant_id'), ['variant_id'], unique=False)

    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock_location_ids', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('stock_location_ids')
    op.drop_table('variant_stock')
    op.drop_table('stock_location')
