"""SQLite's writer queue (store/db.py): one writer at a time across threads and processes, reentrant, and
agents' actions (urgent) ahead of ordinary writers waiting in the process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from centralita.store.db import WriterQueue


def _waiting(queue: WriterQueue, order: list[str], name: str, urgent: bool, started: threading.Event) -> None:
    started.set()
    with queue.held(urgent):
        order.append(name)


def test_an_urgent_writer_goes_before_ordinary_ones_that_waited_longer(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db.sqlite"))
    order: list[str] = []
    threads = []
    with queue.held():
        for name, urgent in [("new-contact-1", False), ("new-contact-2", False), ("accept", True)]:
            started = threading.Event()
            th = threading.Thread(target=_waiting, args=(queue, order, name, urgent, started))
            th.start()
            started.wait()
            time.sleep(0.05)  # each is waiting before the next comes
            threads.append(th)
    for th in threads:
        th.join(timeout=5)
    queue.close()
    assert order[0] == "accept" and sorted(order[1:]) == ["new-contact-1", "new-contact-2"]


def test_the_queue_is_reentrant_and_holds_the_file_lock_once(tmp_path: Path) -> None:
    import fcntl

    queue = WriterQueue(str(tmp_path / "db.sqlite"))
    lock_path = tmp_path / "db.sqlite.writer.lock"
    with queue.held(), queue.held(urgent=True):
        with lock_path.open("a+") as other:  # another process's view: the file lock is taken
            try:
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                taken = False
            except OSError:
                taken = True
        assert taken
    with lock_path.open("a+") as other:  # released once the outermost hold ends
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
    queue.close()
