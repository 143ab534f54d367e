"""Write the API's OpenAPI document to a file, for the browser's typed client (`web/`, `scripts/build-web.sh`).

`python -m centralita.webui.openapi_dump OUT.json`: the document `GET /openapi.json` serves, made without a
database (an app over an in-memory SQLite that is never opened).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    from centralita.api.app import create_app
    from centralita.core.settings import Settings
    from centralita.events.bus import LocalBus
    from centralita.service import Service
    from centralita.store.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url="sqlite://")
        bus = LocalBus()
        service = Service(settings=settings, db=Database(settings.database_url, bus=bus), bus=bus)
        try:
            return create_app(service).openapi()
        finally:
            service.db.engine.dispose()


def main(argv: list[str]) -> None:
    text = json.dumps(openapi_document(), ensure_ascii=False, indent=1)
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
