"""Realistic Cisco UCM CDR and CMR flat files for demos, tests and benchmarks.

The files look exactly like the ones a CUCM cluster pushes to a billing server: CUCM names
(``cdr_StandAloneCluster_01_202501061500_100234``, no extension), a quoted field-name line, an
unquoted type line, one record per LF-terminated line, VARCHAR values always double-quoted (even
when empty) and INTEGER values bare. Field semantics follow ``reference/cdr-formats.md`` §1 and the
real sample files: causes 16/17/19/393216/SIP 503, OnBehalfOf 4/5/10/12/27, redirect reasons
2/4/15/354, conference bridges ``b00…``, signed little-endian IP integers.

Three entry points:

* :func:`write_demo_cdr_files` — consistent demo months for the people of
  :func:`~callacct.demo.people.build_people` (internal, outbound and inbound calls, outcomes,
  transfers, forwards, conferences, recording legs, CMR quality records and a handful of
  deliberately malformed lines);
* :func:`write_large_cdr_file` — one big CDR file for ingest benchmarks, written in batches;
* :func:`write_many_small_files` — many small CUCM-named CDR files for benchmarks.

Example::

    >>> import datetime, tempfile
    >>> from pathlib import Path
    >>> from callacct.demo.people import build_people
    >>> out = Path(tempfile.mkdtemp())
    >>> summary = write_demo_cdr_files(
    ...     out, people=build_people(seed=3, count=20), seed=3, days=2,
    ...     end=datetime.date(2025, 3, 7))
    >>> summary.cdr_records > 100 and len(summary.malformed) == 5
    True
    >>> all(p.name.startswith(("cdr_StandAloneCluster_0", "cmr_StandAloneCluster_0"))
    ...     for p in summary.files)
    True
"""

from __future__ import annotations

import array
import bisect
import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import phonenumbers
import polars as pl

from callacct.demo.people import INTERNAL_PARTITION, SITES, Person, Site
from callacct.ingest.cucm_fields import CDR_FIELDS, CMR_FIELDS

__all__ = [
    "CLUSTER_ID",
    "DemoCdrSummary",
    "MalformedLine",
    "cucm_file_name",
    "write_demo_cdr_files",
    "write_large_cdr_file",
    "write_many_small_files",
]

#: Default CUCM cluster id, used in file names and ``globalCallId_ClusterID``.
CLUSTER_ID = "StandAloneCluster"

_RECORDER_TRUNK = "REC-SIPTRUNK-01"
_RECORDER_PILOT = "7999"
_RECORDER_PARTITION = "PT_Recording"
_RECORDER_IP = "10.10.0.50"
_SIP_503 = 1459617833
_SPLIT = 393216

# Route patterns per site and destination class, as an administrator would configure them.
_ROUTE_PATTERNS: dict[str, dict[str, str]] = {
    "PAR": {
        "national": "0.0[1-59]XXXXXXXX",
        "mobile": "0.0[67]XXXXXXXX",
        "international": "0.00!",
        "tollfree": "0.080XXXXXXX",
        "premium": "0.08[19]XXXXXXX",
        "emergency": "112",
        "unknown": "0.00!",
    },
    "NYC": {
        "national": "9.1[2-9]XX[2-9]XXXXXX",
        "mobile": "9.1[2-9]XX[2-9]XXXXXX",
        "international": "9.011!",
        "tollfree": "9.18[0-8][0-8]XXXXXXX",
        "premium": "9.1900XXXXXXX",
        "emergency": "911",
        "unknown": "9.011!",
    },
}
_US_AREA_CODES = ("212", "646", "718", "347", "516", "914", "201", "202", "312", "415", "617")
_US_MOBILE_AREA_CODES = ("917", "646", "347", "929")
_US_TOLLFREE = ("800", "888", "877", "866", "855")
# (country code, subscriber digits) for international destinations and callers.
_COUNTRIES: tuple[tuple[str, int], ...] = (
    ("44", 10), ("49", 10), ("1", 10), ("33", 9), ("34", 9), ("39", 10), ("212", 9),
    ("86", 11), ("81", 10), ("32", 9), ("41", 9), ("971", 9),
)  # fmt: skip
# 999 is a spare ITU country code: nothing can rate it, which is the point.
_UNKNOWN_COUNTRY = "999"
_POOL_SIZE = 300


def _is_valid(site: Site, number: str) -> bool:
    """Whether `number`, in the carrier's format at `site`, is an allocated number."""
    if number.startswith(site.international_prefix):
        text = "+" + number[len(site.international_prefix) :]
    elif site.country_code == "1":
        text = "+" + number if number.startswith("1") else "+1" + number
    else:
        text = "+" + site.country_code + number.removeprefix("0")
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


_WORKING_HOURS: dict[str, tuple[float, float]] = {"PAR": (8.5, 18.5), "NYC": (8.0, 18.0)}

_DEST_CLASSES: tuple[tuple[str, float], ...] = (
    ("national", 0.47),
    ("mobile", 0.31),
    ("international", 0.12),
    ("tollfree", 0.05),
    ("premium", 0.015),
    ("emergency", 0.0008),
    ("unknown", 0.006),
)
_OUTCOMES: dict[str, tuple[tuple[str, float], ...]] = {
    "internal": (
        ("answered", 0.74), ("abandoned", 0.09), ("missed", 0.10), ("busy", 0.05), ("failed", 0.02),
    ),
    "outbound": (
        ("answered", 0.66), ("abandoned", 0.12), ("missed", 0.09), ("busy", 0.07), ("failed", 0.06),
    ),
    "inbound": (("answered", 0.76), ("abandoned", 0.13), ("missed", 0.08), ("busy", 0.03)),
}  # fmt: skip
_OUTBOUND_FAILURES: tuple[tuple[int, float], ...] = (
    (1, 0.35), (34, 0.20), (_SIP_503, 0.20), (28, 0.10), (41, 0.10), (38, 0.05),
)  # fmt: skip

_CDR_NAMES = tuple(name for name, _ in CDR_FIELDS)

# Columns of the intermediate "core" record: everything that varies between records. The 133
# CUCM columns are derived from these with Polars expressions (see _cdr_columns).
_CORE_INT = (
    "node", "dnode", "gcid", "oleg", "dleg", "t0", "tc", "td", "ocause", "dcause", "oip", "dip",
    "oport", "dport", "codec", "oobo", "dobo", "rob_o", "rob_l", "rr_o", "rr_l", "join", "dconv",
    "oconv", "inproto", "outproto", "usage",
)  # fmt: skip
_CORE_STR = (
    "calling", "cpt", "ocalled", "ocpt", "fcalled", "fcpt", "lrdn", "lrpt", "odev", "ddev",
    "comment", "inref", "outref", "outcalling", "outcalled", "opat", "fpat", "lpat", "ologin",
    "dlogin", "osid", "dsid",
)  # fmt: skip
_TAGS = ("direction", "flow", "outcome", "dclass")
# Derived when missing: lastRedirectDn = final called number, patterns = the numbers themselves.
_NULLABLE_STR = ("lrdn", "lrpt", "opat", "fpat", "lpat")
_CORE_SCHEMA: dict[str, Any] = {
    **dict.fromkeys((*_CORE_INT, "ck"), pl.Int64),
    **dict.fromkeys((*_CORE_STR, *_TAGS), pl.String),
}
_CORE_INT_DEFAULTS: dict[str, int] = dict.fromkeys(_CORE_INT, 0)
_CORE_INT_DEFAULTS["usage"] = 2

_CMR_CORE_INT = ("ck", "leg", "ts", "dur", "codec", "q")
_CMR_CORE_STR = ("dn", "pt", "dev", "lsid", "rsid")
_CMR_SCHEMA: dict[str, Any] = {
    **dict.fromkeys(_CMR_CORE_INT, pl.Int64),
    **dict.fromkeys(_CMR_CORE_STR, pl.String),
}


class MalformedLine(NamedTuple):
    """A deliberately damaged line: file name, 1-based line number in that file, and its kind."""

    file_name: str
    line_no: int
    kind: str


@dataclass(frozen=True)
class DemoCdrSummary:
    """What :func:`write_demo_cdr_files` wrote.

    ``cdr_records``/``cmr_records`` count data lines (malformed lines included; each malformed line
    replaces a normal record). ``counts`` holds the number of generated CDR records per scenario
    (before any damage): ``internal``/``outbound``/``inbound`` by direction, outcomes
    ``answered``/``abandoned``/``missed``/``busy``/``failed``/``split`` (over internal, outbound and
    inbound records), ``transfer_records``/``forward``/``conference_records``/
    ``recording_records`` by call flow, ``transfers``/``conferences`` as events, and
    ``outbound_<class>`` per destination class (national, mobile, international, tollfree,
    premium, emergency, unknown), plus ``out_of_hours`` and ``weekend`` originations.
    """

    out_dir: Path
    first_day: dt.date
    last_day: dt.date
    files: list[Path]
    cdr_files: list[Path]
    cmr_files: list[Path]
    cdr_records: int
    cmr_records: int
    malformed: list[MalformedLine]
    counts: dict[str, int]
    bytes_written: int


def cucm_file_name(
    kind: str, node: int, close_epoch: int, seq: int, cluster: str = CLUSTER_ID
) -> str:
    """CUCM flat-file name: ``{cdr|cmr}_{cluster}_{node:02}_{UTC yyyymmddhhmm}_{seq}``.

    >>> cucm_file_name("cdr", 2, 1639404060, 515352)
    'cdr_StandAloneCluster_02_202112131401_515352'
    """
    stamp = dt.datetime.fromtimestamp(close_epoch, dt.UTC).strftime("%Y%m%d%H%M")
    return f"{kind}_{cluster}_{node:02d}_{stamp}_{seq}"


def _header(fields: Sequence[tuple[str, str]]) -> str:
    names = ",".join(f'"{name}"' for name, _ in fields)
    types = ",".join(typ for _, typ in fields)
    return f"{names}\n{types}\n"


def _ip_to_int(text: str) -> int:
    """Unsigned value whose little-endian bytes are the address octets (Cisco's storage order)."""
    a, b, c, d = (int(x) for x in text.split("."))
    return a | (b << 8) | (c << 16) | (d << 24)


