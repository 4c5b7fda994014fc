"""Asterisk `Master.csv`: the `cdr_csv` backend and the usual `cdr_custom` layout.

Neither writes a header line, so the layout is recognised from the content of the first lines:

* `cdr_csv` (`/var/log/asterisk/cdr-csv/Master.csv`): `accountcode, src, dst, dcontext, clid,
  channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
  amaflags`, then `uniqueid` (`loguniqueid=yes`), `userfield` (`loguserfield=yes`) and
  `peeraccount, linkedid, sequence` (`newcdrcolumns=yes`): 16 to 21 columns, start/answer/end in
  columns 10-12. With 17 or 20 columns the extra one is `uniqueid` when it looks like one
  (`1706368044.0`, or `system-1706368044.0` with a system name), else `userfield`.
* `cdr_custom` with the widely copied sample mapping (`cdr-custom/Master.csv`): `clid, src, dst,
  dcontext, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
  disposition, amaflags, accountcode, uniqueid, userfield, sequence`, start/answer/end in columns
  9-11; further columns (custom variables) are kept as `extra_1`, `extra_2`, ...

A line is recognised only when its date columns hold `YYYY-MM-DD HH:MM:SS`, duration and billsec
are integers and the disposition is an Asterisk one, so CUCM files and other CSVs are not claimed.
Times are local wall-clock times (`usegmtime=no`, the default), read in `ingest.source_timezone`;
a time that does not exist there (the spring DST gap) is rejected, an autumn-overlap time is read
as its first occurrence (its second for an end or answer time that would otherwise fall before
the start). Record key: `uniqueid:sequence` when the file has both, else a SHA-256 of the line.

**Several CDRs per call.** Asterisk writes one CDR per pairing of the calling channel with each
channel it rang, so a ring group or queue produces a `NO ANSWER` row per phone plus one
`ANSWERED` row, and Local channels add halves of their own (`Local/...;1` and `;2`, and after
Local-channel optimisation a further row for the direct bridge); the mineevburyat sample turns one
17-second call into five rows. Storing each row as a call would count one caller as several calls,
most of them "missed", and break missed-call alarms. So the rows sharing a `linkedid` (else a
`uniqueid`; a file with neither has one row per call) are **one call**, represented by its best
row, in this order: answered with billsec > 0, `NO ANSWER`, `BUSY`, answered with billsec 0,
`FAILED`, `CONGESTION`; then a row whose calling channel is not a Local channel, then the longest.
The other rows are still records (stored as `excluded`, raw text archived, counted as stored), not
calls. The call starts at the group's first start and ends at its last end; answered calls have
`duration_s` = the billsec of their answered non-Local legs added up (a transferred call's
segments) and `ring_s` = the wait before the first answer; unanswered ones have `duration_s` 0 and
`ring_s` = the whole wait (`billsec` of a `NO ANSWER` row can be non-zero: it counts from when the
PBX itself answered the caller, as in the sample). Rows of one call are written together when the
call ends, so they reach the same batch; only a call cut by a chunk boundary of a file larger than
`ingest.batch_bytes` would be split in two.

Accounting never reads `clid` (the caller's display name), `lastapp`, `lastdata`, `accountcode`,
`amaflags`, `userfield` or `peeraccount`: bytes that are not UTF-8 there (a PBX writing names in
CP1251) are replaced, not a reason to lose the call (`ACCOUNTING`).

Direction comes from the numbers (`src` = caller, `dst` = dialled) and the extension pattern, see
`callacct.ingest.normalise.parties`; when `dialplan.gateway_pattern` is set, a channel whose
peer (`SIP/provider` of `SIP/provider-0000001a`) matches it is a trunk. The gateway is the peer of
the channel on the external side; Local channels are never gateways. For an incoming call the
extension is the phone that answered (`301` of `SIP/301-00000012`) when it matches the extension
pattern, else the dialled number.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl

from callacct.config import Settings
from callacct.errors import IngestError
from callacct.ingest.dialects import Dialect, Layout, Normalised
from callacct.ingest.normalise import (
    DATETIME_FORMAT,
    Check,
    call_frame,
    is_extension,
    local_to_utc,
    local_to_utc_after,
    parse_local,
    parties,
    stable_keys,
    time_checks,
)

CDR_CSV = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)  # fmt: skip
NEW_CDR_COLUMNS = ("peeraccount", "linkedid", "sequence")
CDR_CUSTOM = (
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start",
    "answer", "end", "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid",
    "userfield", "sequence",
)  # fmt: skip
INTEGER_COLUMNS = ("duration", "billsec", "sequence")
# What accounting reads (checks, record key, the call); the others — clid (the caller's display
# name), lastapp, lastdata, accountcode, userfield, ... — may hold anything (see
# dialects.Layout.accounting).
ACCOUNTING = frozenset(
    {
        "src",
        "dst",
        "channel",
        "dstchannel",
        "start",
        "answer",
        "end",
        "duration",
        "billsec",
        "disposition",
        "uniqueid",
        "linkedid",
        "sequence",
    }
)

DISPOSITIONS = {
    "ANSWERED": "answered",
    "NO ANSWER": "missed",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_INT = re.compile(r"-?\d{1,18}")
_UNIQUEID = re.compile(r"([\w.-]+-)?\d+\.\d+")
_CHANNEL_SUFFIX = r"-[0-9A-Fa-f]+(;\d+)?$"  # SIP/provider-0000001a, Local/ch1@ctx-00000000;2
_SCAN_LINES = 50
_SNIFF_LINES = 3


def _columns_of(fields: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """The variant and column names of one line's fields, or None if it is not Asterisk."""
    n = len(fields)

    def fits(start: int) -> bool:
        answer, duration, billsec = fields[start + 1], fields[start + 3], fields[start + 4]
        return (
            _DATE.fullmatch(fields[start]) is not None
            and (answer == "" or _DATE.fullmatch(answer) is not None)
            and _DATE.fullmatch(fields[start + 2]) is not None
            and _INT.fullmatch(duration) is not None
            and _INT.fullmatch(billsec) is not None
            and fields[start + 5] in DISPOSITIONS
        )

    if 16 <= n <= 21 and fits(9):
        extra = n - 16
        new = NEW_CDR_COLUMNS if extra >= 3 else ()
        optional = extra - len(new)
        if optional == 2:
            logged: tuple[str, ...] = ("uniqueid", "userfield")
        elif optional == 1:
            logged = ("uniqueid",) if _UNIQUEID.fullmatch(fields[16]) else ("userfield",)
        else:
            logged = ()
        return f"cdr_csv-{n}", (*CDR_CSV, *logged, *new)
    if n >= 15 and fits(8):
        named = CDR_CUSTOM[: min(n, len(CDR_CUSTOM))]
        extras = tuple(f"extra_{i}" for i in range(1, n - len(named) + 1))
        return f"cdr_custom-{n}", (*named, *extras)
    return None


