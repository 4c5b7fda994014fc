"""A load attributes and rates its calls as it appends them: the store ends exactly as when the
calls are appended first, then attributed and rated by UPDATEs (`finish_pending`), with the same
counts; a rating that fails leaves the calls pending for the next run."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from callacct import Workspace
from callacct.api import chain
from callacct.config import Settings
from callacct.demo.cdr_writer import write_demo_cdr_files
from callacct.demo.people import build_people, write_people_csv
from callacct.demo.workspace import DEMO_SETTINGS
from callacct.errors import StoreError
from callacct.ingest import staging
from callacct.ingest.engine import ingest_paths
from callacct.rating import RatedNew, classify
from callacct.rating.tariff import EXAMPLE_TARIFFS
from callacct.store import fetch_frame, open_store, scalar

DAY = dt.date(2026, 3, 6)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two days of the demo's CDR and CMR files (both sites, CMR quality, damaged lines), and
    its directory."""
    root = tmp_path_factory.mktemp("demo-files")
    staff = build_people(5, 80)
    write_people_csv(staff, root / "people.csv")
    write_demo_cdr_files(root / "cdr", people=staff, seed=5, days=2, end=DAY)
    return root / "cdr", root / "people.csv"


def _workspace(
    root: Path, people: Path, *, batch_bytes: int | None = None, parse_bytes: int | None = None
) -> Workspace:
    values: dict[str, Any] = {**DEMO_SETTINGS}
    if batch_bytes is not None:  # one batch, so one append of calls, per file
        values["ingest"] = {**values.get("ingest", {}), "batch_bytes": batch_bytes}
    if parse_bytes is not None:  # many pieces: row groups handed over as they fill
        values["ingest"] = {**values.get("ingest", {}), "parse_bytes": parse_bytes}
    workspace = Workspace.create(root, settings=Settings.model_validate(values))
    for path in EXAMPLE_TARIFFS:
        workspace.tariff_import(path)  # rated at once: no re-rate left pending
    workspace.directory_import(people)
    return workspace


def _calls(workspace: Workspace) -> pl.DataFrame:
    store = open_store(workspace.store_path)
    try:
        return fetch_frame(store.con, "SELECT * FROM calls ORDER BY call_id")
    finally:
        store.close()


@pytest.mark.parametrize("row_group", [None, 300])
def test_calls_rated_as_stored_are_the_calls_rated_after(
    demo_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    row_group: int | None,
) -> None:
    """Also with small row groups: many of them rated while the next ones are read and the
    previous ones appended, their numbers found before they are in the store's cache."""
    cdr, people = demo_files
    if row_group is None:
        as_stored = _workspace(tmp_path / "as-stored", people)
    else:
        as_stored = _workspace(tmp_path / "as-stored", people, parse_bytes=16 * 1024)
        monkeypatch.setattr(staging, "ROW_GROUP_ROWS", row_group)
    rated_frames = _count_rated(monkeypatch)
    loaded = as_stored.ingest([cdr], workers=1)
    monkeypatch.undo()
    if row_group is not None:
        assert len(rated_frames) > 5

    after = _workspace(tmp_path / "after", people)
    store = open_store(after.store_path)
    try:
        report = ingest_paths(store, after.settings, [cdr])
        assert scalar(store.con, "SELECT count(*) FROM calls WHERE dest_class IS NULL") > 0
        attribution, rating = chain.finish_pending(store, after.settings)
    finally:
        store.close()

    assert report.stored == loaded.ingest.stored > 1000
    assert loaded.attribution == attribution
    assert loaded.rating is not None
    ours: dict[str, Any] = loaded.rating.to_dict()
    theirs: dict[str, Any] = rating.to_dict()
    ours.pop("seconds"), theirs.pop("seconds")
    assert ours == theirs
    assert theirs["calls"] == report.calls
    assert theirs["priced"] > 100
    assert set(theirs["by_class"]) >= {"internal", "national", "mobile", "international"}
    mine, reference = _calls(as_stored), _calls(after)
    assert mine.height == report.calls
    assert mine["mos"].is_not_null().any()  # quality linked to the calls rated as stored
    assert mine["user_login"].is_not_null().any()
    assert mine.equals(reference)
    # Each number classified and cached once.
    for workspace in (as_stored, after):
        store = open_store(workspace.store_path)
        try:
            counts = "SELECT count(*), count(DISTINCT (plan_key, number)) FROM number_classes"
            total, distinct = store.con.execute(counts).fetchall()[0]
        finally:
            store.close()
        assert total == distinct > 100


