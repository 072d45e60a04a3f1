"""lm-eval's tokenisation rules for log-likelihood requests, shared by every local backend.

Following lm-eval's ``TemplateLM``/``HFLM``: trailing spaces of a context move into
the continuation, ``context + continuation`` is encoded whole and split after the
context's own tokens, an empty context becomes the prefix token (BOS, else EOS),
and no second BOS is added to text that already starts with one.
"""

from __future__ import annotations

from typing import Any


class LmEvalTokenization:
    """Encode requests exactly as lm-eval's ``hf`` model does."""

    def __init__(self, tokenizer: Any, add_bos_token: bool | None = None, prefix_token_id: int | None = None):
        self.tokenizer = tokenizer
        self.add_bos_token = add_bos_token
        self._prefix_token_id = prefix_token_id

    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        if self._prefix_token_id is not None:
            return int(self._prefix_token_id)
        if self.tokenizer.bos_token_id is not None:
            return self.tokenizer.bos_token_id
        return self.tokenizer.eos_token_id

    def special_tokens(self, text: str, add_special_tokens: bool | None = None) -> dict[str, bool]:
        """The ``add_special_tokens`` argument lm-eval would pass for ``text``."""
        if add_special_tokens is not None:
            return {"add_special_tokens": add_special_tokens}
        bos = self.tokenizer.decode(self.prefix_token_id)
        if bos and text.startswith(bos):
            return {"add_special_tokens": False}
        return {} if self.add_bos_token is None else {"add_special_tokens": bool(self.add_bos_token)}

    def tok_encode(self, text: str, add_special_tokens: bool | None = None) -> list[int]:
        """Token ids of ``text``."""
        return self.tokenizer.encode(text, **self.special_tokens(text, add_special_tokens))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Token ids of (context, continuation), split where lm-eval splits them."""
        if context == "":
            cont = self.tok_encode(continuation, add_special_tokens=False)
            if self.prefix_token_id != cont[0]:
                return [self.prefix_token_id], cont
            return cont[:1], cont[1:]
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.tok_encode(context + continuation)
        ctx = self.tok_encode(context)
        return ctx, whole[len(ctx):]

    def rolling_windows(self, text: str, max_length: int) -> tuple[list[tuple[list[int], list[int]]], int]:
        """lm-eval's disjoint rolling windows over ``text`` and its token count."""
        from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

        ids = self.tok_encode(text)
        windows = [make_disjoint_window(w) for w in get_rolling_token_windows(
            token_list=ids, prefix_token=self.prefix_token_id, max_seq_len=max_length, context_len=1)]
        return windows, len(ids)
