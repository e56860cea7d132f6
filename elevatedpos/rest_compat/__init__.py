"""The REST bridge: a table of routes, each one named GraphQL operation run in-process."""
