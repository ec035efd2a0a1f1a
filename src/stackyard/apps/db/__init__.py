"""The apps database: SQLAlchemy 2 models, Alembic migrations shipped in the package,
sessions scoped to one operation, and the deploy lock."""
