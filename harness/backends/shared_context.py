"""Shared-context scoring: run each context once, then score all of its continuations.

lm-eval's ``hf`` model runs ``context + continuation`` once per answer choice. Here
a batch of distinct contexts is run once (left-padded, with explicit positions)
and its KV cache is gathered row by row, so that every continuation of a context
reuses it; only the continuation tokens are run a second time. Log-softmax is
taken only at the scored positions. The first continuation token is scored from
the context's last position, exactly where lm-eval scores it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

# (context tokens, [(position in the request list, continuation tokens), ...])
Group = tuple[tuple[int, ...], list[tuple[int, list[int]]]]


def _left_pad(rows: Sequence[Sequence[int]], device: str) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row):] = 1
    return ids.to(device), mask.to(device)


def _scores(logprobs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per scored position: the target's log-probability and whether it is the argmax."""
    return logprobs.gather(1, targets[:, None])[:, 0], logprobs.argmax(dim=-1) == targets


@torch.no_grad()
def score_groups(model: torch.nn.Module, groups: Sequence[Group], device: str) -> list[tuple[int, float, bool]]:
    """Score every continuation of every group; returns (position, log-likelihood, is_greedy)."""
    contexts = [list(ctx) for ctx, _ in groups]
    ids, mask = _left_pad(contexts, device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    first = F.log_softmax(out.logits[:, -1, :].double(), dim=-1)  # next-token distribution after each context

    rows = [(g, pos, cont) for g, (_, conts) in enumerate(groups) for pos, cont in conts]
    row_group = torch.tensor([g for g, _, _ in rows], device=device)
    first_tokens = torch.tensor([cont[0] for _, _, cont in rows], device=device)
    totals, greedy = _scores(first[row_group], first_tokens)
    totals, greedy = totals.clone(), greedy.clone()

    tail = max(len(cont) for _, _, cont in rows) - 1
    if tail > 0:
        cache = out.past_key_values
        for layer in cache.layers:
            layer.batch_select_indices(row_group)
        tail_ids = torch.zeros((len(rows), tail), dtype=torch.long)
        tail_mask = torch.zeros((len(rows), tail), dtype=torch.long)
        for i, (_, _, cont) in enumerate(rows):
            tail_ids[i, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
            tail_mask[i, : len(cont) - 1] = 1
        tail_ids, tail_mask = tail_ids.to(device), tail_mask.to(device)
        full_mask = torch.cat([mask[row_group], tail_mask], dim=1)
        tail_positions = (positions[row_group, -1:] + 1) + torch.arange(tail, device=device)[None, :]
        logits = model(input_ids=tail_ids, attention_mask=full_mask, position_ids=tail_positions,
                       past_key_values=cache, use_cache=True).logits
        # scored positions only: token t+1 of a continuation is predicted at its position t
        row_idx, pos_idx = tail_mask.nonzero(as_tuple=True)
        targets = torch.tensor([rows[r][2][p + 1] for r, p in zip(row_idx.tolist(), pos_idx.tolist())],
                               device=device)
        token_lp, token_greedy = _scores(F.log_softmax(logits[row_idx, pos_idx].double(), dim=-1), targets)
        totals.index_add_(0, row_idx, token_lp)
        misses = torch.zeros(len(rows), dtype=torch.long, device=device)
        misses.index_add_(0, row_idx, (~token_greedy).long())
        greedy &= misses == 0
    return [(pos, float(total), bool(g)) for (_, pos, _), total, g in zip(rows, totals.tolist(), greedy.tolist())]
