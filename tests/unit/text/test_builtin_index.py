"""The cached index of lm-eval's built-in tasks: a narrow TaskManager resolves names exactly as lm-eval's full index."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from harness.errors import UnknownNameError
from harness.text.builtin_index import _state, agrees, builtin_index
from harness.text.tasks import find_manager, task_manager

# A group of groups (mmlu), a tag (ai2_arc), a plain task (hellaswag) and a group whose tasks lie in several of
# lm-eval's folders (openllm).
NAMES = ["mmlu", "ai2_arc", "hellaswag", "openllm"]


@pytest.fixture(scope="module")
def full():
    """lm-eval's full index over the harness's folders, as the harness built it before the cache."""
    return task_manager(None, with_builtins=True)


def _entry(manager, name: str) -> tuple:
    entry = manager.task_index[name]
    path = None if entry.yaml_path is None else Path(entry.yaml_path).resolve()
    return entry.kind, path, sorted(entry.tags), entry.cfg


@pytest.mark.parametrize("name", NAMES)
def test_narrow_manager_resolves_every_reached_name_as_the_full_index(name: str, full) -> None:
    narrow = find_manager([name], None)
    index = builtin_index()
    reached = index.reached([name], set(task_manager(None).all_tasks))
    assert len(narrow.all_tasks) < len(full.all_tasks) / 10  # it is narrow
    assert name in reached
    for each in reached:
        assert _entry(narrow, each) == _entry(full, each), each


def test_own_folder_keeps_precedence_over_a_builtin_name(tmp_path: Path, full) -> None:
    """A user's YAML named like one of lm-eval's tasks wins, in the narrow index as in the full one."""
    (tmp_path / "arc_easy.yaml").write_text(
        "task: arc_easy\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: none.jsonl\n"
        "test_split: test\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_target: 0\n"
        "doc_to_choice: ['a', 'b']\n")
    narrow = find_manager(["ai2_arc"], [str(tmp_path)])
    assert Path(narrow.task_index["arc_easy"].yaml_path).resolve() == (tmp_path / "arc_easy.yaml").resolve()
    assert narrow.task_index["arc_challenge"].yaml_path == full.task_index["arc_challenge"].yaml_path


def test_a_narrow_index_that_disagrees_is_detected() -> None:
    index = builtin_index()
    reached = index.reached(["ai2_arc"], set())
    narrow = find_manager(["ai2_arc"], None)
    assert agrees(narrow, index, reached)
    moved = dataclasses.replace(index.entries["arc_easy"], path="arc/elsewhere.yaml")
    assert not agrees(narrow, dataclasses.replace(index, entries=index.entries | {"arc_easy": moved}), reached)
    fewer = dataclasses.replace(index.entries["ai2_arc"], reaches=("arc_easy",))
    assert not agrees(narrow, dataclasses.replace(index, entries=index.entries | {"ai2_arc": fewer}), reached)


def test_unknown_builtin_name_gets_a_suggestion_from_the_cache() -> None:
    with pytest.raises(UnknownNameError, match="unknown task 'hellaswagg'.*did you mean 'hellaswag'"):
        find_manager(["hellaswagg", "finance"], None)


def test_folder_state_changes_with_any_yaml(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    yaml = tmp_path / "a" / "t.yaml"
    yaml.write_text("task: t\n")
    (tmp_path / "a" / "notes.txt").write_text("x")
    before = _state(tmp_path)
    (tmp_path / "a" / "notes.txt").write_text("changed")  # not a YAML: the index cannot change
    assert _state(tmp_path) == before
    yaml.write_text("task: renamed\n")
    os.utime(yaml, ns=(1, 1))
    assert _state(tmp_path) != before


def test_the_cache_is_written_once_and_read_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import harness.text.builtin_index as module

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    built = {"x": module.BuiltinEntry("task", "x/x.yaml", ()), "t": module.BuiltinEntry("tag", None, ("x",))}
    monkeypatch.setattr(module, "_build", lambda root: built)
    assert builtin_index().entries == built
    cached = list((tmp_path / "lm_eval_index").glob("*.json"))
    assert len(cached) == 1
    monkeypatch.setattr(module, "_build", lambda root: pytest.fail("the cached index was built again"))
    assert builtin_index().entries == built
    rebuilt = {"y": module.BuiltinEntry("task", "y/y.yaml", ())}
    monkeypatch.setattr(module, "_build", lambda root: rebuilt)
    for damaged in ("[1, 2]", "{not json", '{"x": 3}'):  # unreadable caches are written again
        cached[0].write_text(damaged)
        assert builtin_index().entries == rebuilt
