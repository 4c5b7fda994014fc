"""Who calls whom, when, and how the calls go: the demo organisation's telephone traffic.

`plan_demo` walks the days of the demo and, for each person, places the calls a working day
holds at their site — internal, outbound by destination class, inbound — and their outcomes and
call flows (transfers, forwards, conferences, recording legs). The `Planner` keeps what a CUCM
cluster would number (calls, legs, conference bridges) and collects one compact *core record*
(a dict) per CDR and per CMR; `callacct.demo.cdr_writer` turns those into CUCM files.

Times are placed on each site's local clock with `zoneinfo` (its UTC offset at noon of the day,
which is the offset all day long after the night's change: no call is placed before 06:00).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from callacct.demo.numbers import ROUTE_PATTERNS, NumberBook
from callacct.demo.people import INTERNAL_PARTITION, SITES, Person, Site

RECORDER_TRUNK: Final = "REC-SIPTRUNK-01"
_RECORDER_PILOT = "7999"
_RECORDER_PARTITION = "PT_Recording"
_RECORDER_IP = "10.10.0.50"
#: CUCM cause codes: a SIP 503 from the carrier, and a leg split off by a transfer or conference.
SIP_503: Final = 1459617833
_SPLIT = 393216

_WORKING_HOURS: dict[str, tuple[float, float]] = {"PAR": (8.5, 18.5), "NYC": (8.0, 18.0)}

DEST_CLASSES: tuple[tuple[str, float], ...] = (
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
    (1, 0.35), (34, 0.20), (SIP_503, 0.20), (28, 0.10), (41, 0.10), (38, 0.05),
)  # fmt: skip

#: Voice-quality classes of a phone's network path: good (Paris LAN), fair (New York over the
#: WAN), poor (a few phones on bad Wi-Fi/VPN); per class, the range of what its CMRs report:
#: MOS, jitter (ms), loss ratio, latency (ms).
GOOD, FAIR, POOR = 0, 1, 2
QUALITY_RANGES: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    "mos": ((4.15, 4.5), (3.7, 4.25), (2.8, 3.6)),
    "jitter": ((0, 3), (2, 14), (15, 60)),
    "loss": ((0.0, 0.001), (0.0, 0.006), (0.008, 0.04)),
    "latency": ((0, 2), (8, 40), (30, 120)),
}


def ip_to_int(text: str) -> int:
    """Unsigned value whose little-endian bytes are the address octets (Cisco's storage order).

    >>> ip_to_int("10.1.0.5") == 10 | 1 << 8 | 5 << 24
    True
    """
    a, b, c, d = (int(x) for x in text.split("."))
    return a | (b << 8) | (c << 16) | (d << 24)


def day_start(site: Site, day: dt.date) -> int:
    """Epoch seconds from which `day`'s local times at `site` count: local midnight at the
    day's daytime UTC offset, so that ``day_start + 10 * 3600`` is 10:00 on the site's clock.

    On a day the clocks change at night, that is the offset after the change: every demo call
    is placed after 06:00, when the change is over.

    >>> from callacct.demo.people import site_by_code
    >>> paris = site_by_code("PAR")
    >>> [day_start(paris, dt.date(2025, 3, d)) % 86400 // 3600 for d in (29, 30)]
    [23, 22]
    """
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(site.tz))
    return int(noon.timestamp()) - 12 * 3600


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


class Planner:
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
        self.numbers = NumberBook(rng)
        self.quality: list[int] = []
        self.by_site: dict[str, list[int]] = {s.code: [] for s in SITES}
        self.everyone = list(range(len(self.people)))
        self.trunk_ips = {s.code: ip_to_int(s.trunk_ip) for s in SITES}
        self.recorder_ip = ip_to_int(_RECORDER_IP)
        self.by_dept: dict[tuple[str, str], list[int]] = {}
        used_ips: set[int] = set()
        for i, p in enumerate(self.people):
            site = self.sites[p.site]
            ip = 0
            while ip == 0 or ip in used_ips:
                ip = ip_to_int(f"{site.subnet}.{self.ri(1, 30)}.{self.ri(2, 254)}")
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
            self.mobiles.append(self.numbers.mobile(site))
            self.quality.append(GOOD if site.code == "PAR" else FAIR)
            self.by_site[site.code].append(i)
            self.by_dept.setdefault((p.site, p.department), []).append(i)
        # A few phones on a bad Wi-Fi/VPN path, so quality reports have something to show.
        for i in rng.sample(range(len(self.people)), min(4, len(self.people))):
            self.quality[i] = POOR

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

    def trunk(self, site: Site, number: str, partition: str) -> _Party:
        """The site's PSTN trunk as the far end of a call to or from `number`."""
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
        number, dialled = self.numbers.destination(site, dclass)
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
        pattern = ROUTE_PATTERNS[site.code][dclass]
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
        caller = self.trunk(site, self.numbers.caller(site), "")
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
            rec.update(outcalled=str(value), fpat=ROUTE_PATTERNS[site.code]["mobile"])
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
            device=RECORDER_TRUNK,
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
                leg.update(dcause=SIP_503, dobo=12)
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
                number, dialled = self.numbers.destination(site, dclass)
                party = self.trunk(site, number, site.pstn_partition)
                p_leg = self.new_leg(t)
                rec = self.record(
                    ck=ck, t0=t, tc=tc, td=0, orig=ctl, dest=party, oleg=c_leg, dleg=p_leg,
                    called=dialled, called_partition=site.pstn_partition, direction="outbound",
                    flow="conference", outcome="split", dclass=dclass,
                )  # fmt: skip
                pattern = ROUTE_PATTERNS[site.code][dclass]
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
            ip=ip_to_int(f"{site.subnet}.0.5"),
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


_PICK_DEST = _Choice(DEST_CLASSES)
_PICK_DEST_OOH = _Choice(DEST_CLASSES[:3])
_PICK_OUTCOME = {k: _Choice(v) for k, v in _OUTCOMES.items()}


def plan_demo(
    rng: random.Random, people: Sequence[Person], first_day: dt.date, days: int
) -> tuple[Planner, dict[str, int]]:
    """Plan `days` days of calls from `first_day` for `people`, drawing from `rng`; with the
    planner, how many calls were placed out of working hours and on weekends.

    >>> from callacct.demo.people import build_people
    >>> monday = dt.date(2025, 3, 3)
    >>> planner, extra = plan_demo(random.Random(1), build_people(1, 20), monday, 1)
    >>> len(planner.cdr) > 50, extra["weekend"]
    (True, 0)
    """
    planner = Planner(rng, people)
    extra = {"out_of_hours": 0, "weekend": 0}
    n = len(people)
    for day_idx in range(days):
        day = first_day + dt.timedelta(days=day_idx)
        weekend = day.weekday() >= 5
        cfa: dict[int, tuple[str, int | str]] = {}
        for i in range(n):
            if rng.random() < (0.01 if weekend else 0.04):
                cfa[i] = planner.forward_target(i)
        midnight = {code: day_start(site, day) for code, site in planner.sites.items()}
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
