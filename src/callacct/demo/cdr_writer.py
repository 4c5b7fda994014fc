"""Realistic Cisco UCM CDR and CMR flat files for demos, tests and benchmarks.

The files look exactly like the ones a CUCM cluster pushes to a billing server: CUCM names
(``cdr_StandAloneCluster_01_202501061500_100234``, no extension), a quoted field-name line, an
unquoted type line, one record per LF-terminated line, VARCHAR values always double-quoted (even
when empty) and INTEGER values bare. Field semantics follow ``reference/cdr-formats.md`` §1 and the
real sample files: causes 16/17/19/393216/SIP 503, OnBehalfOf 4/5/10/12/27, redirect reasons
2/4/15/354, conference bridges ``b00…``, signed little-endian IP integers.

Three entry points:

* :func:`write_demo_cdr_files` — a consistent demo month for :func:`~callacct.demo.people.build_people`
  (internal, outbound and inbound calls, outcomes, transfers, forwards, conferences, recording legs,
  CMR quality records and a handful of deliberately malformed lines);
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
import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from callacct.demo.people import INTERNAL_PARTITION, SITES, Person, Site, site_by_code
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

_WORKING_HOURS: dict[str, tuple[float, float]] = {"PAR": (8.5, 18.5), "NYC": (8.0, 18.0)}

_DEST_CLASSES: tuple[tuple[str, float], ...] = (
    ("national", 0.47),
    ("mobile", 0.31),
    ("international", 0.12),
    ("tollfree", 0.05),
    ("premium", 0.015),
    ("emergency", 0.004),
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
_CMR_NAMES = tuple(name for name, _ in CMR_FIELDS)

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
    **{name: pl.Int64 for name in (*_CORE_INT, "ck")},
    **{name: pl.String for name in (*_CORE_STR, *_TAGS)},
}
_CORE_INT_DEFAULTS: dict[str, int] = {name: 0 for name in _CORE_INT}
_CORE_INT_DEFAULTS["usage"] = 2

_CMR_CORE_INT = ("ck", "node", "leg", "ts", "ps", "os", "pr", "or", "lost", "jit", "lat", "dur")
_CMR_CORE_STR = ("dn", "pt", "dev", "vq", "lsid", "rsid")
_CMR_SCHEMA: dict[str, Any] = {
    **{name: pl.Int64 for name in _CMR_CORE_INT},
    **{name: pl.String for name in _CMR_CORE_STR},
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


def cucm_file_name(kind: str, node: int, close_epoch: int, seq: int, cluster: str = CLUSTER_ID) -> str:
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


def _utc_epoch(site: Site, day: dt.date, second_of_day: int) -> int:
    offset = site.utc_offset_minutes + (60 if _is_dst(site, day) else 0)
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400 + second_of_day - offset * 60


# --- vectorised helpers shared by the demo and the benchmark writers ------------------------


def _u32(rng: random.Random, n: int) -> pl.Series:
    """n uniform 32-bit integers as an Int64 Series (one C call, no per-value Python work)."""
    return pl.Series(array.array("I", rng.randbytes(4 * n)), dtype=pl.Int64)


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
    return (
        pl.when(expr == 0)
        .then(pl.lit(""))
        .otherwise(pl.concat_str(octets, separator="."))
    )


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


@dataclass(frozen=True, slots=True)
class _Quality:
    mos: tuple[float, float]
    jitter: tuple[int, int]
    loss: tuple[float, float]
    latency: tuple[int, int]


_GOOD = _Quality(mos=(4.15, 4.5), jitter=(0, 3), loss=(0.0, 0.001), latency=(0, 2))
_FAIR = _Quality(mos=(3.7, 4.25), jitter=(2, 14), loss=(0.0, 0.006), latency=(8, 40))
_POOR = _Quality(mos=(2.8, 3.6), jitter=(15, 60), loss=(0.008, 0.04), latency=(30, 120))


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
        self.quality: list[_Quality] = []
        self.by_site: dict[str, list[int]] = {s.code: [] for s in SITES}
        self.by_dept: dict[tuple[str, str], list[int]] = {}
        used_ips: set[int] = set()
        for i, p in enumerate(self.people):
            site = self.sites[p.site]
            ip = 0
            while ip == 0 or ip in used_ips:
                ip = _ip_to_int(f"{site.subnet}.{rng.randint(1, 30)}.{rng.randint(2, 254)}")
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

    # -- numbers ----------------------------------------------------------------------------

    def _digits(self, n: int) -> str:
        return f"{self.rng.randrange(10**n):0{n}d}"

    def _mobile_number(self, site: Site) -> str:
        if site.code == "PAR":
            return "0" + self.rng.choice("67") + self._digits(8)
        return "1" + self.rng.choice(_US_MOBILE_AREA_CODES) + self._digits(7)

    def destination(self, site: Site, dclass: str) -> tuple[str, str]:
        """(carrier number, i.e. outpulsed digits; digits dialled by the user) for a class."""
        rng = self.rng
        if site.code == "PAR":
            if dclass == "national":
                number = "0" + rng.choice("12345") + self._digits(8)
            elif dclass == "mobile":
                number = self._mobile_number(site)
            elif dclass == "international":
                cc, n = rng.choice([x for x in _COUNTRIES if x[0] != site.country_code])
                number = site.international_prefix + cc + self._digits(n)
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
                number = "1" + rng.choice(_US_AREA_CODES) + self._digits(7)
            elif dclass == "mobile":
                number = self._mobile_number(site)
            elif dclass == "international":
                cc, n = rng.choice([x for x in _COUNTRIES if x[0] != site.country_code])
                number = site.international_prefix + cc + self._digits(n)
            elif dclass == "tollfree":
                number = "1" + rng.choice(_US_TOLLFREE) + self._digits(7)
            elif dclass == "premium":
                number = "1900" + self._digits(7)
            elif dclass == "emergency":
                return site.emergency_number, site.emergency_number
            else:
                number = site.international_prefix + _UNKNOWN_COUNTRY + self._digits(8)
        return number, site.access_code + number

    def caller_number(self, site: Site) -> str:
        """An external caller as the carrier presents it: national format, a few international."""
        rng = self.rng
        if rng.random() < 0.06:
            cc, n = rng.choice([x for x in _COUNTRIES if x[0] != site.country_code])
            return site.international_prefix + cc + self._digits(n)
        if site.code == "PAR":
            if rng.random() < 0.4:
                return self._mobile_number(site)
            return "0" + rng.choice("123459") + self._digits(8)
        return rng.choice(_US_AREA_CODES + _US_MOBILE_AREA_CODES) + self._digits(7)

    def trunk(self, site: Site, number: str, partition: str) -> _Party:
        return _Party(
            number=number,
            partition=partition,
            device=site.trunk_device,
            ip=_ip_to_int(site.trunk_ip),
            node=site.node,
            site=site.code,
            kind="trunk",
        )

    # -- timing -----------------------------------------------------------------------------

    def duration(self) -> int:
        rng = self.rng
        if rng.random() < 0.02:
            return rng.randint(1200, 5400)
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
            rec["oport"] = 16384 + 2 * rng.randrange(8192)
            rec["dport"] = 16384 + 2 * rng.randrange(8192)
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
        rng = self.rng
        if outcome == "answered":
            tc = t0 + self.ring()
            return tc, tc + self.duration()
        if outcome == "abandoned":
            return 0, t0 + rng.randint(3, 28)
        if outcome == "missed":
            return 0, t0 + rng.randint(15, 40)
        if outcome == "busy":
            return 0, t0 + rng.randint(1, 4)
        return 0, t0 + rng.randint(0, 5)

    def cmr_for(
        self, ck: int, leg: int, party: _Party, remote_leg: int, td: int, seconds: int, codec: int
    ) -> None:
        """One CMR for an IP-phone leg that carried ``seconds`` of audio."""
        if not party.is_phone or seconds <= 0:
            return
        rng = self.rng
        q = self.quality[party.person]
        mos = rng.uniform(*q.mos)
        loss_ratio = rng.uniform(*q.loss)
        sent = 50 * seconds + rng.randint(-3, 3)
        received = max(0, 50 * seconds + rng.randint(-3, 3))
        lost = int(received * loss_ratio)
        received -= lost
        # RTP payload per 20 ms packet plus the 12-byte RTP header: G.729 20 bytes, others 160.
        octets = 32 if codec == 11 else 172
        if seconds < 8:
            # Phones report no MOS for very short calls (MLQK=0.0000 in real files).
            vq = "MLQK=0.0000;MLQKav=0.0000;MLQKmn=0.0000;MLQKmx=0.0000;MLQKvr=0.95;"
            vq += "CCR=0.0000;ICR=0.0000;ICRmx=0.0000;CS=0;SCS=0"
        else:
            av = max(1.0, mos - rng.uniform(0.0, 0.12))
            mn = max(1.0, av - rng.uniform(0.0, 0.35))
            mx = min(4.5, mos + rng.uniform(0.0, 0.2))
            ccr = loss_ratio * rng.uniform(0.8, 1.2)
            cs = int(seconds * min(1.0, ccr * 20))
            scs = cs // 8
            vq = (
                f"MLQK={mos:.4f};MLQKav={av:.4f};MLQKmn={mn:.4f};MLQKmx={mx:.4f};MLQKvr=0.95;"
                f"CCR={ccr:.4f};ICR=0.0000;ICRmx={min(1.0, ccr * 3):.4f};CS={cs};SCS={scs}"
            )
        self.cmr.append(
            {
                "ck": ck,
                "node": party.node,
                "dn": party.number,
                "leg": leg,
                "ts": td + rng.randint(0, 1),
                "ps": sent,
                "os": sent * octets,
                "pr": received,
                "or": received * octets,
                "lost": lost,
                "jit": rng.randint(*q.jitter),
                "lat": rng.randint(*q.latency),
                "pt": party.partition,
                "dev": party.device,
                "vq": vq,
                "dur": seconds,
                "lsid": self.leg_sid.get(leg, ""),
                "rsid": self.leg_sid.get(remote_leg, ""),
            }
        )
