"""Persistence: SQLAlchemy 2 models, engines and sessions, Alembic migrations, at-rest encryption."""
