"""Worker processes that never outlive the command or notebook kernel that started them.

A worker blocked on its pipe or queue waits for ever once its parent is killed outright (SIGKILL, an
out-of-memory kill, a kernel restarted): the standard library's pools give a worker both ends of its queue,
and a sibling forked later holds a copy of the other end of a driver's pipe, so no end-of-file ever comes.
Nothing in the standard library or the process libraries we use watches for this; an orphan is adopted by
another process, which changes `os.getppid()` on every POSIX system, and that is what is watched here.
"""

from __future__ import annotations

import os
import signal
import threading
import time

POLL_S = 0.5  # how soon an orphaned worker ends; one cheap system call per poll


def watch_parent(parent: int | None = None) -> None:
    """Call first in a worker process (or as a pool's `initializer`): it ends once `parent` is no longer its
    parent process (default: the one it has now). SIGTERM ends it at once, as it would a process without
    handlers (a forked worker may have inherited a command's handler that stops the whole command in order);
    Ctrl-C, which a terminal sends to every process of the command, is left to the parent, which ends its
    workers itself (a worker interrupted inside a read would print a traceback of its own).

    Pass the starting process's id when the worker is its direct child (fork, spawn): a worker still
    starting when that process was killed then ends as soon as it gets here, instead of watching its new
    parent. A fork server's worker leaves it out: its parent is the fork server, which ends with the process
    that started it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    expected = os.getppid() if parent is None else parent
    threading.Thread(target=_end_with, args=(expected,), daemon=True, name="parent-watch").start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)
