"""One row per context with all of its continuations (a block attention mask) scores each continuation as
its own ``context + continuation`` pass does, on the real architecture classes, including a sliding window
shorter than the prompts."""

from __future__ import annotations

import pytest
import torch

from harness.backends.shared_context import packs, score_packed

SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, vocab_size=97,
             max_position_embeddings=256)


def _model(kind: str, attention: str = "sdpa") -> torch.nn.Module:
    import transformers

    torch.manual_seed(0)
    configs = {
        "gpt-neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM", {}),
        "llama": ("LlamaConfig", "LlamaForCausalLM", {"num_key_value_heads": 2}),
        "mistral": ("MistralConfig", "MistralForCausalLM", {"num_key_value_heads": 2, "sliding_window": 16}),
        "mixtral": ("MixtralConfig", "MixtralForCausalLM", {"num_local_experts": 4, "num_experts_per_tok": 2,
                                                            "num_key_value_heads": 2}),
    }
    config_class, model_class, extra = configs[kind]
    config = getattr(transformers, config_class)(**SMALL, **extra, attn_implementation=attention)
    return getattr(transformers, model_class)(config).eval()


def _reference(model: torch.nn.Module, ctx: list[int], cont: list[int]) -> tuple[float, bool]:
    """lm-eval's way: one pass over context + continuation, log-softmax over every logit."""
    with torch.no_grad():
        logits = model(torch.tensor([ctx + cont[:-1]])).logits[0, len(ctx) - 1:]
    logprobs = torch.log_softmax(logits.double(), dim=-1)
    targets = torch.tensor(cont)
    return float(logprobs.gather(1, targets[:, None]).sum()), bool((logits.argmax(-1) == targets).all())


@pytest.mark.parametrize("kind,attention", [("gpt-neox", "sdpa"), ("llama", "sdpa"), ("llama", "eager"),
                                            ("mistral", "sdpa"), ("mixtral", "sdpa")])
def test_packed_rows_score_like_one_pass_per_pair(kind, attention):
    model = _model(kind, attention)
    assert packs(model)
    generator = torch.Generator().manual_seed(1)

    def tokens(n: int) -> list[int]:
        return torch.randint(1, 97, (n,), generator=generator).tolist()

    # contexts longer than mistral's window of 16, continuations of different lengths, a one-token one
    groups = [(tuple(tokens(n)), [(10 * g + i, tokens(length)) for i, length in enumerate(lengths)])
              for g, (n, lengths) in enumerate([(40, [3, 6, 1, 4]), (25, [2]), (33, [5, 5])])]
    scored = {position: (ll, greedy) for position, ll, greedy in score_packed(model, groups, "cpu")}
    for ctx, conts in groups:
        for position, cont in conts:
            want_ll, want_greedy = _reference(model, list(ctx), cont)
            assert scored[position][0] == pytest.approx(want_ll, abs=1e-4)
            assert scored[position][1] == want_greedy


def test_models_whose_attention_takes_no_block_mask_keep_the_cache_path():
    model = _model("llama")
    model.config._attn_implementation = "flash_attention_2"
    assert not packs(model)
