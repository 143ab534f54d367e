"""A real `centralita up`: slow clients are cut off, and X-Forwarded-For is believed from named proxies only."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.e2e.real_server import Up, base_env, prepare, start_up
from tests.factories import PASSWORD

pytestmark = pytest.mark.slow

TIMEOUT_S = 1.0  # header and body time-outs of the servers below


def _prepare(data_dir: Path, **settings: str) -> tuple[dict[str, str], str]:
    env = base_env(data_dir, header_timeout=str(TIMEOUT_S), body_timeout=str(TIMEOUT_S), **settings)
    token = prepare(env, users=("ana", "luis"), password=PASSWORD)
    return env, token


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """No trusted proxies (the default); `server.token` is a supervisor API token."""
    tmp = tmp_path_factory.mktemp("guards")
    env, token = _prepare(tmp / "data")
    up = start_up(env, tmp / "server.log")
    up.token = token
    yield up
    up.stop()


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed (from now)."""
    start = time.monotonic()
    sock.settimeout(limit_s)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data, time.monotonic() - start
        data += chunk


def _trickle(sock: socket.socket, data: bytes, every_s: float, limit_s: float) -> tuple[bytes, float]:
    """Send `data` a byte every `every_s` until the server closes; what it answered and after how long."""
    start = time.monotonic()
    sock.setblocking(False)
    for byte in data:
        try:
            sock.send(bytes([byte]))
        except OSError:
            break  # closed under us
        time.sleep(every_s)
        try:
            sock.recv(1, socket.MSG_PEEK)
            break  # it answered (or closed)
        except BlockingIOError:
            pass
        assert time.monotonic() - start < limit_s, "the server kept the slow connection open"
    sock.setblocking(True)
    answer, _after = _read_until_closed(sock, limit_s)
    return answer, time.monotonic() - start


def _problem(answer: bytes) -> tuple[str, dict[str, object]]:
    head, _sep, body = answer.partition(b"\r\n\r\n")
    return head.decode().split("\r\n")[0], json.loads(body)


def test_a_client_that_sends_its_headers_slowly_is_cut_off(server: Up) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer, after = _trickle(sock, b"X-Slow: " + b"a" * 200, every_s=0.1, limit_s=10)
    assert TIMEOUT_S * 0.9 <= after < TIMEOUT_S + 2.5
    status, problem = _problem(answer)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert problem["status"] == 408 and problem["detail"] == "the request headers did not arrive within 1 s"


def test_a_connection_that_sends_nothing_is_closed(server: Up) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        answer, after = _read_until_closed(sock, 10)
    assert answer == b"" and after < TIMEOUT_S + 2.5


def test_a_body_sent_slowly_is_cut_off(server: Up) -> None:
    body = json.dumps({"username": "ana", "password": PASSWORD, "tenant": "norte"}).encode()
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head)
        answer, after = _trickle(sock, body, every_s=0.1, limit_s=10)
    assert TIMEOUT_S * 0.9 <= after < TIMEOUT_S + 2.5
    status, problem = _problem(answer)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert problem["detail"] == "the request body did not arrive within 1 s"
    assert problem["type"] == "https://centralita.dev/problems/request-timeout"


def test_oversized_headers_are_refused(server: Up) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for i in range(20):
                sock.sendall(b"X-Big-%d: " % i + b"a" * 8000 + b"\r\n")
            sock.sendall(b"\r\n")
        except OSError:
            pass  # closed under us
        answer, after = _read_until_closed(sock, 10)
    status, problem = _problem(answer)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert problem["detail"] == "the request line and headers are larger than 64 KiB"
    assert after < TIMEOUT_S  # at once, not at the time-out


