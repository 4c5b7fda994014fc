"""The phone map: set by hand, learnt from CDRs (desk phones only; hand-set names kept)."""

from __future__ import annotations

import datetime as dt

from callacct.lock.devices import learn_devices, list_devices, phone_people, set_device

NOW = dt.datetime(2026, 11, 20, 9, 0)


def add_call(con, call_id: int, at: dt.datetime, direction: str, extension: str, device: str):
    con.execute(
        """
        INSERT INTO calls (call_id, source, file_id, line_no, started_at, duration_s, direction,
                           answered, disposition, extension, orig_device, transfer, forward,
                           conference)
        VALUES (?, 'test', 0, ?, ?, 60, ?, TRUE, 'answered', ?, ?, FALSE, FALSE, FALSE)
        """,
        [call_id, call_id, at, direction, extension, device],
    )


def test_phones_are_learnt_from_their_latest_calls(people_store) -> None:
    con = people_store.con
    day = dt.datetime(2026, 11, 1, 9)
    add_call(con, 1, day, "outgoing", "2004", "SEP00AA00AA0001")
    add_call(con, 2, day + dt.timedelta(days=1), "internal", "2001", "SEP00AA00AA0001")
    add_call(con, 3, day, "incoming", "2002", "SEP00AA00AA0002")  # answered, not made
    add_call(con, 4, day, "outgoing", "2003", "PAR-CUBE-01")  # a gateway
    add_call(con, 5, day, "outgoing", "2002", "CSFBOB")  # a softphone: no XML services
    add_call(con, 6, day, "outgoing", "2002", "SEP00AA00AA0003")
    set_device(con, "SEP00AA00AA0003", "2012", now=NOW)  # set by hand: kept

    assert learn_devices(con, now=NOW) == 1
    mapped = {row["device"]: (row["extension"], row["source"]) for row in list_devices(con)}
    assert mapped == {
        "SEP00AA00AA0001": ("2001", "cdr"),
        "SEP00AA00AA0003": ("2012", "manual"),
    }
    phone = phone_people(con, "SEP00AA00AA0001")["SEP00AA00AA0001"]
    assert (phone.login, phone.name, phone.language) == ("alice", "Alice Martin", "fr")
