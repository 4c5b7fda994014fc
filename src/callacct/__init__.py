"""callacct: call accounting for Cisco CUCM and other PBXs.

Loads call detail records into DuckDB, works out who made each call and what it cost, and from
that produces reports, alarms, budgets and phone-line locks.
"""

__version__ = "0.1.0"
