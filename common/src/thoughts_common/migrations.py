"""Alembic, driven from code: each backend keeps its own migration scripts."""

import logging
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import engine_from_config, pool

logger = logging.getLogger(__name__)


def config(script_location, url):
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(script_location)))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(script_location, url, revision="head"):
    command.upgrade(config(script_location, url), revision)


def downgrade(script_location, url, revision="base"):
    command.downgrade(config(script_location, url), revision)


def current_heads(script_location, url):
    from alembic.runtime.migration import MigrationContext

    from thoughts_common.database import create

    engine = create(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def invalid_index_exists(connection, name):
    """True when an interrupted ``CREATE INDEX CONCURRENTLY`` left ``name`` behind, invalid (PostgreSQL)."""
    return bool(
        connection.exec_driver_sql(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %(name)s AND NOT i.indisvalid",
            {"name": name},
        ).first()
    )


def run_env(target_metadata, default_url=None):
    """The body of a backend's ``migrations/env.py``."""
    cfg = context.config
    url = cfg.get_main_option("sqlalchemy.url") or default_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets ALTER-style migrations run on SQLite too.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