# --- time helpers ---------------------------------------------------------------------------

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    """n-th Sunday of the month (n >= 1) or the last one (n == -1)."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def _is_dst(site: Site, day: dt.date) -> bool:
    # Day granularity is enough: the demo places no call in the night of a change.
    if site.dst_rule == "EU":
        return _nth_sunday(day.year, 3, -1) <= day < _nth_sunday(day.year, 10, -1)
    return _nth_sunday(day.year, 3, 2) <= day < _nth_sunday(day.year, 11, 1)


def _day_start_utc(site: Site, day: dt.date) -> int:
    """Epoch seconds of local midnight of ``day`` at ``site``."""
    offset = site.utc_offset_minutes + (60 if _is_dst(site, day) else 0)
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400 - offset * 60


# --- vectorised helpers shared by the demo and the benchmark writers ------------------------


_U32_CODE = "I" if array.array("I").itemsize == 4 else "L"


def _u32(rng: random.Random, n: int) -> pl.Series:
    """n uniform 32-bit integers as an Int64 Series (one C call, no per-value Python work)."""
    return pl.Series(array.array(_U32_CODE, rng.randbytes(4 * n)), dtype=pl.Int64)


def _uuid_series(rng: random.Random, n: int, name: str = "pkid") -> pl.Series:
    """n random version-4 UUID strings, formatted by Polars."""
    raw = rng.randbytes(16 * n).hex()
    h = pl.col("h")
    variant = h.str.slice(16, 1).replace_strict(
        {c: "89ab"[i % 4] for i, c in enumerate("0123456789abcdef")}, return_dtype=pl.String
    )
    frame = pl.DataFrame({"h": [raw[i : i + 32] for i in range(0, 32 * n, 32)]})
    return frame.select(
        pl.concat_str(
            h.str.slice(0, 8), pl.lit("-"), h.str.slice(8, 4), pl.lit("-4"), h.str.slice(13, 3),
            pl.lit("-"), variant, h.str.slice(17, 3), pl.lit("-"), h.str.slice(20, 12),
        ).alias(name)
    ).to_series()  # fmt: skip


def _signed(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr >= 2**31).then(expr - 2**32).otherwise(expr)


def _ip_text(expr: pl.Expr) -> pl.Expr:
    octets = [((expr // (256**i)) % 256).cast(pl.String) for i in range(4)]
    return pl.when(expr == 0).then(pl.lit("")).otherwise(pl.concat_str(octets, separator="."))


def _dtmf(device: pl.Expr) -> pl.Expr:
    # Phones use out-of-band DTMF (3), SIP trunks RFC 2833 (2); bridges and no device: 0.
    return (
        pl.when(device.str.starts_with("SEP"))
        .then(3)
        .when((device == "") | device.str.starts_with("CFB"))
        .then(0)
        .otherwise(2)
    )


def _cdr_columns(core: pl.DataFrame, trunks: Sequence[str], columns: int) -> pl.DataFrame:
    """The first ``columns`` CUCM CDR columns, in file order, from a core-record frame."""
    c = pl.col
    connected = c("tc") > 0
    o_media = c("oport") > 0
    d_media = c("dport") > 0
    bandwidth = pl.when(c("codec") == 11).then(8).otherwise(64)
    is_trunk_o = c("odev").is_in(list(trunks))
    is_trunk_d = c("ddev").is_in(list(trunks))
    lrdn = c("lrdn").fill_null(c("fcalled"))
    exprs: dict[str, pl.Expr] = {
        "cdrRecordType": pl.lit(1),
        "globalCallID_callManagerId": c("node"),
        "globalCallID_callId": c("gcid"),
        "origLegCallIdentifier": c("oleg"),
        "dateTimeOrigination": c("t0"),
        "origNodeId": c("node"),
        "origSpan": pl.when(is_trunk_o).then(c("oleg")).otherwise(0),
        "origIpAddr": _signed(c("oip")),
        "callingPartyNumber": c("calling"),
        "callingPartyUnicodeLoginUserID": c("ologin"),
        "origCause_value": c("ocause"),
        "origPrecedenceLevel": pl.lit(4),
        "origMediaTransportAddress_IP": pl.when(o_media).then(_signed(c("oip"))).otherwise(0),
        "origMediaTransportAddress_Port": c("oport"),
        "origMediaCap_payloadCapability": pl.when(o_media).then(c("codec")).otherwise(0),
        "origMediaCap_maxFramesPerPacket": pl.when(o_media).then(20).otherwise(0),
        "origRSVPAudioStat": pl.lit("0"),
        "origRSVPVideoStat": pl.lit("0"),
        "destLegIdentifier": c("dleg"),
        "destNodeId": c("dnode"),
        "destSpan": pl.when(is_trunk_d).then(c("dleg")).otherwise(0),
        "destIpAddr": _signed(c("dip")),
        "originalCalledPartyNumber": c("ocalled"),
        "finalCalledPartyNumber": c("fcalled"),
        "finalCalledPartyUnicodeLoginUserID": c("dlogin"),
        "destCause_value": c("dcause"),
        "destPrecedenceLevel": pl.lit(4),
        "destMediaTransportAddress_IP": pl.when(d_media).then(_signed(c("dip"))).otherwise(0),
        "destMediaTransportAddress_Port": c("dport"),
        "destMediaCap_payloadCapability": pl.when(d_media).then(c("codec")).otherwise(0),
        "destMediaCap_maxFramesPerPacket": pl.when(d_media).then(20).otherwise(0),
        "destRSVPAudioStat": pl.lit("0"),
        "destRSVPVideoStat": pl.lit("0"),
        "dateTimeConnect": c("tc"),
        "dateTimeDisconnect": c("td"),
        "lastRedirectDn": lrdn,
        "pkid": c("pkid"),
        "originalCalledPartyNumberPartition": c("ocpt"),
        "callingPartyNumberPartition": c("cpt"),
        "finalCalledPartyNumberPartition": c("fcpt"),
        "lastRedirectDnPartition": c("lrpt").fill_null(c("fcpt")),
        "duration": pl.when(connected).then(c("td") - c("tc")).otherwise(0),
        "origDeviceName": c("odev"),
        "destDeviceName": c("ddev"),
        "origCallTerminationOnBehalfOf": c("oobo"),
        "destCallTerminationOnBehalfOf": c("dobo"),
        "origCalledPartyRedirectOnBehalfOf": c("rob_o"),
        "lastRedirectRedirectOnBehalfOf": c("rob_l"),
        "origCalledPartyRedirectReason": c("rr_o"),
        "lastRedirectRedirectReason": c("rr_l"),
        "destConversationId": c("dconv"),
        "globalCallId_ClusterID": pl.lit(CLUSTER_ID),
        "joinOnBehalfOf": c("join"),
        "comment": c("comment"),
        "origDTMFMethod": _dtmf(c("odev")),
        "destDTMFMethod": pl.when(connected).then(_dtmf(c("ddev"))).otherwise(0),
        "origConversationId": c("oconv"),
        "origMediaCap_Bandwidth": pl.when(o_media).then(bandwidth).otherwise(0),
        "destMediaCap_Bandwidth": pl.when(d_media).then(bandwidth).otherwise(0),
        "outpulsedCallingPartyNumber": c("outcalling"),
        "outpulsedCalledPartyNumber": c("outcalled"),
        "origIpv4v6Addr": _ip_text(c("oip")),
        "destIpv4v6Addr": _ip_text(c("dip")),
        "IncomingProtocolID": c("inproto"),
        "IncomingProtocolCallRef": c("inref"),
        "OutgoingProtocolID": c("outproto"),
        "OutgoingProtocolCallRef": c("outref"),
        "calledPartyPatternUsage": c("usage"),
        "originalCalledPartyPattern": c("opat").fill_null(c("ocalled")),
        "finalCalledPartyPattern": c("fpat").fill_null(c("fcalled")),
        "lastRedirectingPartyPattern": c("lpat").fill_null(lrdn),
        "origDeviceSessionID": c("osid"),
        "destDeviceSessionID": c("dsid"),
    }
    selected: list[pl.Expr] = []
    for name, typ in CDR_FIELDS[:columns]:
        default = pl.lit(0) if typ == "INTEGER" else pl.lit("")
        expr = exprs.get(name, default)
        dtype = pl.Int64 if typ == "INTEGER" else pl.String
        selected.append(expr.cast(dtype).alias(name))
    return core.select(selected)


def _cmr_columns(core: pl.DataFrame) -> pl.DataFrame:
    """The 48 CMR columns from a CMR core frame; video INTEGER columns stay empty like CUCM's."""
    c = pl.col
    exprs: dict[str, pl.Expr] = {
        "cdrRecordType": pl.lit(2),
        "globalCallID_callManagerId": c("node"),
        "globalCallID_callId": c("gcid"),
        "nodeId": c("node"),
        "directoryNum": c("dn"),
        "callIdentifier": c("leg"),
        "dateTimeStamp": c("ts"),
        "numberPacketsSent": c("ps"),
        "numberOctetsSent": c("os"),
        "numberPacketsReceived": c("pr"),
        "numberOctetsReceived": c("or"),
        "numberPacketsLost": c("lost"),
        "jitter": c("jit"),
        "latency": c("lat"),
        "pkid": c("pkid"),
        "directoryNumPartition": c("pt"),
        "globalCallId_ClusterID": pl.lit(CLUSTER_ID),
        "deviceName": c("dev"),
        "varVQMetrics": c("vq"),
        "duration": c("dur"),
        "localSessionID": c("lsid"),
        "remoteSessionID": c("rsid"),
    }
    selected: list[pl.Expr] = []
    for name, typ in CMR_FIELDS:
        if typ == "INTEGER":
            default = pl.lit(None, dtype=pl.Int64)
            selected.append(exprs.get(name, default).cast(pl.Int64).alias(name))
        else:
            selected.append(exprs.get(name, pl.lit("")).cast(pl.String).alias(name))
    return core.select(selected)


def _uniform(rng: random.Random, n: int, name: str) -> pl.Series:
    return (_u32(rng, n) / 2**32).alias(name)


