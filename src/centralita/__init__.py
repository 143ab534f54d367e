"""Centralita: an open-source contact center that is also the customer's record."""

__version__ = "0.1.0"
