"""Entry points (a called number, a chat widget key or an e-mail address, mapped to the flow its contacts
run) and the HTTP functions flows may `invoke`: actions, queries, schemas."""