def _with_media_ports(core: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """RTP ports (even, 16384-32766) on both sides of connected records that have a far end."""
    n = core.height
    media = (pl.col("tc") > 0) & (pl.col("ddev") != "")
    port_o = (16384 + 2 * (_u32(rng, n) % 8192)).alias("_po")
    port_d = (16384 + 2 * (_u32(rng, n) % 8192)).alias("_pd")
    return (
        core.with_columns(port_o, port_d)
        .with_columns(
            oport=pl.when(media).then(pl.col("_po")).otherwise(0),
            dport=pl.when(media).then(pl.col("_pd")).otherwise(0),
        )
        .drop("_po", "_pd")
    )


def _fixed4(expr: pl.Expr) -> pl.Expr:
    """A float with exactly 4 decimals (Polars' float-to-string cast has no precision control)."""
    scaled = (expr * 10000).round(0).cast(pl.Int64)
    return pl.concat_str(
        (scaled // 10000).cast(pl.String),
        pl.lit("."),
        (scaled % 10000).cast(pl.String).str.zfill(4),
    )


def _class_range(name: str, u: pl.Expr, *, integer: bool = False) -> pl.Expr:
    pairs = _QUALITY_RANGES[name]
    lo = pl.col("q").replace_strict({i: p[0] for i, p in enumerate(pairs)}, return_dtype=pl.Float64)
    hi = pl.col("q").replace_strict({i: p[1] for i, p in enumerate(pairs)}, return_dtype=pl.Float64)
    if integer:
        return (lo + ((hi - lo + 1) * u).floor()).cast(pl.Int64)
    return lo + (hi - lo) * u


_NO_MOS = (
    "MLQK=0.0000;MLQKav=0.0000;MLQKmn=0.0000;MLQKmx=0.0000;MLQKvr=0.95;"
    "CCR=0.0000;ICR=0.0000;ICRmx=0.0000;CS=0;SCS=0"
)


def _with_cmr_metrics(core: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """Packets, octets, loss, jitter, latency and K-factor metrics consistent with the duration."""
    n = core.height
    u = [f"_u{k}" for k in range(11)]
    c = pl.col
    frame = core.with_columns([_uniform(rng, n, name) for name in u])
    frame = frame.with_columns(
        _mos=_class_range("mos", c(u[0])),
        _loss=_class_range("loss", c(u[1])),
        ps=50 * c("dur") + (c(u[2]) * 7).floor().cast(pl.Int64) - 3,
        _r0=pl.max_horizontal(pl.lit(0), 50 * c("dur") + (c(u[3]) * 7).floor().cast(pl.Int64) - 3),
        jit=_class_range("jitter", c(u[4]), integer=True),
        lat=_class_range("latency", c(u[5]), integer=True),
        ts=c("ts") + (c(u[6]) * 2).floor().cast(pl.Int64),
        # RTP payload per 20 ms packet plus the 12-byte RTP header: G.729 20 bytes, others 160.
        _oct=pl.when(c("codec") == 11).then(32).otherwise(172),
    )
    frame = frame.with_columns(
        lost=(c("_r0") * c("_loss")).floor().cast(pl.Int64),
        _av=pl.max_horizontal(pl.lit(1.0), c("_mos") - 0.12 * c(u[7])),
        _ccr=c("_loss") * (0.8 + 0.4 * c(u[10])),
        _mx=pl.min_horizontal(pl.lit(4.5), c("_mos") + 0.2 * c(u[9])),
    )
    frame = frame.with_columns(
        pr=c("_r0") - c("lost"),
        _mn=pl.max_horizontal(pl.lit(1.0), c("_av") - 0.35 * c(u[8])),
        _cs=(c("dur") * pl.min_horizontal(pl.lit(1.0), c("_ccr") * 20)).floor().cast(pl.Int64),
    )
    vq = pl.concat_str(
        pl.lit("MLQK="), _fixed4(c("_mos")),
        pl.lit(";MLQKav="), _fixed4(c("_av")),
        pl.lit(";MLQKmn="), _fixed4(c("_mn")),
        pl.lit(";MLQKmx="), _fixed4(c("_mx")),
        pl.lit(";MLQKvr=0.95;CCR="), _fixed4(c("_ccr")),
        pl.lit(";ICR=0.0000;ICRmx="), _fixed4(pl.min_horizontal(pl.lit(1.0), c("_ccr") * 3)),
        pl.lit(";CS="), c("_cs").cast(pl.String),
        pl.lit(";SCS="), (c("_cs") // 8).cast(pl.String),
    )  # fmt: skip
    frame = frame.with_columns(
        os=c("ps") * c("_oct"),
        **{"or": c("pr") * c("_oct")},
        # Phones report no MOS for very short calls (MLQK=0.0000 in real files).
        vq=pl.when(c("dur") < 8).then(pl.lit(_NO_MOS)).otherwise(vq),
    )
    return frame.drop([*u, "_mos", "_loss", "_r0", "_oct", "_av", "_ccr", "_mx", "_mn", "_cs"])


def _csv_lines(frame: pl.DataFrame) -> list[str]:
    """Frame rows as CUCM lines: strings quoted (also when empty), integers bare, nulls empty."""
    if frame.height == 0:
        return []
    text = frame.write_csv(include_header=False, quote_style="non_numeric", line_terminator="\n")
    return text.split("\n")[:-1]


# --- demo planning ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Party:
    """One end of a call leg.

    ``kind`` is ``phone`` (a person's IP phone), ``trunk`` (SIP trunk carrying an external number or
    the recorder), ``bridge`` (conference bridge) or ``bib`` (a phone's built-in bridge that forks
    the audio to the recorder).
    """

    number: str
    partition: str
    device: str
    ip: int
    node: int
    site: str
    kind: str
    login: str = ""
    mac: str = ""
    person: int = -1

    @property
    def is_phone(self) -> bool:
        return self.kind == "phone"


# Voice-quality classes of a phone's network path: 0 good (Paris LAN), 1 fair (New York over the
# WAN), 2 poor (a few phones on bad Wi-Fi/VPN). Per class: MOS, jitter ms, loss ratio, latency ms.
_QUALITY_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "mos": ((4.15, 4.5), (3.7, 4.25), (2.8, 3.6)),
    "jitter": ((0, 3), (2, 14), (15, 60)),
    "loss": ((0.0, 0.001), (0.0, 0.006), (0.008, 0.04)),
    "latency": ((0, 2), (8, 40), (30, 120)),
}
_GOOD, _FAIR, _POOR = 0, 1, 2


class _Planner:
    """Plans the demo calls in Python and collects compact core records (dicts) for Polars."""

    def __init__(self, rng: random.Random, people: Sequence[Person]) -> None:
        self.rng = rng
        self.people = list(people)
        self.sites = {s.code: s for s in SITES}
        self.cdr: list[dict[str, Any]] = []
        self.cmr: list[dict[str, Any]] = []
        # Provisional ids; final leg ids and globalCallID_callId come from ranking these by time.
        self.leg_times: list[int] = [0]
        self.call_times: list[int] = []
        self.call_nodes: list[int] = []
        self.leg_sid: dict[int, str] = {}
        self.bridge_serial = rng.randrange(1000, 9000)
        self.bib_serial = rng.randrange(100000, 900000)
        self.transfers = 0
        self.conferences = 0
        self.phones: list[_Party] = []
        self.mobiles: list[str] = []
        self._pools: dict[tuple[str, str], list[str]] = {}
        self.quality: list[int] = []
        self.by_site: dict[str, list[int]] = {s.code: [] for s in SITES}
        self.everyone = list(range(len(self.people)))
        self.trunk_ips = {s.code: _ip_to_int(s.trunk_ip) for s in SITES}
        self.recorder_ip = _ip_to_int(_RECORDER_IP)
        self.by_dept: dict[tuple[str, str], list[int]] = {}
        used_ips: set[int] = set()
        for i, p in enumerate(self.people):
            site = self.sites[p.site]
            ip = 0
            while ip == 0 or ip in used_ips:
                ip = _ip_to_int(f"{site.subnet}.{self.ri(1, 30)}.{self.ri(2, 254)}")
            used_ips.add(ip)
            self.phones.append(
                _Party(
                    number=p.extension,
                    partition=INTERNAL_PARTITION,
                    device=p.device_name,
                    ip=ip,
                    node=site.node,
                    site=site.code,
                    kind="phone",
                    login=p.login,
                    mac=p.device_name[3:].lower(),
                    person=i,
                )
            )
            self.mobiles.append(self._mobile_number(site))
            self.quality.append(_GOOD if site.code == "PAR" else _FAIR)
            self.by_site[site.code].append(i)
            self.by_dept.setdefault((p.site, p.department), []).append(i)
        # A few phones on a bad Wi-Fi/VPN path, so quality reports have something to show.
        for i in rng.sample(range(len(self.people)), min(4, len(self.people))):
            self.quality[i] = _POOR

    # -- ids --------------------------------------------------------------------------------

    def new_call(self, node: int, t: int) -> int:
        self.call_times.append(t)
        self.call_nodes.append(node)
        return len(self.call_times) - 1

    def new_leg(self, t: int, party: _Party | None = None) -> int:
        self.leg_times.append(t)
        leg = len(self.leg_times) - 1
        if party is not None and party.is_phone:
            self.leg_sid[leg] = f"{self.rng.getrandbits(32):08x}00105000a000{party.mac}"
        return leg

    def ri(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]; a few times faster than ``rng.randint``."""
        return low + int(self.rng.random() * (high - low + 1))

    # -- numbers ----------------------------------------------------------------------------

    def _digits(self, n: int) -> str:
        return f"{int(self.rng.random() * 10**n):0{n}d}"

    def _subscriber(self, n: int) -> str:
        """n digits not starting with 0 or 1 (area/subscriber numbers never do)."""
        return str(2 + int(self.rng.random() * 8)) + self._digits(n - 1)

    def _valid(self, site: Site, make: Callable[[], str]) -> str:
        """A number from `make` that libphonenumber knows as allocated (a few tries), so that
        the demo's destinations classify as real ones do."""
        number = make()
        for _ in range(30):
            if _is_valid(site, number):
                return number
            number = make()
        return number

    def _pooled(self, site: Site, kind: str, make: Callable[[], str]) -> str:
        """A number from a pool of valid ones per site and kind: people call the same
        numbers again, and the pool keeps the demo fast."""
        pool = self._pools.get((site.code, kind))
        if pool is None:
            pool = [self._valid(site, make) for _ in range(_POOL_SIZE)]
            self._pools[(site.code, kind)] = pool
        return self.rng.choice(pool)

    def _mobile_number(self, site: Site) -> str:
        if site.code == "PAR":
            return self._valid(site, lambda: "0" + self.rng.choice("67") + self._digits(8))
        return self._valid(
            site, lambda: "1" + self.rng.choice(_US_MOBILE_AREA_CODES) + self._digits(7)
        )

    def _abroad(self, site: Site) -> str:
        def make() -> str:
            cc, n = self.rng.choice([x for x in _COUNTRIES if x[0] != site.country_code])
            return site.international_prefix + cc + self._subscriber(n)

        return self._pooled(site, "international", make)

    def destination(self, site: Site, dclass: str) -> tuple[str, str]:
        """(carrier number, i.e. outpulsed digits; digits dialled by the user) for a class."""
        rng = self.rng
        if site.code == "PAR":
            if dclass == "national":
                number = self._pooled(
                    site, dclass, lambda: "0" + rng.choice("12345") + self._digits(8)
                )
            elif dclass == "mobile":
                number = self._pooled(site, dclass, lambda: self._mobile_number(site))
            elif dclass == "international":
                number = self._abroad(site)
            elif dclass == "tollfree":
                number = "0800" + self._digits(6)
            elif dclass == "premium":
                number = "089" + rng.choice("1239") + self._digits(6)
            elif dclass == "emergency":
                return site.emergency_number, site.emergency_number
            else:
                number = site.international_prefix + _UNKNOWN_COUNTRY + self._digits(8)
        else:
            if dclass == "national":
                number = self._pooled(
                    site, dclass, lambda: "1" + rng.choice(_US_AREA_CODES) + self._subscriber(7)
                )
            elif dclass == "mobile":
                number = self._pooled(site, dclass, lambda: self._mobile_number(site))
            elif dclass == "international":
                number = self._abroad(site)
            elif dclass == "tollfree":
                number = "1" + rng.choice(_US_TOLLFREE) + self._subscriber(7)
            elif dclass == "premium":
                number = "1900" + self._subscriber(7)
            elif dclass == "emergency":
                return site.emergency_number, site.emergency_number
            else:
                number = site.international_prefix + _UNKNOWN_COUNTRY + self._digits(8)
        return number, site.access_code + number

    def caller_number(self, site: Site) -> str:
        """An external caller as the carrier presents it: national format, a few international."""
        rng = self.rng
        if rng.random() < 0.06:
            return self._abroad(site)
        if site.code == "PAR":
            if rng.random() < 0.4:
                return self._pooled(site, "mobile", lambda: self._mobile_number(site))
            return self._pooled(
                site, "caller", lambda: "0" + rng.choice("123459") + self._digits(8)
            )
        return self._pooled(
            site,
            "caller",
            lambda: rng.choice(_US_AREA_CODES + _US_MOBILE_AREA_CODES) + self._subscriber(7),
        )

    def trunk(self, site: Site, number: str, partition: str) -> _Party:
        return _Party(
            number=number,
            partition=partition,
            device=site.trunk_device,
            ip=self.trunk_ips[site.code],
            node=site.node,
            site=site.code,
            kind="trunk",
        )

    # -- timing -----------------------------------------------------------------------------

    def duration(self) -> int:
        rng = self.rng
        if rng.random() < 0.02:
            return self.ri(1200, 5400)
        return max(1, min(3600, int(rng.lognormvariate(math.log(110), 0.9))))

    def ring(self) -> int:
        return min(30, 1 + int(self.rng.expovariate(1 / 6)))

    def codec(self, a: _Party, b: _Party | None) -> int:
        if b is None:
            return 0
        for party in (a, b):
            if party.kind == "trunk":
                return 2 if party.site == "PAR" else 4
        if a.site != b.site:
            return 11
        return 6 if a.site == "PAR" else 4

    # -- records ----------------------------------------------------------------------------

    def record(
        self,
        *,
        ck: int,
        t0: int,
        tc: int,
        td: int,
        orig: _Party,
        dest: _Party | None,
        oleg: int,
        dleg: int,
        called: str,
        called_partition: str,
        direction: str,
        flow: str,
        outcome: str,
        dclass: str = "",
    ) -> dict[str, Any]:
        """A core record with party, media and protocol fields; callers add causes/redirects."""
        rng = self.rng
        rec: dict[str, Any] = {
            "ck": ck,
            "node": self.call_nodes[ck],
            "oleg": oleg,
            "dleg": dleg,
            "t0": t0,
            "tc": tc,
            "td": td,
            "calling": orig.number,
            "cpt": orig.partition,
            "odev": orig.device,
            "oip": orig.ip,
            "ologin": orig.login,
            "osid": self.leg_sid.get(oleg, ""),
            "ocalled": called,
            "ocpt": called_partition,
            "fcalled": called,
            "fcpt": called_partition,
            "direction": direction,
            "flow": flow,
            "outcome": outcome,
            "dclass": dclass,
        }
        if orig.kind == "trunk":
            rec["inproto"] = 1
            rec["inref"] = f"{rng.getrandbits(128):032X}"
        if dest is not None:
            rec["dnode"] = dest.node
            rec["ddev"] = dest.device
            rec["dip"] = dest.ip
            rec["dlogin"] = dest.login
            rec["dsid"] = self.leg_sid.get(dleg, "")
            if dest.kind == "trunk":
                rec["outproto"] = 1
                rec["outref"] = f"{rng.getrandbits(128):032X}"
                rec["usage"] = 5
        if tc > 0 and dest is not None:
            rec["codec"] = self.codec(orig, dest)
        self.cdr.append(rec)
        return rec

    def end_causes(self, rec: dict[str, Any], outcome: str, *, trunk_dest: bool) -> None:
        rng = self.rng
        if outcome == "answered":
            if rng.random() < 0.5:
                rec["ocause"], rec["oobo"] = 16, 12
            else:
                rec["dcause"], rec["dobo"] = 16, 12
        elif outcome == "abandoned":
            rec["ocause"], rec["oobo"] = 16, 12
        elif outcome == "missed":
            rec["dcause"], rec["dobo"] = 19, 12
        elif outcome == "busy":
            rec["dcause"], rec["dobo"] = 17, 12
        elif outcome == "failed":
            if trunk_dest:
                causes = [c for c, _ in _OUTBOUND_FAILURES]
                weights = [w for _, w in _OUTBOUND_FAILURES]
                rec["dcause"], rec["dobo"] = rng.choices(causes, weights)[0], 12
            else:
                rec["dcause"], rec["dobo"] = 1, 13

    def timing(self, t0: int, outcome: str) -> tuple[int, int]:
        """(connect, disconnect) for an outcome starting at t0."""
        if outcome == "answered":
            tc = t0 + self.ring()
            return tc, tc + self.duration()
        if outcome == "abandoned":
            return 0, t0 + self.ri(3, 28)
        if outcome == "missed":
            return 0, t0 + self.ri(15, 40)
        if outcome == "busy":
            return 0, t0 + self.ri(1, 4)
        return 0, t0 + self.ri(0, 5)

    def cmr_for(
        self, ck: int, leg: int, party: _Party, remote_leg: int, td: int, seconds: int, codec: int
    ) -> None:
        """One CMR for an IP-phone leg that carried ``seconds`` of audio (metrics added later)."""
        if not party.is_phone or seconds <= 0:
            return
        self.cmr.append(
            {
                "ck": ck,
                "dn": party.number,
                "leg": leg,
                "ts": td,
                "dur": seconds,
                "codec": codec,
                "q": self.quality[party.person],
                "pt": party.partition,
                "dev": party.device,
                "lsid": self.leg_sid.get(leg, ""),
                "rsid": self.leg_sid.get(remote_leg, ""),
            }
        )

    # -- scenarios --------------------------------------------------------------------------

    def answered_cmrs(self, rec: dict[str, Any], orig: _Party, dest: _Party | None) -> None:
        if rec["tc"] > 0 and dest is not None:
            secs = rec["td"] - rec["tc"]
            codec = rec.get("codec", 0)
            self.cmr_for(rec["ck"], rec["oleg"], orig, rec["dleg"], rec["td"], secs, codec)
            self.cmr_for(rec["ck"], rec["dleg"], dest, rec["oleg"], rec["td"], secs, codec)

    def colleague(self, i: int) -> int:
        """Someone else, usually from the same department and site."""
        p = self.people[i]
        dept = self.by_dept.get((p.site, p.department), [])
        pool = dept if len(dept) > 1 and self.rng.random() >= 0.3 else self.by_site[p.site]
        if len(pool) < 2:
            pool = self.everyone
        while True:
            j = pool[int(self.rng.random() * len(pool))]
            if j != i:
                return j

    def unused_extension(self, site: Site) -> str:
        used = {p.extension for p in self.people}
        for _ in range(50):
            candidate = str(self.ri(site.ext_first, site.ext_last))
            if candidate not in used:
                return candidate
        return str(site.ext_last + 1)

    def internal(self, t0: int, a_idx: int, b_idx: int, outcome: str, cfa: Any) -> None:
        a, b = self.phones[a_idx], self.phones[b_idx]
        ck = self.new_call(a.node, t0)
        oleg = self.new_leg(t0, a)
        if cfa is not None:
            self.forward(ck, t0, a, oleg, b_idx, cfa, 15, "internal")
            return
        if outcome == "missed" and self.rng.random() < 0.4:
            self.forward(ck, t0, a, oleg, b_idx, self.forward_target(b_idx), 2, "internal")
            return
        if outcome == "answered" and self.rng.random() < 0.01:
            self.transfer(ck, t0, a, oleg, b_idx, "internal")
            return
        tc, td = self.timing(t0, outcome)
        if outcome == "failed":
            dleg = self.new_leg(t0)
            rec = self.record(
                ck=ck, t0=t0, tc=tc, td=td, orig=a, dest=None, oleg=oleg, dleg=dleg,
                called=self.unused_extension(self.sites[a.site]),
                called_partition=INTERNAL_PARTITION, direction="internal", flow="plain",
                outcome=outcome,
            )  # fmt: skip
            self.end_causes(rec, outcome, trunk_dest=False)
            return
        dleg = self.new_leg(t0, b)
        dest = None if outcome == "busy" else b
        rec = self.record(
            ck=ck, t0=t0, tc=tc, td=td, orig=a, dest=dest, oleg=oleg, dleg=dleg, called=b.number,
            called_partition=INTERNAL_PARTITION, direction="internal", flow="plain",
            outcome=outcome,
        )  # fmt: skip
        self.end_causes(rec, outcome, trunk_dest=False)
        self.answered_cmrs(rec, a, dest)

    def outbound(self, t0: int, a_idx: int, dclass: str, outcome: str) -> None:
        a = self.phones[a_idx]
        site = self.sites[a.site]
        rng = self.rng
        if dclass == "emergency":
            outcome = "answered"
        elif dclass == "unknown":
            outcome = "failed" if rng.random() < 0.85 else "abandoned"
        number, dialled = self.destination(site, dclass)
        trunk = self.trunk(site, number, site.pstn_partition)
        ck = self.new_call(a.node, t0)
        oleg = self.new_leg(t0, a)
        dleg = self.new_leg(t0)
        tc, td = self.timing(t0, outcome)
        rec = self.record(
            ck=ck, t0=t0, tc=tc, td=td, orig=a, dest=trunk, oleg=oleg, dleg=dleg, called=dialled,
            called_partition=site.pstn_partition, direction="outbound", flow="plain",
            outcome=outcome, dclass=dclass,
        )  # fmt: skip
        pattern = _ROUTE_PATTERNS[site.code][dclass]
        rec.update(
            outcalled=number,
            outcalling=site.did_prefix + a.number,
            opat=pattern,
            fpat=pattern,
            lpat=pattern,
        )
        self.end_causes(rec, outcome, trunk_dest=True)
        if dclass == "unknown" and outcome == "failed":
            rec["dcause"] = rng.choice((1, 28))
        self.answered_cmrs(rec, a, trunk)
        if tc > 0:
            self.maybe_record(rec, a, oleg)

    def inbound(self, t0: int, b_idx: int, outcome: str, cfa: Any) -> None:
        b = self.phones[b_idx]
        site = self.sites[b.site]
        rng = self.rng
        caller = self.trunk(site, self.caller_number(site), "")
        ck = self.new_call(site.node, t0)
        oleg = self.new_leg(t0)
        if cfa is not None:
            self.forward(ck, t0, caller, oleg, b_idx, cfa, 15, "inbound")
            return
        if outcome == "missed" and rng.random() < 0.4:
            self.forward(ck, t0, caller, oleg, b_idx, self.forward_target(b_idx), 2, "inbound")
            return
        busy_dept = self.people[b_idx].department in ("Customer Service", "Sales")
        if outcome == "answered" and rng.random() < (0.07 if busy_dept else 0.03):
            self.transfer(ck, t0, caller, oleg, b_idx, "inbound")
            return
        dleg = self.new_leg(t0, b)
        dest = None if outcome == "busy" else b
        tc, td = self.timing(t0, outcome)
        rec = self.record(
            ck=ck, t0=t0, tc=tc, td=td, orig=caller, dest=dest, oleg=oleg, dleg=dleg,
            called=b.number, called_partition=INTERNAL_PARTITION, direction="inbound",
            flow="plain", outcome=outcome,
        )  # fmt: skip
        self.end_causes(rec, outcome, trunk_dest=False)
        self.answered_cmrs(rec, caller, dest)
        if tc > 0:
            self.maybe_record(rec, b, dleg)

    def forward_target(self, i: int) -> tuple[str, int | str]:
        """Where person i forwards to: a colleague's extension or their own mobile."""
        if self.rng.random() < 0.6:
            return ("ext", self.colleague(i))
        return ("pstn", self.mobiles[i])

    def forward(
        self,
        ck: int,
        t0: int,
        orig: _Party,
        oleg: int,
        a_idx: int,
        target: tuple[str, int | str],
        reason: int,
        direction: str,
    ) -> None:
        """One CDR for a call to ``a_idx`` forwarded (CFA 15 / CFNA 2) to ``target``."""
        rng = self.rng
        a = self.phones[a_idx]
        site = self.sites[a.site]
        # CFNA rings the first phone for the no-answer timer (12 s by default) first.
        t_fwd = t0 + (self.ri(11, 13) if reason == 2 else 0)
        outcome = rng.choices(("answered", "missed", "abandoned"), (0.75, 0.1, 0.15))[0]
        kind, value = target
        if kind == "ext" and isinstance(value, int):
            dest = self.phones[value]
            dleg = self.new_leg(t_fwd, dest)
            final, final_pt, dclass = dest.number, INTERNAL_PARTITION, ""
        else:
            number = str(value)
            dest = self.trunk(site, number, site.pstn_partition)
            dleg = self.new_leg(t_fwd)
            final, final_pt, dclass = site.access_code + number, site.pstn_partition, "mobile"
        tc, td = self.timing(t_fwd, outcome)
        rec = self.record(
            ck=ck, t0=t0, tc=tc, td=td, orig=orig, dest=dest, oleg=oleg, dleg=dleg,
            called=a.number, called_partition=INTERNAL_PARTITION, direction=direction,
            flow="forward", outcome=outcome, dclass=dclass,
        )  # fmt: skip
        rec.update(
            fcalled=final, fcpt=final_pt, lrdn=a.number, lrpt=INTERNAL_PARTITION,
            rr_o=reason, rr_l=reason, rob_o=5, rob_l=5, join=5,
        )  # fmt: skip
        if dest.kind == "trunk":
            rec.update(outcalled=str(value), fpat=_ROUTE_PATTERNS[site.code]["mobile"])
        self.end_causes(rec, outcome, trunk_dest=dest.kind == "trunk")
        self.answered_cmrs(rec, orig, dest)

    def transfer(
        self, ck: int, t0: int, orig: _Party, oleg: int, a_idx: int, direction: str
    ) -> None:
        """The three CDRs of a transfer by ``a_idx``: original, consultation, final."""
        rng = self.rng
        a = self.phones[a_idx]
        b_idx = self.colleague(a_idx)
        b = self.phones[b_idx]
        a_leg = self.new_leg(t0, a)
        t1 = t0 + self.ring()
        t_consult = t1 + self.ri(15, 180)
        ck2 = self.new_call(a.node, t_consult)
        a2_leg = self.new_leg(t_consult, a)
        b_leg = self.new_leg(t_consult, b)
        attended = rng.random() < 0.7
        if attended:
            tc2 = t_consult + self.ring()
            t3 = tc2 + self.ri(5, 60)
        else:
            tc2 = 0
            t3 = t_consult + self.ri(2, 6)
        r1 = self.record(
            ck=ck, t0=t0, tc=t1, td=t3, orig=orig, dest=a, oleg=oleg, dleg=a_leg, called=a.number,
            called_partition=INTERNAL_PARTITION, direction=direction, flow="transfer",
            outcome="split",
        )  # fmt: skip
        r2 = self.record(
            ck=ck2, t0=t_consult, tc=tc2, td=t3, orig=a, dest=b, oleg=a2_leg, dleg=b_leg,
            called=b.number, called_partition=INTERNAL_PARTITION, direction="internal",
            flow="transfer", outcome="split",
        )  # fmt: skip
        for rec in (r1, r2):
            rec.update(ocause=_SPLIT, dcause=_SPLIT, oobo=10, dobo=10)
        if attended:
            outcome, tc3 = "answered", t3
        else:
            outcome = "answered" if rng.random() < 0.85 else "missed"
            tc3 = t3 + self.ring() if outcome == "answered" else 0
        td3 = tc3 + self.duration() if tc3 else t3 + self.ri(15, 40)
        r3 = self.record(
            ck=ck, t0=t3, tc=tc3, td=td3, orig=orig, dest=b, oleg=oleg, dleg=b_leg,
            called=b.number, called_partition=INTERNAL_PARTITION, direction=direction,
            flow="transfer", outcome=outcome,
        )  # fmt: skip
        r3.update(lrdn=a.number, lrpt=INTERNAL_PARTITION, rr_l=4, rob_l=10, join=10, lpat=a.number)
        self.end_causes(r3, outcome, trunk_dest=False)
        codec = r1.get("codec", 0)
        self.cmr_for(ck, a_leg, a, oleg, t3, t3 - t1, codec)
        if attended:
            self.cmr_for(ck2, a2_leg, a, b_leg, t3, t3 - tc2, r2.get("codec", 0))
        if tc3:
            b_start = tc2 if attended else tc3
            self.cmr_for(ck, b_leg, b, oleg, td3, td3 - b_start, r3.get("codec", 0))
            self.cmr_for(ck, oleg, orig, b_leg, td3, td3 - t1, codec)
        else:
            self.cmr_for(ck, oleg, orig, a_leg, t3, t3 - t1, codec)
        self.transfers += 1

    def maybe_record(self, rec: dict[str, Any], agent: _Party, agent_leg: int) -> None:
        """Built-in-bridge recording legs (near and far end) for Customer Service calls."""
        if self.people[agent.person].department != "Customer Service":
            return
        rng = self.rng
        site = self.sites[agent.site]
        recorder = _Party(
            number=_RECORDER_PILOT,
            partition=_RECORDER_PARTITION,
            device=_RECORDER_TRUNK,
            ip=self.recorder_ip,
            node=site.node,
            site=site.code,
            kind="trunk",
        )
        t = rec["tc"]
        for stream in (1, 2):
            self.bib_serial += 1
            bib = _Party(
                number=f"b00{agent.node}{self.bib_serial:07d}{stream}001",
                partition="",
                device=agent.device,
                ip=agent.ip,
                node=agent.node,
                site=agent.site,
                kind="bib",
            )
            ck = self.new_call(agent.node, t)
            oleg, dleg = self.new_leg(t), self.new_leg(t)
            failed = rng.random() < 0.02
            leg = self.record(
                ck=ck, t0=t, tc=0 if failed else t, td=t if failed else rec["td"], orig=bib,
                dest=recorder, oleg=oleg, dleg=dleg, called=_RECORDER_PILOT,
                called_partition=_RECORDER_PARTITION, direction="recording", flow="recording",
                outcome="failed" if failed else "answered",
            )  # fmt: skip
            leg.update(rob_o=27, rob_l=27, rr_o=354, rr_l=354, join=27, oconv=agent_leg)
            if failed:
                leg.update(dcause=_SIP_503, dobo=12)
            else:
                leg.update(oobo=27, dobo=27)

    def conference(self, t0: int, c_idx: int) -> None:
        """An ad-hoc conference: setup calls by the controller, then one leg per member."""
        rng = self.rng
        ctl = self.phones[c_idx]
        site = self.sites[ctl.site]
        members: list[tuple[_Party, int, int, int, int]] = []  # party, leg, ck, ctl leg, connect
        t = t0
        setup_records: list[dict[str, Any]] = []
        for _ in range(rng.choice((2, 2, 3))):
            ck = self.new_call(ctl.node, t)
            c_leg = self.new_leg(t, ctl)
            tc = t + self.ring()
            if rng.random() < 0.3:
                dclass = rng.choice(("national", "mobile"))
                number, dialled = self.destination(site, dclass)
                party = self.trunk(site, number, site.pstn_partition)
                p_leg = self.new_leg(t)
                rec = self.record(
                    ck=ck, t0=t, tc=tc, td=0, orig=ctl, dest=party, oleg=c_leg, dleg=p_leg,
                    called=dialled, called_partition=site.pstn_partition, direction="outbound",
                    flow="conference", outcome="split", dclass=dclass,
                )  # fmt: skip
                pattern = _ROUTE_PATTERNS[site.code][dclass]
                rec.update(outcalled=number, opat=pattern, fpat=pattern, lpat=pattern)
                # Seen from the bridge the external member is a caller with no partition.
                party = self.trunk(site, number, "")
            else:
                party = self.phones[self.colleague(c_idx)]
                p_leg = self.new_leg(t, party)
                rec = self.record(
                    ck=ck, t0=t, tc=tc, td=0, orig=ctl, dest=party, oleg=c_leg, dleg=p_leg,
                    called=party.number, called_partition=INTERNAL_PARTITION,
                    direction="internal", flow="conference", outcome="split",
                )  # fmt: skip
            rec.update(ocause=_SPLIT, dcause=_SPLIT, oobo=4, dobo=4)
            setup_records.append(rec)
            members.append((party, p_leg, ck, c_leg, tc))
            t = tc + self.ri(10, 90)
        tj = t
        for rec in setup_records:
            rec["td"] = tj
        self.bridge_serial += 1
        bridge_number = f"b00{ctl.node}{self.bridge_serial % 100000:05d}001"
        bridge = _Party(
            number=bridge_number,
            partition="",
            device=f"CFB_{site.code}_01",
            ip=_ip_to_int(f"{site.subnet}.0.5"),
            node=ctl.node,
            site=site.code,
            kind="bridge",
        )
        conversation = self.new_leg(tj)
        # Conferences run longer than two-party calls: ~5 min minimum, ~10 min typical.
        te = tj + 300 + 3 * self.duration()
        comment = f"ConfControllerDn={ctl.number};ConfControllerDeviceName={ctl.device}"
        first = members[0]
        joined = [(ctl, first[3], first[2], first[4])] + [(m[0], m[1], m[2], m[4]) for m in members]
        for party, leg, ck, connected in joined:
            leave = max(tj + 30, te - self.ri(0, 120))
            b_leg = self.new_leg(tj)
            rec = self.record(
                ck=ck, t0=tj, tc=tj, td=leave, orig=party, dest=bridge, oleg=leg, dleg=b_leg,
                called=bridge_number, called_partition="", direction="conference",
                flow="conference", outcome="answered",
            )  # fmt: skip
            rec.update(
                rob_o=4, rob_l=4, join=4, dconv=conversation, comment=comment, usage=1,
                lrdn=ctl.number, lrpt=INTERNAL_PARTITION, ocause=16, oobo=12,
            )  # fmt: skip
            self.cmr_for(ck, leg, party, b_leg, leave, leave - connected, rec.get("codec", 0))
        for _, _, ck, c_leg, tc in members[1:]:
            self.cmr_for(ck, c_leg, ctl, 0, tj, tj - tc, 6 if ctl.site == "PAR" else 4)
        self.conferences += 1


def _in_hours(second_of_day: int, site_code: str) -> bool:
    start, end = _WORKING_HOURS.get(site_code, (8.5, 18.0))
    return start * 3600 <= second_of_day < end * 3600


def _work_second(rng: random.Random, site_code: str) -> int:
    start, end = _WORKING_HOURS.get(site_code, (8.5, 18.0))
    while True:
        s = rng.uniform(start * 3600, end * 3600)
        # Fewer calls over lunch.
        if 12.5 * 3600 <= s < 13.75 * 3600 and rng.random() < 0.6:
            continue
        return int(s)


class _Choice:
    """Weighted choice with precomputed cumulative weights (rng.choices rebuilds them per call)."""

    def __init__(self, pairs: Sequence[tuple[str, float]]) -> None:
        self.values = [p[0] for p in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, w in pairs:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> str:
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.values[min(i, len(self.values) - 1)]


_PICK_DEST = _Choice(_DEST_CLASSES)
_PICK_DEST_OOH = _Choice(_DEST_CLASSES[:3])
_PICK_OUTCOME = {k: _Choice(v) for k, v in _OUTCOMES.items()}


def _plan_demo(
    rng: random.Random, people: Sequence[Person], first_day: dt.date, days: int
) -> tuple[_Planner, dict[str, int]]:
    planner = _Planner(rng, people)
    extra = {"out_of_hours": 0, "weekend": 0}
    n = len(people)
    for day_idx in range(days):
        day = first_day + dt.timedelta(days=day_idx)
        weekend = day.weekday() >= 5
        cfa: dict[int, tuple[str, int | str]] = {}
        for i in range(n):
            if rng.random() < (0.01 if weekend else 0.04):
                cfa[i] = planner.forward_target(i)
        midnight = {code: _day_start_utc(site, day) for code, site in planner.sites.items()}
        for i, person in enumerate(people):
            site = planner.sites[person.site]
            base = midnight[site.code]
            cs = person.department == "Customer Service"
            if weekend:
                if rng.random() >= 0.12:
                    continue
                n_out, n_in = rng.randint(1, 3), rng.randint(0, 1)
            else:
                n_out = rng.randint(3, 7) if cs else rng.randint(6, 13)
                n_in = rng.randint(7, 13) if cs else rng.randint(2, 6)
            for _ in range(n_out):
                t0 = base + _work_second(rng, site.code)
                extra["weekend"] += weekend
                if rng.random() < 0.45:
                    b = planner.colleague(i) if rng.random() < 0.8 else rng.randrange(n)
                    if b == i:
                        b = (i + 1) % n
                    other = people[b].site
                    if other != person.site and not _in_hours(t0 - midnight[other], other):
                        # Nobody calls the other office while it is night there.
                        b = planner.colleague(i)
                    outcome = _PICK_OUTCOME["internal"].pick(rng)
                    planner.internal(t0, i, b, outcome, cfa.get(b))
                else:
                    dclass = _PICK_DEST.pick(rng)
                    planner.outbound(t0, i, dclass, _PICK_OUTCOME["outbound"].pick(rng))
            for _ in range(n_in):
                t0 = base + _work_second(rng, site.code)
                extra["weekend"] += weekend
                planner.inbound(t0, i, _PICK_OUTCOME["inbound"].pick(rng), cfa.get(i))
            if rng.random() < 0.04:
                # Early morning or evening call, outside the site's working hours.
                hour = rng.choice((6.5, 7.0, 19.0, 20.0, 21.0, 22.0))
                t0 = base + int(hour * 3600) + rng.randrange(2700)
                extra["out_of_hours"] += 1
                extra["weekend"] += weekend
                dclass = _PICK_DEST_OOH.pick(rng)
                planner.outbound(t0, i, dclass, _PICK_OUTCOME["outbound"].pick(rng))
            if not weekend and rng.random() < 0.03:
                t0 = base + _work_second(rng, site.code)
                planner.conference(t0, i)
    return planner, extra


# --- demo finalisation and writing ------------------------------------------------------------


def _rank_lookup(
    times: Sequence[int], groups: Sequence[int] | None, bases: dict[int, int]
) -> pl.Series:
    """Final id per provisional id: base of its group + rank by (time, provisional id)."""
    frame = pl.DataFrame(
        {
            "t": pl.Series(times, dtype=pl.Int64),
            "g": pl.Series(groups if groups is not None else [0] * len(times), dtype=pl.Int64),
        }
    ).with_row_index("i")
    base = pl.col("g").replace_strict(bases, return_dtype=pl.Int64)
    ranked = frame.sort(["t", "i"]).with_columns(
        (base + pl.int_range(pl.len(), dtype=pl.Int64).over("g")).alias("final")
    )
    return ranked.sort("i")["final"]


def _finalise_cdr(
    planner: _Planner, rng: random.Random, interval: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(133-column CDR frame, 48-column CMR frame, tag frame) sorted by (node, interval, time).

    The first two frames carry two extra leading columns, ``_node`` and ``_iv`` (interval index),
    used to split the rows into files.
    """
    node_bases = {node: rng.randrange(1_000_000, 4_000_000) for node in (1, 2)}
    leg_base = rng.randrange(20_000_000, 60_000_000)
    legs = _rank_lookup(planner.leg_times, None, {0: leg_base - 1})
    legs[0] = 0  # provisional 0 = "no leg"
    gcids = _rank_lookup(planner.call_times, planner.call_nodes, node_bases)

    core = pl.from_dicts(planner.cdr, schema=_CORE_SCHEMA)
    planner.cdr.clear()  # the dicts take more memory than the frame
    core = core.with_columns(
        [pl.col(k).fill_null(v) for k, v in _CORE_INT_DEFAULTS.items()]
        + [pl.col(k).fill_null("") for k in _CORE_STR if k not in _NULLABLE_STR]
    )
    core = _with_media_ports(core, rng)
    core = core.with_columns(
        gcid=gcids.gather(core["ck"]),
        oleg=legs.gather(core["oleg"]),
        dleg=legs.gather(core["dleg"]),
        dconv=legs.gather(core["dconv"]),
        oconv=legs.gather(core["oconv"]),
        pkid=_uuid_series(rng, core.height),
        _iv=pl.col("td") // interval,
    ).sort(["node", "_iv", "td", "oleg"])
    trunks = [s.trunk_device for s in SITES] + [_RECORDER_TRUNK]
    cdr = pl.concat(
        [core.select(_node=pl.col("node"), _iv=pl.col("_iv")), _cdr_columns(core, trunks, 133)],
        how="horizontal",
    )
    tags = core.select(_TAGS)

    cmr_core = _with_cmr_metrics(pl.from_dicts(planner.cmr, schema=_CMR_SCHEMA), rng)
    planner.cmr.clear()
    cmr_core = cmr_core.with_columns(
        gcid=gcids.gather(cmr_core["ck"]),
        node=pl.Series(planner.call_nodes, dtype=pl.Int64).gather(cmr_core["ck"]),
        leg=legs.gather(cmr_core["leg"]),
        pkid=_uuid_series(rng, cmr_core.height),
        _iv=pl.col("ts") // interval,
    ).sort(["node", "_iv", "ts", "leg"])
    cmr = pl.concat(
        [cmr_core.select(_node=pl.col("node"), _iv=pl.col("_iv")), _cmr_columns(cmr_core)],
        how="horizontal",
    )
    return cdr, cmr, tags


def _scenario_counts(
    tags: pl.DataFrame, planner: _Planner, extra: dict[str, int]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for direction in ("internal", "outbound", "inbound"):
        counts[direction] = int((tags["direction"] == direction).sum())
    calls = tags.filter(pl.col("direction").is_in(["internal", "outbound", "inbound"]))
    for outcome in ("answered", "abandoned", "missed", "busy", "failed", "split"):
        counts[outcome] = int((calls["outcome"] == outcome).sum())
    for flow, key in (
        ("transfer", "transfer_records"),
        ("forward", "forward"),
        ("conference", "conference_records"),
        ("recording", "recording_records"),
    ):
        counts[key] = int((tags["flow"] == flow).sum())
    counts["transfers"] = planner.transfers
    counts["conferences"] = planner.conferences
    outbound = tags.filter(pl.col("direction") == "outbound")
    for dclass, _ in _DEST_CLASSES:
        counts[f"outbound_{dclass}"] = int((outbound["dclass"] == dclass).sum())
    counts.update(extra)
    return counts


_MALFORMED_KINDS = (
    "truncated",
    "non_integer",
    "unterminated_quote",
    "invalid_utf8",
    "disconnect_before_origination",
)
_CDR_INDEX = {name: i for i, name in enumerate(_CDR_NAMES)}


def _damage(line: str, kind: str, rng: random.Random) -> bytes:
    """A malformed variant of a well-formed CDR line (values never contain commas)."""
    fields = line.split(",")
    if kind == "truncated":
        return ",".join(fields[: rng.randint(30, 100)]).encode()
    if kind == "non_integer":
        # What a spreadsheet round trip does to a number.
        fields[_CDR_INDEX["duration"]] = "1.2E+02"
    elif kind == "unterminated_quote":
        fields[_CDR_INDEX["callingPartyNumber"]] = fields[_CDR_INDEX["callingPartyNumber"]][:-1]
    elif kind == "invalid_utf8":
        # Latin-1 bytes (not valid UTF-8) in a column accounting reads (the device decides the
        # gateway): a reject. In a column it does not read they would only be replaced.
        i = _CDR_INDEX["origDeviceName"]
        raw = [f.encode() for f in fields]
        raw[i] = b'"SEPh\xe9l\xe8ne"'
        return b",".join(raw)
    elif kind == "disconnect_before_origination":
        disconnect = int(fields[_CDR_INDEX["dateTimeDisconnect"]])
        fields[_CDR_INDEX["dateTimeOrigination"]] = str(disconnect + 3600)
    return ",".join(fields).encode()


def write_demo_cdr_files(
    out_dir: Path,
    *,
    people: Sequence[Person],
    seed: int,
    days: int = 60,
    end: dt.date,
    interval_minutes: int = 60,
) -> DemoCdrSummary:
    """Write ``days`` days (ending on ``end``, inclusive) of CUCM CDR and CMR flat files.

    One ``cdr_``/``cmr_`` file pair per CUCM node and ``interval_minutes`` interval that has
    records, named after the UTC minute at which the interval closes; records are placed by
    ``dateTimeDisconnect`` (CDR) or ``dateTimeStamp`` (CMR). Five lines are deliberately damaged
    (see :attr:`DemoCdrSummary.malformed`). The same arguments always give byte-identical files.

    >>> import datetime, tempfile
    >>> from callacct.demo.people import build_people
    >>> out = Path(tempfile.mkdtemp())
    >>> s = write_demo_cdr_files(out, people=build_people(1, 30), seed=1, days=1,
    ...                          end=datetime.date(2025, 1, 6))
    >>> s.counts["internal"] > 0 and s.counts["inbound"] > 0
    True
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if interval_minutes < 1 or 1440 % interval_minutes:
        raise ValueError("interval_minutes must divide a day (1, 5, 15, 60, ...)")
    if len(people) < 2:
        raise ValueError("need at least two people")
    rng = random.Random(seed)
    first_day = end - dt.timedelta(days=days - 1)
    planner, extra = _plan_demo(rng, people, first_day, days)
    interval = interval_minutes * 60
    cdr, cmr, tags = _finalise_cdr(planner, rng, interval)
    counts = _scenario_counts(tags, planner, extra)

    out_dir.mkdir(parents=True, exist_ok=True)
    cdr_groups = cdr.group_by(["_node", "_iv"], maintain_order=True).len()
    cmr_groups = cmr.group_by(["_node", "_iv"], maintain_order=True).len()
    keys = sorted(
        set(zip(cdr_groups["_node"], cdr_groups["_iv"], strict=True))
        | set(zip(cmr_groups["_node"], cmr_groups["_iv"], strict=True))
    )
    next_seq = {node: rng.randrange(100_000, 900_000) for node in sorted({k[0] for k in keys})}
    seqs: dict[tuple[int, int], int] = {}
    for node, iv in keys:
        seqs[(node, iv)] = next_seq[node]
        next_seq[node] += 1

    cdr_lines = _csv_lines(cdr.drop("_node", "_iv"))
    del cdr
    cdr_spans = _file_spans(cdr_groups, seqs, interval, "cdr")

    # Damage five lines in five different CDR files (the unterminated quote goes last in its
    # file so that a CSV reader that keeps reading across lines only loses that record).
    candidates = [i for i, span in enumerate(cdr_spans) if span[2] - span[1] >= 3]
    picks = sorted(rng.sample(candidates, min(len(_MALFORMED_KINDS), len(candidates))))
    kinds = list(_MALFORMED_KINDS)
    rng.shuffle(kinds)
    overrides: dict[int, bytes] = {}
    malformed: list[MalformedLine] = []
    for file_idx, kind in zip(picks, kinds, strict=False):
        name, start, stop = cdr_spans[file_idx]
        row = stop - 1 if kind == "unterminated_quote" else rng.randrange(start, stop)
        overrides[row] = _damage(cdr_lines[row], kind, rng)
        malformed.append(MalformedLine(name, row - start + 3, kind))

    cdr_files = _write_files(out_dir, cdr_spans, cdr_lines, _header(CDR_FIELDS), overrides)
    cdr_records = len(cdr_lines)
    # One file kind at a time keeps peak memory to one set of formatted lines.
    del cdr_lines
    cmr_lines = _csv_lines(cmr.drop("_node", "_iv"))
    cmr_spans = _file_spans(cmr_groups, seqs, interval, "cmr")
    cmr_files = _write_files(out_dir, cmr_spans, cmr_lines, _header(CMR_FIELDS), {})
    files = sorted(cdr_files + cmr_files, key=lambda p: p.name)
    return DemoCdrSummary(
        out_dir=out_dir,
        first_day=first_day,
        last_day=end,
        files=files,
        cdr_files=cdr_files,
        cmr_files=cmr_files,
        cdr_records=cdr_records,
        cmr_records=len(cmr_lines),
        malformed=malformed,
        counts=counts,
        bytes_written=sum(p.stat().st_size for p in files),
    )


def _file_spans(
    groups: pl.DataFrame, seqs: dict[tuple[int, int], int], interval: int, kind: str
) -> list[tuple[str, int, int]]:
    """(file name, first row, end row) for each (node, interval) group of a sorted frame."""
    spans: list[tuple[str, int, int]] = []
    row = 0
    for node, iv, n in groups.iter_rows():
        name = cucm_file_name(kind, node, (iv + 1) * interval, seqs[(node, iv)])
        spans.append((name, row, row + n))
        row += n
    return spans


def _write_files(
    out_dir: Path,
    spans: Sequence[tuple[str, int, int]],
    lines: Sequence[str],
    header: str,
    overrides: dict[int, bytes],
) -> list[Path]:
    paths: list[Path] = []
    head = header.encode()
    for name, start, stop in spans:
        damaged = [i for i in overrides if start <= i < stop]
        if damaged:
            body = b"\n".join(
                overrides[i] if i in overrides else lines[i].encode() for i in range(start, stop)
            )
        else:
            body = "\n".join(lines[start:stop]).encode()
        path = out_dir / name
        path.write_bytes(head + body + b"\n")
        paths.append(path)
    return paths


# --- benchmark writers ----------------------------------------------------------------------

_BATCH_ROWS = 100_000
_BENCH_START = 1_735_891_200  # 2025-01-03 08:00 UTC


@dataclass(frozen=True)
class _Directory:
    """Every extension of both demo sites with a phone, for the vectorised benchmark generator."""

    ext: pl.Series
    device: pl.Series
    ip: pl.Series
    login: pl.Series
    site: pl.Series  # index into SITES


def _directory(rng: random.Random) -> _Directory:
    ext: list[str] = []
    device: list[str] = []
    ip: list[int] = []
    site_idx: list[int] = []
    for k, site in enumerate(SITES):
        for number in range(site.ext_first, site.ext_last + 1):
            ext.append(str(number))
            device.append(
                f"SEP{rng.choice(('00270D', '6886A7', 'CC7F75'))}{rng.getrandbits(24):06X}"
            )
            ip.append(_ip_to_int(f"{site.subnet}.{rng.randint(1, 30)}.{rng.randint(2, 254)}"))
            site_idx.append(k)
    return _Directory(
        ext=pl.Series(ext, dtype=pl.String),
        device=pl.Series(device, dtype=pl.String),
        ip=pl.Series(ip, dtype=pl.Int64),
        login=pl.Series([f"u{e}" for e in ext], dtype=pl.String),
        site=pl.Series(site_idx, dtype=pl.Int64),
    )


def _by_site(site: pl.Expr, values: Sequence[Any]) -> pl.Expr:
    """values[site] for a site-index expression (two sites)."""
    return pl.when(site == 0).then(pl.lit(values[0])).otherwise(pl.lit(values[1]))


def _synthetic_core(
    rng: random.Random,
    directory: _Directory,
    td: pl.Series,
    row0: int,
    gcid_base: int,
    leg_base: int,
    node: pl.Series | None = None,
) -> pl.DataFrame:
    """A batch of core records with a realistic mix, generated column-wise (no Python loop)."""
    n = td.len()
    people = directory.ext.len()
    c = pl.col
    r = pl.DataFrame({f"r{k}": _u32(rng, n) for k in range(12)})
    a = r["r2"] % people
    b = (a + 1 + r["r3"] % (people - 1)) % people
    frame = pl.DataFrame(
        {
            "row": pl.int_range(row0, row0 + n, eager=True, dtype=pl.Int64),
            "td": td,
            "kind": r["r0"] % 100,
            "oc": r["r1"] % 100,
            "cls": r["r6"] % 100,
            "ext_a": directory.ext.gather(a),
            "dev_a": directory.device.gather(a),
            "ip_a": directory.ip.gather(a),
            "login_a": directory.login.gather(a),
            "site_a": directory.site.gather(a),
            "ext_b": directory.ext.gather(b),
            "dev_b": directory.device.gather(b),
            "ip_b": directory.ip.gather(b),
            "login_b": directory.login.gather(b),
            "site_b": directory.site.gather(b),
            "d7": (r["r4"] % 10_000_000).cast(pl.String).str.zfill(7),
            "d1": r["r5"] % 8 + 2,
            "ring": r["r7"] % 20 + 1,
            "u1": (r["r8"] + 1) / 2**32,
            "u2": r["r9"] / 2**32,
            "hang": r["r10"] % 2,
            "fail": r["r11"] % 5,
            "pkid": _uuid_series(rng, n),
        }
    )
    internal = c("kind") < 45
    outbound = (c("kind") >= 45) & (c("kind") < 80)
    inbound = c("kind") >= 80
    answered = c("oc") < 68
    abandoned = (c("oc") >= 68) & (c("oc") < 80)
    missed = (c("oc") >= 80) & (c("oc") < 88)
    busy = (c("oc") >= 88) & (c("oc") < 94)
    failed = c("oc") >= 94
    sa = c("site_a")
    par = sa == 0
    # Lognormal talk time (Box-Muller): median ~110 s, mostly 30 s - 10 min.
    z = (-2 * c("u1").log()).sqrt() * (2 * math.pi * c("u2")).cos()
    dur = (math.log(110) + 0.9 * z).exp().clip(1, 3600).cast(pl.Int64)
    cls = c("cls")
    dclass = (
        pl.when(cls < 55)
        .then(pl.lit("national"))
        .when(cls < 85)
        .then(pl.lit("mobile"))
        .when(cls < 97)
        .then(pl.lit("international"))
        .otherwise(pl.lit("tollfree"))
    )
    d8 = pl.concat_str(c("d1").cast(pl.String), c("d7"))
    carrier = (
        pl.when(par)
        .then(
            pl.when(cls < 55)
            .then(pl.concat_str(pl.lit("0"), (c("d1") % 5 + 1).cast(pl.String), d8))
            .when(cls < 85)
            .then(pl.concat_str(pl.lit("0"), (c("d1") % 2 + 6).cast(pl.String), d8))
            .when(cls < 97)
            .then(pl.concat_str(pl.lit("004420"), d8))
            .otherwise(pl.concat_str(pl.lit("0800"), c("d7").str.slice(1, 6)))
        )
        .otherwise(
            pl.when(cls < 55)
            .then(pl.concat_str(pl.lit("1212"), c("d1").cast(pl.String), c("d7").str.slice(1, 6)))
            .when(cls < 85)
            .then(pl.concat_str(pl.lit("1917"), c("d7")))
            .when(cls < 97)
            .then(pl.concat_str(pl.lit("0114420"), d8))
            .otherwise(pl.concat_str(pl.lit("1800"), c("d7")))
        )
    )
    caller = (
        pl.when(par)
        .then(pl.concat_str(pl.lit("06"), d8))
        .otherwise(pl.concat_str(pl.lit("646"), c("d7")))
    )
    patterns = {
        dc: _by_site(sa, [_ROUTE_PATTERNS["PAR"][dc], _ROUTE_PATTERNS["NYC"][dc]])
        for dc in ("national", "mobile", "international", "tollfree")
    }
    pattern = (
        pl.when(cls < 55)
        .then(patterns["national"])
        .when(cls < 85)
        .then(patterns["mobile"])
        .when(cls < 97)
        .then(patterns["international"])
        .otherwise(patterns["tollfree"])
    )
    trunk_dev = _by_site(sa, [s.trunk_device for s in SITES])
    trunk_ip = _by_site(sa, [_ip_to_int(s.trunk_ip) for s in SITES])
    pstn_pt = _by_site(sa, [s.pstn_partition for s in SITES])
    access = _by_site(sa, [s.access_code for s in SITES])
    did = _by_site(sa, [s.did_prefix for s in SITES])
    callref = c("pkid").str.replace_all("-", "").str.reverse().str.to_uppercase()
    unanswered_secs = (
        pl.when(abandoned)
        .then(3 + c("ring"))
        .when(missed)
        .then(15 + c("ring"))
        .when(busy)
        .then(1 + c("ring") % 4)
        .otherwise(c("ring") % 6)
    )
    tc = pl.when(answered).then(c("td") - dur).otherwise(0)
    phone_dest = internal | inbound
    ddev = (
        pl.when(outbound)
        .then(trunk_dev)
        .when(busy | (internal & failed))
        .then(pl.lit(""))
        .when(internal)
        .then(c("dev_b"))
        .otherwise(c("dev_a"))
    )
    codec = (
        pl.when(~answered)
        .then(0)
        .when(~internal)
        .then(pl.when(par).then(2).otherwise(4))
        .when(c("site_a") != c("site_b"))
        .then(11)
        .when(par)
        .then(6)
        .otherwise(4)
    )
    failure_cause = (
        pl.when(outbound)
        .then(
            pl.col("fail").replace_strict(
                {0: 1, 1: 34, 2: _SIP_503, 3: 28, 4: 41}, return_dtype=pl.Int64
            )
        )
        .otherwise(1)
    )
    dcause = (
        pl.when(answered & (c("hang") == 1))
        .then(16)
        .when(missed)
        .then(19)
        .when(busy)
        .then(17)
        .when(failed)
        .then(failure_cause)
        .otherwise(0)
    )
    ocause = pl.when((answered & (c("hang") == 0)) | abandoned).then(16).otherwise(0)
    dobo = pl.when(dcause == 0).then(0).when(failed & ~outbound).then(13).otherwise(12)
    node_expr = pl.lit(node) if node is not None else pl.when(par).then(1).otherwise(2)
    node_b = pl.when(c("site_b") == 0).then(1).otherwise(2)
    dnode = (
        pl.when(ddev == "")
        .then(0)
        .when(internal)
        .then(node_b)
        .otherwise(pl.when(par).then(1).otherwise(2))
    )
    session = pl.lit("00105000a000")
    core = frame.select(
        node=node_expr.cast(pl.Int64),
        dnode=dnode.cast(pl.Int64),
        gcid=gcid_base + c("row"),
        oleg=leg_base + 2 * c("row"),
        dleg=leg_base + 2 * c("row") + 1,
        t0=pl.when(answered).then(tc - c("ring")).otherwise(c("td") - unanswered_secs),
        tc=tc,
        td=c("td"),
        ocause=ocause,
        dcause=dcause,
        oip=pl.when(inbound).then(trunk_ip).otherwise(c("ip_a")),
        dip=pl.when(ddev == "")
        .then(0)
        .when(outbound)
        .then(trunk_ip)
        .when(internal)
        .then(c("ip_b"))
        .otherwise(c("ip_a")),
        codec=codec,
        oobo=pl.when(ocause == 16).then(12).otherwise(0),
        dobo=dobo,
        rob_o=pl.lit(0),
        rob_l=pl.lit(0),
        rr_o=pl.lit(0),
        rr_l=pl.lit(0),
        join=pl.lit(0),
        dconv=pl.lit(0),
        oconv=pl.lit(0),
        inproto=pl.when(inbound).then(1).otherwise(0),
        outproto=pl.when(outbound).then(1).otherwise(0),
        usage=pl.when(outbound).then(5).otherwise(2),
        calling=pl.when(inbound).then(caller).otherwise(c("ext_a")),
        cpt=pl.when(inbound).then(pl.lit("")).otherwise(pl.lit(INTERNAL_PARTITION)),
        ocalled=pl.when(outbound)
        .then(pl.concat_str(access, carrier))
        .when(internal)
        .then(c("ext_b"))
        .otherwise(c("ext_a")),
        ocpt=pl.when(outbound).then(pstn_pt).otherwise(pl.lit(INTERNAL_PARTITION)),
        fcalled=pl.when(outbound)
        .then(pl.concat_str(access, carrier))
        .when(internal)
        .then(c("ext_b"))
        .otherwise(c("ext_a")),
        fcpt=pl.when(outbound).then(pstn_pt).otherwise(pl.lit(INTERNAL_PARTITION)),
        lrdn=pl.lit(None, dtype=pl.String),
        lrpt=pl.lit(None, dtype=pl.String),
        odev=pl.when(inbound).then(trunk_dev).otherwise(c("dev_a")),
        ddev=ddev,
        comment=pl.lit(""),
        inref=pl.when(inbound).then(callref).otherwise(pl.lit("")),
        outref=pl.when(outbound).then(callref).otherwise(pl.lit("")),
        outcalling=pl.when(outbound).then(pl.concat_str(did, c("ext_a"))).otherwise(pl.lit("")),
        outcalled=pl.when(outbound).then(carrier).otherwise(pl.lit("")),
        opat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        fpat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        lpat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        ologin=pl.when(inbound).then(pl.lit("")).otherwise(c("login_a")),
        dlogin=pl.when(ddev == "")
        .then(pl.lit(""))
        .when(internal)
        .then(c("login_b"))
        .when(inbound)
        .then(c("login_a"))
        .otherwise(pl.lit("")),
        osid=pl.when(inbound)
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                c("pkid").str.slice(0, 8), session, c("dev_a").str.slice(3).str.to_lowercase()
            )
        ),
        dsid=pl.when(phone_dest & (ddev != ""))
        .then(
            pl.concat_str(c("pkid").str.slice(28, 8), session, ddev.str.slice(3).str.to_lowercase())
        )
        .otherwise(pl.lit("")),
        pkid=c("pkid"),
        dclass=pl.when(outbound).then(dclass).otherwise(pl.lit("")),
    )
    return _with_media_ports(core, rng)


def _bench_trunks() -> list[str]:
    return [s.trunk_device for s in SITES] + [_RECORDER_TRUNK]


def write_large_cdr_file(path: Path, rows: int, *, seed: int = 1, columns: int = 133) -> None:
    """Write one CUCM CDR file with ``rows`` records, generated and appended 100k rows at a time.

    The mix is ~45 % internal, ~35 % outbound, ~20 % inbound, ~68 % answered; pkids are unique and
    ``dateTimeDisconnect`` increases by about 2.5 s per record. ``columns=129`` writes the older
    129-column layout (the first 129 fields). Memory stays bounded by one batch (~100k rows).

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "big.cdr"
    >>> write_large_cdr_file(out, 1000, seed=2)
    >>> len(out.read_text().splitlines())
    1002
    """
    if columns not in (129, 133):
        raise ValueError("columns must be 129 or 133")
    if rows < 0:
        raise ValueError("rows must not be negative")
    rng = random.Random(seed)
    directory = _directory(rng)
    gcid_base = rng.randrange(1_000_000, 2_000_000)
    leg_base = rng.randrange(20_000_000, 30_000_000)
    trunks = _bench_trunks()
    with path.open("wb") as fh:
        fh.write(_header(CDR_FIELDS[:columns]).encode())
        for row0 in range(0, rows, _BATCH_ROWS):
            n = min(_BATCH_ROWS, rows - row0)
            rows_idx = pl.int_range(row0, row0 + n, eager=True, dtype=pl.Int64)
            td = _BENCH_START + (rows_idx * 5) // 2
            core = _synthetic_core(rng, directory, td, row0, gcid_base, leg_base)
            _cdr_columns(core, trunks, columns).write_csv(
                fh, include_header=False, quote_style="non_numeric", line_terminator="\n"
            )


def write_many_small_files(
    out_dir: Path, files: int, rows_per_file: int, *, seed: int = 1
) -> list[Path]:
    """Write ``files`` CUCM-named CDR files of ``rows_per_file`` records each (both header lines).

    Files alternate between node 01 and 02, one per node and minute, with increasing sequence
    numbers; each file's records disconnect within its minute.

    >>> import tempfile
    >>> paths = write_many_small_files(Path(tempfile.mkdtemp()), 4, 3, seed=1)
    >>> [p.name.split("_")[2] for p in paths]
    ['01', '02', '01', '02']
    """
    if files < 0 or rows_per_file < 1:
        raise ValueError("files must be >= 0 and rows_per_file >= 1")
    rng = random.Random(seed)
    directory = _directory(rng)
    gcid_base = rng.randrange(1_000_000, 2_000_000)
    leg_base = rng.randrange(20_000_000, 30_000_000)
    seq_base = rng.randrange(100_000, 900_000)
    trunks = _bench_trunks()
    header = _header(CDR_FIELDS).encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    files_per_batch = max(1, _BATCH_ROWS // rows_per_file)
    for f0 in range(0, files, files_per_batch):
        nf = min(files_per_batch, files - f0)
        n = nf * rows_per_file
        row = pl.int_range(0, n, eager=True, dtype=pl.Int64)
        file_idx = f0 + row // rows_per_file
        within = row % rows_per_file
        minute_start = _BENCH_START + (file_idx // 2) * 60
        td = minute_start + (within * 60) // rows_per_file
        node = (file_idx % 2 + 1).alias("node")
        core = _synthetic_core(
            rng, directory, td, f0 * rows_per_file, gcid_base, leg_base, node=node
        )
        lines = _csv_lines(_cdr_columns(core, trunks, 133))
        for k in range(nf):
            idx = f0 + k
            name = cucm_file_name(
                "cdr", idx % 2 + 1, _BENCH_START + (idx // 2 + 1) * 60, seq_base + idx // 2
            )
            body = "\n".join(lines[k * rows_per_file : (k + 1) * rows_per_file])
            path = out_dir / name
            path.write_bytes(header + body.encode() + b"\n")
            paths.append(path)
    return paths
