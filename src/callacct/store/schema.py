"""Versioned schema. Each migration is applied once, in order, when the store is opened.

Times are stored as naive TIMESTAMP meaning UTC; money as DECIMAL. Never edit a released
migration: add a new one.
"""

from __future__ import annotations

# Classified phone numbers, one row per (dial plan, number): rating classifies each distinct
# number once. Also usable on its own (IF NOT EXISTS) by stores opened without migrations.
NUMBER_CLASSES_DDL = """
    CREATE TABLE IF NOT EXISTS number_classes (
        plan_key     VARCHAR NOT NULL,
        number       VARCHAR NOT NULL,
        e164         VARCHAR,
        dest_class   VARCHAR NOT NULL,
        dest_country VARCHAR
    );
"""

# Phone lock (lock/): one row per extension ever locked, with the three reasons a line can be
# locked (its person, the budget, an admin; the state shown is the strongest) and what the
# phone system had before the lock (the line's CSS, or the Webex permissions as JSON), which
# unlocking gives back exactly; every change or attempt as an event; PINs as salted scrypt
# hashes with their wrong-attempt count; per-machine workstation tokens as SHA-256 hashes
# (random 256-bit tokens need no slow hash); which phone (device name) is which extension.
LOCK_TABLES_DDL = """
    CREATE TABLE locks (
        extension     VARCHAR PRIMARY KEY,
        login         VARCHAR,
        state         VARCHAR NOT NULL,
        user_locked   BOOLEAN NOT NULL,
        user_how      VARCHAR,
        budget_locked BOOLEAN NOT NULL,
        admin_locked  BOOLEAN NOT NULL,
        reason        VARCHAR,
        changed_by    VARCHAR NOT NULL,
        since         TIMESTAMP NOT NULL,
        backend       VARCHAR,
        line_key      VARCHAR,
        saved         VARCHAR,
        applied       VARCHAR
    );
    CREATE SEQUENCE lock_event_seq START 1;
    CREATE TABLE lock_events (
        event_id      BIGINT PRIMARY KEY DEFAULT nextval('lock_event_seq'),
        happened_at   TIMESTAMP NOT NULL,
        extension     VARCHAR NOT NULL,
        login         VARCHAR,
        actor         VARCHAR NOT NULL,
        how           VARCHAR NOT NULL,
        action        VARCHAR NOT NULL,
        reason        VARCHAR,
        backend       VARCHAR NOT NULL,
        result        VARCHAR NOT NULL,
        message       VARCHAR,
        state_before  VARCHAR NOT NULL,
        state_after   VARCHAR NOT NULL,
        css_before    VARCHAR,
        css_after     VARCHAR
    );
    CREATE TABLE lock_pins (
        login           VARCHAR PRIMARY KEY,
        pin_hash        VARCHAR NOT NULL,
        failed_attempts INTEGER NOT NULL,
        blocked_until   TIMESTAMP,
        set_at          TIMESTAMP NOT NULL,
        set_by          VARCHAR NOT NULL
    );
    CREATE TABLE lock_workstations (
        machine       VARCHAR PRIMARY KEY,
        login         VARCHAR NOT NULL,
        token_hash    VARCHAR NOT NULL,
        created_at    TIMESTAMP NOT NULL,
        created_by    VARCHAR NOT NULL,
        last_used_at  TIMESTAMP
    );
    CREATE TABLE lock_devices (
        device        VARCHAR PRIMARY KEY,
        extension     VARCHAR NOT NULL,
        source        VARCHAR NOT NULL,
        updated_at    TIMESTAMP NOT NULL
    );
"""

