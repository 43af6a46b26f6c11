"""The catalog's tables of people: users and their roles (R17), the credential register (R16).

No password, token or other secret has a column here: the credential register names login IDs
and the officials authorised to post, with dates, as the 2012 social media framework asks.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text

from archiver.catalog.tables import metadata

__all__ = ["users", "user_roles", "account_credentials"]

users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),  # the login name, or the --user given
    Column("full_name", String(255), nullable=False),
    Column("designation", String(255)),
    Column("active", Boolean, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(100), nullable=False),
)

# A grant is never deleted: a revoked role keeps its row, with who revoked it and when.
user_roles = Table(
    "user_roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(100), ForeignKey("users.name"), nullable=False),
    Column("role", String(40), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", String(100), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(100)),
    Column("reason", Text),
)

account_credentials = Table(
    "account_credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_key", String(300), ForeignKey("accounts.key"), nullable=False),
    Column("kind", String(20), nullable=False),  # login_id, poster
    Column("value", String(255), nullable=False),  # the login ID, or the poster's name
    Column("designation", String(255)),  # a poster's designation
    Column("from_on", Date, nullable=False),
    Column("to_on", Date),
    Column("note", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", String(100)),
)
