"""HTTP API: the FastAPI app, authentication, access checks, problem documents, routes."""