# E-mail delivery (delivery/): every message sent or meant to be, one row per delivery key
# (unique: the exactly-once rule), its intent written before the SMTP conversation and its
# result after; the claim (who is sending it, until when) tells a run in progress from one
# that was killed. Scheduled reports, and each run of a schedule for a period (unique too:
# two runners never run one period twice).
DELIVERY_TABLES_DDL = """
    CREATE SEQUENCE delivery_seq START 1;
    CREATE TABLE deliveries (
        key           VARCHAR PRIMARY KEY,
        id            BIGINT NOT NULL DEFAULT nextval('delivery_seq'),
        origin        VARCHAR NOT NULL,
        schedule      VARCHAR,
        recipients    VARCHAR NOT NULL,
        subject       VARCHAR NOT NULL,
        status        VARCHAR NOT NULL,
        error         VARCHAR,
        message_id    VARCHAR NOT NULL,
        size_bytes    BIGINT NOT NULL,
        created_at    TIMESTAMP NOT NULL,
        sent_at       TIMESTAMP,
        attempts      INTEGER NOT NULL,
        claimed_by    VARCHAR,
        claimed_until TIMESTAMP
    );
    CREATE TABLE schedules (
        name          VARCHAR PRIMARY KEY,
        owner         VARCHAR NOT NULL,
        report        VARCHAR NOT NULL,
        filters       VARCHAR NOT NULL,
        every         VARCHAR NOT NULL,
        at_time       VARCHAR NOT NULL,
        on_day        VARCHAR,
        format        VARCHAR NOT NULL,
        recipients    VARCHAR NOT NULL,
        language      VARCHAR,
        subject       VARCHAR,
        timezone      VARCHAR NOT NULL,
        paused        BOOLEAN NOT NULL,
        created_at    TIMESTAMP NOT NULL,
        next_run      TIMESTAMP NOT NULL,
        last_run      TIMESTAMP,
        last_period   VARCHAR,
        last_status   VARCHAR
    );
    CREATE TABLE schedule_runs (
        schedule      VARCHAR NOT NULL,
        period        VARCHAR NOT NULL,
        due_at        TIMESTAMP NOT NULL,
        status        VARCHAR NOT NULL,
        claimed_by    VARCHAR,
        claimed_until TIMESTAMP,
        started_at    TIMESTAMP NOT NULL,
        finished_at   TIMESTAMP,
        sent          INTEGER NOT NULL,
        skipped       INTEGER NOT NULL,
        failed        INTEGER NOT NULL,
        note          VARCHAR,
        PRIMARY KEY (schedule, period)
    );
"""

# Alarms (alarms/): one row per alarm — its owner, its definition as YAML, paused or not, the
# watermark (the last call id it has evaluated: calls are numbered as they arrive, so what
# came since is call_id > watermark) and when it last ran; one row per firing, with the rows
# found (JSON), the marks that keep a period threshold or a feed silence from firing twice, the
# window of calls evaluated, and when its mail was handed over.
ALARM_TABLES_DDL = """
    CREATE TABLE alarms (
        name          VARCHAR PRIMARY KEY,
        owner         VARCHAR NOT NULL,
        kind          VARCHAR NOT NULL,
        definition    VARCHAR NOT NULL,
        paused        BOOLEAN NOT NULL,
        watermark     BIGINT NOT NULL,
        created_at    TIMESTAMP NOT NULL,
        updated_at    TIMESTAMP NOT NULL,
        last_run_at   TIMESTAMP
    );
    CREATE SEQUENCE alarm_event_seq START 1;
    CREATE TABLE alarm_events (
        event_id      BIGINT PRIMARY KEY DEFAULT nextval('alarm_event_seq'),
        alarm         VARCHAR NOT NULL,
        owner         VARCHAR NOT NULL,
        kind          VARCHAR NOT NULL,
        fired_at      TIMESTAMP NOT NULL,
        period        VARCHAR,
        summary       VARCHAR NOT NULL,
        found         BIGINT NOT NULL,
        columns       VARCHAR[] NOT NULL,
        rows_json     VARCHAR NOT NULL,
        marks         VARCHAR[] NOT NULL,
        logins        VARCHAR[] NOT NULL,
        calls_after   BIGINT,
        calls_upto    BIGINT,
        mailed_at     TIMESTAMP
    );
"""

