"""The ``harness`` command: parses arguments, calls ``harness.api``, prints.

Heavy libraries (torch, transformers, lm-eval) are imported only by the
commands that need them, so ``harness --help`` and ``harness runs`` are quick.
Exit codes: 0 success, 1 an evaluation failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from typing import Any

from harness import lm_eval_cli
from harness.errors import HarnessError, did_you_mean

_DB_HELP = "DuckDB store (default: $HARNESS_DB or results/harness.duckdb)"


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def _table(rows: list[list[Any]], header: list[Any]) -> str:
    """Rows as a table fitted to the terminal (natural width when stdout is not one); see ``harness.console``."""
    from harness.console import render_table, table_width

    return render_table(rows, header, table_width(sys.stdout))


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else str(value))


# -- commands ---------------------------------------------------------------------------------------
def _options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The run options a command's flags set (``harness.core.options.OPTIONS``)."""
    from harness.core.options import OPTIONS

    return {o.name: getattr(args, o.name) for o in OPTIONS if command in o.commands}


def _print_plan(plans: list[dict[str, Any]]) -> None:
    """A dry run's plans as a table: per leaf task its action, answered requests, backend, fingerprint, hashes."""
    rows = []
    for plan in plans:
        for task in plan["tasks"]:
            action = task["action"] + (f" {task['run_id']}" if task["run_id"] else "")
            cached = "" if task["requests"] is None else f"{task['answered']}/{task['requests']}"
            load = "model load" if task["model_load"] else "no model load"
            rows.append([task["task"], action, cached, load, f"{plan['backend']} ({plan['backend_reason']})",
                         plan["model_fingerprint"] or "", (task["settings_hash"] or "")[:12],
                         (task["request_hash"] or "")[:12], task["note"]])
    print(_table(rows, ["task", "action", "answered", "load", "backend", "fingerprint", "settings", "request",
                        "note"]))


def _plans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan and its teacher's, teacher first."""
    return [*(_plans(plan["teacher"]) if plan.get("teacher") else []), plan]


def cmd_run(args: argparse.Namespace) -> int:
    from harness import api

    for note in lm_eval_cli.fold(args, args.run_parser):
        print(note, file=sys.stderr)
    if args.dry_run:
        plan = api.plan(model=args.model, task=args.task, revision=args.revision, db=args.db,
                        **_options(args, "run"))
        _print_json(plan) if args.format == "json" else _print_plan(_plans(plan))
        return 0
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the result; libraries' chatter goes to stderr
            results = api.run(model=args.model, task=args.task, revision=args.revision, db=args.db,
                              **_options(args, "run"))
    finally:
        api.release_engines()  # shut vLLM's engine down before the interpreter does (it can abort at exit)
    if args.format == "json":
        _print_json(results)
        return 0
    rows = [[r["task"], m["metric"], m["filter"], _fmt(m["value"]),
             "" if m["stderr"] is None else f"± {m['stderr']:.4f}", m["n"], r["run_id"]]
            for r in results for m in r["metrics"]]
    print(_table(rows, ["task", "metric", "filter", "value", "stderr", "n", "run"]))
    return 0


