"""Small builders for rating tests: plan files, decks and calls written straight to a store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

HEADER = (
    "prefix,destination,class,price_per_min,connect_fee,initial_increment_s,"
    "subsequent_increment_s,min_charge,band"
)


def write_plan(folder: Path, plan: str, rows: list[str], **fields: Any) -> Path:
    """`folder/plan.yaml` naming `folder/plan-<valid_from>.csv` holding `rows` under HEADER."""
    valid_from = str(fields.pop("valid_from", "2026-01-01"))
    deck = folder / f"{plan}-{valid_from}.csv"
    deck.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    data = {"plan": plan, "currency": "EUR", "valid_from": valid_from, "deck": deck.name}
    data.update(fields)
    path = folder / f"{plan}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


_DEFAULTS: dict[str, Any] = {
    "direction": "outgoing",
    "answered": True,
    "extension": "2001",
    "gateway": "PAR-GW",
    "duration_s": 60,
}


def insert_calls(con: duckdb.DuckDBPyConnection, calls: list[dict[str, Any]]) -> list[int]:
    """Store calls given as dicts (`started_at` naive UTC, `number` the remote party) with
    defaults for the rest; returns their ids."""
    first = int(con.execute("SELECT coalesce(max(call_id), 0) + 1 FROM calls").fetchall()[0][0])
    rows = []
    for index, call in enumerate(calls):
        row = {**_DEFAULTS, **call}
        rows.append(
            {
                "call_id": first + index,
                "started_at": row["started_at"],
                "duration_s": row["duration_s"],
                "direction": row["direction"],
                "answered": row["answered"],
                "remote_number": row.get("number"),
                "extension": row["extension"],
                "peer_extension": row.get("peer_extension"),
                "gateway": row["gateway"],
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "call_id": pl.Int64,
            "started_at": pl.Datetime("us"),
            "duration_s": pl.Int32,
            "direction": pl.String,
            "answered": pl.Boolean,
            "remote_number": pl.String,
            "extension": pl.String,
            "peer_extension": pl.String,
            "gateway": pl.String,
        },
    )
    con.register("_test_calls", frame.to_arrow())
    con.execute(
        """
        INSERT INTO calls BY NAME
        SELECT *, 'test' AS source, 0 AS file_id, call_id AS line_no,
               CASE WHEN answered THEN 'answered' ELSE 'missed' END AS disposition,
               false AS transfer, false AS forward, false AS conference
        FROM _test_calls
        """
    )
    con.unregister("_test_calls")
    return [first + index for index in range(len(calls))]


def utc(text: str) -> dt.datetime:
    """A naive UTC datetime from ISO text with an offset, e.g. '2026-03-29T01:30+01:00'."""
    value = dt.datetime.fromisoformat(text)
    return value.astimezone(dt.UTC).replace(tzinfo=None)
