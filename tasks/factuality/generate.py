"""Write the `factuality` closed-book data: questions with every accepted answer (aliases).

The facts are tables written for this project (capitals, chemical symbols and atomic numbers, authors,
astronomy, currencies, geography, science); each becomes one question. Run
``python tasks/factuality/generate.py`` to rewrite ``closed_book_*.jsonl`` (byte-identical on every run).
The misconception items are hand-written in ``misconceptions.txt``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SEED = 20230601
HERE = Path(__file__).resolve().parent
FEWSHOT = 5

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Portugal": "Lisbon",
    "the Netherlands": "Amsterdam", "Belgium": "Brussels", "Austria": "Vienna", "Switzerland": "Bern|Berne",
    "Sweden": "Stockholm", "Norway": "Oslo", "Denmark": "Copenhagen", "Finland": "Helsinki",
    "Iceland": "Reykjavik|Reykjavík", "Ireland": "Dublin", "Poland": "Warsaw", "the Czech Republic": "Prague",
    "Hungary": "Budapest", "Greece": "Athens", "Romania": "Bucharest", "Bulgaria": "Sofia", "Serbia": "Belgrade",
    "Croatia": "Zagreb", "Ukraine": "Kyiv|Kiev", "Russia": "Moscow", "Egypt": "Cairo", "Kenya": "Nairobi",
    "Nigeria": "Abuja", "Ethiopia": "Addis Ababa", "Morocco": "Rabat", "Ghana": "Accra", "South Korea": "Seoul",
    "Japan": "Tokyo", "China": "Beijing|Peking", "India": "New Delhi|Delhi", "Pakistan": "Islamabad",
    "Bangladesh": "Dhaka|Dacca", "Thailand": "Bangkok", "Vietnam": "Hanoi|Ha Noi", "Indonesia": "Jakarta",
    "the Philippines": "Manila", "Malaysia": "Kuala Lumpur", "Iran": "Tehran|Teheran", "Iraq": "Baghdad",
    "Saudi Arabia": "Riyadh", "Argentina": "Buenos Aires", "Chile": "Santiago", "Peru": "Lima",
    "Colombia": "Bogotá|Bogota", "Venezuela": "Caracas", "Mexico": "Mexico City", "Cuba": "Havana",
    "New Zealand": "Wellington", "Afghanistan": "Kabul", "Nepal": "Kathmandu", "Mongolia": "Ulaanbaatar|Ulan Bator",
    "Syria": "Damascus", "Lebanon": "Beirut", "Jordan": "Amman", "Qatar": "Doha", "Estonia": "Tallinn",
    "Latvia": "Riga", "Lithuania": "Vilnius", "Slovakia": "Bratislava", "Slovenia": "Ljubljana",
    "Uruguay": "Montevideo", "Ecuador": "Quito", "Cambodia": "Phnom Penh", "the United Kingdom": "London",
    "the United States": "Washington, D.C.|Washington|Washington DC", "Canada": "Ottawa", "Australia": "Canberra",
    "Turkey": "Ankara", "Brazil": "Brasília|Brasilia",
}
SYMBOLS = {
    "hydrogen": "H", "helium": "He", "lithium": "Li", "carbon": "C", "nitrogen": "N", "oxygen": "O",
    "fluorine": "F", "neon": "Ne", "sodium": "Na", "magnesium": "Mg", "aluminium": "Al", "silicon": "Si",
    "phosphorus": "P", "sulfur": "S", "chlorine": "Cl", "argon": "Ar", "potassium": "K", "calcium": "Ca",
    "iron": "Fe", "copper": "Cu", "zinc": "Zn", "silver": "Ag", "tin": "Sn", "gold": "Au", "mercury": "Hg",
    "lead": "Pb", "uranium": "U", "nickel": "Ni", "cobalt": "Co", "manganese": "Mn", "chromium": "Cr",
    "titanium": "Ti", "platinum": "Pt", "iodine": "I", "bromine": "Br", "tungsten": "W", "krypton": "Kr",
    "xenon": "Xe", "radon": "Rn", "boron": "B",
}
ATOMIC_NUMBERS = ["hydrogen", "helium", "lithium", "beryllium", "boron", "carbon", "nitrogen", "oxygen", "fluorine",
                  "neon", "sodium", "magnesium", "aluminium", "silicon", "phosphorus", "sulfur", "chlorine", "argon",
                  "potassium", "calcium"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
AUTHORS = {
    "Pride and Prejudice": "Jane Austen|Austen", "Nineteen Eighty-Four": "George Orwell|Orwell",
    "Animal Farm": "George Orwell|Orwell", "Moby-Dick": "Herman Melville|Melville",
    "War and Peace": "Leo Tolstoy|Tolstoy", "Anna Karenina": "Leo Tolstoy|Tolstoy",
    "Crime and Punishment": "Fyodor Dostoevsky|Dostoevsky|Dostoyevsky",
    "The Brothers Karamazov": "Fyodor Dostoevsky|Dostoevsky|Dostoyevsky",
    "Hamlet": "William Shakespeare|Shakespeare", "Macbeth": "William Shakespeare|Shakespeare",
    "Romeo and Juliet": "William Shakespeare|Shakespeare", "Don Quixote": "Miguel de Cervantes|Cervantes",
    "the Odyssey": "Homer", "the Iliad": "Homer", "Great Expectations": "Charles Dickens|Dickens",
    "Oliver Twist": "Charles Dickens|Dickens", "A Tale of Two Cities": "Charles Dickens|Dickens",
    "Jane Eyre": "Charlotte Brontë|Charlotte Bronte", "Wuthering Heights": "Emily Brontë|Emily Bronte",
    "Frankenstein": "Mary Shelley|Mary Wollstonecraft Shelley", "Dracula": "Bram Stoker|Stoker",
    "The Great Gatsby": "F. Scott Fitzgerald|Scott Fitzgerald|Fitzgerald",
    "To Kill a Mockingbird": "Harper Lee", "The Old Man and the Sea": "Ernest Hemingway|Hemingway",
    "One Hundred Years of Solitude": "Gabriel García Márquez|Gabriel Garcia Marquez|García Márquez|Garcia Marquez",
    "the Divine Comedy": "Dante Alighieri|Dante", "Les Misérables": "Victor Hugo|Hugo",
    "Madame Bovary": "Gustave Flaubert|Flaubert", "Ulysses": "James Joyce|Joyce",
    "The Metamorphosis": "Franz Kafka|Kafka", "Brave New World": "Aldous Huxley|Huxley",
    "The Hobbit": "J. R. R. Tolkien|J.R.R. Tolkien|Tolkien", "Treasure Island": "Robert Louis Stevenson|Stevenson",
    "Alice's Adventures in Wonderland": "Lewis Carroll|Carroll",
    "The Adventures of Tom Sawyer": "Mark Twain|Twain|Samuel Clemens",
    "On the Origin of Species": "Charles Darwin|Darwin",
}
CURRENCIES = {
    "Japan": "yen|Japanese yen", "the United Kingdom": "pound sterling|pound|British pound",
    "India": "rupee|Indian rupee", "Russia": "ruble|rouble|Russian ruble", "China": "renminbi|yuan",
    "Mexico": "peso|Mexican peso", "Switzerland": "franc|Swiss franc", "South Korea": "won|South Korean won",
    "Brazil": "real|Brazilian real", "South Africa": "rand|South African rand", "Poland": "złoty|zloty",
    "Turkey": "lira|Turkish lira", "Sweden": "krona|Swedish krona", "Norway": "krone|Norwegian krone",
    "Denmark": "krone|Danish krone", "Thailand": "baht|Thai baht", "Vietnam": "dong|đồng",
    "Indonesia": "rupiah|Indonesian rupiah", "Hungary": "forint|Hungarian forint",
    "the Czech Republic": "koruna|Czech koruna|crown",
}
OTHER = [
    ("Which planet is the largest in the Solar System?", "Jupiter"),
    ("Which planet is known as the Red Planet?", "Mars"),
    ("Which planet is farthest from the Sun?", "Neptune"),
    ("Which planet is the hottest in the Solar System?", "Venus"),
    ("Which planet is the smallest in the Solar System?", "Mercury"),
    ("Which planet is third from the Sun?", "Earth|the Earth"),
    ("Which planet is sixth from the Sun?", "Saturn"),
    ("Which planet rotates on its side, with an axis tilted by about 98 degrees?", "Uranus"),
    ("How many planets are in the Solar System?", "8|eight"),
    ("What is the nearest star to the Earth other than the Sun?", "Proxima Centauri"),
    ("What is the longest river in Africa?", "Nile|the Nile|Nile River"),
    ("What is the largest ocean on Earth?", "Pacific|Pacific Ocean"),
    ("What is the highest mountain above sea level?", "Mount Everest|Everest"),
    ("What is the largest country by area?", "Russia"),
    ("What is the smallest country in the world by area?", "Vatican City|Vatican|the Vatican"),
    ("What is the largest hot desert in the world?", "Sahara|Sahara Desert"),
    ("What is the largest island in the world that is not a continent?", "Greenland"),
    ("What is the deepest oceanic trench on Earth?", "Mariana Trench|Marianas Trench"),
    ("What is the largest lake in the world by area?", "Caspian Sea|the Caspian Sea|Caspian"),
    ("What is the highest uninterrupted waterfall in the world?", "Angel Falls"),
    ("Which river flows through Paris?", "Seine|the Seine"),
    ("Which river flows through London?", "Thames|the Thames|River Thames"),
    ("Which river flows through Rome?", "Tiber|the Tiber"),
    ("Which river flows through both Vienna and Budapest?", "Danube|the Danube"),
    ("Which river flows through Baghdad?", "Tigris|the Tigris"),
    ("What is the chemical formula of water?", "H2O"),
    ("Which gas do plants take in from the air for photosynthesis?", "carbon dioxide|CO2"),
    ("How many chromosomes does a typical human cell have?", "46|forty-six"),
    ("At what temperature in degrees Celsius does pure water freeze at sea level?", "0|zero"),
    ("Which organelle is called the powerhouse of the cell?", "mitochondria|mitochondrion|the mitochondria"),
    ("What is the hardest natural mineral?", "diamond"),
    ("Which gas makes up most of Earth's atmosphere?", "nitrogen"),
    ("What is the SI unit of electrical resistance?", "ohm"),
    ("What is the SI unit of force?", "newton"),
    ("What is the SI unit of power?", "watt"),
    ("What is the SI unit of frequency?", "hertz"),
    ("What is the SI unit of electric current?", "ampere|amp"),
    ("What is the SI unit of thermodynamic temperature?", "kelvin"),
    ("What is the SI unit of energy?", "joule"),
    ("Who developed the general theory of relativity?", "Albert Einstein|Einstein"),
    ("Who discovered penicillin?", "Alexander Fleming|Fleming"),
    ("Who proposed the heliocentric model of the Solar System in the 16th century?",
     "Nicolaus Copernicus|Copernicus"),
    ("Who was the first person to walk on the Moon?", "Neil Armstrong|Armstrong"),
    ("Who was the first woman to win a Nobel Prize?", "Marie Curie|Marie Skłodowska-Curie|Curie"),
    ("How many days are there in a leap year?", "366"),
]


def questions() -> list[dict]:
    """Every fact as {question, answers} (the first answer is the canonical one)."""
    items = [(f"What is the capital of {country}?", answers) for country, answers in CAPITALS.items()]
    items += [(f"What is the chemical symbol of {element}?", symbol) for element, symbol in SYMBOLS.items()]
    items += [(f"What is the atomic number of {element}?", f"{n}|{NUMBER_WORDS[n]}")
              for n, element in enumerate(ATOMIC_NUMBERS, 1)]
    items += [(f"Who wrote {title}?", authors) for title, authors in AUTHORS.items()]
    items += [(f"What is the currency of {country}?", names) for country, names in CURRENCIES.items()]
    items += OTHER
    return [{"question": q, "answers": a.split("|")} for q, a in items]


def generate(out_dir: Path) -> dict[str, int]:
    """Shuffle with a fixed seed; the first few become few-shot examples."""
    docs = questions()
    random.Random(SEED).shuffle(docs)
    splits = {"fewshot": docs[:FEWSHOT], "test": docs[FEWSHOT:]}
    for split, items in splits.items():
        (out_dir / f"closed_book_{split}.jsonl").write_text(
            "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in items), encoding="utf-8")
    return {f"closed_book_{split}": len(items) for split, items in splits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    for name, count in generate(parser.parse_args().out_dir).items():
        print(f"{name}: {count}")


if __name__ == "__main__":
    main()
