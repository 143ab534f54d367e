"""Core: settings, clock, ids (case references), errors, phone numbers, translations. No I/O beyond settings."""
