"""Storage: SQLAlchemy 2.0 models, engine/session setup and repositories (SQLite or PostgreSQL)."""
