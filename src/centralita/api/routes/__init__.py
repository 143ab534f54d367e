"""API routes: each is one parse, one access check, one action or query."""
