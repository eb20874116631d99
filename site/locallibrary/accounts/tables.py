"""The accounts' schema: users and the sign-in throttle's counters."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from locallibrary.database.naming import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(enum.StrEnum):
    PATRON = "patron"
    LIBRARIAN = "librarian"


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),  # as the user typed it: where mail goes
    # The email case-folded: what makes two spellings of one address one account.
    Column("email_key", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    # The name folded (users.name_key): what the loans desk finds a patron named by. Like
    # email_key, it is kept by the code that writes the name: a name set in plain SQL must set
    # it too ('' is found by email only).
    Column("name_key", Text, nullable=False, server_default=text("''")),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, server_default=Role.PATRON.value),
    # Unix seconds, as the sessions table keeps its times.
    Column("created_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger),
    CheckConstraint("role IN ('patron', 'librarian')", name="role_known"),
    # A patron named at the loans desk, by key (migration 0013).
    Index("ix_users_name_key", "name_key", "id"),
)

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    # What is counted: one client address, or one (email, address) pair.
    Column("bucket", String(400), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", BigInteger, nullable=False),
    Index("ix_sign_in_failures_window_started_at", "window_started_at"),
)
