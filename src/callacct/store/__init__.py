"""The DuckDB store: connection with locking, versioned schema, the file ledger and raw archive."""

from callacct.store.connection import (
    Store,
    fetch_frame,
    insert_frame,
    is_read_only,
    open_store,
    registered,
    scalar,
)
from callacct.store.transaction import transaction

__all__ = [
    "Store",
    "fetch_frame",
    "insert_frame",
    "is_read_only",
    "open_store",
    "registered",
    "scalar",
    "transaction",
]
