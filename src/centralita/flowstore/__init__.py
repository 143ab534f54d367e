"""Published contact flows: every version of a flow's text kept, one current per flow (issue 11)."""
