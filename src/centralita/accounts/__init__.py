"""Accounts: contact centers (tenants), users with roles, browser sessions and API tokens."""
