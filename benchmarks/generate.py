"""Deterministic synthetic knowledge bases for the benchmarks.

`python benchmarks/generate.py --facts 1000000 -o kb.metta` writes a family
tree of about facts/5 persons: `(parent Pi Pj)`, `(age Pi 42)`,
`(name Pi "...")`, `(score Pi 0.5)` and, in turn, a binary `edge`, a ternary
`edge3` or a nested `(Evaluation (Predicate likes) (List Pi Pj))` per person,
plus a few rules.  `genealogy()` writes the smaller parent/male/female
genealogies of the rule benchmarks.  The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from typing import TextIO

__all__ = ["RULES", "family_facts", "genealogy", "write_family"]

RULES = """(= (grandparent $x $z) (match &self (, (parent $x $y) (parent $y $z)) $x))
(= (sibling $x $y) (match &self (, (parent $p $x) (parent $p $y)) $y))
(= (adult $p) (match &self (age $p $a) (if (>= $a 18) True False)))
"""

_FIRST = ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo"]


def family_facts(facts: int, seed: int = 42) -> Iterator[str]:
    """Yield about `facts` lines of MeTTa facts (five per person)."""
    rng = random.Random(seed)
    persons = max(2, facts // 5)
    for i in range(persons):
        p = f"P{i}"
        if i:
            yield f"(parent P{rng.randrange(i)} {p})"
        else:
            yield "(parent P1 P0)"
        yield f"(age {p} {rng.randrange(1, 100)})"
        yield f'(name {p} "{_FIRST[i % 10]} {i}")'
        yield f"(score {p} {rng.randrange(0, 1000) / 1000})"
        q = f"P{rng.randrange(persons)}"
        kind = i % 3
        if kind == 0:
            yield f"(edge {p} {q})"
        elif kind == 1:
            yield f"(edge3 {p} {q} {rng.randrange(10)})"
        else:
            yield f"(Evaluation (Predicate likes) (List {p} {q}))"


def write_family(out: TextIO, facts: int, seed: int = 42, rules: bool = True) -> int:
    """Write a family knowledge base; returns the number of lines written."""
    n = 0
    for line in family_facts(facts, seed):
        out.write(line)
        out.write("\n")
        n += 1
    if rules:
        out.write(RULES)
        n += RULES.count("\n")
    return n


def genealogy(people: int, seed: int = 7, generations: int = 4) -> str:
    """A genealogy of `people` persons in a few generations.

    `(person Pi)`, `(male Pi)` or `(female Pi)`, and for everyone after the first
    generation a father and a mother from the generation before:
    `(parent Pfather Pi)`, `(parent Pmother Pi)`.
    """
    rng = random.Random(seed)
    lines = []
    size = max(2, people // generations)
    sex: dict[int, str] = {}
    prev: list[int] = []
    i = 0
    while i < people:
        cur = list(range(i, min(people, i + size)))
        men = [p for p in prev if sex[p] == "male"]
        women = [p for p in prev if sex[p] == "female"]
        for p in cur:
            sex[p] = "male" if rng.random() < 0.5 else "female"
            lines.append(f"(person P{p})")
            lines.append(f"({sex[p]} P{p})")
            if men and women:
                lines.append(f"(parent P{rng.choice(men)} P{p})")
                lines.append(f"(parent P{rng.choice(women)} P{p})")
        prev = cur
        i += size
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--facts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--genealogy", type=int, metavar="PEOPLE", help="write a genealogy instead")
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args(argv)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    with out:
        if args.genealogy:
            out.write(genealogy(args.genealogy, args.seed))
        else:
            write_family(out, args.facts, args.seed)


if __name__ == "__main__":
    main()
