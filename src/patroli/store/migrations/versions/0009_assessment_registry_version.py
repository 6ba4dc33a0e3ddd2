"""Assessments record the registry version they were verified against, so that a scan
after a new registry snapshot (or watch/allow-list change) re-verifies stored posts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 00:00:00

``assessments.registry_version``: ``Verifier.version`` (snapshot version plus watch/allow
counts), ``''`` for assessments made without a registry check and for those stored before
this revision (a rescan re-verifies them once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``assessments.registry_version`` (not null, default ``''``)."""
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("registry_version", sa.String(128), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    """Drop ``assessments.registry_version``."""
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("registry_version")
