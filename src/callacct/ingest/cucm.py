"""Cisco UCM CDR and CMR flat files.

Line 1 holds the field names (quoted), line 2 their types (`INTEGER`, `VARCHAR(n)`,
`UNIQUEIDENTIFIER`), then one record per line. Columns are mapped by name, case-insensitively and
through an alias table, so 129-, 133- and future layouts all read the same way. Times are epoch
seconds UTC; `dateTimeConnect = 0` means the call was never answered; `pkid` is the record key.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from callacct.config import DialPlanSettings, Settings
from callacct.errors import IngestError
from callacct.ingest.cucm_fields import CDR_FIELDS, CMR_FIELDS, FIELD_ALIASES
from callacct.ingest.dialects import (
    Dialect,
    Layout,
    Normalised,
    first_lines,
    format_hint,
)
from callacct.ingest.normalise import strip_access_code

_KNOWN: dict[str, tuple[str, str]] = {
    name.lower(): (name, ftype) for name, ftype in (*CDR_FIELDS, *CMR_FIELDS)
}
for _alias, _name in FIELD_ALIASES.items():
    _KNOWN[_alias] = (_name, _KNOWN[_name.lower()][1])

# OnBehalfOf codes and redirect reasons (Cisco CDR codes chapter).
OBO_CONFERENCE, OBO_FORWARD, OBO_MEETME, OBO_TRANSFER = 4, 5, 6, 10
OBO_NOT_A_CALL = (27, 28)  # recording, monitoring
REASONS_NOT_A_CALL = (354, 370)
REASONS_TRANSFER = (4, 34)
REASONS_FORWARD = (1, 2, 10, 15, 18, 50, 66, 82, 178)
CAUSE_SPLIT = 393216
# Q.850 causes (low byte of Cisco's SIP-derived codes) that mean "not answered", not "failed".
CAUSES_UNANSWERED = (0, 16, 18, 19, 20, 21, 26, 31)
CAUSE_BUSY = 17
TRUNK_PROTOCOLS = (1, 2, 4)  # SIP, H.323, Q.931; 0 is a phone, 3 CTI

# The CDR columns a call is made of (`normalise_cdr`), by the name used there.
CDR_INTEGERS = {
    "orig_obo": "origCallTerminationOnBehalfOf",
    "dest_obo": "destCallTerminationOnBehalfOf",
    "join_obo": "joinOnBehalfOf",
    "redir_obo1": "origCalledPartyRedirectOnBehalfOf",
    "redir_obo2": "lastRedirectRedirectOnBehalfOf",
    "reason1": "origCalledPartyRedirectReason",
    "reason2": "lastRedirectRedirectReason",
    "orig_cause": "origCause_value",
    "dest_cause": "destCause_value",
    "orig_t": "dateTimeOrigination",
    "connect": "dateTimeConnect",
    "disconnect": "dateTimeDisconnect",
    "duration": "duration",
    "in_proto": "IncomingProtocolID",
    "out_proto": "OutgoingProtocolID",
    "orig_leg_id": "origLegCallIdentifier",
    "dest_leg_id": "destLegIdentifier",
}
CDR_TEXTS = {
    "calling": "callingPartyNumber",
    "called": "originalCalledPartyNumber",
    "final": "finalCalledPartyNumber",
    "redirect": "lastRedirectDn",
    "outpulsed": "outpulsedCalledPartyNumber",
    "orig_device": "origDeviceName",
    "dest_device": "destDeviceName",
}
CALL_ID_COLUMNS = ("globalCallId_ClusterID", "globalCallID_callManagerId", "globalCallID_callId")
# What accounting reads of a CDR (checks, record key, the call) and of a CMR (checks, record key,
# the quality row); every other column may hold anything (see dialects.Layout.accounting).
CDR_ACCOUNTING = frozenset(
    {"cdrRecordType", "pkid", *CALL_ID_COLUMNS, *CDR_INTEGERS.values(), *CDR_TEXTS.values()}
)
CMR_ACCOUNTING = frozenset(
    {
        "cdrRecordType",
        "pkid",
        *CALL_ID_COLUMNS,
        "callIdentifier",
        "dateTimeStamp",
        "directoryNum",
        "deviceName",
        "varVQMetrics",
        "jitter",
        "latency",
        "numberPacketsReceived",
        "numberPacketsLost",
    }
)


def _header(head: bytes, path: Path, marker: str) -> tuple[list[str], list[str] | None]:
    first, second = first_lines(head, 2) + [""] * max(0, 2 - len(first_lines(head, 2)))
    names = [n.strip().strip('"').strip() for n in first.split(",")]
    if not names or names[0].lower() != "cdrrecordtype":
        raise IngestError(
            f"{path}: line 1 is not a CUCM header (it should start with "
            f'"cdrRecordType"); {format_hint()}'
        )
    if marker.lower() not in {n.lower() for n in names}:
        raise IngestError(f"{path}: header has no {marker!r} column")
    types = [t.strip().strip('"') for t in second.split(",")]
    if types and types[0].upper() == "INTEGER":
        if len(types) != len(names):
            raise IngestError(
                f"{path}: line 2 has {len(types)} types for {len(names)} names on line 1; "
                "the file header is damaged"
            )
        return names, types
    return names, None


def _layout(
    head: bytes,
    path: Path,
    dialect: str,
    marker: str,
    required: tuple[str, ...],
    accounting: frozenset[str],
) -> Layout:
    names, types = _header(head, path, marker)
    schema: dict[str, pl.DataType] = {}
    for i, raw_name in enumerate(names):
        known = _KNOWN.get(raw_name.lower())
        name = known[0] if known else raw_name
        declared = types[i] if types is not None else (known[1] if known else "VARCHAR")
        if name in schema:
            raise IngestError(f"{path}: column {raw_name!r} appears twice in the header")
        schema[name] = pl.Int64() if declared.upper() == "INTEGER" else pl.String()
    missing = [r for r in required if r not in schema]
    if missing:
        raise IngestError(f"{path}: header lacks {', '.join(missing)}; is this a CUCM file?")
    header_lines = 2 if types is not None else 1
    header_text = "\n".join(first_lines(head, header_lines))
    last_type = types[-1] if types is not None else _KNOWN.get(names[-1].lower(), ("", "V"))[1]
    return Layout(
        dialect=dialect,
        header_lines=header_lines,
        header_text=header_text,
        schema=schema,
        last_column_quoted=not last_type.upper().startswith("INTEGER"),
        accounting=accounting & set(schema),
    )


def _col(frame: pl.DataFrame, name: str, default: object) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(default)


def _negative_times(*columns: str) -> list[tuple[pl.Expr, str, str]]:
    """Epoch times below 0: impossible (0 itself means "none" for connect and disconnect)."""
    return [
        (pl.col(c).fill_null(0) < 0, "impossible_time", f"{c} is negative (before 1970)")
        for c in columns
    ]


def _epoch(expr: pl.Expr) -> pl.Expr:
    return pl.from_epoch(expr, time_unit="s")


def _gcid(frame: pl.DataFrame) -> pl.Expr:
    return pl.concat_str(
        [
            _col(frame, "globalCallId_ClusterID", "").fill_null(""),
            pl.col("globalCallID_callManagerId").cast(pl.String).fill_null(""),
            pl.col("globalCallID_callId").cast(pl.String).fill_null(""),
        ],
        separator=":",
    )


class CucmCdr(Dialect):
    name = "cucm-cdr"
    title = "Cisco UCM CDR flat file"
    required = (
        "cdrRecordType",
        "globalCallID_callManagerId",
        "globalCallID_callId",
        "dateTimeOrigination",
        "dateTimeConnect",
        "dateTimeDisconnect",
        "pkid",
        "callingPartyNumber",
        "originalCalledPartyNumber",
        "finalCalledPartyNumber",
        "duration",
    )

    def sniff(self, head: bytes, path: Path) -> bool:
        line = first_lines(head, 1)[0].lower()
        return line.startswith('"cdrrecordtype"') and "origlegcallidentifier" in line

    def layout(self, head: bytes, path: Path, settings: Settings) -> Layout:
        return _layout(
            head, path, self.name, "origLegCallIdentifier", self.required, CDR_ACCOUNTING
        )

    def checks(self, frame: pl.DataFrame, settings: Settings) -> list[tuple[pl.Expr, str, str]]:
        orig = pl.col("dateTimeOrigination")
        connect = pl.col("dateTimeConnect").fill_null(0)
        disconnect = pl.col("dateTimeDisconnect")
        return [
            (
                pl.col("pkid").fill_null("").str.strip_chars() == "",
                "missing_key",
                "pkid is empty; every CUCM record has one",
            ),
            (
                pl.col("cdrRecordType").fill_null(-1) != 1,
                "record_type",
                "cdrRecordType is not 1 (a CDR); CMRs belong in cmr_ files",
            ),
            (
                orig.is_null() | (orig == 0),
                "missing_time",
                "dateTimeOrigination is missing or 0",
            ),
            *_negative_times("dateTimeOrigination", "dateTimeConnect", "dateTimeDisconnect"),
            (
                disconnect.is_not_null() & (disconnect > 0) & (disconnect < orig),
                "impossible_time",
                "dateTimeDisconnect is before dateTimeOrigination",
            ),
            (
                (connect > 0) & ((connect < orig) | (disconnect.fill_null(0) < connect)),
                "impossible_time",
                "dateTimeConnect is outside origination..disconnect",
            ),
            (pl.col("duration").fill_null(0) < 0, "impossible_value", "duration is negative"),
        ]

    def keys(self, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
        return frame.select(
            pl.col("pkid").str.strip_chars().str.to_lowercase().alias("record_key"),
            _epoch(pl.col("dateTimeOrigination")).alias("record_time"),
        )

    def normalise(self, frame: pl.DataFrame, settings: Settings) -> Normalised:
        return Normalised(calls=normalise_cdr(frame, settings.dialplan, source=self.name))


def normalise_cdr(frame: pl.DataFrame, dial: DialPlanSettings, *, source: str) -> pl.DataFrame:
    """One row per call for CUCM CDR records; recording legs and off-hook attempts are dropped.

    The result keeps `_row` so the caller can trace each call to its source line. Built in three
    lazy stages (clean inputs, derive flags, project) so each input is read once.
    """
    ints, texts = CDR_INTEGERS, CDR_TEXTS
    base = (
        frame.lazy()
        .with_row_index("_row")
        .select(
            "_row",
            _gcid(frame).alias("global_call_id"),
            *(_col(frame, col, 0).fill_null(0).alias(name) for name, col in ints.items()),
            *(
                _col(frame, col, "").fill_null("").str.strip_chars().alias(name)
                for name, col in texts.items()
            ),
        )
    )
    c = pl.col
    obo_cols = ("orig_obo", "dest_obo", "join_obo", "redir_obo1", "redir_obo2")
    reasons = ("reason1", "reason2")
    orig_trunk = c("in_proto").is_in(TRUNK_PROTOCOLS)
    dest_trunk = c("out_proto").is_in(TRUNK_PROTOCOLS)
    if dial.gateway_pattern:
        orig_trunk = orig_trunk | c("orig_device").str.contains(dial.gateway_pattern)
        dest_trunk = dest_trunk | c("dest_device").str.contains(dial.gateway_pattern)
    orig_pstn, dest_pstn = orig_trunk, dest_trunk
    if dial.onnet_trunk_pattern:
        orig_pstn = orig_trunk & ~c("orig_device").str.contains(dial.onnet_trunk_pattern)
        dest_pstn = dest_trunk & ~c("dest_device").str.contains(dial.onnet_trunk_pattern)
    split = (c("orig_cause") == CAUSE_SPLIT) | (c("dest_cause") == CAUSE_SPLIT)
    flagged = base.with_columns(
        (
            pl.any_horizontal([c(e).is_in(OBO_NOT_A_CALL) for e in obo_cols])
            | pl.any_horizontal([c(r).is_in(REASONS_NOT_A_CALL) for r in reasons])
            # off-hook, no digits dialled
            | ((c("called") == "") & (c("final") == "") & (c("connect") == 0))
        ).alias("not_a_call"),
        orig_trunk.alias("orig_trunk"),
        dest_trunk.alias("dest_trunk"),
        orig_pstn.alias("orig_pstn"),
        dest_pstn.alias("dest_pstn"),
        split.alias("split"),
        (
            (split & ((c("orig_obo") == OBO_TRANSFER) | (c("dest_obo") == OBO_TRANSFER)))
            | (c("join_obo") == OBO_TRANSFER)
            | pl.any_horizontal([c(r).is_in(REASONS_TRANSFER) for r in reasons])
        ).alias("transfer"),
        (
            (c("redir_obo1") == OBO_FORWARD)
            | (c("redir_obo2") == OBO_FORWARD)
            | (c("join_obo") == OBO_FORWARD)
            | pl.any_horizontal([c(r).is_in(REASONS_FORWARD) for r in reasons])
        ).alias("forwarded"),
        (
            (c("final").str.starts_with("b") & c("final").str.contains(r"^b\d+$"))
            | c("join_obo").is_in((OBO_CONFERENCE, OBO_MEETME))
            | (c("orig_obo") == OBO_CONFERENCE)
            | (c("dest_obo") == OBO_CONFERENCE)
        ).alias("conference"),
        (c("connect") > 0).alias("answered"),
        pl.when(c("dest_cause") != 0)
        .then(c("dest_cause"))
        .otherwise(c("orig_cause"))
        .alias("cause_code"),
    ).filter(~c("not_a_call"))
    # Who pays for a forwarded or transferred outgoing call: the extension that sent it out.
    sent_on = (
        (c("forwarded") | c("transfer") | c("orig_pstn"))
        & (c("redirect") != "")
        & (c("redirect") != c("final"))
    )
    none = pl.lit(None, pl.String)
    q850 = c("cause_code") % 256
    calls = flagged.select(
        "_row",
        pl.lit(source).alias("source"),
        "global_call_id",
        "orig_leg_id",
        "dest_leg_id",
        _epoch(c("orig_t")).alias("started_at"),
        pl.when(c("answered")).then(_epoch(c("connect"))).alias("answered_at"),
        pl.when(c("disconnect") > 0).then(_epoch(c("disconnect"))).alias("ended_at"),
        pl.when(c("answered")).then(c("duration")).otherwise(0).cast(pl.Int32).alias("duration_s"),
        pl.when(c("answered"))
        .then(c("connect") - c("orig_t"))
        .otherwise(c("disconnect") - c("orig_t"))
        .clip(lower_bound=0)
        .cast(pl.Int32)
        .alias("ring_s"),
        pl.when(c("dest_pstn"))
        .then(pl.lit("outgoing"))
        .when(c("orig_pstn"))
        .then(pl.lit("incoming"))
        .otherwise(pl.lit("internal"))
        .alias("direction"),
        "answered",
        pl.when(c("answered"))
        .then(pl.lit("answered"))
        .when(q850 == CAUSE_BUSY)
        .then(pl.lit("busy"))
        .when(q850.is_in(CAUSES_UNANSWERED) | c("split"))
        .then(pl.lit("missed"))
        .otherwise(pl.lit("failed"))
        .alias("disposition"),
        "cause_code",
        c("calling").alias("calling_number"),
        c("called").alias("called_number"),
        c("final").alias("final_number"),
        c("redirect").alias("redirect_number"),
        pl.when(c("dest_pstn"))
        .then(
            pl.when(c("outpulsed") != "")
            .then(c("outpulsed"))
            .otherwise(strip_access_code(c("final"), dial.access_codes))
        )
        .when(c("orig_pstn"))
        .then(c("calling"))
        .otherwise(none)
        .str.replace_all("#", "", literal=True)
        .alias("remote_number"),
        pl.when(c("dest_pstn") & sent_on)
        .then(c("redirect"))
        .when(c("dest_pstn"))
        .then(c("calling"))
        .when(c("orig_pstn"))
        .then(pl.when(c("final") != "").then(c("final")).otherwise(c("called")))
        .otherwise(c("calling"))
        .alias("extension"),
        pl.when(~c("dest_pstn") & ~c("orig_pstn"))
        .then(c("final"))
        .otherwise(none)
        .alias("peer_extension"),
        pl.when(c("dest_trunk"))
        .then(c("dest_device"))
        .when(c("orig_trunk"))
        .then(c("orig_device"))
        .otherwise(none)
        .alias("gateway"),
        "orig_device",
        "dest_device",
        "transfer",
        (c("forwarded") & ~c("transfer")).alias("forward"),
        "conference",
    )
    return calls.collect()


class CucmCmr(Dialect):
    name = "cucm-cmr"
    title = "Cisco UCM CMR (call quality) flat file"
    kind = "quality"
    required = (
        "cdrRecordType",
        "globalCallID_callManagerId",
        "globalCallID_callId",
        "callIdentifier",
        "dateTimeStamp",
        "pkid",
    )

    def sniff(self, head: bytes, path: Path) -> bool:
        line = first_lines(head, 1)[0].lower()
        return line.startswith('"cdrrecordtype"') and '"callidentifier"' in line

    def layout(self, head: bytes, path: Path, settings: Settings) -> Layout:
        return _layout(head, path, self.name, "callIdentifier", self.required, CMR_ACCOUNTING)

    def checks(self, frame: pl.DataFrame, settings: Settings) -> list[tuple[pl.Expr, str, str]]:
        stamp = pl.col("dateTimeStamp")
        return [
            (
                pl.col("pkid").fill_null("").str.strip_chars() == "",
                "missing_key",
                "pkid is empty; every CUCM record has one",
            ),
            (
                pl.col("cdrRecordType").fill_null(-1) != 2,
                "record_type",
                "cdrRecordType is not 2 (a CMR)",
            ),
            (stamp.is_null() | (stamp == 0), "missing_time", "dateTimeStamp is missing or 0"),
            *_negative_times("dateTimeStamp"),
        ]

    def keys(self, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
        return frame.select(
            pl.col("pkid").str.strip_chars().str.to_lowercase().alias("record_key"),
            _epoch(pl.col("dateTimeStamp")).alias("record_time"),
        )

    def normalise(self, frame: pl.DataFrame, settings: Settings) -> Normalised:
        def c(name: str) -> pl.Expr:
            return _col(frame, name, None)

        metrics = _col(frame, "varVQMetrics", "").fill_null("")
        mos = metrics.str.extract(r"(?:^|;)MLQK=([0-9.]+)", 1).cast(pl.Float64, strict=False)
        mos_avg = metrics.str.extract(r"(?:^|;)MLQKav=([0-9.]+)", 1).cast(pl.Float64, strict=False)
        received, lost = c("numberPacketsReceived"), c("numberPacketsLost")
        quality = frame.with_row_index("_row").select(
            "_row",
            pl.col("pkid").str.strip_chars().str.to_lowercase().alias("record_key"),
            _gcid(frame).alias("global_call_id"),
            pl.col("callIdentifier").alias("leg_id"),
            _epoch(pl.col("dateTimeStamp")).alias("recorded_at"),
            _col(frame, "directoryNum", "").alias("directory_number"),
            _col(frame, "deviceName", "").alias("device_name"),
            # MOS 0 means "not measured" (very short calls), not a terrible call.
            pl.when(mos > 0).then(mos).when(mos_avg > 0).then(mos_avg).alias("mos"),
            c("jitter").cast(pl.Int32).alias("jitter_ms"),
            c("latency").cast(pl.Int32).alias("latency_ms"),
            received.alias("packets_received"),
            lost.alias("packets_lost"),
            pl.when((received.fill_null(0) + lost.fill_null(0).clip(lower_bound=0)) > 0)
            .then(
                100.0
                * lost.clip(lower_bound=0)
                / (received.fill_null(0) + lost.clip(lower_bound=0))
            )
            .alias("loss_pct"),
        )
        return Normalised(quality=quality)


CUCM_FILE_NAME = re.compile(r"^(cdr|cmr)_(.+)_(\d+)_(\d{12})_(\d+)$")
