"""Database connection from the variables stevedore injects.

The built-in infrastructure sets DB_HOST, DB_PORT, DB_NAME, DB_USER and
DB_PASSWORD (the password as a Secrets Manager secret) for a service that
uses a postgres resource. DATABASE_URL overrides them (tests use SQLite);
with neither, a local SQLite file is used.
"""
import os

from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker


def database_url():
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if os.environ.get("DB_HOST"):
        return URL.create(
            "postgresql+psycopg2",
            username=os.environ.get("DB_USER", "commander"),
            password=os.environ.get("DB_PASSWORD", ""),
            host=os.environ["DB_HOST"],
            port=int(os.environ.get("DB_PORT", "5432")),
            database=os.environ.get("DB_NAME", "commander_ai"),
        )
    return "sqlite:////tmp/commander.db"


engine = create_engine(database_url(), pool_pre_ping=True, future=True)
Session = sessionmaker(bind=engine, future=True)
