"""`Workspace`: a callacct workspace opened as a person — the one object every caller uses.

The command line, the demo builder, scripts (and the scheduler and web pages to come) open a
workspace here and call its methods; each returns values (never prints) and raises
`callacct.errors.CallacctError` subclasses. The rules of who may do and see what live here
once: writes that need an admin, whose data an option may read (`person_view`), a login that
is not in the directory, numbers masked for the reader, the language a person reads in.

The store is not held while the object is idle: each method opens it for its own duration —
read-only when it only reads, so several readers run at once and a writer (cron's ingest)
never waits for a web page — unless the caller holds it across several calls with
`holding()`.

Example:
    >>> import tempfile
    >>> ws = Workspace.create(Path(tempfile.mkdtemp()) / "acme", country="FR",
    ...                       timezone="Europe/Paris", currency="EUR")
    >>> ws.calls().total, ws.scope().role
    (0, 'admin')
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from callacct.api import chain
from callacct.api.results import (
    CallList,
    DirectoryResult,
    IngestResult,
    Login,
    RawRecord,
    ReportCheck,
    TariffImport,
)
from callacct.config import (
    DialPlanSettings,
    Settings,
    WorkspaceFiles,
    check_timezone,
    open_workspace,
    parse_settings,
    resolve_workspace_dir,
    write_default_settings,
)
from callacct.directory import (
    import_directory_csv,
    list_users,
    person_view,
    scope_for,
    sync_ldap_directory,
    user_history,
)
from callacct.errors import (
    CallacctError,
    DeliveryError,
    NotFoundError,
    SpecError,
    StoreError,
    UsageError,
)
from callacct.i18n import LANGUAGES, Message
from callacct.outcomes import JobOutcome
from callacct.problems import Problem
from callacct.progress import DIRECTORY, RATING, Progress, Step
from callacct.query.calls import (
    CallFilter,
    When,
    call_in_scope,
    call_source,
    parse_when,
    query_calls,
    time_range,
    unfinished_calls,
)
from callacct.query.scope import Scope, admin_scope
from callacct.rating import Explanation, RateReport, explain_call, import_tariff, rate_calls
from callacct.rating.classify import default_workers
from callacct.rating.pending import stale_costs_warning
from callacct.rating.tariff import EXAMPLE_TARIFFS, describe_plans, show_plan
from callacct.reports.filters import Filters
from callacct.reports.home import HomeView, home_view
from callacct.reports.library import (
    OPERATOR,
    ReportEntry,
    delete_report,
    derive_report,
    find_report,
    import_report,
    list_reports,
    personal_reports,
    record_run,
    save_report,
    spec_files,
    validate_library,
)
from callacct.reports.regroup import regroup
from callacct.reports.result import ReportResult
from callacct.reports.run import run_report
from callacct.reports.spec import ReportSpec, read_spec_text, validate_file
from callacct.service_numbers import ServiceNumbers
from callacct.store import Store, open_store
from callacct.store.archive import archived_line
from callacct.store.connection import damaged_store_error

if TYPE_CHECKING:
    from callacct.api.alarms import Alarms
    from callacct.budgets import Budget, BudgetEvent, BudgetStatus, Evaluation, Notifier
    from callacct.delivery import Delivery
    from callacct.delivery import Message as MailMessage
    from callacct.delivery.schedules import Schedule
    from callacct.lock import LockService

log = logging.getLogger(__name__)


def _log_warning(message: str) -> None:
    log.warning("%s", message)


class Workspace:
    """A callacct workspace, opened as a person (`as_login`) or as its operator (an admin).

    `on_wait(seconds)` is called while another process holds the store; `on_warning(text)`
    receives what a person should be told besides the result (costs not up to date, calls an
    ingest has not finished); by default both are logged.
    """

    def __init__(
        self,
        files: WorkspaceFiles,
        *,
        as_login: str | None = None,
        on_wait: Callable[[float], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.files = files
        self.as_login = as_login
        self._on_wait = on_wait
        self._on_warning = on_warning or _log_warning
        self._held: Store | None = None

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        as_login: str | None = None,
        on_wait: Callable[[float], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> Workspace:
        """The workspace at `path`, else `$CALLACCT_HOME`, else the current folder, read as
        `as_login` (a person in the directory; None: the operator). `ConfigError` when there
        is no valid `callacct.toml` there."""
        root = resolve_workspace_dir(None if path is None else Path(path))
        files = open_workspace(root)
        return cls(files, as_login=as_login, on_wait=on_wait, on_warning=on_warning)

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        country: str = "US",
        timezone: str = "UTC",
        currency: str = "USD",
        access_codes: Sequence[str] | None = None,
        extension_pattern: str | None = None,
        settings: Settings | None = None,
    ) -> Workspace:
        """Create a workspace at `path`: `callacct.toml` with every key documented (from
        `settings`, else from the other arguments) and an empty store. `ConfigError` when a
        value is not valid or a workspace exists there."""
        root = Path(path)
        if settings is None:
            dialplan = DialPlanSettings()
            raw = {
                "general": {"country": country, "timezone": timezone, "currency": currency},
                "dialplan": {
                    "access_codes": list(access_codes or dialplan.access_codes),
                    "extension_pattern": dialplan.extension_pattern
                    if extension_pattern is None
                    else extension_pattern,
                },
            }
            settings = parse_settings(raw, root / "callacct.toml")
        write_default_settings(root, settings)
        workspace = cls(open_workspace(root))
        with workspace._store(write=True, rates=True):
            pass  # creates the store with its schema
        return workspace

    def as_person(self, login: str | None) -> Workspace:
        """The same workspace read as `login` (None: the operator), e.g. after `login()`;
        inside `holding()`, on the held store."""
        other = Workspace(
            self.files, as_login=login, on_wait=self._on_wait, on_warning=self._on_warning
        )
        other._held = self._held
        return other

    @property
    def root(self) -> Path:
        return self.files.root

    @property
    def settings(self) -> Settings:
        return self.files.settings

    @property
    def store_path(self) -> Path:
        return self.files.store_path

    @property
    def services(self) -> ServiceNumbers:
        """The workspace's numbers that lead to no phone (bridges, voicemail, services)."""
        return ServiceNumbers.of(self.settings.dialplan)

    def schema_version(self) -> int:
        """The store's schema version."""
        with self._store() as store:
            return store.schema_version

    @contextmanager
    def holding(self, *, write: bool = False) -> Iterator[Workspace]:
        """Keep the store open across the calls made inside the block (for batch jobs); with
        `write`, open for writing, which methods that change the store need. Other processes
        that want to write wait meanwhile: hold it only as long as the work lasts."""
        if self._held is not None:
            raise UsageError("the store is already held; hold it once")
        with self._opened(write=write, rates=False) as store:
            self._held = store
            try:
                yield self
            finally:
                self._held = None

    # -- identity ---------------------------------------------------------------------------

    def scope(self) -> Scope:
        """What the reader may see (`UsageError` if `as_login` is not in the directory)."""
        with self._store() as store:
            return self._reader(store)

    def login(self, user: str, password: str) -> Login:
        """Check `user`'s password with the directory (LDAP bind) and return who they are and
        what they may see; `AuthenticationError` when wrong, `NotFoundError` when they
        authenticate but are not in callacct's directory."""
        from callacct.directory.ldap import authenticate

        if not password.strip():
            raise UsageError("empty password refused; no bind attempted")
        who = authenticate(self.settings.ldap, user, password)
        with self._store() as store:
            try:
                scope = scope_for(store.con, who.login, self.settings)
            except UsageError:
                raise NotFoundError(
                    f"{who.login!r} authenticated but is not in the callacct directory; "
                    "run 'callacct directory sync-ldap'"
                ) from None
        return Login(who.login, who.dn, scope)

    # -- ingest and rating ------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[str | Path],
        *,
        format: str | None = None,
        mapping: str | Path | None = None,
        dry_run: bool = False,
        force: bool = False,
        move_to: str | Path | None = None,
        progress: Progress | None = None,
        workers: int | None = None,
        alarms: bool | None = None,
    ) -> IngestResult:
        """Load CDR files (files, folders read recursively, globs): store them, attribute and
        rate their calls, then move them to `move_to`. Re-runnable: what is loaded is skipped.
        `format` names a dialect (the registry's, or a mapping of `ingest.mappings`), `mapping`
        a generic CSV mapping (a YAML file or a registered one's name); both detected from
        content when omitted. `alarms`: then evaluate the due alarms (None: as the setting
        `alarms.after_ingest` says)."""
        from callacct.ingest.generic import requested_dialect

        if not paths:
            raise UsageError(Message("error.ingest_nothing"))
        dialect = requested_dialect(self.settings, self.root, fmt=format, mapping=mapping)
        with self._store(write=True, rates=not dry_run) as store:
            self._require_admin(store, "ingest")
            result = chain.load_files(
                store,
                self.settings,
                list(paths),
                dialect=dialect,
                dry_run=dry_run,
                force=force,
                move_to=None if move_to is None else Path(move_to),
                progress=progress,
                workers=workers or default_workers(),
            )
            if not dry_run:
                result.budgets = self._budgets_after(store, "the ingest")
        self._send_budget_mails(result.budgets)
        if not dry_run and (self.settings.alarms.after_ingest if alarms is None else alarms):
            result.alarms = self.alarms().run(due=True)
        return result

    def rejects(self, last: int = 50) -> list[dict[str, Any]]:
        """The most recent rejected records (file, line, reason, raw text); for admins, as raw
        records show every number."""
        from callacct.ingest import list_rejects

        with self._store() as store:
            self._require_admin(store, "ingest --rejects")
            return list_rejects(store, last=last)

    def rate(
        self,
        start: When | None = None,
        end: When | None = None,
        *,
        tz: str | None = None,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> RateReport:
        """Rate the calls again (all, or those started from `start` to `end`, days inclusive,
        in `tz`), atomically: how many changed, and by how much."""
        first, last = time_range(start, end, self._zone(tz))
        with self._store(write=True, rates=True) as store:
            self._require_admin(store, "rate")
            if progress is not None:
                progress(Step(RATING))
            # Calls a failed ingest left unattributed are attributed first: rating needs their site.
            chain.attribute_pending(store.con, self.settings)
            report = rate_calls(
                store.con,
                self.settings,
                start=_utc_naive(first),
                end=_utc_naive(last),
                progress=progress,
                workers=workers or default_workers(),
            )
            evaluation = self._budgets_after(store, "re-rating")
        self._send_budget_mails(evaluation)
        return report

    # -- calls ------------------------------------------------------------------------------

    def calls(self, filters: CallFilter | None = None, *, tz: str | None = None) -> CallList:
        """The calls matching `filters` that the reader may see, numbers masked for them,
        oldest first, times in `tz` (default: the workspace's zone)."""
        zone = self._zone(tz)
        flt = filters or CallFilter()
        time_range(flt.start, flt.end, zone)  # a bad range is an error before the store opens
        with self._store() as store:
            frame, total = query_calls(store.con, flt, zone, scope=self._reader(store))
        return CallList(frame, total, zone.key)

    def explain(self, call_id: int) -> Explanation:
        """How a call's cost came about, step by step (numbers masked for the reader)."""
        with self._store() as store:
            scope = self._reader(store)
            if not call_in_scope(store.con, call_id, scope):
                raise _no_call(call_id)
            explanation = explain_call(store.con, self.settings, call_id)
        return explanation.masked(scope.mask_digits) if scope.mask_digits else explanation

    def raw(self, call_id: int) -> RawRecord:
        """A call's source record from the raw archive; for admins (it shows every number)."""
        with self._store() as store:
            self._require_admin(store, "calls raw")
            found = call_source(store.con, call_id, self._reader(store))
            if found is None:
                raise _no_call(call_id)
            file_id, line, path = found
            text = archived_line(store, file_id, line)
        return RawRecord(call_id, path, line, text)

    def home(
        self,
        login: str | None = None,
        *,
        period: str | None = None,
        tz: str | None = None,
        language: str | None = None,
        now: dt.datetime | None = None,
    ) -> HomeView:
        """A person's home (default: the reader's): last calls, summary over `period`, most-used
        reports, in their language; someone else's home needs the right to see them."""
        who = login or self.as_login
        if who is None:
            raise UsageError("home needs a person: callacct --as LOGIN home")
        zone = self._zone(tz)
        with self._store() as store:
            lang = self._language(store, language, who)
            own = person_view(store.con, self._reader(store), who, self.settings)
            view = home_view(
                store.con,
                who,
                own,
                zone,
                services=self.services,
                period=period,
                now=now,
                language=lang,
            )
        budgets = self.budget_status(who, now=now)
        return replace(view, budgets=tuple(status.to_dict() for status in budgets))

    # -- reports ----------------------------------------------------------------------------

    def reports(self) -> list[ReportEntry]:
        """The public reports by category, then the reader's personal reports."""
        with self._store() as store:
            return list_reports(store.con, self._owner(store))

    def report(self, name: str) -> ReportEntry:
        """The public report `name`, else the reader's personal report of that name."""
        with self._store() as store:
            return find_report(store.con, self._owner(store), name)

    def language(self, language: str | None = None) -> str:
        """The language the reader reads in: `language`, else theirs, else the workspace's
        (the store is read only for a person's own language)."""
        if language is not None or self.as_login is None:
            return self._language(None, language, None)
        with self._store(quiet=True) as store:
            return self._language(store, language, self.as_login)

    def run_report(
        self,
        report: str | ReportSpec,
        filters: Mapping[str, Any] | Filters | None = None,
        *,
        language: str | None = None,
        tz: str | None = None,
        group_by: Sequence[str] | None = None,
        limit: int | None = None,
        now: dt.datetime | None = None,
        record: bool = True,
    ) -> ReportResult:
        """Run a report (a name, public or the reader's, or a spec) with its default filters
        replaced by `filters`, as the reader may see it, in `language` (else the reader's,
        else the workspace's), times in `tz` (else the report's zone, else the workspace's),
        its rows grouped by the fields `group_by` instead of its own
        (`callacct.reports.regroup`; what changes in its chart is told as a warning). A run
        by name is noted for the reader's home (`record`), without ever making the run wait
        or fail."""
        given = self._zone(tz) if tz else None
        overrides = _filter_values(filters)
        with self._store() as store:
            scope = self._reader(store)  # UsageError if the reader is not in the directory
            lang = self._language(store, language, self.as_login)
            owner = OPERATOR if self.as_login is None else self.as_login
            spec = find_report(store.con, owner, report).spec if isinstance(report, str) else report
            notes: list[str] = []
            if group_by is not None:
                regrouped = regroup(spec, group_by, lang)
                spec, notes = regrouped.spec, regrouped.notes
            zone = given or self._zone(spec.timezone)
            result = run_report(
                store.con,
                spec,
                scope=scope,
                tz=zone,
                language=lang,
                overrides=overrides,
                limit=limit,
                now=now,
                services=self.services,
            )
        for note in notes:
            self._on_warning(note)
        if record and isinstance(report, str):
            name = report
            self._note(lambda con: record_run(con, owner, name))
        return result

    def render(self, result: ReportResult, format: str, target: Path | TextIO) -> None:
        """Write a report result in a registered format (csv, json, xlsx, pdf, html, or a
        plug-in's) to the file `target`, or — for a format that writes text — to the text
        stream `target`."""
        from callacct.reports.render import RENDERERS

        if format not in RENDERERS:
            raise UsageError(f"format {format!r} is not one of {', '.join(RENDERERS.names())}")
        renderer = RENDERERS.get(format)
        if isinstance(target, Path):
            renderer.write(result, target)
        elif renderer.stream is None:
            raise UsageError(f"{format} is written to a file; give its path")
        else:
            renderer.stream(result, target)

    def save_report(
        self,
        name: str,
        *,
        base: str,
        filters: Mapping[str, Any] | Filters | None = None,
        description: str | None = None,
        group: str | None = None,
        title: str | None = None,
        tz: str | None = None,
        group_by: Sequence[str] | None = None,
        replace: bool = False,
    ) -> ReportEntry:
        """Save a personal report of the reader: report `base` with `filters` as its defaults,
        run in the time zone `tz` unless a run names one (default: `base`'s zone, else the
        workspace's at each run), its rows grouped by the fields `group_by` (as `run_report`
        groups them; what changes in its chart is told as a warning)."""
        if tz is not None:
            self._zone(tz)  # a bad zone is a usage error naming --tz
        with self._store(write=True) as store:
            owner = self._owner(store)
            masked = self._reader(store).mask_digits > 0
            source = find_report(store.con, owner, base).spec
            notes: list[str] = []
            if group_by is not None:
                lang = self._language(store, None, self.as_login)
                regrouped = regroup(source, group_by, lang, keep_title=title is not None)
                source, notes = regrouped.spec, regrouped.notes
            spec = derive_report(
                source,
                name,
                _filter_values(filters),
                description=description,
                group=group,
                title=title,
                timezone=tz,
                masked_numbers=masked,
            )
            save_report(store.con, owner, spec, replace=replace, masked_numbers=masked)
        for note in notes:
            self._on_warning(note)
        return ReportEntry(spec, owner)

    def delete_report(self, name: str) -> None:
        """Delete one of the reader's personal reports."""
        with self._store(write=True) as store:
            delete_report(store.con, self._owner(store), name)

    def import_report(self, path: str | Path, *, replace: bool = False) -> ReportEntry:
        """Import a report spec file (validated first) as the reader's personal report."""
        text = read_spec_text(Path(path))
        with self._store(write=True) as store:
            owner = self._owner(store)
            masked = self._reader(store).mask_digits > 0
            spec = import_report(
                store.con, owner, text, str(path), replace=replace, masked_numbers=masked
            )
        return ReportEntry(spec, owner)

    def export_report(self, name: str) -> str:
        """A report's spec as YAML text (to keep, share or import elsewhere)."""
        return self.report(name).spec.to_yaml()

    def check_reports(self, paths: Sequence[str | Path] | None = None) -> ReportCheck:
        """Check report spec files (as the reader would save them), or else the public library
        and the reader's personal reports; every problem with file, line and key."""
        if paths:
            masked = self.as_login is not None and self.scope().mask_digits > 0
            return check_report_files(paths, masked_numbers=masked)
        problems = validate_library()
        checked = len(spec_files())
        with self._store() as store:
            try:
                checked += len(personal_reports(store.con, self._owner(store)))
            except SpecError as exc:
                problems += getattr(exc, "problems", [])
        return ReportCheck(checked, problems)

    # -- directory --------------------------------------------------------------------------

    def directory_import(
        self, path: str | Path, *, as_of: When | None = None, dry_run: bool = False
    ) -> DirectoryResult:
        """Apply a directory CSV file as the people of the CSV source (admins); calls are
        attributed again from `as_of` (in the workspace's zone; default now, or since ever
        for a first load) and rated again when their site changed."""
        with self._store(write=True) as store:
            self._require_admin(store, "directory import")
            result = import_directory_csv(
                store.con, Path(path), self.settings, as_of=self._as_of(as_of), dry_run=dry_run
            )
            rating = chain.rerate_after_directory(store.con, self.settings, result)
        return DirectoryResult(result, rating)

    def sync_ldap(
        self,
        *,
        as_of: When | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> DirectoryResult:
        """Read every person from LDAP / Active Directory and apply them as the LDAP source
        (admins); calls are attributed and rated again as by `directory_import`."""
        with self._store(write=True) as store:
            self._require_admin(store, "directory sync-ldap")
            if progress is not None:
                progress(Step(DIRECTORY, 0, None, "people"))
            result = sync_ldap_directory(
                store.con,
                self.settings,
                as_of=self._as_of(as_of),
                dry_run=dry_run,
                progress=progress,
            )
            if progress is not None:
                progress(Step(RATING))
            rating = chain.rerate_after_directory(store.con, self.settings, result)
        return DirectoryResult(result, rating)

    def people(self, at: When | None = None) -> list[dict[str, Any]]:
        """The people in the directory (as it was `at`; default now) within the reader's scope."""
        with self._store() as store:
            scope = self._reader(store)
            found = list_users(store.con, at=self._as_of(at))
        return [person for person in found if scope.allows_person(person)]

    def person(self, login: str) -> dict[str, Any]:
        """One person's versions and extensions (`login`, `versions`, `extensions`), within
        the reader's scope (`NotFoundError` otherwise)."""
        with self._store() as store:
            scope = self._reader(store)
            history = user_history(store.con, login)
        versions = [v for v in history["versions"] if scope.allows_person({"login": login, **v})]
        if not versions:
            raise NotFoundError(Message("error.no_person", login=repr(login)))
        return {"login": login, "versions": versions, "extensions": history["extensions"]}

    # -- tariffs ----------------------------------------------------------------------------

    def tariff_import(
        self,
        path: str | Path,
        *,
        plan: str | None = None,
        valid_from: dt.date | str | None = None,
        dry_run: bool = False,
        rate: bool = True,
        replace_default: bool = False,
    ) -> TariffImport:
        """Validate a tariff (a plan file, a rate deck with `plan` and `valid_from`, or a
        shipped example's name) and store it as a new version (admins); the calls are rated
        again unless `rate` is false. `TariffError` lists every problem; nothing is stored then."""
        file = _tariff_file(Path(path))
        first = _date(valid_from, "--valid-from")
        with self._store(write=True, rates=rate) as store:
            self._require_admin(store, "tariff import")
            report = import_tariff(
                store.con,
                file,
                plan=plan,
                valid_from=first,
                dry_run=dry_run,
                replace_default=replace_default,
            )
            rating = rate_calls(store.con, self.settings) if rate and not dry_run else None
            stale = None if rating else stale_costs_warning(store.con)
        return TariffImport(report, rating, [*report.warnings, *([stale] if stale else [])])

    def tariffs(self) -> list[dict[str, Any]]:
        """The tariff plans with their versions."""
        with self._store() as store:
            return describe_plans(store.con)

    def tariff(
        self, name: str, *, version: int | None = None, prefix: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A plan: settings, time bands, holidays and (up to `limit` of) its rates."""
        with self._store() as store:
            return show_plan(store.con, name, version=version, prefix=prefix, limit=limit)

    # -- e-mail and schedules ---------------------------------------------------------------

    def report_message(
        self,
        result: ReportResult,
        format: str,
        *,
        to: Sequence[str],
        subject: str | None = None,
    ) -> MailMessage:
        """The e-mail carrying a report result as a `format` file (attached), with its
        summary in the body, in the report's language."""
        from callacct.api.mailing import report_message
        from callacct.reports.render import RENDERERS

        if format not in RENDERERS:
            raise UsageError(f"format {format!r} is not one of {', '.join(RENDERERS.names())}")
        return report_message(result, format, to=to, subject=subject)

    def email_report(
        self,
        result: ReportResult,
        format: str,
        to: Sequence[str],
        *,
        subject: str | None = None,
        dry_run: bool | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> Delivery:
        """Send a report result by e-mail to `to` (one message), recorded in `deliveries`;
        the stored row says whether it was sent (`DeliveryError` when it was not)."""
        import uuid

        from callacct.delivery import Outbox

        message = self.report_message(result, format, to=to, subject=subject)
        key = f"report:{result.name}:{uuid.uuid4().hex}"
        row = Outbox.of(self, clock=clock, dry_run=dry_run).send(message, key=key, origin="report")
        if row.status == "failed":
            raise DeliveryError(f"not sent to {row.recipient}: {row.error}")
        return row

    def add_schedule(
        self,
        name: str,
        *,
        report: str,
        filters: Mapping[str, Any] | Filters | None = None,
        every: str,
        at: str | None = None,
        on: str | None = None,
        format: str = "xlsx",
        to: Sequence[str] = (),
        recipients: str = "addresses",
        language: str | None = None,
        subject: str | None = None,
        tz: str | None = None,
        now: dt.datetime | None = None,
    ) -> Schedule:
        """Schedule a report for the reader (its owner): checked now — the report and its
        filters run once, the addresses, format and language — not at the first run.
        Sending to every supervisor or user needs an admin."""
        from callacct.delivery.schedules import OPERATOR, new_schedule, save_schedule
        from callacct.delivery.timing import Frequency
        from callacct.reports.render import RENDERERS

        frequency = Frequency.parse(every, at=at, on=on)
        if format not in RENDERERS:
            raise UsageError(f"--format: {format!r} is not one of {', '.join(RENDERERS.names())}")
        if language is not None:
            checked_language(language)
        zone = self._zone(tz)
        values = _filter_values(filters)
        # An unknown report or filter is refused now, not at 7 am: the report runs once.
        self.run_report(report, values, tz=zone.key, limit=1, record=False)
        schedule = new_schedule(
            name=name,
            owner=self.as_login or OPERATOR,
            report=report,
            filters=values,
            frequency=frequency,
            format=format,
            recipients=recipients,
            addresses=to,
            language=language,
            subject=subject,
            timezone=zone.key,
            now=now or dt.datetime.now(dt.UTC),
        )
        with self._store(write=True) as store:
            if recipients != "addresses":
                self._require_admin(store, f"schedule add --to-{recipients}")
            save_schedule(store.con, schedule)
        return schedule

    def schedules(self) -> list[Schedule]:
        """The schedules the reader owns (every schedule for an admin)."""
        from callacct.delivery.schedules import list_schedules

        with self._store() as store:
            mine = self._schedule_filter(store)
            return [s for s in list_schedules(store.con) if mine(s)]

    def schedule(self, name: str) -> Schedule:
        """One schedule (the reader's, or any for an admin)."""
        from callacct.delivery.schedules import get_schedule

        with self._store() as store:
            found = get_schedule(store.con, name)
            if not self._schedule_filter(store)(found):
                raise NotFoundError(f"no schedule {name!r}; see 'callacct schedule list'")
            return found

    def remove_schedule(self, name: str) -> None:
        """Remove a schedule (the reader's, or any for an admin); its history stays."""
        from callacct.delivery.schedules import remove_schedule

        self.schedule(name)
        with self._store(write=True) as store:
            remove_schedule(store.con, name)

    def pause_schedule(
        self, name: str, paused: bool = True, *, now: dt.datetime | None = None
    ) -> Schedule:
        """Pause (or resume) a schedule; a resumed one runs from its next slot."""
        from callacct.delivery.schedules import set_paused

        self.schedule(name)
        with self._store(write=True) as store:
            return set_paused(store.con, name, paused, now or dt.datetime.now(dt.UTC))

    def schedule_history(self, name: str | None = None, *, last: int = 50) -> dict[str, Any]:
        """Runs of the reader's schedules (of `name`) and their deliveries, latest first."""
        from callacct.delivery.outbox import list_deliveries
        from callacct.delivery.schedules import list_runs

        names = {s.name for s in self.schedules()}
        if name is not None and name not in names:
            raise NotFoundError(f"no schedule {name!r}; see 'callacct schedule list'")
        with self._store() as store:
            runs = [r for r in list_runs(store.con, name, last) if r.schedule in names]
            sent = [
                d
                for d in list_deliveries(store.con, schedule=name, origin="schedule", last=last)
                if d.schedule in names
            ]
        return {"runs": runs, "deliveries": sent}

    def run_due(
        self,
        now: dt.datetime | None = None,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> list[JobOutcome]:
        """Run every due job (scheduled reports, and the jobs of other features) at `now`,
        each exactly once (operator or admin only); one `JobOutcome` per thing done, with its
        status and log line (`callacct.outcomes.lines_of` gives the lines, `any_failed`
        whether something failed). With `dry_run`, the schedules' latest messages are written
        as `.eml` files instead. `progress` is told of each job's steps."""
        from callacct.delivery.jobs import run_due_jobs
        from callacct.delivery.schedules import run_due

        with self._store() as store:
            self._require_admin(store, "schedule run-due")
        when = now or dt.datetime.now(dt.UTC)
        if dry_run:
            return run_due(self, when, dry_run=True, progress=progress)
        return run_due_jobs(self, when, progress=progress)

    def _schedule_filter(self, store: Store) -> Callable[[Schedule], bool]:
        from callacct.delivery.schedules import OPERATOR

        if self._reader(store).role == "admin":
            return lambda _schedule: True
        owner = self.as_login or OPERATOR
        return lambda schedule: schedule.owner == owner

    # -- phone lock -------------------------------------------------------------------------

    @contextmanager
    def lock_service(self, *, write: bool = False) -> Iterator[LockService]:
        """The phone-lock service acting as the reader (the operator, or the `as_login`
        person in the directory), on the store for the duration of the block; it applies the
        lock rules of what that person may lock and unlock (`callacct.lock`)."""
        from callacct.lock import Actor, LockService

        with self._store(write=write) as store:
            actor = (
                Actor.operator(self.settings)
                if self.as_login is None
                else Actor.person(self._reader(store))
            )
            yield LockService(store, self.settings, actor, root=self.root)

    # -- budgets ----------------------------------------------------------------------------

    def set_budget(
        self,
        *,
        user: str | None = None,
        department: str | None = None,
        cost_center: str | None = None,
        amount: str | Decimal,
        currency: str | None = None,
        period: str = "month",
        carry_over: bool = False,
        warn_at: str | Sequence[int] | None = None,
        lock_at: int | None = None,
        classes: str | Sequence[str] | None = None,
        now: dt.datetime | None = None,
    ) -> Budget:
        """Give a person, a department or a cost centre a budget (admins), or change the one
        it has in that currency; the budgets are evaluated at once."""
        from callacct.budgets import records as budget_records
        from callacct.budgets import service as budgets

        owners = [
            (k, v)
            for k, v in (("user", user), ("department", department), ("cost_center", cost_center))
            if v is not None
        ]
        if len(owners) != 1:
            raise UsageError("name exactly one of --user, --department, --cost-center")
        ((kind, target),) = owners
        budget = budgets.new_budget(
            self.settings,
            kind=kind,
            target=target,
            amount=amount,
            currency=currency,
            period=period,
            carry_over=carry_over,
            warn_at=warn_at,
            lock_at=lock_at,
            classes=classes,
            created_by=self.as_login or OPERATOR,
        )
        when = _now(now)
        with self._store(write=True) as store:
            self._require_admin(store, "budget set")
            budgets.check_target(store, budget)
            budgets.check_currency_known(store, self.settings, budget)
            with store.transaction() as con:
                saved = budget_records.save_budget(con, budget, _utc_naive(when) or when)
            evaluation = self._evaluate(store, when)
        self._send_budget_mails(evaluation)
        return saved

    def budgets(self, *, now: dt.datetime | None = None) -> list[BudgetStatus]:
        """The budgets the reader may see, each in its current period."""
        from callacct.budgets import service as budgets

        with self._store() as store:
            found = budgets.visible_budgets(store, self._reader(store))
            return budgets.status(store, self.settings, found, _now(now))

    def budget(self, budget_id: int, *, now: dt.datetime | None = None) -> BudgetStatus:
        """One budget (if the reader may see it) in its current period."""
        from callacct.budgets import service as budgets

        with self._store() as store:
            found = budgets.one_budget(store, self._reader(store), budget_id)
            return budgets.status(store, self.settings, [found], _now(now))[0]

    def remove_budget(self, budget_id: int, *, now: dt.datetime | None = None) -> Evaluation:
        """Remove a budget (admins): its budget locks are lifted unless another budget of the
        person is spent; its history stays."""
        from callacct.budgets import records as budget_records
        from callacct.budgets import service as budgets

        with self._store(write=True) as store:
            self._require_admin(store, "budget remove")
            budgets.one_budget(store, self._reader(store), budget_id)
            with store.transaction() as con:
                budget_records.delete_budget(con, budget_id)
            evaluation = self._evaluate(store, _now(now))
        self._send_budget_mails(evaluation)
        return evaluation

    def budget_status(
        self, login: str | None = None, *, now: dt.datetime | None = None
    ) -> list[BudgetStatus]:
        """The budgets of a person (default: the reader) — their own and their groups' —
        with what is spent and left and their extensions' lock state (F-BUDGET-2); someone
        else's need the right to see them."""
        from callacct.budgets import service as budgets
        from callacct.lock import Actor, LockService

        who = login or self.as_login
        if who is None:
            raise UsageError(Message("error.whose_budgets"))
        with self._store() as store:
            person_view(store.con, self._reader(store), who, self.settings)  # may the reader?
            found = budgets.status(store, self.settings, budgets.budgets_of(store, who), _now(now))
            if not found:
                return []
            locks = LockService(store, self.settings, Actor.operator(self.settings)).status(
                logins=[who]
            )
        states = {lock.extension: lock.state for lock in locks}
        return [replace(status, locks=states) for status in found]

    def budget_calls(
        self,
        budget_id: int | None = None,
        *,
        login: str | None = None,
        last: int = 20,
        tz: str | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[BudgetStatus, CallList]:
        """The latest calls counted against a budget in its current period, those the reader
        may see (F-BUDGET-4): budget `budget_id`, else the budget of person `login` (default:
        the reader)."""
        from callacct.budgets import service as budgets

        zone = self._zone(tz)
        with self._store() as store:
            scope = self._reader(store)
            if budget_id is not None:
                found = budgets.one_budget(store, scope, budget_id)
            else:
                who = login or self.as_login
                if who is None:
                    raise UsageError(Message("error.which_budget"))
                person_view(store.con, scope, who, self.settings)
                mine = budgets.budgets_of(store, who)
                if not mine:
                    raise NotFoundError(Message("error.has_no_budget", login=repr(who)))
                found = next((b for b in mine if b.kind == "user"), mine[0])
            status, frame, total = budgets.calls_of(
                store, self.settings, found, scope, _now(now), last=last
            )
        frame = frame.with_columns(
            pl.col("started_at").dt.replace_time_zone("UTC").dt.convert_time_zone(zone.key)
        )
        return status, CallList(frame, total, zone.key)

    def budget_history(
        self, *, budget_id: int | None = None, login: str | None = None, limit: int = 100
    ) -> list[BudgetEvent]:
        """What the budget module did (warned, locked, unlocked, carried over, late spend)
        on the budgets the reader may see, newest first (F-BUDGET-3)."""
        from callacct.budgets import service as budgets

        with self._store() as store:
            return budgets.history(
                store, self._reader(store), budget_id=budget_id, login=login, limit=limit
            )

    def evaluate_budgets(self, *, now: dt.datetime | None = None) -> Evaluation:
        """Evaluate every budget now (admins; what ingest, re-rating and the scheduler run):
        warnings, locks and unlocks, carry-over. Running it again changes nothing."""
        with self._store(write=True) as store:
            self._require_admin(store, "budget evaluate")
            evaluation = self._evaluate(store, _now(now))
        self._send_budget_mails(evaluation)
        return evaluation

    def _evaluate(self, store: Store, now: dt.datetime) -> Evaluation:
        from callacct.api.budgeting import BudgetLocker, failed_budget_mails, mailing_on
        from callacct.budgets import evaluate

        locker = BudgetLocker(
            store, self.settings, root=self.root, clock=lambda: _utc_naive(now) or now
        )
        mailing = self.budget_notifier is not None or mailing_on(self.settings)
        evaluation = evaluate(store, self.settings, now, locker=locker, mailing=mailing)
        if mailing and self.budget_notifier is None:
            evaluation.mails.extend(failed_budget_mails(store, self.settings, evaluation, now))
        return evaluation

    def _send_budget_mails(self, evaluation: Evaluation | None) -> None:
        """Send an evaluation's e-mails once the store it ran in is released: through
        `budget_notifier` when set, else the outbox (one SMTP conversation). A failure is a
        warning: the outbox records it, and the key is sent again if asked again."""
        if evaluation is None or not evaluation.mails:
            return  # before importing the mailing: most ingests have none to send
        from callacct.api.budgeting import send_budget_mails

        try:
            if self.budget_notifier is not None:
                self.budget_notifier(evaluation.mails)
            else:
                send_budget_mails(self, evaluation.mails)
        except CallacctError as exc:
            self._on_warning(f"budget e-mails not sent: {exc}")

    #: Sends the budgets' e-mails instead of the outbox (each exactly once per key).
    budget_notifier: Notifier | None = None

    def _budgets_after(self, store: Store, what: str) -> Evaluation | None:
        """Evaluate the budgets after `what` changed the calls, when there are budgets and
        `budgets.after_ingest` is on; a failure is a warning, never the ingest's failure."""
        from callacct.budgets.records import any_budget

        if not self.settings.budgets.after_ingest or not any_budget(store.con):
            return None
        try:
            return self._evaluate(store, _now(None))
        except (CallacctError, duckdb.Error) as exc:
            self._on_warning(f"budgets not evaluated after {what}: {exc}")
            return None

    @contextmanager
    def admin_store(self, what: str, *, write: bool = False) -> Iterator[Store]:
        """The store for an admin's work that has no method here yet (the phone map,
        workstations, the demo's locks): `UsageError` naming `what` unless the reader is the
        operator or an admin."""
        with self._store(write=write) as store:
            self._require_admin(store, what)
            yield store

    @contextmanager
    def delivery_store(self, *, write: bool = False) -> Iterator[Store]:
        """The store for the e-mail outbox (`callacct.delivery.Outbox`): the held one, else
        opened for the block only (the outbox never holds it during an SMTP conversation).
        Any reader may send what they may see; every send is recorded."""
        with self._store(write=write) as store:
            yield store

    # -- alarms -----------------------------------------------------------------------------

    def alarms(self, *, clock: Callable[[], dt.datetime] | None = None) -> Alarms:
        """The alarms, as the reader (`callacct.api.alarms.Alarms`): add, list, change and run
        them, read their firings; `clock` gives the moment of changes and runs."""
        from callacct.api.alarms import Alarms

        return Alarms(self, clock)

    # -- the store and the reader -----------------------------------------------------------

    def _open(self, *, write: bool) -> Store:
        store_settings = self.settings.store
        return open_store(
            self.store_path,
            lock_timeout_s=store_settings.lock_timeout_s,
            memory_limit=store_settings.memory_limit,
            on_wait=self._on_wait,
            read_only=not write,
        )

    @contextmanager
    def _store(
        self, *, write: bool = False, rates: bool = False, quiet: bool = False
    ) -> Iterator[Store]:
        """The store for one call: the held one, else opened for it (read-only unless
        `write`) and closed after; `quiet`: for a look-up that is not the work itself (the
        work tells what the reader should know)."""
        if self._held is not None:
            if write and self._held.read_only:
                raise UsageError("this needs the store held for writing: holding(write=True)")
            yield self._held
            return
        with self._opened(write=write, rates=rates, quiet=quiet) as store:
            yield store

    @contextmanager
    def _opened(self, *, write: bool, rates: bool, quiet: bool = False) -> Iterator[Store]:
        """The store opened (read-only unless `write`), closed after; a damaged file is a
        one-line error. Tells what a reader should know, once the work succeeded: costs a
        tariff has made stale (unless the work `rates` the calls), calls an ingest has not
        finished (unless `quiet`)."""
        store = self._open(write=write)
        try:
            notes = [] if rates or quiet else [stale_costs_warning(store.con)]
            if not write and not quiet:
                notes.append(self._unfinished(store))
            yield store
            for note in notes:
                if note is not None:
                    self._on_warning(note)
        except duckdb.Error as exc:
            damaged = damaged_store_error(store.path, exc)
            if damaged is None:
                raise
            raise damaged from exc
        finally:
            store.close()

    @staticmethod
    def _unfinished(store: Store) -> str | None:
        """Calls stored but not attributed and rated yet: an ingest is finishing them (the
        reader came in between its batches), or one stopped before it did."""
        unattributed, unrated = unfinished_calls(store.con)
        waiting = max(unattributed, unrated)
        if not waiting:
            return None
        return Message("warning.unfinished", calls=f"{waiting:,}")

    def _note(self, write: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
        """Write a note no result depends on (a report run, for `home`) without making the
        caller wait or fail: skipped when another process holds the store or it cannot be
        written (a full disk, a read-only folder)."""
        if self._held is not None and not self._held.read_only:
            with self._held.transaction() as con:
                write(con)
            return
        try:
            store = open_store(
                self.store_path,
                lock_timeout_s=0,
                memory_limit=self.settings.store.memory_limit,
            )
        except StoreError as exc:
            log.info("usage note skipped: %s", exc)
            return
        try:
            with store.transaction() as con:
                write(con)
        except duckdb.Error as exc:
            log.info("usage note skipped: %s", exc)
        finally:
            store.close()

    def _reader(self, store: Store) -> Scope:
        """What the reader may see: the `as_login` person's scope, else the operator's."""
        if self.as_login is None:
            return admin_scope(self.settings)
        return scope_for(store.con, self.as_login, self.settings)

    def _require_admin(self, store: Store, what: str) -> None:
        """Writes to shared data (ingest, tariffs, the directory) and raw records: the
        operator or an admin only."""
        scope = self._reader(store)
        if scope.role != "admin":
            raise UsageError(
                Message(
                    "error.needs_admin",
                    what=what,
                    login=repr(self.as_login),
                    role=Message(f"value.role.{scope.role}"),
                )
            )

    def _owner(self, store: Store) -> str:
        """Whose personal reports: the reader (who must be in the directory) or the operator."""
        self._reader(store)  # UsageError if there is no such person
        return OPERATOR if self.as_login is None else self.as_login

    def _language(self, store: Store | None, language: str | None, login: str | None) -> str:
        """`language`, else the person's language, else the workspace's."""
        if language is not None:
            return checked_language(language)
        if login is not None and store is not None:
            found = list_users(store.con, logins=[login])
            if found and found[0].get("language") in LANGUAGES:
                return str(found[0]["language"])
        return self.settings.general.language

    def _zone(self, tz: str | None) -> ZoneInfo:
        """`tz`, else the workspace's reference zone; a bad name is a usage error."""
        name = tz or self.settings.general.timezone
        try:
            return ZoneInfo(check_timezone(name))
        except ValueError:
            raise UsageError(Message("error.timezone", option="--tz", zone=repr(name))) from None

    def _as_of(self, when: When | None) -> dt.datetime | None:
        """A moment of the directory (naive UTC), given in the workspace's zone."""
        if when is None:
            return None
        return _utc_naive(parse_when(when, ZoneInfo(self.settings.general.timezone)))


def check_report_files(paths: Sequence[str | Path], *, masked_numbers: bool = False) -> ReportCheck:
    """Check report spec files (no workspace needed); `masked_numbers`: as a reader whose
    numbers are masked would save them (comparing a masked number by range or pattern is a
    problem then)."""
    problems: list[Problem] = []
    for path in paths:
        problems += validate_file(Path(path), masked_numbers=masked_numbers)[1]
    return ReportCheck(len(paths), problems)


def _now(now: dt.datetime | None) -> dt.datetime:
    """`now`, else the clock's time, aware (naive values mean UTC)."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


def checked_language(language: str) -> str:
    """`language` when callacct speaks it, else a usage error naming the languages it speaks."""
    if language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise UsageError(Message("error.bad_language", value=repr(language), languages=known))
    return language


def _utc_naive(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None)


def _no_call(call_id: int) -> NotFoundError:
    return NotFoundError(Message("error.no_call", call_id=call_id))


def _filter_values(filters: Mapping[str, Any] | Filters | None) -> dict[str, Any]:
    if filters is None:
        return {}
    if isinstance(filters, Filters):
        return filters.given()
    return dict(filters)


def _date(value: dt.date | str | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(Message("error.not_a_day", option=option, value=repr(value))) from None


def _tariff_file(path: Path) -> Path:
    """A tariff file, or the shipped example of that name."""
    if path.exists():
        return path
    for example in EXAMPLE_TARIFFS:
        if example.stem == str(path):
            return example
    raise UsageError(Message("error.no_file", path=path))
