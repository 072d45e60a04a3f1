"""The store's tables and their migrations.

``MIGRATIONS[i]`` takes a store from schema version ``i`` to ``i + 1`` (SQL, or a function of the connection
for data that SQL cannot rewrite); a new version appends a step and never changes the schema an old one makes.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from harness.redact import SQL_PATTERN, SQL_REPLACEMENT, redact
from harness.store.cache_keys import cache_key, cache_namespace
from harness.store.views import create_views

SCHEMA_VERSION = 7

_V1 = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    invocation_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    model_fingerprint VARCHAR NOT NULL,
    model_source VARCHAR,
    revision VARCHAR,
    dtype VARCHAR,
    backend VARCHAR,
    device VARCHAR,
    task VARCHAR NOT NULL,
    task_hash VARCHAR NOT NULL,
    output_type VARCHAR,
    settings VARCHAR,          -- JSON: effective settings
    settings_hash VARCHAR,
    versions VARCHAR,          -- JSON: harness, lm_eval, transformers, torch, python
    model_info VARCHAR,        -- JSON: family, parameters, licence, ...
    git_commit VARCHAR,
    status VARCHAR NOT NULL,   -- running | finished | failed | interrupted
    error VARCHAR,
    started_at TIMESTAMP NOT NULL,  -- UTC
    finished_at TIMESTAMP,
    heartbeat_at TIMESTAMP,
    pid INTEGER,
    hostname VARCHAR,
    n_samples INTEGER,
    n_requests INTEGER,
    duration_s DOUBLE,
    samples_per_s DOUBLE,
    requests_per_s DOUBLE
);
CREATE TABLE metrics (
    run_id VARCHAR NOT NULL, task VARCHAR NOT NULL, metric VARCHAR NOT NULL, filter VARCHAR NOT NULL,
    value DOUBLE, stderr DOUBLE, n INTEGER, higher_is_better BOOLEAN
);
CREATE TABLE samples (
    run_id VARCHAR NOT NULL, task VARCHAR NOT NULL, doc_id INTEGER NOT NULL, output_type VARCHAR,
    input VARCHAR, choices VARCHAR, target VARCHAR, prediction VARCHAR, loglikelihoods VARCHAR,
    raw_output VARCHAR, loglikelihood DOUBLE, token_count INTEGER, metrics VARCHAR, doc VARCHAR
);
CREATE TABLE requests (
    run_id VARCHAR NOT NULL, doc_id INTEGER NOT NULL, idx INTEGER NOT NULL, request_type VARCHAR NOT NULL,
    arguments VARCHAR, response VARCHAR
);
"""

# v2: request results double as a cache (keyed by model, output-affecting settings and request)
# and as the record --resume continues from (one row per repeat of a request).
_V2 = """
ALTER TABLE requests ADD COLUMN cache_key VARCHAR;
ALTER TABLE requests ADD COLUMN repeat INTEGER DEFAULT 0;
"""

# v3: named tags on runs (``harness tag``), used by leaderboards and gates to pick runs.
_V3 = """
CREATE TABLE tags (tag VARCHAR NOT NULL, run_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
                   PRIMARY KEY (tag, run_id));
"""

# v4: one row per job of a ``harness sweep`` (finished, failed with its error, or skipped).
_V4 = """
CREATE TABLE sweep_jobs (
    sweep_id VARCHAR NOT NULL, job INTEGER NOT NULL, model VARCHAR NOT NULL, revision VARCHAR, task VARCHAR NOT NULL,
    status VARCHAR NOT NULL,   -- finished | failed | skipped
    attempts INTEGER NOT NULL, error VARCHAR, run_ids VARCHAR,  -- JSON list
    executor VARCHAR, recorded_at TIMESTAMP NOT NULL, seconds DOUBLE,
    PRIMARY KEY (sweep_id, job)
);
"""

# v5: what a run cost: seconds to load the model, peak memory while it ran (MiB; GPU or resident set size).
_V5 = """
ALTER TABLE runs ADD COLUMN load_s DOUBLE;
ALTER TABLE runs ADD COLUMN peak_memory_mb DOUBLE;
"""

