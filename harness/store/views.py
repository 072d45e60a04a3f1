"""The store's SQL views and the comments on every table, view and column, for people who query it directly.

``finished_runs`` adds to each finished run the columns a leaderboard groups it by; ``latest_runs`` keeps the
latest finished run per model, revision, variant, prompt strategy and task, the runs a leaderboard counts (the
leaderboard reads this view, so the two cannot disagree); ``sample_scores`` has one row per sample and
numeric metric. Migration v7 creates the views; a change to a definition here is a new migration step that
calls ``create_views`` again, so stores made earlier are brought up to date.
"""

from __future__ import annotations

from typing import Any

# How a leaderboard names a run's row: the model without an ``@revision`` suffix; the variant (quantization and
# a LoRA adapter, named after its folder); the prompt strategy, for generated answers only (log-likelihood runs
# are shared by every strategy's row). A run made without --limit scored every document: it is complete.
_FINISHED_RUNS = r"""
CREATE OR REPLACE VIEW finished_runs AS
SELECT runs.*,
       split_part(model, '@', 1) AS model_name,
       nullif(concat_ws('+', nullif(json_extract_string(settings, '$.quantization'), ''),
                        CASE WHEN coalesce(json_extract_string(settings, '$.adapter'), '') <> ''
                             THEN 'lora:' || regexp_extract(rtrim(json_extract_string(settings, '$.adapter'), '/'),
                                                            '[^/]*$') END), '') AS variant,
       CASE WHEN output_type = 'generate_until' THEN json_extract_string(settings, '$.prompt_strategy') END
           AS prompt_strategy,
       json_extract_string(settings, '$.limit') IS NULL AS complete
FROM runs WHERE status = 'finished'
"""

# Keeps one run per leaderboard row and task: the latest started (ties broken by run id).
LATEST_PER_ROW_AND_TASK = ("QUALIFY row_number() OVER (PARTITION BY model_name, revision, variant, prompt_strategy, "
                           "task ORDER BY started_at DESC, run_id) = 1")

_LATEST_RUNS = f"CREATE OR REPLACE VIEW latest_runs AS SELECT * FROM finished_runs {LATEST_PER_ROW_AND_TASK}"

# Per-sample metrics are stored as JSON objects keyed ``metric`` (a task with one filter) or ``metric,filter``;
# the filter of the first kind is the one the run's metrics table names. Non-numeric per-sample items (BLEU's
# reference and prediction pairs) are no scores and are left out; true and false read as 1 and 0.
_SAMPLE_SCORES = """
CREATE OR REPLACE VIEW sample_scores AS
SELECT s.run_id, s.task, s.doc_id, split_part(e.key, ',', 1) AS metric,
       CASE WHEN contains(e.key, ',') THEN substr(e.key, strpos(e.key, ',') + 1) ELSE one_filter.filter END AS filter,
       CAST(e.value AS DOUBLE) AS value
FROM (SELECT run_id, task, doc_id, metrics FROM samples WHERE json_valid(metrics)) s
CROSS JOIN json_each(s.metrics) e
LEFT JOIN (SELECT run_id, task, metric, min(filter) AS filter FROM metrics GROUP BY ALL HAVING count(*) = 1) one_filter
       ON one_filter.run_id = s.run_id AND one_filter.task = s.task AND one_filter.metric = e.key
WHERE json_type(e.value) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')
"""

VIEWS = ("finished_runs", "latest_runs", "sample_scores")

TABLE_COMMENTS = {
    "meta": "The store's own settings: its schema version.",
    "runs": "One row per run: a model evaluated on one task with one set of settings.",
    "metrics": "A run's aggregated metrics, one row per task, metric and filter.",
    "samples": "One row per scored document (or item) of a run, with its per-sample metrics as JSON.",
    "requests": "Every request a run sent and its response; doubles as the request cache and the record "
                "--resume continues from.",
    "tags": "Named tags on runs (harness tag): at most one run per model and task per tag.",
    "sweep_jobs": "One row per job of a harness sweep: finished, failed with its error, or skipped.",
    "finished_runs": "Every finished run with the columns a leaderboard groups it by: model_name, variant, "
                     "prompt_strategy, complete.",
    "latest_runs": "The latest finished run per model_name, revision, variant, prompt_strategy and task: "
                   "the runs a leaderboard counts. Join metrics or sample_scores on run_id.",
    "sample_scores": "One row per sample and numeric per-sample metric, the value as DOUBLE (the samples "
                     "table keeps them as JSON).",
}