def _data_lines(head: bytes, limit: int) -> list[str]:
    """Up to `limit` non-blank lines of `head`, the last one only if it is complete."""
    pieces = head.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if len(pieces) > 1:
        pieces = pieces[:-1]  # empty after a final newline, or a line the head cut
    lines = [p.rstrip(b"\r").decode("utf-8", errors="replace") for p in pieces]
    return [line for line in lines if line.strip()][:limit]


def _detect(head: bytes, limit: int) -> tuple[str, tuple[str, ...], list[str]] | None:
    for line in _data_lines(head, limit):
        try:
            fields = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            continue
        found = _columns_of(fields)
        if found is not None:
            return found[0], found[1], fields
    return None


def _peer(channel: pl.Expr) -> pl.Expr:
    """`SIP/provider` of `SIP/provider-0000001a`; null for an empty channel."""
    text = channel.fill_null("").str.strip_chars()
    return pl.when(text != "").then(text.str.replace(_CHANNEL_SUFFIX, ""))


def _is_local(channel: pl.Expr) -> pl.Expr:
    return channel.fill_null("").str.starts_with("Local/")


class Asterisk(Dialect):
    name = "asterisk"
    title = "Asterisk Master.csv (cdr_csv, or cdr_custom in the sample order)"

    def sniff(self, head: bytes, path: Path) -> bool:
        return _detect(head, _SNIFF_LINES) is not None

    def layout(self, head: bytes, path: Path, settings: Settings) -> Layout:
        found = _detect(head, _SCAN_LINES)
        if found is None:
            raise IngestError(
                f"{path}: not an Asterisk Master.csv layout callacct knows: expected cdr_csv "
                "(16-21 columns, start/answer/end in columns 10-12) or cdr_custom in the sample "
                "order (clid first, start/answer/end in columns 9-11); a Master.csv in another "
                "order is read with a mapping (--mapping FILE, docs/generic-csv-mapping.md)"
            )
        variant, columns, fields = found
        schema: dict[str, pl.DataType] = {}
        for name, value in zip(columns, fields, strict=True):
            integer = name in INTEGER_COLUMNS and (name != "sequence" or _INT.fullmatch(value))
            schema[name] = pl.Int64() if integer else pl.String()
        return Layout(
            dialect=self.name,
            header_lines=0,
            header_text=f"{variant}: {','.join(columns)}",
            schema=schema,
            # cdr_csv quotes every text value, so a null last column means a short line.
            last_column_quoted=variant.startswith("cdr_csv") and schema[columns[-1]] == pl.String,
            options=(("variant", variant),),
            accounting=ACCOUNTING & set(schema),
        )

    def checks(self, frame: pl.DataFrame, settings: Settings) -> list[Check]:
        tz = settings.source_timezone
        fmt = (DATETIME_FORMAT,)
        start = local_to_utc(parse_local(pl.col("start"), fmt), tz)
        answer = local_to_utc_after(parse_local(pl.col("answer"), fmt), tz, start)
        end = local_to_utc_after(parse_local(pl.col("end"), fmt), tz, start)
        duration, billsec = pl.col("duration"), pl.col("billsec")
        disposition = pl.col("disposition").fill_null("").str.strip_chars().str.to_uppercase()
        return [
            *time_checks(pl.col("start"), "start", fmt, tz, required=True),
            *time_checks(pl.col("answer"), "answer", fmt, tz, required=False),
            *time_checks(pl.col("end"), "end", fmt, tz, required=True),
            (
                duration.is_null() | billsec.is_null(),
                "missing_value",
                "duration or billsec is empty (a short or damaged line)",
            ),
            ((duration < 0) | (billsec < 0), "impossible_value", "duration or billsec is negative"),
            (
                pl.col("sequence").is_null() if "sequence" in frame.columns else pl.lit(False),
                "missing_value",
                "sequence is empty (a short or damaged line)",
            ),
            (billsec > duration, "impossible_value", "billsec is longer than duration"),
            (end < start, "impossible_time", "end is before start"),
            ((answer < start) | (answer > end), "impossible_time", "answer is outside start..end"),
            (
                ~disposition.is_in(list(DISPOSITIONS)),
                "unknown_value",
                "disposition is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION",
            ),
        ]

    def keys(self, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
        start = local_to_utc(
            parse_local(pl.col("start"), (DATETIME_FORMAT,)), settings.source_timezone
        )
        return pl.DataFrame(
            [_record_keys(frame), frame.select(start.alias("record_time")).to_series()]
        )

    def normalise(self, frame: pl.DataFrame, settings: Settings) -> Normalised:
        return Normalised(calls=normalise_calls(frame, settings, source=self.name))


def _record_keys(frame: pl.DataFrame) -> pl.Series:
    """`uniqueid:sequence` where the file has both, else a SHA-256 of the line's fields."""
    data = [c for c in frame.columns if c != "_line"]
    if "uniqueid" not in frame.columns or "sequence" not in frame.columns:
        return stable_keys(frame, data)
    uniqueid = pl.col("uniqueid").fill_null("").str.strip_chars()
    native = frame.select(
        pl.when((uniqueid != "") & pl.col("sequence").is_not_null())
        .then(pl.concat_str([uniqueid, pl.col("sequence").cast(pl.String)], separator=":"))
        .alias("record_key")
    ).to_series()
    if native.null_count() == 0:
        return native
    return native.fill_null(stable_keys(frame, data))


def _text(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit("")
    return pl.col(name).cast(pl.String).fill_null("").str.strip_chars()


def normalise_calls(frame: pl.DataFrame, settings: Settings, *, source: str) -> pl.DataFrame:
    """One call per Asterisk call (rows sharing a linkedid/uniqueid), as the module explains.

    `_row` is the index in `frame` of the row that represents the call.
    """
    tz, dial = settings.source_timezone, settings.dialplan
    fmt = (DATETIME_FORMAT,)
    linkedid, uniqueid = _text(frame, "linkedid"), _text(frame, "uniqueid")
    disposition = _text(frame, "disposition").str.to_uppercase()
    billsec, duration = pl.col("billsec"), pl.col("duration")
    rank = (
        pl.when((disposition == "ANSWERED") & (billsec > 0)).then(0)
        .when(disposition == "NO ANSWER").then(1)
        .when(disposition == "BUSY").then(2)
        .when(disposition == "ANSWERED").then(3)
        .when(disposition == "FAILED").then(4)
        .otherwise(5)
    )  # fmt: skip
    rows = (
        frame.with_row_index("_row")
        .with_columns(
            _record_keys(frame),
            pl.when(linkedid != "")
            .then(linkedid)
            .when(uniqueid != "")
            .then(uniqueid)
            .alias("_call"),
            local_to_utc(parse_local(pl.col("start"), fmt), tz).alias("_start"),
            rank.alias("_rank"),
            disposition.alias("_disposition"),
            _is_local(pl.col("channel")).alias("_local_from"),
            _is_local(pl.col("dstchannel")).alias("_local_to"),
        )
        .with_columns(
            pl.coalesce(pl.col("_call"), pl.format("row:{}", pl.col("_row"))).alias("_group"),
            local_to_utc_after(parse_local(pl.col("answer"), fmt), tz, pl.col("_start")).alias(
                "_answer"
            ),
            local_to_utc_after(parse_local(pl.col("end"), fmt), tz, pl.col("_start")).alias("_end"),
        )
        .with_columns(
            (pl.col("_start") - pl.col("_start").min().over("_group"))
            .dt.total_seconds()
            .alias("_offset")
        )
    )
    segment = pl.col("_rank") == 0
    talk = segment & ~pl.col("_local_from") & ~pl.col("_local_to")
    per_call = rows.group_by("_group").agg(
        pl.col("_start").min().alias("_first_start"),
        pl.col("_end").max().alias("_last_end"),
        pl.col("_answer").filter(segment).min().alias("_first_answer"),
        billsec.filter(talk).sum().alias("_talk"),
        billsec.filter(segment).max().alias("_longest"),
        (pl.col("_offset") + duration - billsec)
        .filter(segment)
        .sort_by(pl.col("_answer").filter(segment))
        .first()
        .alias("_wait_answered"),
        (pl.col("_offset") + duration).max().alias("_wait"),
    )
    best = rows.sort(
        ["_group", "_rank", "_local_from", "_local_to", "billsec", "duration", "_start", "_row"],
        descending=[False, False, False, False, True, True, False, False],
    ).unique("_group", keep="first", maintain_order=True)
    calls = best.join(per_call, on="_group", how="left").sort("_row")

    answered = pl.col("_disposition") == "ANSWERED"
    calling, called = _text(calls, "src"), _text(calls, "dst")
    orig_peer, dest_peer = _peer(pl.col("channel")), _peer(pl.col("dstchannel"))
    orig_local, dest_local = pl.col("_local_from"), pl.col("_local_to")
    calling_trunk = called_trunk = None
    if dial.gateway_pattern:
        calling_trunk = ~orig_local & orig_peer.fill_null("").str.contains(dial.gateway_pattern)
        called_trunk = ~dest_local & dest_peer.fill_null("").str.contains(dial.gateway_pattern)
    phone = dest_peer.str.replace(r"^[^/]*/", "")
    answering = pl.when(~dest_local & is_extension(phone, dial)).then(phone)
    who = parties(
        calling,
        called,
        dial,
        calling_trunk=calling_trunk,
        called_trunk=called_trunk,
        answering=answering,
    )
    direction = who["direction"]
    gateway = (
        pl.when((direction == "outgoing") & ~dest_local)
        .then(dest_peer)
        .when((direction == "incoming") & ~orig_local)
        .then(orig_peer)
    )
    talk_s = pl.when(pl.col("_talk") > 0).then(pl.col("_talk")).otherwise(pl.col("_longest"))
    columns: dict[str, pl.Expr] = {
        "_row": pl.col("_row"),
        "source": pl.lit(source),
        "record_key": pl.col("record_key"),
        "global_call_id": pl.col("_call"),
        "started_at": pl.col("_first_start"),
        "answered_at": pl.when(answered).then(
            pl.coalesce(pl.col("_first_answer"), pl.col("_answer"), pl.col("_end"))
        ),
        "ended_at": pl.col("_last_end"),
        "duration_s": pl.when(answered).then(talk_s.fill_null(0)).otherwise(0),
        "ring_s": pl.when(answered)
        .then(pl.coalesce(pl.col("_wait_answered"), duration - billsec))
        .otherwise(pl.col("_wait"))
        .clip(lower_bound=0),
        "direction": direction,
        "answered": answered,
        "disposition": pl.col("_disposition").replace_strict(DISPOSITIONS, default="failed"),
        "calling_number": calling,
        "called_number": called,
        "final_number": pl.coalesce(answering, called),
        "remote_number": who["remote_number"],
        "extension": who["extension"],
        "peer_extension": who["peer_extension"],
        "gateway": gateway,
        "orig_device": orig_peer,
        "dest_device": dest_peer,
    }
    return call_frame(calls, columns)