# Budgets (budgets/): one row per budget (a person's, a department's or a cost centre's, in one
# currency); one row per budget and period the evaluation has seen (what was carried into it,
# what was spent when it closed, whether late calls pushed it over afterwards); and every
# action the budget module took (warned, locked, unlocked, carried over, late spend); and the
# last call the evaluation saw (calls stored after it are the ones that may be late).
BUDGET_TABLES_DDL = """
    CREATE SEQUENCE budget_seq START 1;
    CREATE TABLE budgets (
        budget_id     BIGINT PRIMARY KEY DEFAULT nextval('budget_seq'),
        kind          VARCHAR NOT NULL,
        target        VARCHAR NOT NULL,
        amount        DECIMAL(18, 6) NOT NULL,
        currency      VARCHAR NOT NULL,
        period        VARCHAR NOT NULL,
        carry_over    BOOLEAN NOT NULL,
        warn_at       INTEGER[] NOT NULL,
        lock_at       INTEGER,
        classes       VARCHAR[],
        created_by    VARCHAR NOT NULL,
        created_at    TIMESTAMP NOT NULL,
        updated_at    TIMESTAMP NOT NULL,
        UNIQUE (kind, target, currency)
    );
    CREATE TABLE budget_periods (
        budget_id     BIGINT NOT NULL,
        first_day     DATE NOT NULL,
        starts_at     TIMESTAMP NOT NULL,
        ends_at       TIMESTAMP NOT NULL,
        zone          VARCHAR NOT NULL,
        carried_in    DECIMAL(18, 6) NOT NULL,
        spent_at_close DECIMAL(18, 6),
        closed_at     TIMESTAMP,
        late_spent    DECIMAL(18, 6),
        PRIMARY KEY (budget_id, first_day)
    );
    CREATE SEQUENCE budget_event_seq START 1;
    CREATE TABLE budget_events (
        event_id      BIGINT PRIMARY KEY DEFAULT nextval('budget_event_seq'),
        happened_at   TIMESTAMP NOT NULL,
        budget_id     BIGINT NOT NULL,
        kind          VARCHAR NOT NULL,
        target        VARCHAR NOT NULL,
        login         VARCHAR,
        first_day     DATE NOT NULL,
        action        VARCHAR NOT NULL,
        threshold     INTEGER,
        allowance     DECIMAL(18, 6),
        spent         DECIMAL(18, 6),
        amount        DECIMAL(18, 6),
        currency      VARCHAR NOT NULL,
        result        VARCHAR NOT NULL,
        message       VARCHAR
    );
    CREATE TABLE budget_marks (
        last_call_id  BIGINT NOT NULL
    );
"""

