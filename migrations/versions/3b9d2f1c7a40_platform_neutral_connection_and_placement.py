"""Platform-neutral columns: Connection.address and Partnership.placement, keeping existing data.

Revision ID: 3b9d2f1c7a40
Revises: 67c4cefd0c84
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b9d2f1c7a40'
down_revision = '67c4cefd0c84'
branch_labels = None
depends_on = None

partnership = sa.table(
    'partnership',
    sa.column('id', sa.Integer()),
    sa.column('fulfillment_service_remote_id', sa.String(length=255)),
    sa.column('fulfillment_location_remote_id', sa.String(length=255)),
    sa.column('placement', sa.JSON()),
)


def upgrade():
    # The shop domain becomes the store's address on its platform (NULL for a file feed); the unused location and
    # settings columns go.
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_constraint('uq_connection_platform_shop_domain', type_='unique')
        batch_op.alter_column('shop_domain', new_column_name='address', existing_type=sa.String(length=255),
                              nullable=True)
        batch_op.drop_column('location_remote_id')
        batch_op.drop_column('settings')
    # A second batch: SQLite's table copy only sees the renamed column once the first batch has run.
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_connection_platform_address'), ['platform', 'address'])

    # The Shopify fulfillment service and location ids move into the placement the retailer's platform returned.
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placement', sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(partnership.c.id, partnership.c.fulfillment_service_remote_id,
                  partnership.c.fulfillment_location_remote_id)
    ).all()
    for row_id, service_id, location_id in rows:
        if service_id or location_id:
            bind.execute(
                partnership.update().where(partnership.c.id == row_id)
                .values(placement={'fulfillment_service_id': service_id, 'location_id': location_id})
            )
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('fulfillment_location_remote_id')
        batch_op.drop_column('fulfillment_service_remote_id')


def downgrade():
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fulfillment_service_remote_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('fulfillment_location_remote_id', sa.String(length=255), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(partnership.c.id, partnership.c.placement)).all()
    for row_id, placement in rows:
        if placement:
            bind.execute(
                partnership.update().where(partnership.c.id == row_id).values(
                    fulfillment_service_remote_id=placement.get('fulfillment_service_id'),
                    fulfillment_location_remote_id=placement.get('location_id'),
                )
            )
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('placement')

    # A shop domain is required: a connection without an address (a file feed) gets a placeholder naming its row.
    op.execute(sa.text("UPDATE connection SET address = 'connection-' || id WHERE address IS NULL"))
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_constraint('uq_connection_platform_address', type_='unique')
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('location_remote_id', sa.String(length=255), nullable=True))
        batch_op.alter_column('address', new_column_name='shop_domain', existing_type=sa.String(length=255),
                              nullable=False)
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_connection_platform_shop_domain', ['platform', 'shop_domain'])
