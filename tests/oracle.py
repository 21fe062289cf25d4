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
    written from that description alone: a trie over an atom's tokens (an expression's start and
    end, its leaves), each node's children in creation order with variables kept apart, a count
    at each leaf; a node is deleted when no atom is left below it.  `query` lists the stored atoms
    a pattern reaches, in the order hyperon's walk reaches them."""

    START, END = ("(",), (")",)

    def __init__(self) -> None:
        self.root = self._node()

    @staticmethod
    def _node() -> dict:
        return {"equal": [], "unify": [], "kids": {}, "count": 0, "below": 0}

    @classmethod
    def tokens(cls, atom: Atom) -> list:
        if isinstance(atom, Expression):
            return [cls.START, *[t for c in atom.children for t in cls.tokens(c)], cls.END]
        if isinstance(atom, Variable):
            return [("$", atom.name)]
        return [("=", str(atom))]

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

    def _walk_all(self, node: dict, prefix: list) -> list:
        """(tokens of one whole atom or subterm, the node after it) for each, in iteration order:
        variables first, then the others, an expression's start expanded in place."""
        out = []
        for t in node["unify"] + node["equal"]:
            child = node["kids"][t]
            if t == self.START:
                # every complete subexpression under this start
                found: list = []
                self._expr(child, [t], 1, found)
                out.extend(found)
            else:
                out.append(([t], child))
        return out

    def _expr(self, node: dict, toks: list, depth: int, found: list) -> None:
        for t in node["unify"] + node["equal"]:
            child = node["kids"][t]
            d = depth + (1 if t == self.START else -1 if t == self.END else 0)
            if d == 0:
                found.append((toks + [t], child))
            else:
                self._expr(child, toks + [t], d, found)

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
        if head[0] == "$":  # every entry, whole subterms
            for toks, child in self._walk_all(node, acc):
                self._query(child, rest, acc + toks, out)
            return
        if head in node["kids"]:  # the exact entry first
            self._query(node["kids"][head], rest, acc + [head], out)
        if head == self.END:
            return
        if head == self.START:  # then stored variables, each taking the query's whole expression
            depth, i = 1, 0
            while depth:
                t = rest[i]
                depth += 1 if t == self.START else -1 if t == self.END else 0
                i += 1
            rest = rest[i:]
        for t in node["unify"]:
            self._query(node["kids"][t], rest, acc + [t], out)


def trie_text(toks: list) -> str:
    """An atom's text from `TrieModel` tokens."""
    out, need_space = [], False
    for t in toks:
        if t == TrieModel.START:
            out.append(" (" if need_space else "(")
            need_space = False
        elif t == TrieModel.END:
            out.append(")")
            need_space = True
        else:
            out.append((" " if need_space else "") + ("$" + t[1] if t[0] == "$" else t[1]))
            need_space = True
    return "".join(out)