def _print_sweep_plan(jobs: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        _print_json(jobs)
        return
    for job in jobs:
        label = f"{job['model']}{'@' + job['revision'] if job['revision'] else ''} {job['task']}"
        print(f"job {job['job']}: {label}: {job['action']}")
        if job["plan"]:
            _print_plan(_plans(job["plan"]))


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness import api

    if args.dry_run:
        jobs = api.plan_sweep(args.models, args.tasks, revisions=args.revisions, db=args.db, **_options(args, "sweep"))
        _print_sweep_plan(jobs, args.format)
        return 0
    with contextlib.redirect_stdout(sys.stderr):  # Ray prints its workers' and raylets' lines to stdout
        result = api.sweep(args.models, args.tasks, revisions=args.revisions, executor=args.executor,
                           address=args.address, max_retries=args.max_retries, workers=args.workers, db=args.db,
                           **_options(args, "sweep"))
    failed = any(job["status"] == "failed" for job in result["jobs"])
    if args.format == "json":
        _print_json(result)
        return 1 if failed else 0
    rows = [[job["job"], job["model"], job["revision"] or "", job["task"], job["status"], job["attempts"],
             len(job["run_ids"]), "" if job["seconds"] is None else f"{job['seconds']:.1f}", job["error"] or ""]
            for job in result["jobs"]]
    print(_table(rows, ["job", "model", "revision", "task", "status", "attempts", "runs", "seconds", "error"]))
    counts = {status: sum(job["status"] == status for job in result["jobs"])
              for status in ("finished", "failed", "skipped")}
    print(f"sweep {result['sweep_id']}: " + ", ".join(f"{n} {status}" for status, n in counts.items()),
          file=sys.stderr)
    return 1 if failed else 0


def cmd_runs(args: argparse.Namespace) -> int:
    from harness import api

    from harness.console import Col

    filters = {"model": args.model, "task": args.task, "status": args.status, "last": args.last}
    runs = api.runs(db=args.db, **filters)
    if args.format == "json":
        _print_json(runs)
        return 0
    if not runs:
        given = " ".join(f"--{k} {v}" for k, v in filters.items() if v is not None)
        print(f"no runs match {given}; 'harness runs' lists them all" if given else
              "no runs yet; try: harness run --model tiny-pythia --task finance")
        return 0
    rows = [[r["run_id"], r["status"], r["model"], r["task"], r["n_samples"], r["invocation_id"]] for r in runs]
    print(_table(rows, [Col("run", wrap=False), Col("status", wrap=False), "model", "task",
                        Col("n", wrap=False, right=True), Col("invocation", wrap=False)]))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from harness import api

    shown = api.show(args.run, db=args.db)
    if args.format == "json":
        _print_json(shown)
        return 0
    run = shown["run"]
    for key in ("run_id", "invocation_id", "status", "model", "model_fingerprint", "task", "task_hash", "backend",
                "device", "dtype", "started_at", "finished_at", "n_samples", "n_model_answers", "n_cached_answers",
                "samples_per_s", "git_commit", "error"):
        print(f"{key:18} {_fmt(run.get(key))}")
    print(f"{'settings':18} {json.dumps(run['settings'], default=str)}")
    print(f"{'versions':18} {json.dumps(run['versions'])}")
    if shown["metrics"]:
        print()
        rows = [[m["metric"], m["filter"], _fmt(m["value"]), _fmt(m["stderr"]), m["n"]] for m in shown["metrics"]]
        print(_table(rows, ["metric", "filter", "value", "stderr", "n"]))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from harness import api

    if args.format == "parquet" and not args.out:
        raise HarnessError("parquet is binary: pass --out FILE")
    rows = api.export(args.run, format=args.format, out=args.out, db=args.db)
    if args.out:
        print(f"wrote {len(rows)} samples to {args.out}", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from harness import api

    for run_id in api.delete(args.runs, db=args.db):
        print(f"deleted {run_id}", file=sys.stderr)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from harness import api

    found = api.models(args.pattern, args.modality)
    if args.format == "json":
        _print_json(found)
        return 0
    from harness.console import Col, compact

    rows = [[m["name"], m["modality"], m["hub_id"] or ("(offline twin)" if m["tiny"] else ""),
             compact(m["parameters"]), m["backend"], m["min_gpus"], m["chat_template"] or ""] for m in found]
    print(_table(rows, ["name", "modality", "hub id", Col("params", wrap=False, right=True), "backend",
                        Col("GPUs", wrap=False, right=True), "chat template"]))
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from harness import api

    found = api.tasks(args.pattern, args.include_path, args.lm_eval)
    if args.format == "json":
        _print_json(found)
        return 0
    from harness.console import Col

    def metrics(names: list[str]) -> str:
        return ", ".join(names[:4]) + (f", +{len(names) - 4} more" if len(names) > 4 else "")

    rows = [[t["name"], f"{t['runner']} {t['type']}" if t["kind"] == "task" else t["kind"], metrics(t["metrics"]),
             "" if t["items"] is None else t["items"], t["description"]] for t in found]
    print(_table(rows, [Col("name", wrap=False), "kind", "metrics", Col("items", wrap=False, right=True),
                        "description"]))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from harness import api

    problems = api.doctor(db=args.db)
    for line in problems:
        print(line)
    from harness.doctor import is_blocking

    if not any(is_blocking(line) for line in problems):
        warned = any(line.startswith("warning:") for line in problems)
        print("ok: the harness can run here" + (" (mind the warnings above)" if warned else ""))
    return 1 if any(is_blocking(line) for line in problems) else 0


def cmd_tag(args: argparse.Namespace) -> int:
    from harness import api

    if args.delete:
        if args.runs:
            raise HarnessError("--delete takes only the tag name: harness tag --delete NAME")
        removed = api.untag(args.name, db=args.db)
        print(f"removed tag {args.name!r} from {removed} run(s)", file=sys.stderr)
        return 0
    if not args.runs:
        raise HarnessError("name the runs to tag: harness tag RUN... NAME")
    for run_id in api.tag(args.runs, args.name, db=args.db):
        print(f"tagged {run_id} {args.name!r}", file=sys.stderr)
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    from harness import api

    found = api.tags(db=args.db)
    if args.format == "json":
        _print_json(found)
        return 0
    print(_table([[t["tag"], len(t["runs"]), t["tagged_at"], " ".join(t["runs"])] for t in found],
                 ["tag", "runs", "tagged (UTC)", "run ids"]))
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    import time

    from harness import api

    if args.wide and (args.name is None or (args.format or (None if args.out else "md")) != "md"):
        raise HarnessError("--wide shows every task column of a leaderboard printed as md (--format csv and json "
                           "always have every column)")
    if args.name is None:
        boards = api.leaderboards()
        if args.format == "json":
            _print_json(boards)
        else:
            print(_table([[b["name"], b["title"]] for b in boards], ["name", "title"]))
        return 0
    started = time.perf_counter()
    built = api.leaderboard(args.name, args.out, tag=args.tag, include_path=args.include_path, db=args.db)
    table, site = built["table"], built["site"]
    if site:
        print(f"wrote {site['index']} ({site['models']} models, {site['run_pages']} run pages, {site['charts']} "
              f"charts) in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    fmt = args.format or (None if site else "md")
    from harness.report.table import table_records, to_csv, to_markdown

    if fmt == "md":
        sys.stdout.write(to_markdown(table, wide=args.wide))
    elif fmt == "csv":
        sys.stdout.write(to_csv(table))
    elif fmt == "json":
        _print_json(table_records(table))
    return 0


def _print_checks(checks: list, fmt: str) -> None:
    from harness.gate.verdict import TABLE_HEADER, table_rows

    if fmt == "json":
        _print_json([check.as_dict() for check in checks])
    else:  # the test's name stays in --format json and --markdown: the table keeps to 120 columns
        from harness.console import Col

        shown = [i for i, name in enumerate(TABLE_HEADER) if name != "test"]
        header = [Col(name, wrap=name in ("task", "metric")) for name in TABLE_HEADER]
        print(_table([[row[i] for i in shown] for row in table_rows(checks)], [header[i] for i in shown]))


def cmd_compare(args: argparse.Namespace) -> int:
    from harness import api
    from harness.gate.verdict import COMPARISON_HEADER, comparison_cells

    comparisons = api.compare(args.run_a, args.run_b, force=args.force, db=args.db)
    if args.format == "json":
        _print_json([c.as_dict() for c in comparisons])
    else:
        print(_table([comparison_cells(c) for c in comparisons], COMPARISON_HEADER))
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from harness import api
    from harness.gate.verdict import junit, markdown, write_report

    from harness.outputs import output_file

    for flag, path in (("--markdown", args.markdown), ("--junit", args.junit)):
        if path:
            output_file(path, flag)
    checks = api.gate(args.baseline, args.candidate, leaderboard=args.leaderboard, max_drop=args.max_drop,
                      alpha=args.alpha, force=args.force, include_path=args.include_path, db=args.db)
    _print_checks(checks, args.format)
    title = f"harness gate: {args.candidate} against {args.baseline}"
    if args.markdown:
        write_report(markdown(checks, title), args.markdown)
    if args.junit:
        write_report(junit(checks, title), args.junit)
    failed = [c for c in checks if c.verdict == "fail"]
    print(f"gate {'FAILED' if failed else 'passed'}: {len(failed)} of {len(checks)} metrics dropped by more than "
          f"{args.max_drop:g} with p < {args.alpha:g}", file=sys.stderr)
    return 1 if failed else 0


def cmd_export_baseline(args: argparse.Namespace) -> int:
    from harness import api

    content = api.export_baseline(args.runs, args.out, db=args.db)
    print(f"wrote {len(content['runs'])} run(s) to {args.out}", file=sys.stderr)
    return 0


def _add_run_options(p: argparse.ArgumentParser, command: str) -> None:
    """The flags of every run option a command offers, from its declaration."""
    from harness.core.options import OPTIONS

    for option in OPTIONS:
        if command not in option.commands:
            continue
        cli = dict(option.cli)
        if cli.get("action") == "boolean_optional":
            cli["action"] = argparse.BooleanOptionalAction
        default = None if option.name == "apply_chat_template" else option.default
        p.add_argument(*(option.flags or (option.flag,)), dest=option.name, default=default, **cli)
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--format", choices=["table", "json"], default="table", help="summary format on stdout")
    p.add_argument("--dry-run", action="store_true", help="print the plan (per task: new, resume or reuse, requests "
                   "already answered, backend, hashes) and exit without loading weights or writing the store")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors in one line (the closest valid flag or choice, and where to read more) and
    without prefix matching, which would accept ``--lim 5`` silently and make aliases ambiguous."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}  # the subcommands' parsers, by name

    def error(self, message: str) -> Any:
        self.exit(2, f"error: {message}{self._hint(message)}; see '{self.prog} --help'\n")

    def _hint(self, message: str) -> str:
        import re

        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown:
            flags = [flag for action in self._actions for flag in action.option_strings]
            return did_you_mean(unknown.group(1).split("=")[0], flags)
        return ""

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:
        """Unknown flags are reported by the subcommand's parser, which can suggest its own flags."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            self.commands.get(getattr(parsed, "command", None), self).error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {text!r}")
    return value


# -- parser -----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from harness.report.runs import RUN_STATUSES

    parser = _Parser(prog="harness", description="Evaluate models on tasks and store every sample "
                                     "in DuckDB.")
    parser.add_argument("--version", action="version", version="harness 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = sub.choices

    p = sub.add_parser("run", help="evaluate a model on tasks", description="Evaluate a model on lm-eval tasks; "
                       "one stored run per leaf task.")
    p.add_argument("--model", help="registry name (tiny-pythia, pythia-410m@step143000), hub id "
                   "or checkpoint folder")
    p.add_argument("--task", action="append", help="task or group; repeatable or comma-separated")
    p.add_argument("--revision", help="model revision, e.g. step143000 for Pythia checkpoints")
    _add_run_options(p, "run")
    lm_eval_cli.add_flags(p)
    p.set_defaults(func=cmd_run, run_parser=p)

    p = sub.add_parser("sweep", help="evaluate models × revisions × tasks, skipping finished runs; locally or on Ray",
                       description="Plan one job per (model, revision, task), skip those a finished run with the "
                       "same model fingerprint, task hash and settings already answers, and run the rest. "
                       "Exit 1 when a job failed after its retries.")
    p.add_argument("--models", action="append", required=True, help="models, comma-separated (as --model takes)")
    p.add_argument("--tasks", action="append", required=True, help="tasks or groups, comma-separated")
    p.add_argument("--revisions", help="revisions for every model, comma-separated (default: each model's own)")
    p.add_argument("--executor", default="local", choices=["local", "ray"],
                   help="local: one job at a time in this process; ray: Ray tasks across a cluster")
    p.add_argument("--address", help="ray: join this cluster (e.g. auto, or HEAD:6379; default $RAY_ADDRESS, else "
                   "a local cluster is started)")
    p.add_argument("--workers", type=int, metavar="N", help="ray: jobs at a time (default: the cluster's CPUs)")
    p.add_argument("--max-retries", type=int, default=2, metavar="N",
                   help="retries of a failed job before it is recorded as failed (default 2)")
    _add_run_options(p, "sweep")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("runs", help="list stored runs, newest first (run ids begin with their UTC start time)")
    p.add_argument("--model", help="only this model's runs (a name or a glob such as 'pythia-*'; any revision)")
    p.add_argument("--task", help="only this task's runs (a leaf task name or a glob such as 'finance_*')")
    p.add_argument("--status", choices=RUN_STATUSES, help="only runs with this status")
    p.add_argument("--last", type=_positive_int, metavar="N", help="only the N newest runs (after the filters)")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("show", help="one run's settings and metrics")
    p.add_argument("run", help="run id (or a unique prefix)")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="a run's samples as jsonl, csv or parquet")
    p.add_argument("run", help="run id (or a unique prefix)")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl")
    p.add_argument("--out", help="output file (default: stdout for jsonl and csv)")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("delete", help="delete runs and their samples")
    p.add_argument("runs", nargs="+", help="run ids (or unique prefixes)")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("models", help="list registered models")
    p.add_argument("pattern", nargs="?", help="glob or substring of the name")
    p.add_argument("--modality", choices=["text", "vision", "segmentation", "video"])
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("tasks", help="list registered tasks and groups")
    p.add_argument("pattern", nargs="?", help="glob or substring of the name")
    p.add_argument("--include-path", action="append", help="also list tasks in this folder")
    p.add_argument("--lm-eval", action="store_true", help="include lm-eval's built-in tasks (slow: ~13 s)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("tag", help="tag runs (a tag keeps one run per model and task)",
                       description="Tag runs: harness tag RUN... NAME. RUN is a run id, prefix, invocation id or tag.")
    p.add_argument("runs", nargs="*", metavar="RUN")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--delete", action="store_true", help="remove the tag NAME from every run")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("tags", help="list tags and the runs they name")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_tags)

    p = sub.add_parser("leaderboard", help="build a leaderboard (static HTML with --out); no name lists them")
    p.add_argument("name", nargs="?", help="a definition in leaderboards/ (e.g. llm-2023) or a YAML file")
    p.add_argument("--out", help="folder for the static site (index.html and runs/)")
    p.add_argument("--format", choices=["md", "csv", "json"],
                   help="also print the table (md when there is no --out); json lists the definitions as JSON")
    p.add_argument("--wide", action="store_true", help="md: every task column beside the group scores")
    p.add_argument("--tag", help="count the runs carrying this tag instead of each model's latest")
    p.add_argument("--include-path", action="append", help="folder of your own task YAMLs the definition names")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_leaderboard)

    ref_help = "a baseline file, a tag, an invocation id or a run id (tried in that order)"
    p = sub.add_parser("compare", help="paired comparison of two runs (or sets of runs) per task and metric")
    p.add_argument("run_a", metavar="RUN_A", help=ref_help)
    p.add_argument("run_b", metavar="RUN_B", help=ref_help)
    p.add_argument("--force", action="store_true", help="compare even when task hashes or documents differ")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("gate", help="fail (exit 1) when the candidate is significantly worse than the baseline")
    p.add_argument("--baseline", required=True, metavar="REF", help=ref_help)
    p.add_argument("--candidate", required=True, metavar="REF", help=ref_help)
    p.add_argument("--leaderboard", metavar="NAME", help="only the metrics that are this leaderboard's columns")
    p.add_argument("--max-drop", type=float, default=0.0, metavar="X",
                   help="tolerated drop, absolute in the metric's units (0.02 = two points); default 0")
    p.add_argument("--alpha", type=float, default=0.05, metavar="A", help="significance level (default 0.05)")
    p.add_argument("--force", action="store_true", help="compare even when task hashes or documents differ")
    p.add_argument("--markdown", metavar="FILE", help="write a Markdown summary")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--include-path", action="append", help="folder of your own task YAMLs the leaderboard names")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("export-baseline", help="write runs' per-sample outcomes to a JSON baseline for 'gate'")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids, prefixes, invocation ids or tags")
    p.add_argument("--out", required=True, metavar="FILE", help="e.g. results/baselines/NAME.json")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_export_baseline)

    p = sub.add_parser("doctor", help="check the environment; one line per problem with its fix")
    p.add_argument("--db", help=_DB_HELP)
    p.set_defaults(func=cmd_doctor)
    return parser


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    parser = build_parser()
    argv = lm_eval_cli.bare_run(sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except HarnessError as exc:
        from harness.redact import redact

        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; finished samples are kept in the store", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
