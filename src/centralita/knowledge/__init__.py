"""The knowledge base agents search and the agent scripts per contact reason (schemas, actions, queries)."""
