"""Run a generator one step ahead in a background thread.

Polars and DuckDB release the GIL while they work, so reading and parsing the next chunk of a
large file overlaps with storing the current one. At most `depth` items are produced ahead of
the one being consumed, which bounds memory: with depth 1, two chunks at most are alive.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield the items of `source`, producing the next ones in a thread.

    >>> list(prefetch(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    items: queue.Queue[object] = queue.Queue()
    # A slot is taken before an item is produced and given back when the consumer takes an
    # item, so production runs at most `depth` items ahead of the one being consumed, and
    # goes on while that one is being consumed.
    slots = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    item = next(source)
                except StopIteration:
                    items.put(_DONE)
                    return
                items.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            items.put(exc)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            slots.release()
            yield item  # type: ignore[misc]
            del item
    finally:
        stop.set()
        slots.release()
        thread.join()
