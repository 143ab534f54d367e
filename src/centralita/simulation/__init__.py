"""Synthetic traffic: `traffic` (pure: arrivals, handle and patience times, option parsing), `live` (the driver
that plays customers and bot agents against a running server over HTTP and the WebSocket)."""
