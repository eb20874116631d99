"""Accounts: the library's patrons and librarians, their passwords and how they sign in."""
