"""Loans: lending copies, renewals, returns, holds and their pages' data (web uses it; it uses the catalog, the accounts and the database)."""