def test_a_websocket_outlives_the_request_time_outs(server: Up) -> None:
    with ws_connect(f"ws://127.0.0.1:{server.port}/api/realtime?token={server.token}") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        time.sleep(TIMEOUT_S * 2.5)
        ws.ping().wait(timeout=5)  # still open: the header and body deadlines ended with the upgrade
    line = next(x for x in _access_lines(server, "/api/realtime?token=***"))
    assert line["method"] == "WS" and line["status"] == "101" and line["user"] == "token:e2e"
    assert float(line["duration_ms"]) >= TIMEOUT_S * 2500


def test_prompt_clients_are_served_also_on_a_kept_alive_connection(server: Up) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/health").status_code == 200
        time.sleep(TIMEOUT_S + 0.5)  # idle between requests: the keep-alive time-out (5 s) applies, not ours
        login = client.post("/api/auth/login", json={"username": "ana", "password": PASSWORD, "tenant": "norte"})
        assert login.status_code == 200


def test_rotating_x_forwarded_for_does_not_escape_the_login_limit(server: Up) -> None:
    body = {"username": "ana", "password": "wrong-wrong", "tenant": "norte"}
    with httpx.Client(base_url=server.url) as client:
        codes = [
            client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(12)
        ]
    assert codes == [401] * 10 + [429] * 2  # the default limit: 10 a minute, whatever the header says
    lines = _access_lines(server, "/api/auth/login")
    assert {x["client"] for x in lines} == {"127.0.0.1"}


def _access_lines(up: Up, path: str) -> list[dict[str, str]]:
    """The server's access log lines for `path` (each `<UTC time> key=value …`)."""
    time.sleep(0.2)  # written after the response
    out = []
    for line in up.output().splitlines():
        stamp, _sep, rest = line.partition(" ")
        if rest.startswith("request_id="):
            assert stamp.endswith("Z") and "T" in stamp
            fields = dict(part.split("=", 1) for part in rest.split(" "))
            if fields["path"] == path:
                out.append(fields)
    return out


def test_the_server_writes_an_access_line_per_request(server: Up) -> None:
    with httpx.Client(base_url=server.url) as client:
        login = client.post(
            "/api/auth/login",
            json={"username": "luis", "password": PASSWORD, "tenant": "norte"},  # ana may be rate-limited
            headers={"X-Request-ID": "e2e-access-1"},
        )
        assert login.status_code == 200 and login.headers["x-request-id"] == "e2e-access-1"
        me = client.get("/api/auth/me?token=not-logged", headers={"X-Request-ID": "e2e-access-2"})
        assert me.status_code == 200
    [line] = [x for x in _access_lines(server, "/api/auth/me?token=***") if x["request_id"] == "e2e-access-2"]
    assert line["method"] == "GET" and line["status"] == "200" and line["user"] == "luis"
    assert line["client"] == "127.0.0.1" and float(line["duration_ms"]) > 0
    assert "not-logged" not in server.output() and PASSWORD not in server.output()


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    env, _token = _prepare(tmp_path / "data", trusted_proxies="10.9.0.0/16, 127.0.0.1")
    up = start_up(env, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=up.url) as client:
            body = {"username": "ana", "password": "wrong-wrong", "tenant": "norte"}

            def login(forwarded: str) -> int:
                return client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": forwarded}).status_code

            # each client behind the proxy has its own count
            assert [login(f"203.0.113.{i}") for i in range(12)] == [401] * 12
            # the rightmost untrusted address is the client: a spoofed leftmost entry changes nothing
            assert [login(f"198.51.100.{i}, 203.0.113.77, 10.9.1.1") for i in range(11)] == [401] * 10 + [429]
            assert {x["client"] for x in _access_lines(up, "/api/auth/login")} == {
                *(f"203.0.113.{i}" for i in range(12)),
                "203.0.113.77",
            }
            secure = client.post(
                "/api/auth/login",
                json=dict(body, password=PASSWORD),
                headers={"X-Forwarded-For": "203.0.113.200", "X-Forwarded-Proto": "https"},
            )
            assert secure.status_code == 200
            assert "secure" in secure.headers["set-cookie"].lower()  # the proxy said the client used https
    finally:
        up.stop()
