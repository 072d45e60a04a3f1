"""The byte-level BPE tokenizer of the tiny twins, trained offline on a fixed corpus.

The trained tokenizer is committed (``data/tiny-bpe.json``) so that every machine
uses the same one; ``python -m harness.models.tiny_tokenizer`` retrains it and a
test checks that retraining reproduces the committed file.
"""

from __future__ import annotations

from pathlib import Path

VOCAB_SIZE = 1024
SPECIAL_TOKENS = ["<|endoftext|>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>",
                  "<|system|>", "<|user|>", "<|assistant|>"]
COMMITTED = Path(__file__).parent / "data" / "tiny-bpe.json"

_CORPUS = """\
Revenue rose 12% year over year to $4.2 billion, while operating margin widened to 18.5 percent.
Net income fell sharply after the company recorded an impairment charge on its retail assets.
The board approved a quarterly dividend of $0.45 per share and a new share buyback program.
Shares of the bank dropped 7% on Tuesday as analysts cut their price targets.
Earnings per share were 2.31 dollars, compared with 1.98 dollars in the prior year.
The compound annual growth rate of sales from 2019 to 2023 was about 9 percent.
Gross profit divided by revenue gives the gross margin; debt divided by equity gives leverage.
Question: What was the change in operating income between 2022 and 2023? Answer: 145
Is the sentiment of this sentence positive, negative or neutral? Answer: positive
Does the news headline talk about the price of gold going up? Yes. No.
The quick brown fox jumps over the lazy dog while the market opens higher in London and New York.
Inflation, interest rates, bonds, equities, commodities, currencies, oil, copper, silver and gold.
Alice is taller than Bob. Bob is taller than Carol. Who is the shortest? Let's think step by step.
Today is March 3, 2021. What is the date one week from today? The answer is March 10, 2021.
Take 3 steps forward. Turn around. Take 3 steps forward. Do you return to the starting point?
A train travels 60 miles per hour for 2.5 hours. How far does it go? The answer is 150.
Which of the following is true? The Earth orbits the Sun. Water boils at 100 degrees Celsius.
You are a helpful assistant. Answer the question truthfully and concisely.
0 1 2 3 4 5 6 7 8 9 10 11 12 20 25 50 75 100 250 500 1,000 10,000 1.5 0.25 -3 (4) [5] {6}
the of and to in is for that on with as by at from this are was be or an it not which has
"""


def train() -> str:
    """Train the tokenizer on the fixed corpus and return its JSON."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS.splitlines() * 4, trainer=trainer)
    return tokenizer.to_str(pretty=True)


if __name__ == "__main__":
    COMMITTED.parent.mkdir(parents=True, exist_ok=True)
    COMMITTED.write_text(train() + "\n", encoding="utf-8")
    print(f"wrote {COMMITTED}")