MIGRATIONS: tuple[str, ...] = (
    # 1: file ledger, record index, rejects, normalised calls, call quality.
    """
    CREATE SEQUENCE file_id_seq START 1;
    CREATE TABLE ingest_files (
        file_id      BIGINT PRIMARY KEY,
        path         VARCHAR NOT NULL,
        name         VARCHAR NOT NULL,
        size         BIGINT NOT NULL,
        sha256       VARCHAR NOT NULL,
        dialect      VARCHAR NOT NULL,
        header       VARCHAR,
        rows_read    BIGINT NOT NULL,
        stored       BIGINT NOT NULL,
        duplicates   BIGINT NOT NULL,
        rejected     BIGINT NOT NULL,
        started_at   TIMESTAMP NOT NULL,
        finished_at  TIMESTAMP NOT NULL,
        status       VARCHAR NOT NULL,
        archive      VARCHAR,
        run_id       VARCHAR NOT NULL
    );
    CREATE TABLE records (
        file_id      BIGINT NOT NULL,
        line_no      BIGINT NOT NULL,
        record_key   VARCHAR NOT NULL,
        record_time  TIMESTAMP,
        kind         VARCHAR NOT NULL
    );
    CREATE TABLE rejects (
        file_id      BIGINT NOT NULL,
        line_no      BIGINT NOT NULL,
        reason       VARCHAR NOT NULL,
        message      VARCHAR NOT NULL,
        raw          VARCHAR
    );
    -- call_id is assigned by the (single) writing process; no index: big tables in DuckDB
    -- are scanned by zone maps, and an ART index would slow every insert.
    CREATE TABLE calls (
        call_id          BIGINT NOT NULL,
        source           VARCHAR NOT NULL,
        file_id          BIGINT NOT NULL,
        line_no          BIGINT NOT NULL,
        global_call_id   VARCHAR,
        orig_leg_id      BIGINT,
        dest_leg_id      BIGINT,
        started_at       TIMESTAMP NOT NULL,
        answered_at      TIMESTAMP,
        ended_at         TIMESTAMP,
        duration_s       INTEGER NOT NULL,
        ring_s           INTEGER,
        direction        VARCHAR NOT NULL,
        answered         BOOLEAN NOT NULL,
        disposition      VARCHAR NOT NULL,
        cause_code       BIGINT,
        calling_number   VARCHAR,
        called_number    VARCHAR,
        final_number     VARCHAR,
        redirect_number  VARCHAR,
        remote_number    VARCHAR,
        extension        VARCHAR,
        peer_extension   VARCHAR,
        gateway          VARCHAR,
        orig_device      VARCHAR,
        dest_device      VARCHAR,
        transfer         BOOLEAN NOT NULL,
        forward          BOOLEAN NOT NULL,
        conference       BOOLEAN NOT NULL,
        dest_class       VARCHAR,
        dest_country     VARCHAR,
        plan_id          VARCHAR,
        cost             DECIMAL(18, 6),
        currency         VARCHAR,
        user_login       VARCHAR,
        department       VARCHAR,
        cost_center      VARCHAR,
        site             VARCHAR,
        mos              DOUBLE,
        jitter_ms        INTEGER,
        latency_ms       INTEGER,
        loss_pct         DOUBLE
    );
    CREATE TABLE call_quality (
        file_id          BIGINT NOT NULL,
        line_no          BIGINT NOT NULL,
        record_key       VARCHAR NOT NULL,
        global_call_id   VARCHAR NOT NULL,
        leg_id           BIGINT,
        recorded_at      TIMESTAMP,
        directory_number VARCHAR,
        device_name      VARCHAR,
        mos              DOUBLE,
        jitter_ms        INTEGER,
        latency_ms       INTEGER,
        packets_received BIGINT,
        packets_lost     BIGINT,
        loss_pct         DOUBLE
    );
    """,
    # 2: the number classification cache used by rating.
    NUMBER_CLASSES_DDL,
    # 3: tariff plans, their dated versions and rate decks; how each call was rated.
    """
    CREATE TABLE tariff_plans (
        plan         VARCHAR PRIMARY KEY,
        description  VARCHAR NOT NULL,
        gateways     VARCHAR NOT NULL,
        is_default   BOOLEAN NOT NULL,
        updated_at   TIMESTAMP NOT NULL
    );
    CREATE TABLE tariff_versions (
        plan          VARCHAR NOT NULL,
        version       INTEGER NOT NULL,
        valid_from    DATE NOT NULL,
        currency      VARCHAR NOT NULL,
        decimals      INTEGER NOT NULL,
        rounding      VARCHAR NOT NULL,
        split_bands   BOOLEAN NOT NULL,
        rate_incoming BOOLEAN NOT NULL,
        bands         VARCHAR NOT NULL,
        holidays      VARCHAR NOT NULL,
        holiday_band  VARCHAR NOT NULL,
        source        VARCHAR NOT NULL,
        sha256        VARCHAR NOT NULL,
        rates         BIGINT NOT NULL,
        imported_at   TIMESTAMP NOT NULL,
        PRIMARY KEY (plan, version)
    );
    CREATE TABLE tariff_rates (
        plan                   VARCHAR NOT NULL,
        version                INTEGER NOT NULL,
        line_no                BIGINT NOT NULL,
        prefix                 VARCHAR NOT NULL,
        destination            VARCHAR NOT NULL,
        dest_class             VARCHAR NOT NULL,
        price_per_min          DECIMAL(18, 6) NOT NULL,
        connect_fee            DECIMAL(18, 6) NOT NULL,
        initial_increment_s    INTEGER NOT NULL,
        subsequent_increment_s INTEGER NOT NULL,
        min_charge             DECIMAL(18, 6) NOT NULL,
        band                   VARCHAR NOT NULL
    );
    ALTER TABLE calls ADD COLUMN remote_dialled VARCHAR;
    ALTER TABLE calls ADD COLUMN rating_site VARCHAR;
    ALTER TABLE calls ADD COLUMN plan_version INTEGER;
    ALTER TABLE calls ADD COLUMN destination VARCHAR;
    ALTER TABLE calls ADD COLUMN rate_prefix VARCHAR;
    ALTER TABLE calls ADD COLUMN rate_band VARCHAR;
    ALTER TABLE calls ADD COLUMN billed_s INTEGER;
    """,
    # 4: The directory, effective-dated: a change ends the current version (valid_to) and adds a
    # new one; nothing is deleted. valid_to NULL = current. Calls keep who they belonged to
    # at call time (user_login, department, ... and the same for the peer of internal calls).
    """
    CREATE TABLE IF NOT EXISTS users (
        login        VARCHAR NOT NULL,
        name         VARCHAR,
        email        VARCHAR,
        language     VARCHAR,
        role         VARCHAR NOT NULL,
        department   VARCHAR,
        cost_center  VARCHAR,
        site         VARCHAR,
        manager      VARCHAR,
        scopes       VARCHAR[] NOT NULL,
        source       VARCHAR NOT NULL,
        dn           VARCHAR,
        valid_from   TIMESTAMP NOT NULL,
        valid_to     TIMESTAMP,
        recorded_at  TIMESTAMP NOT NULL
    );
    CREATE TABLE IF NOT EXISTS extensions (
        extension    VARCHAR NOT NULL,
        login        VARCHAR NOT NULL,
        source       VARCHAR NOT NULL,
        valid_from   TIMESTAMP NOT NULL,
        valid_to     TIMESTAMP,
        recorded_at  TIMESTAMP NOT NULL
    );
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS peer_login VARCHAR;
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS peer_department VARCHAR;
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS peer_cost_center VARCHAR;
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS peer_site VARCHAR;
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS undefined_extension BOOLEAN;
    """,
    # 5: personal report specs (one per owner and name) and the runs of reports, which the
    # home view counts to offer each person the reports they use most.
    """
    CREATE TABLE report_specs (
        owner        VARCHAR NOT NULL,
        name         VARCHAR NOT NULL,
        description  VARCHAR NOT NULL,
        grp          VARCHAR NOT NULL,
        yaml         VARCHAR NOT NULL,
        created_at   TIMESTAMP NOT NULL,
        updated_at   TIMESTAMP NOT NULL,
        PRIMARY KEY (owner, name)
    );
    CREATE TABLE report_runs (
        owner        VARCHAR NOT NULL,
        name         VARCHAR NOT NULL,
        ran_at       TIMESTAMP NOT NULL
    );
    """,
    # 6: the raw archive keeps whole files (store/archive.py): where a file starts in its
    # archive's decompressed stream (NULL: the file has no such archive).
    """
    ALTER TABLE ingest_files ADD COLUMN archive_at BIGINT;
    """,
    # 7: work that a stopped command left to do, one row per kind until it is done: 'rerate'
    # when stored costs may differ from what the tariffs give (a tariff was stored, the calls
    # not yet rated again). Written in the same transaction as the change that makes it due.
    """
    CREATE TABLE pending_work (
        kind         VARCHAR NOT NULL,
        reason       VARCHAR NOT NULL,
        since        TIMESTAMP NOT NULL
    );
    """,
    # 8 (phone lock): locks, lock_events, lock_pins, lock_workstations, lock_devices.
    LOCK_TABLES_DDL,
    # e-mail delivery: deliveries, schedules, schedule_runs.
    DELIVERY_TABLES_DDL,
    # alarms: alarms, alarm_events.
    ALARM_TABLES_DDL,
    # budgets, budget_periods, budget_events.
    BUDGET_TABLES_DDL,
)
