"""Numbers that lead to no phone: CUCM's conference bridges, voicemail and other services.

CUCM writes a conference bridge's id where a number belongs: every leg of a conference is a
call *into* the bridge (`finalCalledPartyNumber` `b0019901001`), and Meet-Me bridges and a
phone's built-in bridge look the same. Calls to voicemail, music on hold, a recorder or an IVR
reach pilot numbers that lead to no phone either. Such a number is not read as a phone number
(libphonenumber would call `b0019901001` unknown, or a pilot `8000` an extension or a short
number) nor priced: rating gives the call the number's own destination class, and people see
it named for what it is ("Conference bridge b0019901001").

Bridges are recognised by their form (`b` and digits, CUCM's own); voicemail pilots and other
service numbers are a workspace's own choice, given as patterns in the settings
(`dialplan.voicemail_pattern`, `dialplan.service_pattern`).

Example:
    >>> services = ServiceNumbers(voicemail="^8000$")
    >>> services.kind("b00106462001"), services.kind("8000"), services.kind("2001")
    ('conference', 'voicemail', None)
    >>> services.label("b00106462001", "fr")
    'Pont de conférence b00106462001'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import polars as pl

from callacct.call_codes import SERVICE_CLASSES, ServiceClass
from callacct.i18n import t

if TYPE_CHECKING:
    from callacct.config import DialPlanSettings

#: CUCM's conference bridge ids (ad hoc, Meet-Me and built-in bridges): `b` and digits.
BRIDGE_PATTERN: Final = r"^b[0-9]+$"


@dataclass(frozen=True)
class ServiceNumbers:
    """The patterns of a workspace's service numbers; bridges need none."""

    voicemail: str = ""  # regular expression (`dialplan.voicemail_pattern`)
    service: str = ""  # regular expression (`dialplan.service_pattern`)

    @classmethod
    def of(cls, dialplan: DialPlanSettings) -> ServiceNumbers:
        """The patterns set in a workspace's `[dialplan]`."""
        return cls(dialplan.voicemail_pattern, dialplan.service_pattern)

    def patterns(self) -> list[tuple[ServiceClass, str]]:
        """(class, pattern) in the order they are tried: bridges first."""
        found: list[tuple[ServiceClass, str]] = [("conference", BRIDGE_PATTERN)]
        if self.voicemail:
            found.append(("voicemail", self.voicemail))
        if self.service:
            found.append(("service", self.service))
        return found

    def kind(self, number: str | None) -> ServiceClass | None:
        """The class of `number` when it is a service number, else None."""
        text = (number or "").strip()
        if not text:
            return None
        return next((kind for kind, rule in self.patterns() if re.search(rule, text)), None)

    def kind_expr(self, number: pl.Expr) -> pl.Expr:
        """`kind` of a column of numbers, by Polars (null where it is no service number).

        >>> frame = pl.DataFrame({"n": ["b0019901001", "+33142685300", None]})
        >>> frame.select(ServiceNumbers().kind_expr(pl.col("n"))).to_series().to_list()
        ['conference', None, None]
        """
        text = number.str.strip_chars()
        out: pl.Expr = pl.lit(None, pl.String)
        for kind, rule in reversed(self.patterns()):
            out = (
                pl.when(text.str.contains(rule).fill_null(False)).then(pl.lit(kind)).otherwise(out)
            )
        return out

    def label(self, number: str | None, language: str) -> str | None:
        """`number` as people read it: a service number named for what it is, any other
        number unchanged."""
        kind = self.kind(number)
        return named((number or "").strip(), kind, language) if kind else number

    def label_expr(self, number: pl.Expr, language: str) -> pl.Expr:
        """`label` of a column of numbers, by Polars."""
        text = number.str.strip_chars()
        out = number
        for kind, rule in reversed(self.patterns()):
            before, _, after = t(f"number.{kind}", language, number="\x00").partition("\x00")
            named = pl.concat_str(pl.lit(before), text, pl.lit(after))
            out = pl.when(text.str.contains(rule).fill_null(False)).then(named).otherwise(out)
        return out


def named(number: str | None, kind: str | None, language: str) -> str | None:
    """`number` named for its service class `kind` (unchanged when `kind` is None).

    >>> named("8000", "voicemail", "de"), named("2001", None, "de")
    ('Voicemail 8000', '2001')
    """
    if kind is None or number is None:
        return number
    return t(f"number.{kind}", language, number=number)


#: The columns of calls (and of reports) that hold a number or an extension.
NUMBER_COLUMNS: Final = (
    "extension",
    "peer_extension",
    "remote_number",
    "calling_number",
    "called_number",
    "final_number",
    "redirect_number",
    "other_party",
)

__all__ = [
    "BRIDGE_PATTERN",
    "NUMBER_COLUMNS",
    "SERVICE_CLASSES",
    "ServiceClass",
    "ServiceNumbers",
    "named",
]
