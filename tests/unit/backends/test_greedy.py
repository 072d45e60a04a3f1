"""Greedy decoding with rows that leave and join the batch gives each prompt the tokens ``generate`` gives it on
its own, on the real architecture classes (float64 where they take it, so that no near-tie can flip), and the stop
decisions follow lm-eval's cut of the text."""

from __future__ import annotations

import pytest
import torch

from harness.backends import greedy
from tests.unit.backends.test_shared_context import _model


def _left_pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import PreTrainedTokenizerFast

    from harness.models.tiny import TOKENIZER_JSON

    return PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER_JSON))


@pytest.mark.parametrize("kind", ["gpt-neox", "llama", "mistral", "mixtral"])
def test_rows_leaving_and_joining_get_what_generate_gives_each_prompt(kind, tokenizer):
    model = _model(kind)
    if kind != "mixtral":  # its grouped expert matmul takes no float64; float32 margins here are far from ties
        model = model.double()
    with torch.no_grad():  # sharper attention, so that a wrong position or mask changes the tokens
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.mul_(10)
    generator = torch.Generator().manual_seed(2)
    prompts = [torch.randint(1, 97, (n,), generator=generator).tolist() for n in (30, 28, 25, 22, 20, 9, 5)]
    budgets = [12, 3, 7, 1, 9, 5, 11]  # rows finish at different steps: some leave while others wait to join
    eos = 7
    rows = [greedy.RowText(tokenizer, [], {eos}, budget) for budget in budgets]  # no stop sequences
    decoder = greedy.Decoder(model, lambda keys: _left_pad([prompts[int(k)] for k in keys]), capacity=3,
                             device="cpu")
    finished = [i for done in decoder.run([str(i) for i in range(len(prompts))], rows) for i in done]
    assert sorted(finished) == list(range(len(prompts)))
    for prompt, budget, row in zip(prompts, budgets, rows):
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                             max_new_tokens=budget, do_sample=False, eos_token_id=eos, pad_token_id=0)
        want = out[0, len(prompt):].tolist()
        assert row.tokens == want[: want.index(eos) + 1 if eos in want else budget]


def _feed(row: greedy.RowText, tokenizer, text: str) -> list[bool]:
    return [row.add(token) for token in tokenizer.encode(text, add_special_tokens=False)]


def test_a_row_ends_once_its_cut_text_can_no_longer_change(tokenizer):
    row = greedy.RowText(tokenizer, ["\n\n", "."], eos=set(), max_gen=100)
    assert _feed(row, tokenizer, "The rate rose") == [False] * len(tokenizer.encode("The rate rose"))
    assert _feed(row, tokenizer, ".")[-1]
    # "\n" may begin a "\n\n" that would cut earlier than a later "."; the row waits until it cannot
    waiting = greedy.RowText(tokenizer, ["\n\n", "x."], eos=set(), max_gen=100)
    assert not any(_feed(waiting, tokenizer, "up\nx"))
    assert _feed(waiting, tokenizer, ".")[-1]


def test_a_row_ends_at_end_of_sequence_or_its_token_budget(tokenizer):
    row = greedy.RowText(tokenizer, ["."], eos={3}, max_gen=100)
    assert not row.add(5) and row.add(3)
    capped = greedy.RowText(tokenizer, [], eos=set(), max_gen=2)
    assert not capped.add(5) and capped.add(6)


def test_only_plain_greedy_decoding_takes_this_path():
    model = _model("llama")
    assert greedy.applies(model, {"do_sample": False})
    assert not greedy.applies(model, {"do_sample": True, "temperature": 0.7})
    assert not greedy.applies(model, {"do_sample": False, "num_beams": 2})
    model.generation_config.repetition_penalty = 1.3  # a logits processor generate would apply
    assert not greedy.applies(model, {"do_sample": False})


def test_an_architecture_from_remote_code_keeps_generate():
    model = _model("llama")
    model.__class__ = type("RemoteLlama", (type(model),), {"__module__": "transformers_modules.someone.model"})
    assert not greedy.applies(model, {"do_sample": False})
