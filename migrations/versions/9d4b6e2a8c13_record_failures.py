"""Sync correctness: per-record failure state, and room for the `done_with_failures` run status.

Revision ID: 9d4b6e2a8c13
Revises: 7c2e4a9b1d05
Create Date: 2026-11-30 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d4b6e2a8c13'
down_revision = '7c2e4a9b1d05'
branch_labels = None
depends_on = None

OPEN = "status IN ('queued', 'running')"


def upgrade():
    op.create_table(
        'record_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_name', sa.String(length=64), nullable=False),
        sa.Column('target_key', sa.String(length=64), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('record_key', sa.String(length=255), nullable=False),
        sa.Column('label', sa.String(length=255), nullable=False),
        sa.Column('record_updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_name', 'target_key', 'record_key'),
    )
    with op.batch_alter_table('record_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_failure_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_failure_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_failure_target_key'), ['target_key'], unique=False)
    _status_length(16, 24)


def _status_length(old: int, new: int) -> None:
    # SQLite rebuilds sync_run to change a type; its partial unique index (one open run per job and target) is
    # dropped first and recreated after, with its WHERE clause, so the rebuild cannot lose it.
    op.drop_index('uq_sync_run_open', table_name='sync_run')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=old), type_=sa.String(length=new),
                              existing_nullable=False)
    op.create_index(
        'uq_sync_run_open', 'sync_run', ['job_name', 'target_key'], unique=True,
        sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN),
    )


def downgrade():
    _status_length(24, 16)
    with op.batch_alter_table('record_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_failure_target_key'))
        batch_op.drop_index(batch_op.f('ix_record_failure_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_record_failure_organization_id'))
    op.drop_table('record_failure')
