"""Domain events: the transactional outbox and what reads from it."""
