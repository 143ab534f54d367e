"""A real server in this process (uvicorn in a thread, routing started) for the simulator to drive over HTTP
and the WebSocket, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from centralita.api.app import create_app
from tests.conftest import Api


@dataclass
class Server:
    api: Api
    url: str


@pytest.fixture
def server(api: Api) -> Iterator[Server]:
    api.service.start_routing()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(api.service), log_level="warning", ws="websockets-sansio", lifespan="off", access_log=False
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield Server(api=api, url=f"http://127.0.0.1:{port}")
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()
