"""Runtime reliability: the outbox, one open run per (job, target), and the fencing token of a run's lease.

Revision ID: 7c2e4a9b1d05
Revises: 5e1a7c0d2b91
Create Date: 2026-11-30 00:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2e4a9b1d05'
down_revision = '5e1a7c0d2b91'
branch_labels = None
depends_on = None

OPEN = "status IN ('queued', 'running')"


def upgrade():
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=True),
        sa.Column('queue', sa.String(length=32), nullable=False),
        sa.Column('rq_job_id', sa.String(length=255), nullable=True),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('publishes', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rq_job_id'),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_done_at'), ['done_at'], unique=False)
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fence', sa.Integer(), nullable=True))
    # Older duplicates of an open run (possible before this revision) are closed so the unique index can exist.
    op.execute(
        f"UPDATE sync_run SET status = 'failed' WHERE {OPEN} AND id NOT IN "
        f"(SELECT MAX(id) FROM sync_run WHERE {OPEN} GROUP BY job_name, target_key)"
    )
    op.create_index(
        'uq_sync_run_open', 'sync_run', ['job_name', 'target_key'], unique=True,
        sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN),
    )


def downgrade():
    op.drop_index('uq_sync_run_open', table_name='sync_run')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('fence')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_done_at'))
    op.drop_table('outbox_message')
