"""Events: the one list of event types, the append-only log, and the after-commit fan-out bus."""
