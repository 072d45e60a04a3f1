"""Time to build the llm-2023 leaderboard site from a store holding 1,000+ runs.

Fills a fresh DuckDB store with synthetic finished runs through the store's own API (marked backend
``synthetic``): Pythia-like models at many training steps, each evaluated on the three finance tasks
several times (only the latest run per model and task counts), then builds the site with
``harness leaderboard llm-2023 --out DIR`` in a fresh process, as a user would.

    python benchmarks/leaderboard_build.py [--sizes 8] [--steps 12] [--others 24] [--repeats 3] [--samples 100] [--out DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.store import Store
from harness.store.synthetic import SyntheticRun, write_runs

SIZES = [70e6, 160e6, 410e6, 1e9, 1.4e9, 2.8e9, 6.9e9, 12e9]
TASKS = {"finance_sentiment": (["acc", "acc_norm"], "none"), "finance_numeric": (["exact_match"], "extract-number"),
         "finance_headline": (["acc"], "none")}


def synthetic_runs(args: argparse.Namespace) -> list[SyntheticRun]:
    """Runs whose accuracy grows with size and training step, plus noise."""
    rng = np.random.default_rng(0)
    models = [(f"pythia-{size / 1e9:g}b" if size >= 1e9 else f"pythia-{size / 1e6:g}m", "pythia", int(size),
               f"step{step}") for size in SIZES[:args.sizes]
              for step in np.linspace(1000, 143000, args.steps).astype(int)]
    models += [(f"other-{i}", ["llama-2", "mistral", "orca-2"][i % 3], int(7e9 * (1 + i % 3)), None)
               for i in range(args.others)]
    runs = []
    for repeat in range(args.repeats):
        for name, family, parameters, revision in models:
            step = int(revision[4:]) if revision else 143000
            skill = 0.3 + 0.05 * np.log10(parameters / 1e7) + 0.1 * step / 143000
            for task, (metrics, filter_key) in TASKS.items():
                outcomes = {m: list((rng.random(args.samples) < skill).astype(float)) for m in metrics}
                runs.append(SyntheticRun(name, task, outcomes, family=family, parameters=parameters, revision=revision,
                                         filter=filter_key, samples_per_s=float(rng.uniform(5, 50)),
                                         age_s=float(args.repeats - repeat)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--others", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--out", help="keep the site in this folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store.duckdb")
        runs = synthetic_runs(args)
        started = time.perf_counter()
        write_runs(store, runs)
        fill = time.perf_counter() - started
        out = Path(args.out) if args.out else Path(tmp) / "site"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "leaderboard", "llm-2023", "--out", str(out),
                               "--db", str(store.path)], capture_output=True, text=True)
        build = time.perf_counter() - started
        if proc.returncode:
            sys.exit(proc.stderr)
        pages = len(list((out / "runs").iterdir()))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"store: {len(runs)} runs, {len(runs) * args.samples} samples (filled in {fill:.1f} s)")
        print(f"harness leaderboard llm-2023 --out: {build:.2f} s wall in a fresh process "
              f"({proc.stderr.strip().splitlines()[-1]})")
        print(f"site: {pages} run pages, {size / 1e6:.1f} MB; {build / len(runs) * 1e3:.2f} ms per stored run, "
              f"{build / pages * 1e3:.2f} ms per run page")


if __name__ == "__main__":
    main()