def _count_rated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The calls of each frame rated as stored."""
    counts: list[int] = []
    original = chain.rate_new

    def counting(con: Any, settings: Any, new: pl.DataFrame, **kwargs: Any) -> Any:
        counts.append(new.height)
        return original(con, settings, new, **kwargs)

    monkeypatch.setattr(chain, "rate_new", counting)
    return counts


def test_an_append_that_fails_fails_the_load_and_leaves_nothing_of_its_files(
    demo_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdr, people = demo_files
    workspace = _workspace(tmp_path / "ws", people, parse_bytes=16 * 1024)
    monkeypatch.setattr(staging, "ROW_GROUP_ROWS", 300)
    appends = 0
    original = RatedNew.append

    def failing(self: RatedNew, con: Any) -> None:
        nonlocal appends
        appends += 1
        if appends == 3:
            raise duckdb.IOException(
                'Could not write file "callacct.duckdb.wal": No space left on device'
            )
        original(self, con)

    monkeypatch.setattr(RatedNew, "append", failing)
    with pytest.raises(StoreError):
        workspace.ingest([cdr], workers=1)
    store = open_store(workspace.store_path)
    try:
        left = scalar(
            store.con,
            "SELECT count(*) FROM calls WHERE file_id NOT IN "
            "(SELECT file_id FROM ingest_files WHERE status = 'done')",
        )
    finally:
        store.close()
    assert left == 0
    monkeypatch.setattr(RatedNew, "append", original)
    workspace.ingest([cdr], workers=1)
    stored = _calls(workspace)
    monkeypatch.undo()
    reference = _workspace(tmp_path / "reference", people)
    reference.ingest([cdr], workers=1)
    # Every call once, rated: as many as a load that did not fail.
    assert stored.height == _calls(reference).height
    assert stored["dest_class"].is_not_null().all()
    assert stored.select(pl.col("call_id").n_unique()).item() == stored.height


def test_a_rating_that_fails_leaves_the_calls_pending(
    demo_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdr, people = demo_files
    workspace = _workspace(tmp_path / "ws", people, batch_bytes=1024)
    calls: list[int] = []
    original, rate_stored = chain.rate_new, chain.rate_calls

    def once(con: Any, settings: Any, new: pl.DataFrame, **kwargs: Any) -> Any:
        """Rates the first frame of calls given, refuses the next ones."""
        if calls:
            raise ValueError("rating refused")
        calls.append(new.height)
        return original(con, settings, new, **kwargs)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("rating refused")

    monkeypatch.setattr(chain, "rate_new", once)
    monkeypatch.setattr(chain, "rate_calls", refused)  # the calls left pending: after the ingest
    with pytest.raises(ValueError, match="rating refused"):
        workspace.ingest([cdr], workers=1)
    stored = _calls(workspace)
    rated = stored.filter(pl.col("dest_class").is_not_null()).height
    assert calls
    assert rated == calls[0] < stored.height
    assert stored["undefined_extension"].is_not_null().all()  # every call attributed
    monkeypatch.setattr(chain, "rate_new", original)
    monkeypatch.setattr(chain, "rate_calls", rate_stored)
    again = workspace.ingest([cdr], workers=1)
    assert again.ingest.stored == 0
    assert again.rating is not None
    assert again.rating.calls == stored.height - rated
    assert _calls(workspace)["dest_class"].is_not_null().all()


def test_the_rating_thread_warms_up_before_the_first_calls(
    demo_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each site's dial plan is loaded in the rating thread, before any call is rated there."""
    cdr, people = demo_files
    workspace = _workspace(tmp_path / "ws", people)
    seen: list[tuple[str, str]] = []
    original_warm_up, original_rate = chain.warm_up, chain.rate_new

    def warming(plan: Any) -> None:
        seen.append(("warm", threading.current_thread().name))
        original_warm_up(plan)

    def rating(con: Any, settings: Any, new: pl.DataFrame, **kwargs: Any) -> Any:
        seen.append(("rate", threading.current_thread().name))
        return original_rate(con, settings, new, **kwargs)

    monkeypatch.setattr(chain, "warm_up", warming)
    monkeypatch.setattr(chain, "rate_new", rating)
    workspace.ingest([cdr], workers=1)
    sites = len(workspace.settings.sites)
    assert sites >= 2
    assert [what for what, _ in seen[:sites]] == ["warm"] * sites
    assert "rate" in {what for what, _ in seen[sites:]}
    assert {thread for _, thread in seen} == {seen[0][1]}
    assert seen[0][1].startswith("rating")


def test_a_warm_up_that_fails_changes_nothing(
    demo_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdr, people = demo_files
    expected = _workspace(tmp_path / "expected", people)
    expected.ingest([cdr], workers=1)
    workspace = _workspace(tmp_path / "ws", people)

    def broken(plan: Any) -> None:
        raise RuntimeError("no metadata today")

    monkeypatch.setattr(chain, "warm_up", broken)
    result = workspace.ingest([cdr], workers=1)
    assert result.rating.calls == result.ingest.calls > 0
    assert _calls(workspace).drop("file_id").equals(_calls(expected).drop("file_id"))


def test_numbers_left_uncached_do_not_fail_the_load(
    demo_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numbers classified after the last whole row group are written after the ingest;
    they are a cache: a failure there leaves the load done and its calls rated."""
    cdr, people = demo_files
    workspace = _workspace(tmp_path / "ws", people)
    written: list[int] = []
    original = classify.PendingNumbers.write

    def refused(con: Any, taken: list[pl.DataFrame]) -> None:
        if written or not taken:  # the leftover is the first: no row group of numbers here
            original(con, taken)
            return
        written.append(sum(frame.height for frame in taken))
        raise duckdb.IOException("disk went away")

    monkeypatch.setattr(classify.PendingNumbers, "write", staticmethod(refused))
    result = workspace.ingest([cdr], workers=1)
    assert len(written) == 1
    assert written[0] > 100
    assert result.ingest.stored > 1000
    calls = _calls(workspace)
    assert calls["dest_class"].is_not_null().all()
