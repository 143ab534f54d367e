"""Routing engine (pure): snapshot + clock → decisions. No I/O, no database (flows-and-routing.md §6)."""
