"""The DuckDB store: connection with locking, versioned schema, the file ledger and raw archive."""

from callacct.store.connection import Store, fetch_frame, is_read_only, open_store, scalar
from callacct.store.transaction import transaction

__all__ = ["Store", "fetch_frame", "is_read_only", "open_store", "scalar", "transaction"]
