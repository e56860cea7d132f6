"""Pure business rules: no I/O, unit-tested without a database."""
