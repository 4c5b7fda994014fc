"""One error hierarchy for the whole package.

The CLI turns every `CallacctError` into a one-line message and an exit code (2 for usage,
configuration and spec problems, 1 for problems found while running). Messages say what is wrong
and what to do about it.
"""

from __future__ import annotations


class CallacctError(Exception):
    """Base class of every error callacct reports to a person."""

    exit_code = 2


class ConfigError(CallacctError):
    """A missing or invalid workspace setting."""


class UsageError(CallacctError):
    """An option or argument that cannot be used as given."""


class StoreError(CallacctError):
    """The store cannot be opened or is in an unexpected state."""


class StoreBusyError(StoreError):
    """Another callacct process kept the store locked for longer than the configured timeout."""

    exit_code = 1


class IngestError(CallacctError):
    """A file that cannot be ingested at all (as opposed to single rejected records)."""


class SpecError(CallacctError):
    """An invalid mapping or report specification."""


class NotFoundError(CallacctError):
    """Something asked for by name or id does not exist."""


class DirectoryError(CallacctError):
    """A directory file or LDAP setting that cannot be used at all."""


class LdapError(CallacctError):
    """The LDAP server cannot be reached, refuses the service account or the TLS handshake."""


class AuthenticationError(CallacctError):
    """A login that does not authenticate: wrong login or password."""

    exit_code = 1


class PluginError(ConfigError):
    """An entry of another installed package (a plug-in) that cannot be used: it does not load,
    gives something of the wrong kind, or takes a name that is already given."""


class LockError(CallacctError):
    """A lock, unlock or PIN change that was refused (an admin lock, a wrong or blocked PIN, a
    role that may not) or that the phone system did not carry out (a fault, no answer)."""

    exit_code = 1


class DeliveryError(CallacctError):
    """A message that cannot be sent: a refused address or header, an attachment over the size
    limit, an SMTP server that refuses it or cannot be reached (after the retries)."""

    exit_code = 1
