"""Prompt strategies for generated answers: the system-prompt families Orca 2 trained its students with.

A strategy sets the system prompt of generative tasks only: on a log-likelihood task the model writes
nothing, so the strategy would change nothing and is refused when no selected task generates.
"""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError

ANSWER_FORMAT = "End with the final answer in the form \"The answer is X.\""
STRATEGIES: dict[str, str] = {
    "direct": "You are a helpful assistant. Answer directly, without explaining your reasoning. " + ANSWER_FORMAT,
    "step-by-step": "You are a helpful assistant. Think through the problem step by step, writing each step, "
                    "before you answer. " + ANSWER_FORMAT,
    "explain-then-answer": "You are a helpful assistant. First recall the facts and rules the question depends "
                           "on and explain how they apply to it, then answer. " + ANSWER_FORMAT,
}


def system_prompts(tasks: dict[str, Any], strategy: str | None, explicit: str | None) -> dict[str, str | None]:
    """Each task's system prompt: an explicit one everywhere; else the strategy's on generative tasks."""
    if strategy is not None and strategy not in STRATEGIES:
        raise HarnessError(f"--prompt-strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    generative = [name for name, task in tasks.items() if task.get_config("output_type") == "generate_until"]
    if strategy is not None and not generative:
        raise HarnessError(f"--prompt-strategy changes only generated answers, and {', '.join(tasks)} "
                           f"{'is' if len(tasks) == 1 else 'are'} scored by log-likelihood; drop the flag "
                           "or add a generative task (e.g. reasoning_arithmetic or a ..._cot task)")
    if explicit is not None:
        return dict.fromkeys(tasks, explicit)
    return {name: STRATEGIES[strategy] if strategy and name in generative else None for name in tasks}
