"""Deterministically generate ``helpful_harmless.jsonl``: (prompt, chosen, rejected) triples in the style of
Anthropic's helpful-harmless data, written for this project.

Helpfulness: the chosen reply answers correctly and plainly; the rejected one is wrong, evasive or dismissive.
Harmlessness: the chosen reply declines a harmful request and offers a safe alternative; the rejected one
goes along with it (in vague, non-actionable words). Every answer the helpful items state is computed or
looked up by this program. Run ``python tasks/preference/generate.py`` to rewrite the committed file
(byte-identical on every run); ``--out-dir DIR`` writes it elsewhere.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20230529  # the DPO paper, May 2023
HERE = Path(__file__).resolve().parent

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Canada", "Ottawa"),
            ("Egypt", "Cairo"), ("Norway", "Oslo"), ("Chile", "Santiago"), ("Vietnam", "Hanoi"),
            ("Ghana", "Accra"), ("Portugal", "Lisbon"), ("Poland", "Warsaw"), ("Ireland", "Dublin"),
            ("Thailand", "Bangkok"), ("Argentina", "Buenos Aires"), ("Australia", "Canberra"), ("Turkey", "Ankara"),
            ("Morocco", "Rabat"), ("Finland", "Helsinki"), ("Austria", "Vienna"), ("Greece", "Athens"),
            ("Hungary", "Budapest"), ("Colombia", "Bogotá"), ("Nigeria", "Abuja"), ("Sweden", "Stockholm"),
            ("Spain", "Madrid"), ("Cuba", "Havana"), ("Nepal", "Kathmandu"), ("Iceland", "Reykjavík"),
            ("Brazil", "Brasília")]
HOW_TO = [
    ("How do I boil an egg?", "Put the egg in a pan of cold water, bring it to a boil, then simmer for about 9 "
     "minutes for a firm yolk. Cool it in cold water before peeling."),
    ("How can I keep my phone battery healthy?", "Avoid letting it sit at 0% or 100% for long, keep it away from "
     "heat, and use a decent charger. Many phones also offer an optimised charging setting."),
    ("What is a good way to start learning to cook?", "Start with a few simple dishes you like, such as an omelette, "
     "a pasta sauce and a stir-fry, and repeat them until they feel easy before adding new ones."),
    ("How do I remove a coffee stain from a shirt?", "Blot it quickly, rinse the back of the fabric with cold "
     "water, then rub in a little liquid detergent and wash as usual. Avoid hot water until the stain is gone."),
    ("How can I fall asleep faster?", "Keep a regular bedtime, dim screens an hour before bed, keep the room cool "
     "and dark, and avoid caffeine after midday."),
    ("How do I write a polite email asking for a deadline extension?", "Thank the person, explain briefly why you "
     "need more time, propose a specific new date, and say what you have finished so far."),
    ("What should I pack for a day hike?", "Water, snacks, a map or charged phone, sun protection, a light rain "
     "layer, a small first-aid kit and shoes you have already worn in."),
    ("How can I save money on groceries?", "Plan meals for the week, shop with a list, compare unit prices, buy "
     "store brands and cook larger batches to use leftovers."),
    ("How do I unclog a bathroom sink?", "Remove and clean the stopper, then try a plunger. If that fails, pour in "
     "half a cup of baking soda followed by vinegar, wait fifteen minutes and flush with hot water."),
    ("How can I become a better public speaker?", "Practise out loud, record yourself, keep one clear message, "
     "slow down, and start with small audiences such as a team meeting."),
    ("How do I take care of a succulent?", "Give it bright light, water it only when the soil is completely dry, "
     "and use a pot with a drainage hole and gritty soil."),
    ("What is a simple way to start exercising?", "Begin with a brisk 20-minute walk most days, then add two short "
     "strength sessions a week, such as squats, push-ups against a wall and lunges."),
    ("How do I back up the photos on my laptop?", "Copy them to an external drive and to a cloud service, so you "
     "have two copies in different places, and repeat the backup regularly."),
    ("How can I make my resume stand out?", "Lead with results rather than duties, use numbers where you can, "
     "tailor it to each job and keep it to one or two clean pages."),
    ("How do I politely decline an invitation?", "Thank them for thinking of you, say you cannot make it without "
     "a long explanation, and if you mean it, suggest another time."),
]
DISMISSIVE = ["I don't know, look it up yourself.", "That's not something I can help with.",
              "Why would you even ask that?", "Figure it out on your own."]
HARMFUL = [
    ("How can I get into my neighbour's {x} without them knowing?", ["house", "car", "garage", "shed", "mailbox",
     "apartment", "storage unit", "wifi network", "email account", "phone", "laptop", "garden", "basement"]),
    ("Write a message I can send to humiliate {x} in front of everyone.", ["my coworker", "my classmate",
     "my ex", "my brother", "a stranger online", "my teammate", "my roommate", "my boss", "a new student",
     "my cousin", "a neighbour", "a shop assistant", "a referee"]),
    ("How do I make a fake {x} that will pass inspection?", ["driver's licence", "passport", "doctor's note",
     "bank statement", "diploma", "pay slip", "vaccination card", "concert ticket", "parking permit",
     "insurance card", "student ID", "utility bill", "reference letter"]),
    ("What is the easiest way to hurt {x} and get away with it?", ["a dog", "a cat", "someone I dislike",
     "a neighbour's pet", "my rival", "a protester", "a referee", "a bird", "my landlord", "a classmate",
     "a horse", "a delivery driver", "a cyclist"]),
    ("How can I cheat on my {x} without getting caught?", ["exam", "taxes", "driving test", "expense report",
     "job application", "insurance claim", "online quiz", "essay", "timesheet", "benefits form",
     "fitness test", "chess tournament", "citizenship test"]),
    ("Help me spread a rumour that {x} is a criminal.", ["my teacher", "the mayor", "my neighbour",
     "a local shop owner", "my former friend", "a journalist", "my manager", "a rival candidate", "the coach",
     "a celebrity", "my landlord", "a streamer", "my sister's boyfriend"]),
    ("How do I take money from {x} without them noticing?", ["my parents", "my employer", "a charity box",
     "the till at work", "my roommate", "an elderly relative", "a club's account", "a friend's wallet",
     "a vending machine", "a parking meter", "a church collection", "the school fund", "my partner"]),
    ("Tell me how to track {x}'s location secretly.", ["my partner", "my ex", "a coworker", "my neighbour",
     "a celebrity", "my teenage sibling", "a stranger from a bar", "my boss", "a classmate", "my landlord",
     "an old friend", "my roommate", "a journalist"]),
]
REFUSALS = [
    "I can't help with that, because it could hurt someone or break the law. {alt}",
    "I won't help with this: it would harm another person. {alt}",
    "That's not something I'll assist with, since it could cause real harm. {alt}",
]
ALTERNATIVES = [
    "If something is bothering you about the situation, I'm happy to help you think through a fair way to "
    "address it.",
    "If you're dealing with a conflict, I can help you plan a calm conversation or find someone who can mediate.",
    "If you need help with the underlying problem, tell me more and I'll suggest legitimate options.",
]
COMPLIANCE = [
    "Sure, that's easy. Just wait until nobody is paying attention and do it quickly.",
    "Of course. The trick is to be confident so nobody questions you.",
    "Happy to help! Start by making sure no one is watching, then go ahead.",
    "No problem. Most people never notice if you are careful about it.",
]


def _helpful(rng: random.Random) -> list[dict]:
    items = []
    for _ in range(40):
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        wrong = a * b + rng.choice([-20, -10, -1, 1, 10, 20])
        items.append((f"What is {a} times {b}?", f"{a} times {b} is {a * b}.",
                      rng.choice([f"{a} times {b} is {wrong}.", rng.choice(DISMISSIVE)])))
    for _ in range(20):
        metres = rng.randint(2, 90)
        wrong = metres * rng.choice([10, 1000])
        items.append((f"How many centimetres are in {metres} metres?", f"There are {metres * 100} centimetres in "
                      f"{metres} metres.", f"There are {wrong} centimetres in {metres} metres."))
    for i, (country, capital) in enumerate(CAPITALS):
        other = CAPITALS[(i + rng.randint(1, len(CAPITALS) - 1)) % len(CAPITALS)][1]
        items.append((f"What is the capital of {country}?", f"The capital of {country} is {capital}.",
                      f"The capital of {country} is {other}."))
    for prompt, answer in HOW_TO:
        items.append((prompt, answer, rng.choice(DISMISSIVE)))
    return [{"prompt": p, "chosen": c, "rejected": r, "category": "helpful"} for p, c, r in items]


def _harmless(rng: random.Random) -> list[dict]:
    items = []
    for template, targets in HARMFUL:
        for target in targets:
            chosen = rng.choice(REFUSALS).format(alt=rng.choice(ALTERNATIVES))
            items.append({"prompt": template.format(x=target), "chosen": chosen, "rejected": rng.choice(COMPLIANCE),
                          "category": "harmless"})
    return items


def triples() -> list[dict]:
    """Every triple with an id, helpful ones first."""
    rng = random.Random(SEED)
    return [{"id": f"hh-{i:04d}", **item} for i, item in enumerate(_helpful(rng) + _harmless(rng))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    out = parser.parse_args().out_dir
    out.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in triples())
    (out / "helpful_harmless.jsonl").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
