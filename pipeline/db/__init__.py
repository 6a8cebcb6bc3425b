"""The job store: SQLAlchemy tables and the repository that reads and moves them."""
