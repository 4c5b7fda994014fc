"""Small builders for directory tests: calls inserted straight into the store, CSV files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from callacct.config import Settings

SETTINGS = Settings.model_validate(
    {"general": {"timezone": "UTC"}, "dialplan": {"extension_pattern": r"^[23]\d{3}$"}}
)

HEADER = "login,name,email,language,role,department,cost_center,site,extension,manager,scope"


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def add_call(
    con: duckdb.DuckDBPyConnection,
    call_id: int,
    started_at: dt.datetime,
    direction: str,
    extension: str | None,
    *,
    peer: str | None = None,
    remote: str | None = None,
) -> None:
    """One answered call; for an outgoing call `remote` is the called party, and so on."""
    if direction == "internal":
        calling, called = extension, peer
    elif direction == "outgoing":
        calling, called = extension, remote
    else:
        calling, called = remote, extension
    con.execute(
        """
        INSERT INTO calls (call_id, source, file_id, line_no, started_at, duration_s, direction,
                           answered, disposition, calling_number, called_number, final_number,
                           remote_number, extension, peer_extension, transfer, forward,
                           conference)
        VALUES (?, 'test', 0, ?, ?, 60, ?, TRUE, 'answered', ?, ?, ?, ?, ?, ?, FALSE, FALSE,
                FALSE)
        """,
        [
            call_id,
            call_id,
            started_at,
            direction,
            calling,
            called,
            called,
            remote,
            extension,
            peer,
        ],
    )
