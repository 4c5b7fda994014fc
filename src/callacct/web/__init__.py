"""HTTP surfaces (one aiohttp application): the Cisco IP-phone XML service and the workstation
endpoint of `callacct lock serve`; later the portal, gadgets and CURRI join the same app.

Handlers never hold the store: each request that needs it opens it briefly (`app.py`).
"""
