"""Contacts: queues, contact reasons, hours calendars, contacts and their search."""
