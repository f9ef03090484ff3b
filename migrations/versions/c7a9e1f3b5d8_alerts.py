"""Alerts: one row per (organization, kind, subject) told to people, and each person's alert e-mail settings.

Revision ID: c7a9e1f3b5d8
Revises: 5a1c3e7f9b20
Create Date: 2026-11-30 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a9e1f3b5d8'
down_revision = '5a1c3e7f9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=True),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('times_notified', sa.Integer(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_alert_organization_id_organization')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
        sa.UniqueConstraint('organization_id', 'kind', 'subject', name=op.f('uq_alert_organization_id_kind_subject')),
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_notified_at'), ['notified_at'], unique=False)
    op.create_table(
        'alert_setting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('immediate', sa.Boolean(), nullable=False),
        sa.Column('daily_digest', sa.Boolean(), nullable=False),
        sa.Column('muted_kinds', sa.String(length=500), nullable=False),
        sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_alert_setting_organization_id_organization')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_setting_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_setting')),
        sa.UniqueConstraint('user_id', name=op.f('uq_alert_setting_user_id')),
    )
    with op.batch_alter_table('alert_setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_setting_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('alert_setting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_setting_organization_id'))
    op.drop_table('alert_setting')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_notified_at'))
        batch_op.drop_index(batch_op.f('ix_alert_organization_id'))
    op.drop_table('alert')
