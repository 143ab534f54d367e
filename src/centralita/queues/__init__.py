"""Queues, hours calendars (with holidays) and the contact-reason taxonomy: actions, queries, schemas."""
