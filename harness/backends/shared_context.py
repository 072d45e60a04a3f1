"""Shared-context scoring: run each context once, and score all of its continuations.

lm-eval's ``hf`` model runs ``context + continuation`` once per answer choice. Here a context and all of its
continuations run as one row in one forward pass (``score_packed``): the continuations follow the context, each
continuation's tokens attend to the context and to its own earlier tokens only (a block attention mask), and
each takes the positions it would have right after the context. Log-softmax is taken only at the scored
positions. The first continuation token is scored from the context's last position, exactly where lm-eval scores
it. Models whose attention cannot take such a mask (flash attention, layers mixing full and sliding attention)
use ``score_groups``: the contexts run once and their KV cache is gathered for the continuations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

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


def token_scores(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per scored position: the target's log-probability (float64) and whether it is the argmax.

    ``logit[target] - logsumexp(logits)`` is log-softmax at one entry, without materialising the
    normalised distribution over the whole vocabulary.
    """
    logits = logits.float()
    target_logits = logits.gather(1, targets[:, None])[:, 0]
    logprobs = target_logits.double() - torch.logsumexp(logits, dim=-1).double()
    return logprobs, logits.argmax(dim=-1) == targets


def _plain_head(model: torch.nn.Module) -> bool:
    """Whether logits are just the output embedding applied to the last hidden state (no scaling or capping)."""
    config = model.config
    return not any(getattr(config, name, None) for name in ("final_logit_softcapping", "logit_scale",
                                                             "output_multiplier_scale"))


def logits_at(model: torch.nn.Module, rows: torch.Tensor, positions: torch.Tensor, **inputs) -> torch.Tensor:
    """Logits at the given (row, position) pairs only: the vocabulary projection skips padding."""
    if not _plain_head(model):
        return model(**inputs).logits[rows, positions]
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # a peft model wraps it
    hidden = inner.base_model(**inputs).last_hidden_state
    return inner.get_output_embeddings()(hidden[rows, positions])


@torch.inference_mode()
def score_groups(model: torch.nn.Module, groups: Sequence[Group], device: str) -> list[tuple[int, float, bool]]:
    """Score every continuation of every group; returns (position, log-likelihood, is_greedy)."""
    contexts = [list(ctx) for ctx, _ in groups]
    ids, mask = _left_pad(contexts, device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    first = out.logits[:, -1, :]  # next-token logits after each context

    rows = [(g, pos, cont) for g, (_, conts) in enumerate(groups) for pos, cont in conts]
    row_group = torch.tensor([g for g, _, _ in rows], device=device)
    first_tokens = torch.tensor([cont[0] for _, _, cont in rows], device=device)
    totals, greedy = token_scores(first[row_group], first_tokens)
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
        # scored positions only: token t+1 of a continuation is predicted at its position t
        row_idx, pos_idx = tail_mask.nonzero(as_tuple=True)
        logits = logits_at(model, row_idx, pos_idx, input_ids=tail_ids, attention_mask=full_mask,
                            position_ids=tail_positions, past_key_values=cache, use_cache=True)
        targets = torch.tensor([rows[r][2][p + 1] for r, p in zip(row_idx.tolist(), pos_idx.tolist())],
                               device=device)
        token_lp, token_greedy = token_scores(logits, targets)
        totals.index_add_(0, row_idx, token_lp)
        misses = torch.zeros(len(rows), dtype=torch.long, device=device)
        misses.index_add_(0, row_idx, (~token_greedy).long())
        greedy &= misses == 0
    return [(pos, float(total), bool(g)) for (_, pos, _), total, g in zip(rows, totals.tolist(), greedy.tolist())]


def packs(model: torch.nn.Module) -> bool:
    """Whether ``score_packed`` can run this model: its attention takes a custom 4D mask, and every layer uses
    the same kind of attention (full, or sliding with one window)."""
    config = model.config
    kinds = set(getattr(config, "layer_types", None) or [])
    return config._attn_implementation in ("sdpa", "eager") and len(kinds) <= 1


def _block_mask(segments: torch.Tensor, positions: torch.Tensor, window: int | None,
                dtype: torch.dtype) -> torch.Tensor:
    """Additive (batch, 1, query, key) mask: a token sees earlier context tokens and earlier tokens of its own
    continuation (segment); padding (segment -1) is seen by nothing and sees itself only."""
    width = segments.shape[1]
    order = torch.arange(width, device=segments.device)
    q_seg, k_seg = segments[:, :, None], segments[:, None, :]
    allowed = ((k_seg == 0) | (k_seg == q_seg)) & (k_seg >= 0) & (order[None, None, :] <= order[None, :, None])
    if window is not None:
        allowed &= (positions[:, :, None] - positions[:, None, :]) < window
    allowed |= torch.eye(width, dtype=torch.bool, device=segments.device)[None] & (q_seg < 0)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=segments.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]


def _packed_rows(groups: Sequence[Group]) -> tuple[list[tuple[list[int], list[int], list[int]]], list[tuple]]:
    """Per group one row (tokens, positions, segment ids), and per scored token (row, index, target, request)."""
    rows, scored = [], []
    for g, (ctx, conts) in enumerate(groups):
        tokens, positions, segments = list(ctx), list(range(len(ctx))), [0] * len(ctx)
        for i, (request, cont) in enumerate(conts, 1):
            start, body = len(tokens), cont[:-1]
            tokens += body
            positions += range(len(ctx), len(ctx) + len(body))
            segments += [i] * len(body)
            queries = [len(ctx) - 1, *range(start, start + len(body))]
            scored += [(g, q, target, request) for q, target in zip(queries, cont)]
        rows.append((tokens, positions, segments))
    return rows, scored


@torch.inference_mode()
def score_packed(model: torch.nn.Module, groups: Sequence[Group], device: str) -> list[tuple[int, float, bool]]:
    """Score every continuation of every group, one row per group; returns (position, log-likelihood,
    is_greedy) per request."""
    rows, scored = _packed_rows(groups)
    width = max(len(tokens) for tokens, _, _ in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    segments = torch.full((len(rows), width), -1, dtype=torch.long)
    for r, (tokens, pos, seg) in enumerate(rows):
        ids[r, : len(tokens)] = torch.tensor(tokens)
        positions[r, : len(tokens)] = torch.tensor(pos)
        segments[r, : len(tokens)] = torch.tensor(seg)
    ids, positions, segments = ids.to(device), positions.to(device), segments.to(device)
    mask = _block_mask(segments, positions, getattr(model.config, "sliding_window", None), model.dtype)
    row_idx = torch.tensor([r for r, _, _, _ in scored], device=device)
    query_idx = torch.tensor([q for _, q, _, _ in scored], device=device)
    logits = logits_at(model, row_idx, query_idx, input_ids=ids, attention_mask=mask, position_ids=positions,
                       use_cache=False)
    token_lp, token_greedy = token_scores(logits, torch.tensor([t for _, _, t, _ in scored], device=device))
    requests = [request for _, conts in groups for request, _ in conts]
    slot = {request: i for i, request in enumerate(requests)}
    which = torch.tensor([slot[request] for _, _, _, request in scored], device=device)
    totals = torch.zeros(len(requests), dtype=torch.float64, device=device).index_add_(0, which, token_lp)
    misses = torch.zeros(len(requests), dtype=torch.long, device=device).index_add_(0, which, (~token_greedy).long())
    return [(request, float(total), bool(miss == 0))
            for request, total, miss in zip(requests, totals.tolist(), misses.tolist())]
