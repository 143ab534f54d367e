"""Settings precedence: option > environment > config file > default; bad values name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from centralita.core.errors import InvalidInput
from centralita.core.settings import load_settings


def test_defaults_put_sqlite_in_data_dir(tmp_path: Path) -> None:
    s = load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path and s.database_url == f"sqlite:///{tmp_path / 'centralita.db'}"


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "centralita.toml").write_text('port = 9001\nlanguage = "en"\ndatabase_url = "postgresql://x/y"\n')
    env = {"CENTRALITA_DATA_DIR": str(tmp_path), "CENTRALITA_PORT": "9002"}
    s = load_settings({}, env=env)
    assert (s.port, s.language) == (9002, "en")
    assert s.database_url == "postgresql+psycopg://x/y"
    assert load_settings({"port": 9003}, env=env).port == 9003


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="port must be an integer"):
        load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path), "CENTRALITA_PORT": "eighty"})
    (tmp_path / "centralita.toml").write_text('colour = "red"\n')
    with pytest.raises(InvalidInput, match="unknown setting"):
        load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    (tmp_path / "centralita.toml").write_text("port = \n")
    with pytest.raises(InvalidInput, match=r"centralita\.toml"):
        load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    (tmp_path / "centralita.toml").unlink()
    with pytest.raises(InvalidInput, match="database_url"):
        load_settings({"database_url": "mysql://x"}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    s = load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    key = s.ensure_secret_key()
    assert key == s.ensure_secret_key() and len(key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_proxy_timeout_and_access_log_settings(tmp_path: Path) -> None:
    env = {
        "CENTRALITA_DATA_DIR": str(tmp_path),
        "CENTRALITA_TRUSTED_PROXIES": " 10.0.0.7/8, 192.168.1.10 ,::1",
        "CENTRALITA_HEADER_TIMEOUT": "2.5",
        "CENTRALITA_ACCESS_LOG": "off",
    }
    s = load_settings({}, env=env)
    assert s.trusted_proxies == ("10.0.0.0/8", "192.168.1.10/32", "::1/128")
    assert (s.header_timeout, s.body_timeout, s.access_log) == (2.5, 30.0, False)
    defaults = load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    assert (defaults.trusted_proxies, defaults.header_timeout, defaults.access_log) == ((), 10.0, True)
    (tmp_path / "centralita.toml").write_text('trusted_proxies = ["172.16.0.0/12"]\naccess_log = true\n')
    from_file = load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path)})
    assert from_file.trusted_proxies == ("172.16.0.0/12",) and from_file.access_log is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRUSTED_PROXIES", "10.0.0.1, proxy.internal", "trusted_proxies: 'proxy.internal' is not an IP address"),
        ("HEADER_TIMEOUT", "0", "header_timeout must be a number of seconds above 0"),
        ("BODY_TIMEOUT", "soon", "body_timeout must be a number of seconds above 0"),
        ("ACCESS_LOG", "maybe", "access_log must be true or false"),
    ],
)
def test_bad_proxy_timeout_and_access_log_values(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_settings({}, env={"CENTRALITA_DATA_DIR": str(tmp_path), f"CENTRALITA_{name}": value})
