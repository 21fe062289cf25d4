"""The reader: syntax, errors with positions, streaming, and agreement with the pyparsing grammar."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms

from mettadb import E, ParseError, S, V, parse, parse_script
from mettadb.atoms import Bool, Float, Integer, String
from mettadb.encoding import encode_with_names
from mettadb.grammar import parse_with_grammar
from mettadb.parser import is_complete, parse_file
from mettadb.transcode import transcode_file


def one(text: str):
    [a] = list(parse(text))
    return a


def test_surface_syntax():
    got = list(parse_script('; comment\n(parent Tom Bob) ; trailing\n!(f $x "s\\t\\"q\\"" -3 2.5 True)\n(multi\n  line)'))
    assert [(b, str(a)) for b, a in got] == [
        (False, "(parent Tom Bob)"),
        (True, '(f $x "s\\t\\"q\\"" -3 2.5 True)'),
        (False, "(multi line)"),
    ]


def test_literal_types():
    a = one('(x 42 -7 +5 007 1.5 -1.5e3 1e3 "42" True False 1. .5 -)')
    kids = a.children
    assert kids[1] == Integer(42) and kids[2] == Integer(-7) and kids[3] == Integer(5) and kids[4] == Integer(7)
    assert kids[5] == Float(1.5) and kids[6] == Float(-1500.0) and kids[7] == Float(1000.0)
    assert kids[8] == String("42") and kids[9] == Bool(True) and kids[10] == Bool(False)
    assert kids[11] == S("1.") and kids[12] == S(".5") and kids[13] == S("-")


def test_symbols_take_any_non_space_non_paren_character():
    assert one("(-> é 日本 a.b a,b &self +inf a\"b)") == E(S("->"), S("é"), S("日本"), S("a.b"), S("a,b"), S("&self"), S("+inf"), S('a"b'))


def test_string_escapes():
    assert one(r'"a\nb\t\\\"\x41\u{1F600}"') == String('a\nb\t\\"A\U0001F600')


@pytest.mark.parametrize(
    "text, message",
    [
        ("(a b)\n(c d)\n)", "f.metta:3:1: unexpected ')'"),
        ("(a\n  (b c)", "f.metta:2:3: '(' is never closed" if False else "f.metta:1:1: '(' is never closed"),
        ('(a "unterminated', "f.metta:1:4: unterminated string"),
        ('(a "bad \\q escape")', "f.metta:1:9: invalid escape '\\q'"),
        ('(a "\\u{110000}")', "f.metta:1:5: invalid unicode escape '\\u{110000}'"),
        ('(a "\\u{000000041}")', "f.metta:1:5: invalid escape '\\u'"),
        ("(a)\n!", "f.metta:2:1: '!' must be followed by an atom"),
        ("(a\x00b)", "f.metta:1:3: NUL byte"),
    ],
)
def test_errors_name_file_line_column(text, message):
    with pytest.raises(ParseError) as e:
        list(parse_script(text, "f.metta"))
    assert str(e.value) == message
    with pytest.raises(ParseError) as g:
        parse_with_grammar(text, "f.metta")
    assert str(g.value) == message


def test_invalid_utf8_is_located():
    data = b"(a b)\n(c \xff)\n"
    with pytest.raises(ParseError) as e:
        list(parse_file(io.BytesIO(data)))
    assert (e.value.line, e.value.column, e.value.message) == (2, 4, "invalid UTF-8 byte 0xff")
    with pytest.raises(ParseError) as e2:
        list(transcode_file(io.BytesIO(data)))
    assert (e2.value.line, e2.value.column) == (2, 4)


def test_streaming_across_small_blocks():
    text = "".join(f'(fact {i} "multi\nline {i}")\n' for i in range(300)) + "(last (nested\n  deep))\n"
    small = list(parse_file(io.BytesIO(text.encode()), block_size=64))
    assert len(small) == 301 and str(small[-1][1]) == "(last (nested deep))"
    assert small == list(parse_script(text))
    paths = [p for p, _, _ in transcode_file(io.BytesIO(text.encode()), block_size=64)]
    assert paths == [encode_with_names(a)[0] for _, a in small]


def test_deep_nesting_parses_without_recursion():
    depth = 100_000
    text = "(n " * depth + "leaf" + ")" * depth
    a = one(text)
    assert str(a) == text.replace("(n leaf)", "(n leaf)")
    [(path, _, _)] = list(transcode_file(io.BytesIO(text.encode())))
    assert path == encode_with_names(a)[0]


def test_repl_completeness():
    assert not is_complete("(parent Tom")
    assert not is_complete('(a "open')
    assert not is_complete("!")
    assert is_complete("(parent Tom Bob)")
    assert is_complete(")")  # complete, and wrong: the REPL reports it rather than waiting


@given(atoms())
def test_print_then_parse_is_identity(a):
    assert one(str(a)) == a


@given(st.lists(atoms(10), max_size=5), st.lists(st.booleans(), min_size=5, max_size=5))
def test_scanner_and_grammar_agree_on_atoms(items, bangs):
    text = "\n".join(("! " if b else "") + str(a) + (" ; c" if b else "") for a, b in zip(items, bangs))
    assert parse_with_grammar(text) == list(parse_script(text))
    paths = [p for p, _, _ in transcode_file(io.BytesIO(text.encode()))]
    assert paths == [encode_with_names(a)[0] for b, a in zip(bangs, items) if not b]


_noise = st.text(st.sampled_from(list('()"$!; \n\tab1\\x\x1cu{}')), max_size=30)


@given(_noise)
def test_scanner_grammar_and_transcoder_agree_on_errors(text):
    def outcome(fn):
        try:
            return ("ok", [(b, str(a)) for b, a in fn()])
        except ParseError as e:
            return ("error", e.line, e.column, e.message)

    scanned = outcome(lambda: parse_script(text))
    assert outcome(lambda: parse_with_grammar(text)) == scanned
    try:
        paths = [p for p, _, _ in transcode_file(io.BytesIO(text.encode()))]
        assert scanned[0] == "ok"
        assert paths == [encode_with_names(a)[0] for b, a in parse_script(text) if not b]
    except ParseError as e:
        assert scanned == ("error", e.line, e.column, e.message)


def test_variables_are_named():
    assert one("(f $x $long_name)") == E(S("f"), V("x"), V("long_name"))


def test_incomplete_escapes_are_errors():
    for text, col in (('"\\x"', 2), ('"a\\x4"', 3), ('"\\u"', 2), ('"\\u{110000}"', 2)):
        with pytest.raises(ParseError) as e:
            list(parse_script(text))
        assert e.value.column == col and "escape" in e.value.message


def _keys_both_ways(data: bytes, block_size: int) -> tuple[tuple[list[bytes], list[bytes], list[bytes]], ...]:
    """(primary keys, reverse keys, other paths) from the per-line transcoder and from its bulk mode."""
    out = []
    for bulk in (False, True):
        ak: list[bytes] = []
        rk: list[bytes] = []
        other: list[bytes] = []
        taken = [0]
        keys = (ak, rk, lambda n, taken=taken: taken.__setitem__(0, taken[0] + n)) if bulk else None
        for path, names, tokens in transcode_file(io.BytesIO(data), block_size=block_size, keys=keys):
            if names is None and len(path) <= 494:
                ak.append(path)
                if tokens is not None:
                    rk.append(tokens[0] + tokens[1] + b"".join(tokens[:1:-1]))
            else:
                other.append(path)
        assert taken[0] <= len(ak)
        out.append((sorted(ak), sorted(rk), other, taken[0]))
    return tuple(out)


BULK_LINES = [
    "(parent P1 P0)", "(age P0 82)", '(name P0 "Ann 0")', "(score P0 0.114)", "(edge3 P1 P365 1)",
    "(e 007 -0)", "(e -5 +5)", "(e 1.5 1e3)", "(f)", "(g a)", "(h a b c d)", "(h a b c d e f g)",
    "(Evaluation (Predicate likes) (List P2 P8331))", '("s" a b)', "(1 2 3)", "(1.5 a b)", '(n "a (b) c" x)',
    '(n a "x\\"y")', "(x " + "L" * 70 + " y)", "(x " + "M" * 63 + " y)", "(x $v y)", "(p a b) ; c", " (p a b)",
    "(p  a b)", "(p\ta b)", "(p a b)\r", "", "; comment", "(True False x)", "(é a b)", "(p - +)",
    "(f (g a) b c)", "((g a) b c)", "(f (g) (h 1 -2 007) 1.5)", "(7 (a b) c)", "(f (a b))", "(f a (b c) (d e f))",
    "(% (%s x) %d y)", "(f (g $x) c)", "(f (g \"s t\") c)", "(f (g (h a)) c)", "(f () c)", "(f  (g a) c)",
]
BULK_TRAPS = [
    "(outer\n(p a b)\n(q c d))", "!\n(p a b)", '(s "two\n(p a b)\nlines")', "! (p a b)", "(open\n(p a b)\n)",
]


@pytest.mark.parametrize("block_size", [16, 64, 1 << 20])
def test_bulk_lines_give_the_keys_of_the_per_line_path(block_size: int):
    data = ("\n".join(BULK_LINES + BULK_TRAPS + BULK_LINES) + "\n(last a b)").encode()
    (ak, rk, other, _), (bk, brk, bother, taken) = _keys_both_ways(data, block_size)
    assert (ak, rk, other) == (bk, brk, bother)
    assert taken >= 20  # most of BULK_LINES went the bulk way


def test_nested_lines_are_taken_in_bulk():
    nested = [ln for ln in BULK_LINES if ln.startswith("(") and "(" in ln[1:] and "$" not in ln and '"' not in ln
              and "()" not in ln and "  " not in ln and "(g (h" not in ln]
    data = ("\n".join(nested) + "\n").encode()
    (ak, rk, other, _), (bk, brk, bother, taken) = _keys_both_ways(data, 1 << 20)
    assert (ak, rk, other) == (bk, brk, bother)
    assert len(nested) >= 8 and taken == len(nested) and len(rk) >= 4


# words of every kind the transcoder tells apart (numbers it canonicalises, strings with spaces and
# escapes, variables, `%` that a key template must not read, a word of 63 bytes, non-ASCII)
_PLAIN_WORDS = st.sampled_from(["a", "P1", "Evaluation", "007", "-0", "+5", "1.5", "1e3", ".5", "-", "!", "&self", "%",
                                "%s", "'q", "True", "0.114", "M" * 20])
_RAW_WORDS = st.one_of(_PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS, _PLAIN_WORDS,
                       st.sampled_from(['"s"', '"a b"', '"x\\"y"', '"é"', "$x", "$y", "é", "M" * 63, "N" * 64]))
_FLAT = st.lists(_RAW_WORDS, max_size=4).map(lambda xs: "(" + " ".join(xs) + ")")
_RAW_ATOMS = st.one_of(_RAW_WORDS, _RAW_WORDS, _FLAT, _FLAT, st.recursive(
    _RAW_WORDS, lambda c: st.lists(c, max_size=4).map(lambda xs: "(" + " ".join(xs) + ")"), max_leaves=8))


@given(st.lists(st.tuples(st.lists(_RAW_ATOMS, min_size=1, max_size=5), st.sampled_from([" ", " ", " ", " ", "  ", "\t"])),
                min_size=1, max_size=12), st.sampled_from([16, 64, 1 << 20]))
def test_bulk_nested_lines_give_the_keys_of_the_per_line_path(lines: list[tuple[list[str], str]], block_size: int):
    data = "".join("(" + sep.join(items) + ")\n" for items, sep in lines).encode()
    (ak, rk, other, _), (bk, brk, bother, _) = _keys_both_ways(data, block_size)
    assert (ak, rk, other) == (bk, brk, bother)


@given(st.lists(st.sampled_from(BULK_LINES + BULK_TRAPS), max_size=30))
def test_bulk_lines_any_order(lines: list[str]):
    data = "\n".join(lines).encode()
    (ak, rk, other, _), (bk, brk, bother, _) = _keys_both_ways(data, 32)
    assert (ak, rk, other) == (bk, brk, bother)


def test_bangs_in_a_row_mark_one_item():
    text = "! ! (a)\n!\n! b\n(c !)\n"
    assert [(b, str(a)) for b, a in parse_script(text)] == [(True, "(a)"), (True, "b"), (False, "(c !)")]
    assert parse_with_grammar(text) == list(parse_script(text))
    assert [p for p, _, _ in transcode_file(io.BytesIO(text.encode()))] == [encode_with_names(one("(c !)"))[0]]