_RUN_COLUMNS = {
    "run_id": "The run's id (start time and a random suffix).",
    "invocation_id": "Shared by the runs of one harness run command.",
    "model": "The model as named on the command line (a registry name, a path or a hub id).",
    "model_fingerprint": "What identifies the weights: source and content hash (credentials in URLs redacted).",
    "model_source": "Where the weights came from: registry, local folder, hub, server.",
    "revision": "The checkpoint revision, e.g. a Pythia training step such as step143000; NULL: the default.",
    "dtype": "The weights' dtype as loaded.",
    "backend": "transformers, vllm, openai or synthetic.",
    "device": "Where the model ran: cpu, cuda, ...",
    "task": "The task evaluated (one leaf task per run).",
    "task_hash": "Hash of the task's prompts, documents and few-shot setup.",
    "output_type": "The task's request type: multiple_choice, generate_until, loglikelihood, ... or a native type.",
    "settings": "JSON: the effective settings (limit, num_fewshot, seed, prompt_strategy, adapter, ...).",
    "settings_hash": "Hash of the output-affecting settings.",
    "versions": "JSON: versions of harness, lm_eval, transformers, torch, python.",
    "model_info": "JSON: the model's family, parameter count, licence, ...",
    "git_commit": "The harness checkout's git commit, when there is one.",
    "status": "running, finished, failed or interrupted.",
    "error": "Why a run failed (one line).",
    "started_at": "When the run started (UTC).",
    "finished_at": "When the run ended (UTC).",
    "heartbeat_at": "The last sign of life of a running run (UTC).",
    "pid": "The process that ran it.",
    "hostname": "The machine that ran it.",
    "n_samples": "Documents scored.",
    "n_requests": "Requests answered (model calls, cache answers and a resumed attempt's answers).",
    "duration_s": "Seconds spent evaluating (the model load not included).",
    "samples_per_s": "Throughput: samples per second; NULL when no model call was made (every answer came from "
                     "the cache or an earlier attempt).",
    "requests_per_s": "Throughput: requests per second; NULL when no model call was made.",
    "load_s": "Seconds to load the model.",
    "peak_memory_mb": "Peak memory while the run ran (MiB): GPU memory, or the process's resident set on the CPU.",
    "n_model_answers": "Answers the model produced for this run (including those of an interrupted attempt that "
                       "--resume continued); NULL for runs stored before schema version 7.",
    "n_cached_answers": "Answers taken from the request cache (responses other runs stored); NULL for runs "
                        "stored before schema version 7.",
}

_KEY_COLUMNS = {
    "model_name": "The model as leaderboards name it: runs.model without an @revision suffix.",
    "variant": "How the weights were changed on load: quantization and lora:ADAPTER_FOLDER, joined by +; NULL: "
               "plain weights.",
    "prompt_strategy": "The prompt strategy of a run with generated answers; NULL otherwise (log-likelihood runs "
                       "are shared by every strategy).",
    "complete": "True when the run was made without --limit (every document scored); limited runs are not "
                "comparable with full ones.",
}

COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "meta": {"key": "The setting's name (schema_version).", "value": "Its value, as text."},
    "runs": _RUN_COLUMNS,
    "metrics": {
        "run_id": "The run (runs.run_id).", "task": "The task.", "metric": "The metric's name, e.g. acc.",
        "filter": "lm-eval's filter the metric was computed after (none: the task's only one).",
        "value": "The aggregated value.", "stderr": "Its standard error; NULL where none is computed.",
        "n": "Samples the value aggregates.", "higher_is_better": "The metric's direction."},
    "samples": {
        "run_id": "The run (runs.run_id).", "task": "The task.", "doc_id": "The document's index in the task.",
        "output_type": "The request type.", "input": "The prompt as sent (chat template applied).",
        "choices": "JSON: the answer choices of a multiple-choice document.", "target": "JSON: the gold answer.",
        "prediction": "JSON: the model's answer (a choice index, or the extracted text).",
        "loglikelihoods": "JSON: the log-likelihood of each choice.",
        "raw_output": "The generated text before answer extraction.",
        "loglikelihood": "The log-likelihood of a rolling (perplexity) document.",
        "token_count": "Tokens of a rolling document.",
        "metrics": "JSON: per-sample metric values keyed metric or metric,filter (see the sample_scores view).",
        "doc": "JSON: the document as the task read it."},
    "requests": {
        "run_id": "The run (runs.run_id).", "doc_id": "The document the request belongs to.",
        "idx": "The request's index within its document (a choice, for multiple choice).",
        "request_type": "loglikelihood, loglikelihood_rolling or generate_until.",
        "arguments": "JSON: the request's arguments.", "response": "JSON: the response.",
        "cache_key": "Key under which later runs reuse the response; NULL: not cacheable (unseeded sampling).",
        "repeat": "Which repeat of the request (tasks that sample several answers)."},
    "tags": {"tag": "The tag's name.", "run_id": "The tagged run.", "created_at": "When it was tagged (UTC)."},
    "sweep_jobs": {
        "sweep_id": "The sweep.", "job": "The job's number in the sweep.", "model": "The job's model.",
        "revision": "The job's revision.", "task": "The job's task.", "status": "finished, failed or skipped.",
        "attempts": "How many times the job ran.", "error": "Why it failed.",
        "run_ids": "JSON: the runs it produced.", "executor": "local or ray.",
        "recorded_at": "When the job was recorded (UTC).", "seconds": "How long it took."},
    "finished_runs": _RUN_COLUMNS | _KEY_COLUMNS,
    "latest_runs": _RUN_COLUMNS | _KEY_COLUMNS,
    "sample_scores": {
        "run_id": "The run (runs.run_id).", "task": "The task.", "doc_id": "The document.",
        "metric": "The metric's name, e.g. acc.",
        "filter": "The filter (as in metrics.filter); NULL where the metrics table does not name one.",
        "value": "The per-sample value (true and false as 1 and 0)."},
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_views(conn: Any) -> None:
    """Create (or replace) the views and comment every table, view and column."""
    for sql in (_FINISHED_RUNS, _LATEST_RUNS, _SAMPLE_SCORES):
        conn.execute(sql)
    for name, text in TABLE_COMMENTS.items():
        conn.execute(f"COMMENT ON {'VIEW' if name in VIEWS else 'TABLE'} {name} IS {_quote(text)}")
    for name, columns in COLUMN_COMMENTS.items():
        for column, text in columns.items():
            conn.execute(f"COMMENT ON COLUMN {name}.{column} IS {_quote(text)}")
