"""The OpenAI-compatible backend: any server speaking ``/v1/completions`` (``vllm serve``, TGI, ...).

Log-likelihoods use completions with ``echo`` and ``logprobs`` over the prompt, as
lm-eval's ``local-completions`` model does; when the model's tokenizer is available
locally the prompt is sent as token ids split with lm-eval's rules, so the scored
tokens are exactly those of the local backends. Generation uses completions, or
chat completions with ``--model-args api=chat``. Requests run concurrently (a
limit), time out, and are retried with exponential backoff on 429 and 5xx.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.backends.base import Arg, BatchResult, GenerationRequest, LoglikelihoodRequest, check_args
from harness.backends.rolling import rolling_loglikelihoods
from harness.backends.tokenization import LmEvalTokenization
from harness.errors import HarnessError
from harness.redact import redact
from harness.models.resolve import ResolvedModel

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class ServerError(HarnessError):
    """The server refused or failed a request for good."""


class OpenAIBackend:
    """A model behind an OpenAI-compatible HTTP API."""

    name = "openai"
    args = {"api": Arg(str, choices=("completions", "chat")), "api_key_env": Arg(str, changes_outputs=False),
            "max_concurrency": Arg(int, changes_outputs=False, minimum=1),
            "timeout": Arg(float, changes_outputs=False, minimum=0, exclusive_minimum=True),
            "max_retries": Arg(int, changes_outputs=False, minimum=0), "batch_requests": Arg(bool),
            "max_length": Arg(int, minimum=2), "add_bos_token": Arg(bool), "prefix_token_id": Arg(int, minimum=0)}

    @classmethod
    def planned(cls, model: ResolvedModel, *, device: str, dtype: str, model_args: dict[str, Any]) -> dict[str, Any]:
        """A server: no local device or dtype; the context length is ``max_length`` (default 2048)."""
        return {"device": "remote", "dtype": "server", "max_length": int(model_args.get("max_length", 2048))}

    def __init__(self, model: ResolvedModel, *, device: str = "auto", dtype: str = "auto", batch_size: int = 8,
                 model_args: dict[str, Any] | None = None, base_url: str | None = None) -> None:
        import requests

        args = dict(model_args or {})
        check_args(self.name, self.args, args)
        if not base_url:
            raise HarnessError("--backend openai needs --base-url, e.g. http://localhost:8000/v1")
        from harness.net import check_reachable, url_host_port

        check_reachable(*url_host_port(base_url), "the server at", "start it, or check --base-url")
        self.base_url = base_url.rstrip("/")
        self.model_name = model.name
        self.resolved = model
        self.api = str(args.get("api", "completions"))
        if self.api not in ("completions", "chat"):
            raise HarnessError(f"--model-args api={self.api}: use completions or chat")
        key_env = str(args.get("api_key_env", "OPENAI_API_KEY"))
        self.api_key = os.environ.get(key_env)
        self.max_concurrency = int(args.get("max_concurrency", 4))
        self.timeout = float(args.get("timeout", 120))
        self.max_retries = int(args.get("max_retries", 5))
        self.batch_size = batch_size
        self.session = requests.Session()
        self.tokenizer = None
        self.tokens: LmEvalTokenization | None = None
        if model.path:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(model.path)
            self.tokens = LmEvalTokenization(self.tokenizer, args.get("add_bos_token"), args.get("prefix_token_id"))
        self.tokenizer_name = model.path or model.name
        self.max_length = int(args.get("max_length", 2048))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "device": "remote", "dtype": "server", "base_url": redact(self.base_url),
                "api": self.api, "max_length": self.max_length, "batch_size": self.batch_size}

    def apply_chat_template(self, history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        if self.tokenizer is None or not self.tokenizer.chat_template:
            raise HarnessError(f"no local chat template for {self.model_name!r}; use --model-args api=chat instead")
        return self.tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=add_generation_prompt)

    # -- HTTP -------------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with a timeout, retrying 429/5xx and connection errors with exponential backoff."""
        import requests

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.base_url}/{path}"
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.post(url, json=payload, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.max_retries:
                    raise ServerError(f"{redact(url)} did not answer after {attempt + 1} tries: {type(exc).__name__}") from exc
                self._sleep(attempt, None)
                continue
            if response.status_code in _RETRY_STATUS and attempt < self.max_retries:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise ServerError(f"{redact(url)} answered {response.status_code}: {response.text[:300]}")
            return response.json()
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, retry_after: str | None) -> None:
        try:
            delay = float(retry_after) if retry_after else 0.5 * 2 ** attempt
        except ValueError:
            delay = 0.5 * 2 ** attempt
        time.sleep(min(delay, 30.0) * (1 + random.random() * 0.1))

    def _map(self, fn, batches: list) -> Iterator[tuple[Any, Any]]:
        """Run ``fn`` over batches with at most ``max_concurrency`` in flight, yielding in completion order."""
        from concurrent.futures import as_completed

        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            futures = {pool.submit(fn, batch): batch for batch in batches}
            for future in as_completed(futures):
                yield futures[future], future.result()

    # -- log-likelihood ---------------------------------------------------------------------------
    def _require_tokens(self) -> LmEvalTokenization:
        if self.tokens is None:
            raise HarnessError(f"log-likelihoods through --backend openai need {self.model_name!r}'s tokenizer "
                               "locally (a registry name, hub id in the cache, or checkpoint folder)")
        if self.api != "completions":
            raise HarnessError("log-likelihoods need the completions endpoint (echo + logprobs); drop api=chat")
        return self.tokens

    def _score(self, items: list[tuple[int, list[int], list[int]]]) -> list[tuple[float, bool]]:
        prompts = [(ctx + cont)[-(self.max_length + 1):] for _, ctx, cont in items]
        reply = self._post("completions", {"model": self.model_name, "prompt": prompts, "max_tokens": 1,
                                           "temperature": 0.0, "echo": True, "logprobs": 1})
        choices = sorted(reply.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != len(items) or any(not (c.get("logprobs") or {}).get("token_logprobs") for c in choices):
            raise ServerError(f"{redact(self.base_url)} did not return prompt log-probabilities (completions with echo and "
                              "logprobs), which log-likelihood tasks need; use a server that supports them "
                              "(vllm serve does) or generation tasks only")
        results = []
        for (_, _, cont), prompt, choice in zip(items, prompts, choices, strict=True):
            logprobs, scored = choice["logprobs"], slice(len(prompt) - len(cont), len(prompt))
            total = float(sum(logprobs["token_logprobs"][scored]))
            ranked = choice.get("prompt_logprobs")  # vLLM's extension: ranks by token id
            if ranked:
                greedy = all(pos[str(tok)]["rank"] == 1 for pos, tok in zip(ranked[scored], cont))
            else:  # OpenAI's format: the most likely token's text at each position
                greedy = all(top and max(top, key=top.get) == text
                             for top, text in zip(logprobs["top_logprobs"][scored], logprobs["tokens"][scored]))
            results.append((total, greedy))
        return results

    def _scored(self, keyed: list[tuple[int, list[int], list[int]]]) -> Iterator[BatchResult]:
        batches = [keyed[i: i + self.batch_size] for i in range(0, len(keyed), self.batch_size)]
        for batch, scores in self._map(self._score, batches):
            yield [pos for pos, _, _ in batch], scores

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> Iterator[BatchResult]:
        tokens = self._require_tokens()
        yield from self._scored([(pos, *tokens.encode_pair(ctx, cont)) for pos, (ctx, cont) in enumerate(requests)])

    def loglikelihood_rolling(self, texts: Sequence[str]) -> Iterator[BatchResult]:
        yield from rolling_loglikelihoods(self._require_tokens(), texts, self.max_length, self._scored)

    # -- generation -------------------------------------------------------------------------------
    def _generate_one(self, request: GenerationRequest) -> str:
        from lm_eval.models.utils import normalize_gen_kwargs, postprocess_generated_text

        context, raw = request
        kwargs = normalize_gen_kwargs(raw, 256)
        until = kwargs.pop("until", None) or []
        payload: dict[str, Any] = {"model": self.model_name, "max_tokens": kwargs.pop("max_gen_toks"),
                                   "temperature": kwargs.pop("temperature", 0.0) if kwargs.pop("do_sample", False)
                                   else 0.0}
        if until:
            payload["stop"] = until[:4]  # the OpenAI API takes at most four stop sequences
        payload.update({k: v for k, v in kwargs.items() if k in ("top_p", "seed")})
        if self.api == "chat":
            reply = self._post("chat/completions", payload | {"messages": [{"role": "user", "content": context}]})
            text = reply["choices"][0]["message"]["content"] or ""
        else:
            prompt: Any = self.tokens.tok_encode(context) if self.tokens else context
            if self.tokens:
                prompt = prompt[-(self.max_length - payload["max_tokens"]):]
            text = self._post("completions", payload | {"prompt": prompt})["choices"][0]["text"]
        return postprocess_generated_text(generation=text, stop=until, think_end_token=None)

    def generate_until(self, requests: Sequence[GenerationRequest]) -> Iterator[BatchResult]:
        batches = [list(range(i, min(i + self.batch_size, len(requests))))
                   for i in range(0, len(requests), self.batch_size)]
        for positions, texts in self._map(lambda ps: [self._generate_one(requests[p]) for p in ps], batches):
            yield positions, texts

    def close(self) -> None:
        self.session.close()
