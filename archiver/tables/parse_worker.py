"""A worker process of ``archiver.tables.workers``: ``python -m archiver.tables.parse_worker``.

It reads the retention schedule, then tasks, from its standard input, and writes each result to
its standard output, in order, until its input ends. Anything else it prints goes to its
standard error. Tasks are ``("parse", (responses, harvest_id))`` (``parse_responses``) and
``("media", (warc, index))`` (``write_media_index``); a result is ``(True, value)``, or
``(False, exception)`` for a task that raised.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import traceback
from multiprocessing.connection import Connection
from typing import Any

from archiver.retention import Schedule
from archiver.tables.media import write_media_index
from archiver.tables.pages import parse_responses

__all__ = ["main"]


def main() -> None:
    # Ctrl-C reaches the whole process group: the extracting process stops, then closes our input
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tasks = Connection(os.dup(0), writable=False)
    results = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print must not land among the results
    schedule: Schedule = pickle.loads(tasks.recv_bytes())
    # as in the extracting process (see ``_fewer_collections`` in archiver.tables.extract)
    gc.freeze()
    threshold = gc.get_threshold()
    if threshold[0]:
        gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    while True:
        try:
            kind, args = pickle.loads(tasks.recv_bytes())
        except EOFError:
            return  # the extraction is over, or its process has gone
        try:
            if kind == "parse":
                responses, harvest_id = args
                reply: tuple[bool, Any] = (True, parse_responses(responses, harvest_id, schedule))
            else:
                reply = (True, write_media_index(*args))
        except Exception as exc:
            reply = (False, _portable(exc))
        try:
            results.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, ConnectionResetError):
            return


def _portable(exc: Exception) -> Exception:
    """The exception with its traceback in this process as a note, as it can be pickled."""
    exc.add_note(f"raised in extraction worker process {os.getpid()}:\n{''.join(traceback.format_exception(exc)).rstrip()}")
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}\n" + "\n".join(getattr(exc, "__notes__", [])))


if __name__ == "__main__":
    main()
