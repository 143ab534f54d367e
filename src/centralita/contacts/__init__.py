"""Contacts: live contacts and their routing state, imported history, search and timelines."""
