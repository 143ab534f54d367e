"""The prompt library flows name by id (library.py)."""
