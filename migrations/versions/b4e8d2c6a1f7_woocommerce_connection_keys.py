"""WooCommerce connections: the consumer key and the webhook secret, both encrypted like tokens.

Revision ID: b4e8d2c6a1f7
Revises: 9d4b6e2a8c13
Create Date: 2026-11-30 02:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b4e8d2c6a1f7"
down_revision = "9d4b6e2a8c13"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("connection") as batch:
        batch.add_column(sa.Column("api_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("connection") as batch:
        batch.drop_column("webhook_secret")
        batch.drop_column("api_key")
