"""Centralita in the browser, served by the Centralita process: the pages built from `web/` (agent
desktop, wallboard, admin, login, API docs, the chat demo page) and the embeddable chat widget.

The build (`scripts/build-web.sh`, run by the setup command) writes them into `webui/dist/`, never
committed. `pages.install(app)` serves them: hashed assets with a year's immutable cache, pages and the
widget's stable URL revalidated.
"""
