"""The record writer: the demo's calls as Cisco UCM CDR and CMR flat files.

The files look exactly like the ones a CUCM cluster pushes to a billing server: CUCM names
(``cdr_StandAloneCluster_01_202501061500_100234``, no extension), a quoted field-name line, an
unquoted type line, one record per LF-terminated line, VARCHAR values always double-quoted (even
when empty) and INTEGER values bare. Field semantics follow Cisco's CDR Administration Guide
and the real sample files in ``tests/data/cucm``: causes 16/17/19/393216/SIP 503, OnBehalfOf
4/5/10/12/27, redirect reasons 2/4/15/354, conference bridges ``b00…``, signed little-endian IP
integers (``docs/cucm.md``).

:func:`write_demo_cdr_files` writes consistent demo months for the people of
:func:`~callacct.demo.people.build_people`: the calls `callacct.demo.planner` plans (internal,
outbound and inbound calls, outcomes, transfers, forwards, conferences, recording legs), CMR
quality records and a handful of deliberately malformed lines. The CUCM columns are derived
from compact *core records* (every value that varies between records) with Polars expressions
(:func:`cdr_frame`, :func:`cmr_frame`), so any generator of core records can write CUCM files.

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
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

import polars as pl

from callacct.demo.people import SITES, Person
from callacct.demo.planner import DEST_CLASSES, QUALITY_RANGES, RECORDER_TRUNK, Planner, plan_demo
from callacct.ingest.cucm_fields import CDR_FIELDS, CMR_FIELDS

__all__ = [
    "CLUSTER_ID",
    "DemoCdrSummary",
    "MalformedLine",
    "cdr_frame",
    "cmr_frame",
    "csv_lines",
    "cucm_file_name",
    "file_header",
    "random_u32",
    "random_uuids",
    "with_media_ports",
    "write_demo_cdr_files",
]

#: Default CUCM cluster id, used in file names and ``globalCallId_ClusterID``.
CLUSTER_ID: Final = "StandAloneCluster"

_CDR_NAMES = tuple(name for name, _ in CDR_FIELDS)

# Columns of a core record: everything that varies between CDRs. The 133 CUCM columns are
# derived from these with Polars expressions (`cdr_frame`); the tags say what the planner meant
# (for the summary's counts) and are not written.
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


def file_header(fields: Sequence[tuple[str, str]]) -> str:
    """The two header lines of a CUCM file: quoted field names, then bare types.

    >>> file_header([("cdrRecordType", "INTEGER"), ("pkid", "UNIQUEIDENTIFIER")])
    '"cdrRecordType","pkid"\\nINTEGER,UNIQUEIDENTIFIER\\n'
    """
    names = ",".join(f'"{name}"' for name, _ in fields)
    types = ",".join(typ for _, typ in fields)
    return f"{names}\n{types}\n"


# --- CUCM columns from core records, column-wise --------------------------------------------

_U32_CODE = "I" if array.array("I").itemsize == 4 else "L"


def random_u32(rng: random.Random, n: int) -> pl.Series:
    """n uniform 32-bit integers as an Int64 Series (one C call, no per-value Python work)."""
    return pl.Series(array.array(_U32_CODE, rng.randbytes(4 * n)), dtype=pl.Int64)


def random_uuids(rng: random.Random, n: int, name: str = "pkid") -> pl.Series:
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


def cdr_frame(core: pl.DataFrame, trunks: Sequence[str], columns: int = 133) -> pl.DataFrame:
    """The first ``columns`` CUCM CDR columns, in file order, from a frame of core records
    (``pkid`` included); `trunks` names the devices that are trunks (spans, protocols)."""
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


def cmr_frame(core: pl.DataFrame) -> pl.DataFrame:
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
    return (random_u32(rng, n) / 2**32).alias(name)


def with_media_ports(core: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """RTP ports (even, 16384-32766) on both sides of connected records that have a far end."""
    n = core.height
    media = (pl.col("tc") > 0) & (pl.col("ddev") != "")
    port_o = (16384 + 2 * (random_u32(rng, n) % 8192)).alias("_po")
    port_d = (16384 + 2 * (random_u32(rng, n) % 8192)).alias("_pd")
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
    pairs = QUALITY_RANGES[name]
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


def csv_lines(frame: pl.DataFrame) -> list[str]:
    """Frame rows as CUCM lines: strings quoted (also when empty), integers bare, nulls empty."""
    if frame.height == 0:
        return []
    text = frame.write_csv(include_header=False, quote_style="non_numeric", line_terminator="\n")
    return text.split("\n")[:-1]


# --- the demo's files ---------------------------------------------------------------------------


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
    planner: Planner, rng: random.Random, interval: int
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
    core = with_media_ports(core, rng)
    core = core.with_columns(
        gcid=gcids.gather(core["ck"]),
        oleg=legs.gather(core["oleg"]),
        dleg=legs.gather(core["dleg"]),
        dconv=legs.gather(core["dconv"]),
        oconv=legs.gather(core["oconv"]),
        pkid=random_uuids(rng, core.height),
        _iv=pl.col("td") // interval,
    ).sort(["node", "_iv", "td", "oleg"])
    trunks = [s.trunk_device for s in SITES] + [RECORDER_TRUNK]
    cdr = pl.concat(
        [core.select(_node=pl.col("node"), _iv=pl.col("_iv")), cdr_frame(core, trunks, 133)],
        how="horizontal",
    )
    tags = core.select(_TAGS)

    cmr_core = _with_cmr_metrics(pl.from_dicts(planner.cmr, schema=_CMR_SCHEMA), rng)
    planner.cmr.clear()
    cmr_core = cmr_core.with_columns(
        gcid=gcids.gather(cmr_core["ck"]),
        node=pl.Series(planner.call_nodes, dtype=pl.Int64).gather(cmr_core["ck"]),
        leg=legs.gather(cmr_core["leg"]),
        pkid=random_uuids(rng, cmr_core.height),
        _iv=pl.col("ts") // interval,
    ).sort(["node", "_iv", "ts", "leg"])
    cmr = pl.concat(
        [cmr_core.select(_node=pl.col("node"), _iv=pl.col("_iv")), cmr_frame(cmr_core)],
        how="horizontal",
    )
    return cdr, cmr, tags


def _scenario_counts(tags: pl.DataFrame, planner: Planner, extra: dict[str, int]) -> dict[str, int]:
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
    for dclass, _ in DEST_CLASSES:
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
    planner, extra = plan_demo(rng, people, first_day, days)
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

    cdr_lines = csv_lines(cdr.drop("_node", "_iv"))
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

    cdr_files = _write_files(out_dir, cdr_spans, cdr_lines, file_header(CDR_FIELDS), overrides)
    cdr_records = len(cdr_lines)
    # One file kind at a time keeps peak memory to one set of formatted lines.
    del cdr_lines
    cmr_lines = csv_lines(cmr.drop("_node", "_iv"))
    cmr_spans = _file_spans(cmr_groups, seqs, interval, "cmr")
    cmr_files = _write_files(out_dir, cmr_spans, cmr_lines, file_header(CMR_FIELDS), {})
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
