"""The prefetch thread works on the next item while the current one is consumed, and never
runs further ahead than asked."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from callacct.ingest.prefetch import prefetch


def test_the_next_item_is_produced_while_the_current_one_is_consumed() -> None:
    started: dict[int, threading.Event] = {i: threading.Event() for i in range(4)}

    def source() -> Iterator[int]:
        for i in range(4):
            started[i].set()
            yield i

    for item in prefetch(source(), depth=1):
        if item + 1 in started:
            # Without overlap the producer would wait for this item to be finished first.
            assert started[item + 1].wait(timeout=10), f"item {item + 1} not started"


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_production_stays_at_most_depth_items_ahead(depth: int) -> None:
    produced = 0
    lock = threading.Lock()

    def source() -> Iterator[int]:
        nonlocal produced
        for i in range(20):
            with lock:
                produced += 1
            yield i

    for consumed, item in enumerate(prefetch(source(), depth=depth), start=1):
        with lock:
            # The item in hand plus at most `depth` produced after it.
            assert produced <= consumed + depth
        assert item == consumed - 1


def test_items_read_ahead_stay_within_the_byte_budget() -> None:
    held = 0  # bytes produced and not yet consumed
    lock = threading.Lock()

    def source() -> Iterator[bytes]:
        nonlocal held
        for _ in range(30):
            item = b"x" * 40
            with lock:
                held += len(item)
            yield item

    for item in prefetch(source(), depth=100, weight=len, budget=100):
        with lock:
            # The item in hand, the budget, and one item that started just below it.
            assert held <= len(item) + 100 + 40
            held -= len(item)
