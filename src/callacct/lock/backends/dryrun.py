"""The dry-run backend: changes nothing, says what it would do (demo, trials, a first setup).

It answers as if every change worked, so the rules, the history and the phone menus can be
tried before a phone system is connected; `lock sync` reports nothing to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from callacct.lock.backends import BackendChange, Line, LockBackend, Reading

if TYPE_CHECKING:
    from callacct.config import Settings


class DryRunBackend(LockBackend):
    name: ClassVar[str] = "dry-run"

    def __init__(self, locked_css: str) -> None:
        self.locked_css = locked_css
        self.concurrency = 16

    @classmethod
    def from_settings(
        cls, settings: Settings, *, env: Mapping[str, str] | None = None, base: Path | None = None
    ) -> DryRunBackend:
        return cls(settings.lock.axl.locked_css)

    async def lock(self, line: Line) -> BackendChange:
        return BackendChange(
            before=None,
            after=None,
            note=f"dry-run: would save the calling search space of line {line.extension} "
            f"and set it to {self.locked_css}",
        )

    async def unlock(self, line: Line, saved: str | None) -> BackendChange:
        return BackendChange(
            before=None,
            after=None,
            note=f"dry-run: would give line {line.extension} back its saved calling search space",
        )

    async def read(self, line: Line) -> Reading:
        return Reading(current=None, locked=False)
