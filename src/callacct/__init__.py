"""callacct: call accounting for Cisco CUCM and other PBXs.

Loads call detail records into DuckDB, works out who made each call and what it cost, and from
that produces reports, alarms, budgets and phone-line locks.
"""

import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) reads its options once, when Polars is first loaded, so they are
# set here, before any callacct module imports Polars (the command line always comes through
# here first). Freed pages are kept for reuse for 30 s instead of being handed back to the
# system almost at once: an ingest frees and allocates the columns of one 16 MB piece after
# another, and paid for it in page faults (measured in docs/benchmarks.md, Ingest). A value set
# in the environment wins.
ALLOCATOR_OPTIONS = "dirty_decay_ms:30000,muzzy_decay_ms:30000"
os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_OPTIONS)
