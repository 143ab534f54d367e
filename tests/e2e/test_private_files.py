"""The data directory (0700), the database, the secret key and the demo logins (0600) are private to their
owner after `centralita up`, also when they existed before readable by others."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.real_server import base_env, prepare, start_up

pytestmark = pytest.mark.slow


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _umask_022() -> Iterator[None]:
    """The usual umask (files 0644), inherited by the processes started here."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_fresh_data_directory_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    up = start_up(base_env(data), tmp_path / "server.log")
    try:
        db = data / "centralita.db"
        assert _mode(data) == 0o700
        key = data / "secret_key"  # where the README's settings table says
        assert key.exists() and len(key.read_text().strip()) > 40
        for path in (db, data / "centralita.db-wal", data / "centralita.db-shm", key):
            assert _mode(path) == 0o600, path
    finally:
        up.stop()


def test_files_left_readable_by_others_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = base_env(data)
    prepare(env)  # creates the database
    (data / "secret_key").write_text("the-old-key\n")
    (data / "demo-logins.txt").write_text("admin  admin  s3cret\n")
    loose = [data / "centralita.db", data / "secret_key", data / "demo-logins.txt"]
    for path in loose:
        os.chmod(path, 0o644)
    os.chmod(data, 0o755)

    up = start_up(env, tmp_path / "server.log")
    try:
        assert _mode(data) == 0o700
        for path in [*loose, data / "centralita.db-wal", data / "centralita.db-shm"]:
            assert _mode(path) == 0o600, path
        assert (data / "secret_key").read_text() == "the-old-key\n"  # kept, not regenerated
    finally:
        up.stop()
    assert "secret_key was readable by others (mode 644): now 600" in up.output()