# v6: credentials in URLs are redacted from what earlier versions stored (a server's fingerprint, errors,
# settings): ``http://user:password@host`` becomes ``http://***@host``, as every run now records it. The cache
# keys of those runs' requests are recomputed under the redacted fingerprint first, so a new run against the
# same server keeps finding them. (Stores migrated by the first release of v6 lost the credentials the old keys
# were made from; their credentialed runs' requests stay unmatched and are asked again once.)
_V6_REDACT = """
UPDATE runs SET model_fingerprint = regexp_replace(model_fingerprint, '{pattern}', '{replacement}', 'g'),
                error = regexp_replace(error, '{pattern}', '{replacement}', 'g'),
                settings = regexp_replace(settings, '{pattern}', '{replacement}', 'g');
UPDATE sweep_jobs SET error = regexp_replace(error, '{pattern}', '{replacement}', 'g');
""".format(pattern=SQL_PATTERN, replacement=SQL_REPLACEMENT)


def _v6(conn: Any) -> None:
    """Re-key the requests of credentialed runs, then redact."""
    runs = conn.execute("SELECT run_id, model_fingerprint, settings FROM runs "
                        "WHERE regexp_matches(model_fingerprint, ?)", [SQL_PATTERN]).fetchall()
    for run_id, fingerprint, settings in runs:
        rows = conn.execute("SELECT doc_id, idx, repeat, request_type, arguments, cache_key FROM requests "
                            "WHERE run_id = ? AND cache_key IS NOT NULL", [run_id]).fetchall()
        namespaces = _credentialed_namespaces(fingerprint, json.loads(settings or "{}"), rows[:1])
        if namespaces is None:
            continue
        old, new = namespaces
        conn.executemany(
            "UPDATE requests SET cache_key = ? WHERE run_id = ? AND doc_id = ? AND idx = ? AND repeat = ?",
            [(cache_key(new, kind, json.loads(args)), run_id, doc_id, idx, repeat)
             for doc_id, idx, repeat, kind, args, key in rows if cache_key(old, kind, json.loads(args)) == key])
    conn.execute(_V6_REDACT)


def _credentialed_namespaces(fingerprint: str, settings: dict[str, Any], sample: list[tuple]) -> tuple[str, str] | None:
    """The cache namespace a run's keys were made under and the one with its fingerprint redacted; None when no
    stored key can be reproduced. Which of the run's model arguments entered the namespace is found by trying
    each subset against a stored key."""
    if not sample:
        return None
    *_, kind, args, key = sample[0]
    model_args = settings.get("model_args") or {}
    engine = {k: settings.get(k) for k in ("device", "dtype", "max_length")}
    for size in range(len(model_args) + 1):
        for names in itertools.combinations(sorted(model_args), size):
            output_args = {name: model_args[name] for name in names}
            old = cache_namespace(fingerprint, settings.get("backend"), engine, output_args)
            if cache_key(old, kind, json.loads(args)) == key:
                return old, cache_namespace(redact(fingerprint), settings.get("backend"), engine, output_args)
    return None


# v7: where a run's answers came from (model calls or the request cache; runs stored earlier keep NULL), and
# views for SQL users (finished_runs, latest_runs, sample_scores) with comments on every table, view and column.
_V7_COLUMNS = """
ALTER TABLE runs ADD COLUMN n_model_answers INTEGER;
ALTER TABLE runs ADD COLUMN n_cached_answers INTEGER;
"""


def _v7(conn: Any) -> None:
    """Add the answer counts, then the views and comments."""
    conn.execute(_V7_COLUMNS)
    create_views(conn)


MIGRATIONS: list[str | Callable[[Any], None]] = [_V1, _V2, _V3, _V4, _V5, _v6, _v7]


def current_version(conn) -> int:
    """The schema version of an open store (0 for an empty file)."""
    has_meta = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def refuse_foreign(conn, path: object) -> None:
    """For a database without harness metadata: refuse it when it holds tables (another application made it);
    an empty database is adopted."""
    from harness.errors import HarnessError

    tables = [row[0] for row in conn.execute("SELECT table_name FROM information_schema.tables ORDER BY 1")
              .fetchall()]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise HarnessError(f"{path} is a DuckDB database of another application (tables {shown}, no harness "
                           "metadata); it was not changed: point --db at a harness store or a new file")


def migrate(conn) -> None:
    """Bring an open, writable store up to ``SCHEMA_VERSION`` in one transaction."""
    from harness.errors import HarnessError

    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise HarnessError(f"this store has schema version {version}, newer than this harness "
                           f"understands ({SCHEMA_VERSION}); upgrade harness")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN TRANSACTION")
    for step in MIGRATIONS[version:]:
        if callable(step):
            step(conn)
        else:
            conn.execute(step)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    conn.execute("COMMIT")
