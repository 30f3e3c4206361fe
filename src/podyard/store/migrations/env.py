"""Alembic environment: runs on the connection the Database hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from podyard.store.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # the alembic CLI, e.g. for autogenerate
    url = config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url"
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
