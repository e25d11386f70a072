"""Tortoise ORM models and database lifecycle (SQLite by default, PostgreSQL for several processes)."""
