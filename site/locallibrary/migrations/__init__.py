"""Alembic migrations for the site's database (catalog and sessions)."""
