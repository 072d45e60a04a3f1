"""How long planning takes, and what it imports: ``harness run ... --dry-run`` in fresh processes.

Each figure is the median of ``--repeats`` fresh interpreters (warm caches: the tiny twins are built and the
file cache is warm after a first, untimed call), split into the whole command (from interpreter start to exit)
and the planning itself (``harness.core.plan.plan``, after the imports the CLI needs). The script also checks
that planning imported no model code (``transformers.models.*.modeling_*``) and, for a plan without a chat
template, no tokenizer.

    python benchmarks/plan_time.py [--model tiny-pythia] [--task finance] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r'''
import json, sys, time
start = time.perf_counter()
from harness.core.plan import plan
from harness.core.request import RunRequest
from harness.store import Store
imported = time.perf_counter()
request = RunRequest.build(sys.argv[1], sys.argv[2], log=lambda _: None)
planned = plan(request, Store(sys.argv[3], read_only=True), fetch=False)
done = time.perf_counter()
modeling = sorted(m for m in sys.modules if m.startswith("transformers.models.") and ".modeling_" in m)
tokenizers = sorted(m for m in sys.modules if m.startswith("transformers.models.") and ".tokenization_" in m)
print(json.dumps({"imports_s": imported - start, "plan_s": done - imported, "modeling": modeling,
                  "tokenizers": tokenizers, "tasks": [t.name for t in planned.tasks]}))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-pythia")
    parser.add_argument("--task", default="finance")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    db = os.path.join(tempfile.mkdtemp(prefix="harness-plan-"), "none.duckdb")
    command = [sys.executable, "-m", "harness.cli", "run", "--model", args.model, "--task", args.task, "--db", db,
               "--dry-run"]
    subprocess.run(command, check=True, capture_output=True)  # builds the twin, warms the file cache
    whole, probes = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        whole.append(time.perf_counter() - start)
        out = subprocess.run([sys.executable, "-c", PROBE, args.model, args.task, db], check=True,
                             capture_output=True, text=True).stdout
        probes.append(json.loads(out.strip().splitlines()[-1]))
    print(f"harness run --model {args.model} --task {args.task} --dry-run, {args.repeats} fresh processes")
    print(f"  whole command:        {statistics.median(whole):.2f} s (median; min {min(whole):.2f} s)")
    print(f"  imports before plan:  {statistics.median(p['imports_s'] for p in probes):.2f} s")
    print(f"  planning itself:      {statistics.median(p['plan_s'] for p in probes):.2f} s "
          f"({len(probes[0]['tasks'])} leaf tasks)")
    print(f"  model code imported:  {probes[0]['modeling'] or 'none'}")
    print(f"  tokenizers imported:  {probes[0]['tokenizers'] or 'none'}")
    assert not os.path.exists(db), "a dry run wrote the store"


if __name__ == "__main__":
    main()
