"""An independent reference for matching: a plain recursive unifier and a brute-force query.

Deliberately simple and separate from the engine (it uses only the atom classes, never
mettadb.unify, mettadb.bindings or mettadb.query), so tests can compare the two. Substitutions
are plain dicts from a variable to a term, possibly another variable (followed by `walk`).
Meant for small atoms: it recurses.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from mettadb.atoms import Atom, Expression, Symbol, Variable

Subst = dict[Variable, Atom]

_counter = itertools.count()


def walk(t: Atom, s: Subst) -> Atom:
    """Follow variable links to an unbound variable or a non-variable."""
    while isinstance(t, Variable) and t in s:
        t = s[t]
    return t


def occurs(v: Variable, t: Atom, s: Subst) -> bool:
    """Whether `v` occurs in `t` under `s`."""
    t = walk(t, s)
    if isinstance(t, Variable):
        return t == v
    if isinstance(t, Expression):
        return any(occurs(v, c, s) for c in t.children)
    return False


def unify(a: Atom, b: Atom, s: Subst | None = None) -> Subst | None:
    """A most general unifier extending `s` (a new dict), or None; with occurs check."""
    s = dict(s or {})
    todo = [(a, b)]
    while todo:
        x, y = todo.pop()
        x, y = walk(x, s), walk(y, s)
        if isinstance(x, Variable) and isinstance(y, Variable) and x == y:
            continue
        if isinstance(x, Variable):
            if occurs(x, y, s):
                return None
            s[x] = y
        elif isinstance(y, Variable):
            if occurs(y, x, s):
                return None
            s[y] = x
        elif isinstance(x, Expression) and isinstance(y, Expression):
            if len(x.children) != len(y.children):
                return None
            todo.extend(zip(x.children, y.children))
        elif isinstance(x, Expression) or isinstance(y, Expression):
            return None
        elif type(x) is not type(y) or not _same_leaf(x, y):
            return None
    return s


def _same_leaf(x: Atom, y: Atom) -> bool:
    if isinstance(x, Symbol):
        return x.name == y.name  # type: ignore[attr-defined]
    return bool(x.value == y.value)  # type: ignore[attr-defined]


def resolve(t: Atom, s: Subst) -> Atom:
    """`t` with every bound variable replaced, all the way down."""
    t = walk(t, s)
    if isinstance(t, Expression):
        return Expression([resolve(c, s) for c in t.children])
    return t


def rename_apart(t: Atom) -> Atom:
    """`t` with its variables replaced by ones no query can contain."""
    n = next(_counter)
    if isinstance(t, Variable):
        return Variable(f"{t.name}#oracle{n}")
    if isinstance(t, Expression):
        names: dict[Variable, Variable] = {}

        def go(x: Atom) -> Atom:
            if isinstance(x, Variable):
                return names.setdefault(x, Variable(f"{x.name}#oracle{n}"))
            if isinstance(x, Expression):
                return Expression([go(c) for c in x.children])
            return x

        return go(t)
    return t


def canon(text: str) -> str:
    """Compare results up to variable renaming: number variables by first occurrence."""
    names: dict[str, str] = {}
    return re.sub(r"\$[^\s()]*", lambda m: names.setdefault(m.group(), f"$_{len(names)}"), text)


def conjuncts(pattern: Atom) -> list[Atom]:
    """The parts of `(, p1 ... pn)`, else the pattern alone."""
    if isinstance(pattern, Expression) and pattern.children[:1] == (Symbol(","),):
        return list(pattern.children[1:])
    return [pattern]


def brute(stored: list[Atom], pattern: Atom, template: Atom) -> Counter[str]:
    """Reference query semantics: for each conjunct left to right, unify with every stored atom
    renamed apart; instantiate the template per solution; results as a multiset of canonical texts."""
    results: list[Subst] = [{}]
    for p in conjuncts(pattern):
        results = [s2 for s in results for a in stored if (s2 := unify(p, rename_apart(a), s)) is not None]
    return Counter(canon(str(resolve(template, s))) for s in results)


class TrieModel:
    """hyperon 0.2.10's space index as its source describes it (lib/src/space/grounding/index/trie.rs),
    written from that description alone, with what `metta` 0.2.10 shows of it (an expression's
    start carries its size, so there is no end token): a trie over an atom's tokens, each node's
    children in creation order with variables kept apart, a count at each leaf; a node is deleted
    when no atom is left below it.  `query` lists the stored atoms a pattern reaches, in the order
    hyperon's walk reaches them."""

    def __init__(self) -> None:
        self.root = self._node()

    @staticmethod
    def _node() -> dict:
        return {"equal": [], "unify": [], "kids": {}, "count": 0, "below": 0}

    @classmethod
    def tokens(cls, atom: Atom) -> list:
        if isinstance(atom, Expression):
            return [("(", len(atom.children)), *[t for c in atom.children for t in cls.tokens(c)]]
        if isinstance(atom, Variable):
            return [("$", atom.name)]
        return [("=", str(atom))]

    @staticmethod
    def _size(t: tuple) -> int:
        return t[1] if t[0] == "(" else 0

    def add(self, atom: Atom) -> None:
        node = self.root
        for t in self.tokens(atom):
            node["below"] += 1
            if t not in node["kids"]:
                node["kids"][t] = self._node()
                node["unify" if t[0] == "$" else "equal"].append(t)
            node = node["kids"][t]
        node["below"] += 1
        node["count"] += 1

    def remove(self, atom: Atom) -> None:
        toks = self.tokens(atom)
        node, trail = self.root, []
        for t in toks:
            if t not in node["kids"]:
                return
            trail.append((node, t))
            node = node["kids"][t]
        if not node["count"]:
            return
        node["count"] -= 1
        node["below"] -= 1
        for parent, t in reversed(trail):
            parent["below"] -= 1
            child = parent["kids"][t]
            if not child["below"]:
                del parent["kids"][t]
                parent["unify" if t[0] == "$" else "equal"].remove(t)

    def _subterms(self, node: dict, toks: list, left: int, found: list) -> None:
        """(tokens of each whole subterm, the node after it) from `node`, `left` subterms still to read."""
        for t in node["unify"] + node["equal"]:
            child = node["kids"][t]
            more = left - 1 + self._size(t)
            if more == 0:
                found.append((toks + [t], child))
            else:
                self._subterms(child, toks + [t], more, found)

    def query(self, pattern: Atom) -> list[list]:
        """The token lists of the stored atoms the pattern's walk reaches (each copy), in order."""
        out: list = []
        self._query(self.root, self.tokens(pattern), [], out)
        return out

    def _query(self, node: dict, q: list, acc: list, out: list) -> None:
        if not q:
            out.extend([acc] * node["count"])
            return
        head, rest = q[0], q[1:]
        if head[0] == "$":  # every entry, whole subterms: variables first
            found: list = []
            self._subterms(node, [], 1, found)
            for toks, child in found:
                self._query(child, rest, acc + toks, out)
            return
        if head in node["kids"]:  # the exact entry first
            self._query(node["kids"][head], rest, acc + [head], out)
        left = self._size(head)  # then stored variables, each taking the query's whole subterm
        i = 0
        while left:
            left += self._size(rest[i]) - 1
            i += 1
        for t in node["unify"]:
            self._query(node["kids"][t], rest[i:], acc + [t], out)


def trie_text(toks: list) -> str:
    """An atom's text from `TrieModel` tokens."""
    stack: list = []  # [children left, parts] of each open expression
    out = None
    for t in toks:
        if t[0] == "(":
            stack.append([t[1], []])
            if t[1]:
                continue
            text = "()"
            stack.pop()
        else:
            text = "$" + t[1] if t[0] == "$" else t[1]
        while True:
            if not stack:
                out = text
                break
            stack[-1][1].append(text)
            stack[-1][0] -= 1
            if stack[-1][0]:
                break
            text = "(" + " ".join(stack.pop()[1]) + ")"
    return out
