"""Queries and mutations per domain: authorize, validate, call an action or a query, return."""
