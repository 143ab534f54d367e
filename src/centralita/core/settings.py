"""Settings: command option, else environment variable, else config file, else default.

Environment variables are `CENTRALITA_<NAME>` (e.g. CENTRALITA_DATA_DIR, CENTRALITA_DATABASE_URL).
The config file is TOML: `--config`, else CENTRALITA_CONFIG, else `<data_dir>/centralita.toml`.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from centralita.core.errors import FieldError, InvalidInput
from centralita.core.files import create_private_file, private_dir, private_file
from centralita.core.i18n import _

__all__ = ["DEMO_LOGINS_FILE", "Settings", "load_settings", "normalize_database_url"]

ENV_PREFIX = "CENTRALITA_"
SECRET_KEY_FILE = "secret_key"
DEMO_LOGINS_FILE = "demo-logins.txt"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "centralita"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    # names the Redis channels; by default a hash of the database URL. Servers that reach one database by
    # different addresses set the same value; two services sharing one Redis never share channels.
    redis_namespace: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    language: str = "es"
    secret_key: str | None = None
    login_attempts_per_minute: int = 10
    max_body_bytes: int = 1024 * 1024  # a request body above this is refused with 413
    # the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs); none by default
    trusted_proxies: tuple[str, ...] = ()
    header_timeout: float = 10.0  # seconds a client has to send a request's headers
    body_timeout: float = 30.0  # seconds a client has to send a request's body, once its headers are in
    access_log: bool = True  # `centralita up` logs one line per request
    # a worker with this many requests under way answers new contacts 503 + Retry-After (api/admission.py)
    max_pending_requests: int = 64
    workers: int | None = None  # `centralita up`'s worker processes; None: one per core (at most MAX_WORKERS)
    config_file: Path | None = None
    # Python modules whose flow functions register at start (comma-separated; flowrun/functions.py); the
    # demo bank's by default, so `centralita up` serves the demo's self-service out of the box
    function_modules: str = "centralita.demo.banking"

    @property
    def worker_count(self) -> int:
        """How many worker processes `centralita up` runs: as set, else one per core (at most MAX_WORKERS)."""
        return self.workers if self.workers is not None else max(1, min(os.cpu_count() or 1, MAX_WORKERS))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file (None: PostgreSQL, or an in-memory database)."""
        if not self.is_sqlite or ":///" not in self.database_url:
            return None
        path = self.database_url.split(":///", 1)[1].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def ensure_secret_key(self) -> str:
        """The secret key: configured, else generated once into `<data dir>/secret_key` (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            key = private_file(path).read_text().strip()
            if key:
                return key
        private_dir(self.data_dir)
        key = secrets.token_urlsafe(48)
        create_private_file(path)
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def secure_files(self) -> None:
        """Make the data directory 0700 and the database, secret key and demo logins 0600 (creating the data
        directory and an empty SQLite file when missing, so SQLite never creates them readable by others;
        SQLite gives its -wal and -shm files the database file's mode)."""
        database = self.sqlite_path
        if self.data_dir.exists() or (database is not None and database.parent == self.data_dir):
            private_dir(self.data_dir)
        for name in (SECRET_KEY_FILE, DEMO_LOGINS_FILE):
            private_file(self.data_dir / name)
        if database is not None and database.parent.is_dir():
            create_private_file(database)
            for suffix in ("-wal", "-shm", "-journal"):
                private_file(database.with_name(database.name + suffix))


_KEYS = {f.name for f in fields(Settings)} - {"config_file"}
_INT_KEYS = {"port", "login_attempts_per_minute", "max_body_bytes", "workers", "max_pending_requests"}
MAX_WORKERS = 8
_SECONDS_KEYS = {"header_timeout", "body_timeout"}
_BOOL_KEYS = {"access_log"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def parse_networks(value: Any, source: str, name: str = "trusted_proxies") -> tuple[str, ...]:
    """IP addresses and CIDR networks, comma-separated (or a TOML list), as canonical network strings."""
    items = value if isinstance(value, list) else str(value).split(",")
    out: list[str] = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise InvalidInput(
                _("{source}: {name}: {item!r} is not an IP address or network", source=source, name=name, item=item),
                [FieldError([name], _("{item!r} is not an IP address or network", item=item), source=source)],
            ) from None
    return tuple(out)


def _coerce(name: str, value: Any, source: str) -> Any:
    if value is None:
        return None
    if name == "trusted_proxies":
        return parse_networks(value, source)
    if name in _BOOL_KEYS:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE
        raise InvalidInput(
            _("{source}: {name} must be true or false", source=source, name=name),
            [FieldError([name], _("must be true or false"), source=source)],
        )
    if name in _SECONDS_KEYS:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = 0.0
        if not (math.isfinite(seconds) and seconds > 0):
            raise InvalidInput(
                _("{source}: {name} must be a number of seconds above 0", source=source, name=name),
                [FieldError([name], _("must be a number of seconds above 0"), source=source)],
            )
        return seconds
    if name in _INT_KEYS:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                _("{source}: {name} must be an integer", source=source, name=name),
                [FieldError([name], _("must be an integer"), source=source)],
            ) from None
        if name == "workers" and not 1 <= number <= MAX_WORKERS:
            raise InvalidInput(
                _("{source}: workers must be from 1 to {most}", source=source, most=MAX_WORKERS),
                [FieldError([name], _("must be from 1 to {most}", most=MAX_WORKERS), source=source)],
            )
        if name in ("max_body_bytes", "max_pending_requests") and number < 1:
            raise InvalidInput(
                _("{source}: {name} must be a positive integer", source=source, name=name),
                [FieldError([name], _("must be a positive integer"), source=source)],
            )
        return number
    if name == "data_dir":
        return Path(str(value)).expanduser()
    if name == "language" and value not in ("es", "en"):
        raise InvalidInput(
            _("{source}: language must be es or en", source=source), [FieldError([name], _("must be es or en"))]
        )
    if name == "database_url" and not str(value).startswith(("sqlite", "postgresql")):
        raise InvalidInput(
            _("{source}: database_url must start with sqlite:// or postgresql://", source=source),
            [FieldError([name], _("must start with sqlite:// or postgresql://"), source=source)],
        )
    return str(value)


def normalize_database_url(url: str) -> str:
    """`postgresql://` selects PostgreSQL through psycopg 3."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def load_settings(options: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from options (None = not given), environment and config file."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    env = dict(os.environ) if env is None else env
    from_env = {k: env[ENV_PREFIX + k.upper()] for k in _KEYS if env.get(ENV_PREFIX + k.upper())}

    data_dir = options.get("data_dir") or from_env.get("data_dir")
    config_path = options.get("config_file") or env.get(ENV_PREFIX + "CONFIG")
    from_file: dict[str, Any] = {}
    candidate = Path(config_path) if config_path else None
    if candidate is None:
        guess_dir = Path(str(data_dir)).expanduser() if data_dir else default_data_dir()
        candidate = guess_dir / "centralita.toml"
        if not candidate.exists():
            candidate = None
    if candidate is not None:
        try:
            from_file = tomllib.loads(candidate.read_text())
        except FileNotFoundError:
            raise InvalidInput(_("config file not found: {path}", path=candidate)) from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{candidate}: {exc}") from None
        unknown = sorted(set(from_file) - _KEYS)
        if unknown:
            raise InvalidInput(
                _("{path}: unknown setting(s): {names}", path=candidate, names=", ".join(unknown)),
                [FieldError([k], _("unknown setting"), source=str(candidate)) for k in unknown],
            )

    resolved: dict[str, Any] = {}
    for key in _KEYS:
        for source_name, source in (
            (_("option"), options),  # where a bad value came from, in its message
            (_("environment"), from_env),
            (str(candidate), from_file),
        ):
            if key in source:
                resolved[key] = _coerce(key, source[key], source_name)
                break
    resolved.setdefault("data_dir", default_data_dir())
    if "database_url" not in resolved:
        resolved["database_url"] = f"sqlite:///{resolved['data_dir'] / 'centralita.db'}"
    resolved["database_url"] = normalize_database_url(resolved["database_url"])
    return Settings(config_file=candidate, **resolved)
