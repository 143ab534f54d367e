"""Files only their owner may read: the data directory (0700), the database, the secret key, the demo logins
(0600). Tightened on every start, so a file an older version or a copy left readable by others is fixed too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

__all__ = ["create_private_file", "private_dir"]

log = logging.getLogger("centralita")

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid != os.geteuid():
        return  # not ours to change (and never a shared directory such as /tmp)
    if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
        return  # a sticky, shared directory: keep its mode
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, mode)
        log.warning("%s was readable by others (mode %o): now %o", path, stat.S_IMODE(st.st_mode), mode)


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) if missing; the directory itself is made 0700."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600 (nothing happens when it does not exist)."""
    _tighten(path, PRIVATE_FILE)
    return path


def create_private_file(path: Path) -> Path:
    """Create an empty 0600 file unless it exists; either way it ends 0600."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    return private_file(path)
