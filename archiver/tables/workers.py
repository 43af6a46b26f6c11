"""Worker processes that parse API responses while the extraction reads and compares.

The machine's cores are used by sending runs of API responses (``ApiResponse``) to worker
processes, which parse them into rows (``parse_responses``) while the extracting process goes
on reading the file and comparing and committing the rows that came back before. Each task
gives a future; the caller takes the results in the order it submitted the tasks, so the
dataset is the same as when everything is done in one process (``count=0``: each task runs at
once, in this process, when it is submitted).

A worker is a fresh interpreter (``python -m archiver.tables.parse_worker``), not a fork: it inherits
no thread, open catalog connection or lock of the extracting process, and does not import the
caller's main module. Tasks and results are pickled over its standard input and output. Idle
workers take the next task, one queued ahead each; a long task (a file's media index) is taken
by a worker with nothing queued, which takes nothing more until it is done, so no page waits
behind it while the other workers could parse it. A worker whose extracting process dies reads
the end of its input and exits. A worker that dies makes its futures raise ``WorkerLost``; the
extraction turns that into an error naming the file and offset, and nothing of the unfinished
chunk is committed.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, TypeVar

from archiver.retention import Schedule
from archiver.tables.media import write_media_index
from archiver.tables.pages import ApiResponse, ParsedPages, parse_responses

__all__ = ["Workers", "WorkerLost"]

T = TypeVar("T")

#: tasks sent to a worker beyond the one it is running, so that it never waits for the next
_QUEUED_PER_WORKER = 1
#: tasks a worker holds at once, running or queued
_SLOTS_PER_WORKER = 1 + _QUEUED_PER_WORKER
#: where the ``archiver`` package is, for workers started from a checkout that is not installed
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class WorkerLost(Exception):
    """A worker process ended before it returned the result of a task it had taken."""


class Workers:
    """``count`` worker processes (none: every task runs in this process, when submitted)."""

    def __init__(self, count: int, schedule: Schedule) -> None:
        self.count = count
        self.schedule = schedule
        self.tasks: queue.SimpleQueue[tuple[bytes, Future[Any], int] | None] = queue.SimpleQueue()
        self.loss = _Loss()
        setup = pickle.dumps(schedule, protocol=pickle.HIGHEST_PROTOCOL)
        self.workers = [_Worker(self.tasks, setup, self.loss) for _ in range(count)]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers, once they have finished the tasks they hold; tasks not taken fail."""
        for _ in self.workers:
            self.tasks.put(None)
        for worker in self.workers:
            worker.join()
        while True:
            try:
                item = self.tasks.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].set_exception(WorkerLost("the extraction stopped before this task was taken"))

    def parse(self, responses: list[ApiResponse], harvest_id: str) -> Future[ParsedPages]:
        """The rows of these responses (``parse_responses``), on their way."""
        if not self.workers:
            return _done(parse_responses, responses, harvest_id, self.schedule)
        return self._submit("parse", 1, responses, harvest_id)

    def write_media_index(self, warc: Path, index: Path) -> Future[int]:
        """``write_media_index(warc, index)``, on its way."""
        if not self.workers:
            return _done(write_media_index, warc, index)
        # a pass over a whole file: the worker that takes it takes nothing else until it is done,
        # so that no page waits behind it while the other workers could parse it
        return self._submit("media", _SLOTS_PER_WORKER, warc, index)

    def _submit(self, kind: str, slots: int, *args: Any) -> Future[Any]:
        """Queue a task for the first worker free to take it; it holds ``slots`` of the worker's
        places (``_SLOTS_PER_WORKER``: all of them) until its result is read."""
        future: Future[Any] = Future()
        self.tasks.put((pickle.dumps((kind, args), protocol=pickle.HIGHEST_PROTOCOL), future, slots))
        return future


def _done(fn: Callable[..., T], *args: Any) -> Future[T]:
    future: Future[T] = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # raised again where the result is taken
        future.set_exception(exc)
    return future


class _Loss:
    """Whether a worker was lost, and how: from then on every task not yet taken fails too."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.why = ""

    def set(self, why: str) -> None:
        if not self.event.is_set():
            self.why = why
            self.event.set()


class _Worker:
    """One worker process, a thread feeding it tasks and a thread reading its results."""

    def __init__(self, tasks: queue.SimpleQueue[tuple[bytes, Future[Any], int] | None], setup: bytes, loss: _Loss) -> None:
        self.tasks = tasks
        self.setup = setup
        self.loss = loss
        self.closing = False  #: its input was closed on purpose
        self.ended = threading.Event()  #: its output has ended
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_PACKAGE_PARENT, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen([sys.executable, "-m", "archiver.tables.parse_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_worker = _connection(self.process.stdin, writable=True)
        self.from_worker = _connection(self.process.stdout, writable=False)
        self.taken: deque[tuple[Future[Any], int]] = deque()  # sent, result not yet read, in order; the slots each holds
        self.slots = threading.Semaphore(_SLOTS_PER_WORKER)
        self.feeder = threading.Thread(target=self._feed, name="extract-feed", daemon=True)
        self.reader = threading.Thread(target=self._read, name="extract-read", daemon=True)
        self.feeder.start()
        self.reader.start()

    def _feed(self) -> None:
        try:
            self.to_worker.send_bytes(self.setup)
        except OSError:
            pass  # the reader sees the end of the worker's output
        while True:
            if not self.ended.is_set():  # a worker that has ended takes every task, to fail it
                self.slots.acquire()
            item = self.tasks.get()
            if item is None:
                break
            payload, future, slots = item
            for _ in range(slots - 1):  # a task holding more than one slot waits for the tasks queued before it
                if not self.ended.is_set():
                    self.slots.acquire()
            if self.loss.event.is_set():
                future.set_exception(WorkerLost(self.loss.why))
                self.slots.release(slots)  # nothing was sent
                continue
            self.taken.append((future, slots))
            try:
                self.to_worker.send_bytes(payload)
            except OSError:
                pass  # the reader sees the end of the worker's output and fails what it had taken
        self.closing = True
        self.to_worker.close()  # the worker reads the end of its input, and exits

    def _read(self) -> None:
        while True:
            try:
                message = self.from_worker.recv_bytes()
            except (EOFError, OSError):
                break
            future, slots = self.taken.popleft()
            ok, value = pickle.loads(message)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
            self.slots.release(slots)
        self.process.wait()
        if self.taken or not self.closing:
            self.loss.set(self._ended())
        while self.taken:
            self.taken.popleft()[0].set_exception(WorkerLost(self.loss.why))
        self.ended.set()
        self.slots.release()  # the feeder may be waiting for a slot

    def _ended(self) -> str:
        code = self.process.poll()
        if code is not None and code < 0:
            return f"worker process {self.process.pid} was killed by signal {-code}"
        return f"worker process {self.process.pid} ended (exit code {code})"

    def join(self) -> None:
        self.feeder.join()
        self.reader.join()
        self.from_worker.close()


def _connection(pipe: IO[bytes], *, writable: bool) -> Connection:
    """A message connection over one end of a pipe, which it then owns alone."""
    fd = os.dup(pipe.fileno())
    pipe.close()
    return Connection(fd, readable=not writable, writable=writable)
