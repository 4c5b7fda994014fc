"""Demo data: a deterministic two-site organisation and realistic Cisco UCM CDR/CMR flat files.

>>> import datetime, tempfile
>>> from pathlib import Path
>>> from callacct.demo import build_people, write_demo_cdr_files, write_people_csv
>>> out = Path(tempfile.mkdtemp())
>>> people = build_people(seed=42, count=40)
>>> write_people_csv(people, out / "people.csv")
>>> summary = write_demo_cdr_files(out / "cdr", people=people, seed=42, days=3,
...                                end=datetime.date(2025, 3, 14))
>>> summary.counts["transfer_records"] > 0
True
"""

from callacct.demo.cdr_writer import (
    CLUSTER_ID,
    DemoCdrSummary,
    MalformedLine,
    cucm_file_name,
    write_demo_cdr_files,
)
from callacct.demo.people import (
    INTERNAL_PARTITION,
    SITES,
    Person,
    Site,
    build_people,
    site_by_code,
    write_people_csv,
)

__all__ = [
    "CLUSTER_ID",
    "INTERNAL_PARTITION",
    "SITES",
    "DemoCdrSummary",
    "MalformedLine",
    "Person",
    "Site",
    "build_people",
    "cucm_file_name",
    "site_by_code",
    "write_demo_cdr_files",
    "write_people_csv",
]
