"""Product selection: which products a retailer carries, per partnership; the collections a product is in.

Revision ID: a3c5e7f9b1d2
Revises: a7c9e1b3d5f7
Create Date: 2026-11-30 04:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d2"
down_revision = "a7c9e1b3d5f7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_selection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("wholesaler_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"]),
        sa.ForeignKeyConstraint(["wholesaler_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id"),
    )
    with op.batch_alter_table("product_selection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_selection_wholesaler_id"), ["wholesaler_id"], unique=False)
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collections", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("collections")
    with op.batch_alter_table("product_selection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_selection_wholesaler_id"))
    op.drop_table("product_selection")
