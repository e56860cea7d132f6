"""The Strawberry schema: types and inputs (no I/O), assembled in `root`."""
