"""E-mail delivery: messages, the outbox (exactly once, every send recorded), the e-mail
layout, scheduled reports and the jobs a scheduler runs (docs/delivery.md).

Other features send mail through it:

    >>> from callacct.delivery import Message, Outbox
    >>> Message(to=("ana@example.com",), subject="Budget reached", text="...").to
    ('ana@example.com',)

`Outbox.of(workspace).send(message, key="budget:ana:2026-11:100", origin="budget")` sends it
once for that key, and returns the stored `Delivery`.
"""

from callacct.delivery.jobs import DUE_JOBS, run_due_jobs
from callacct.delivery.mail import Attachment, Message, check_address, check_addresses
from callacct.delivery.outbox import Delivery, DeliveryHost, Outbox, Outgoing
from callacct.delivery.render import render_mail

__all__ = [
    "DUE_JOBS",
    "Attachment",
    "Delivery",
    "DeliveryHost",
    "Message",
    "Outbox",
    "Outgoing",
    "check_address",
    "check_addresses",
    "render_mail",
    "run_due_jobs",
]
