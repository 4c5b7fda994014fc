"""Run a generator one step ahead in a background thread.

Polars and DuckDB release the GIL while they work, so reading and parsing the next chunk of a
large file overlaps with storing the current one. At most `depth` items are produced ahead of
the one being consumed, which bounds memory: with depth 1, two chunks at most are alive. When
items differ in size (whole files read ahead), `weight` and `budget` bound the bytes too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(
    source: Iterator[T],
    depth: int = 1,
    *,
    weight: Callable[[T], int] | None = None,
    budget: int = 0,
) -> Generator[T, None, None]:
    """Yield the items of `source`, producing the next ones in a thread.

    No item is started while `depth` items wait, nor while the waiting items' `weight` adds
    up to `budget` or more (unless none waits: one item is always allowed).

    >>> list(prefetch(iter(range(5))))
    [0, 1, 2, 3, 4]
    >>> list(prefetch(iter([b"ab", b"cde"]), depth=10, weight=len, budget=2))
    [b'ab', b'cde']
    """
    items: queue.Queue[object] = queue.Queue()
    room = threading.Condition()
    # Items started and not yet taken by the consumer, and their weight: production runs at
    # most `depth` items ahead of the one being consumed, and goes on while that one is being
    # consumed.
    ahead = [0, 0]
    stop = threading.Event()

    def full() -> bool:
        return ahead[0] >= depth or (budget > 0 and ahead[0] > 0 and ahead[1] >= budget)

    def produce() -> None:
        try:
            while True:
                with room:
                    while full() and not stop.is_set():
                        room.wait(timeout=0.1)
                    if stop.is_set():
                        return
                    ahead[0] += 1
                try:
                    item = next(source)
                except StopIteration:
                    items.put(_DONE)
                    return
                size = weight(item) if weight is not None else 0
                with room:
                    ahead[1] += size
                items.put((item, size))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            items.put(exc)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            got = items.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            item: T
            size: int
            item, size = got  # type: ignore[misc]
            with room:
                ahead[0] -= 1
                ahead[1] -= size
                room.notify()
            yield item
            del item, got
    finally:
        stop.set()
        with room:
            room.notify()
        thread.join()
