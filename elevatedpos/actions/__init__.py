"""Business actions with I/O, shared by resolvers and the CLI."""
