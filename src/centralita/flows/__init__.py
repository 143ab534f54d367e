"""Contact flows (flows-and-routing.md §1–§5): flowlang 1 documents, their expressions, validation and
interpretation."""

__all__: list[str] = []
