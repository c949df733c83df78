"""Extensions of the description (pgvector) and the conversations table.

Revision ID: 0001
"""
import logging
import os

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

log = logging.getLogger("alembic.runtime.migration")

# The extensions the postgres resource lists (infra.resources.<name>.extensions),
# injected by stevedore as DB_EXTENSIONS.
EXTENSIONS = [e for e in os.environ.get("DB_EXTENSIONS", "").split(",") if e]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        available = {row[0] for row in bind.execute(sa.text("SELECT name FROM pg_available_extensions"))}
        for ext in EXTENSIONS:
            if ext in available:
                op.execute('CREATE EXTENSION IF NOT EXISTS "%s"' % ext)
            else:
                # A local stand-in (Debian's PostgreSQL 15) has no pgvector: say so, do not fail.
                log.warning("extension %s is not available on this server: skipped", ext)
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade():
    op.drop_table("conversations")
