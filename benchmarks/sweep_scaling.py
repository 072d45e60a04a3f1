"""Wall time of one sweep on a local Ray cluster with 1 and 2 workers, against the local executor.

Every measured sweep writes a fresh store, so nothing is skipped; a warm-up sweep first starts the cluster's
worker processes (their imports are paid once per cluster, not per sweep). On Ray each job holds one CPU
(Ray sets one thread per job); the local executor runs jobs one after another in this process with torch's
default threads.

    python benchmarks/sweep_scaling.py [--models tiny-pythia,tiny-llama-2,tiny-mistral,tiny-mixtral]
                                       [--tasks finance] [--limit 100] [--cpus 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def timed_sweep(folder: Path, name: str, args: argparse.Namespace, **options) -> float:
    from harness import api

    start = time.perf_counter()
    result = api.sweep(args.models, args.tasks, limit=args.limit, quiet=True, db=folder / f"{name}.duckdb",
                       log=lambda _: None, **options)
    seconds = time.perf_counter() - start
    statuses = {job["status"] for job in result["jobs"]}
    assert statuses == {"finished"}, f"{name}: {statuses}"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny-pythia,tiny-llama-2,tiny-mistral,tiny-mixtral")
    parser.add_argument("--tasks", default="finance")
    parser.add_argument("--limit", type=float, default=100)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import ray

    from harness.distributed.cluster import forwarded_env

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": forwarded_env()})
    jobs = len(args.models.split(",")) * len(args.tasks.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed_sweep(folder, "warm-up", args, executor="ray", workers=args.cpus)
        local = timed_sweep(folder, "local", args, executor="local")
        one = timed_sweep(folder, "ray-1", args, executor="ray", workers=1)
        two = timed_sweep(folder, "ray-2", args, executor="ray", workers=2)
    ray.shutdown()
    print(f"sweep of {jobs} jobs ({args.models} × {args.tasks}, limit {args.limit:g}) on {os.cpu_count()} CPUs")
    print(f"local executor (one process):  {local:7.2f} s")
    print(f"ray, 1 worker:                 {one:7.2f} s")
    print(f"ray, 2 workers:                {two:7.2f} s")
    print(f"2 workers vs 1:                {one / two:7.2f}x")
    print(f"2 workers vs local executor:   {local / two:7.2f}x")


if __name__ == "__main__":
    main()
