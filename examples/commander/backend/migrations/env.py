"""alembic environment: the same connection settings as the app."""
from logging.config import fileConfig

from alembic import context

from app.db import engine
from app.models import Base

if context.config.config_file_name:
    # Keep the loggers the revision scripts created when alembic loaded them.
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
