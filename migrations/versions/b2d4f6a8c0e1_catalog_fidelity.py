"""Catalog fidelity: product images with alt text, compare-at price, taxable and requires-shipping per variant, and
what each listing last placed (its retailer media ids, each variant's compare-at price).

Revision ID: b2d4f6a8c0e1
Revises: a8c4e6f2d1b9
Create Date: 2026-11-30 03:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b2d4f6a8c0e1"
down_revision = "a8c4e6f2d1b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("images", sa.JSON(), nullable=True))
    with op.batch_alter_table("variant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compare_at_price", sa.Numeric(precision=14, scale=4), nullable=True))
        batch_op.add_column(sa.Column("taxable", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("requires_shipping", sa.Boolean(), nullable=True))
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_media", sa.JSON(), nullable=True))
    with op.batch_alter_table("listing_variant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pushed_compare_at", sa.Numeric(precision=14, scale=4), nullable=True))


def downgrade():
    with op.batch_alter_table("listing_variant", schema=None) as batch_op:
        batch_op.drop_column("pushed_compare_at")
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("remote_media")
    with op.batch_alter_table("variant", schema=None) as batch_op:
        batch_op.drop_column("requires_shipping")
        batch_op.drop_column("taxable")
        batch_op.drop_column("compare_at_price")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("images")
