"""Persistence of desired and observed state (SQLAlchemy 2; SQLite by default, PostgreSQL too)."""
