"""`mettadb.modtext`: module files read as hyperon 0.2.10 reads them, faults in its words.

The fixed cases are what hyperon's `import!` printed for each text (probed with `metta`); the
property test asks hyperon itself about random texts built from the pieces that matter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mettadb import E, S, V
from mettadb.errors import ModuleTextError
from mettadb.modtext import bad_bytes, read_module
from mettadb.parser import parse_file

hyperon = pytest.importorskip("hyperon")


def fault(data: bytes) -> str | None:
    try:
        list(read_module(data))
    except ModuleTextError as e:
        return str(e)
    return None


@pytest.mark.parametrize("data, message", [
    (b"(fact \xff)\n", "Input read error at position 6: Bad UTF-8: [255, 41, 10]"),
    (b"(a \xce\xbb \xff)", "Input read error at position 6: Bad UTF-8: [255, 41]"),  # a byte offset
    (b"\xff abc", "Input read error at position 0: Bad UTF-8: [255]"),
    (b"(a b)\n(c \"\xe2\x82\")\n", "Input read error at position 10: Bad UTF-8: [226, 130]"),
    (b"\xc3)\xac\" ", "Input read error at position 0: Bad UTF-8: [195, 41, 172]"),
    (b"\xff\xff\xe2\x82\xac", "Input read error at position 0: Bad UTF-8: [255, 255, 226, 130]"),
    (b"(a)\n)\n\xff", "Input read error at position 6: Bad UTF-8: [255]"),  # read on past the `)`
    (b"(fact a\n", "Unexpected end of expression"),
    (b"(a (b)", "Unexpected end of expression"),
    (b"(a))\n", "Unexpected right bracket"),
    (b"(fact \"abc)\n", "Unclosed String Literal"),
    (b"\"a\\q\xff\"", "Invalid escape sequence"),  # stops at the escape, before the bad byte
    (b"\"\\x80\"", "Invalid escape sequence"),
    (b"\"\\0\"", "Invalid escape sequence"),
    (b"\"\\u{000000041}\"", "Invalid escape sequence"),
    (b"\"\\u{d800}\"", "Invalid escape sequence"),
    (b"\"a\\", "Escaping sequence is not finished"),
    (b"$a#b", "'#' char is reserved for internal usage"),
    (b"(x 99999999999999999999)",
     "byte range = (3..23) | Could not parse integer: '99999999999999999999', number too large to fit in target type"),
    (b"-99999999999999999999",
     "byte range = (0..21) | Could not parse integer: '-99999999999999999999', number too small to fit in target type"),
    (b"(99999999999999999999 (88888888888888888888) 7)",
     "byte range = (23..43) | Could not parse integer: '88888888888888888888', number too large to fit in target type"),
    (b"\xd9\xa3.5", "byte range = (0..4) | Could not parse float: '\u0663.5', invalid float literal"),
    (b"(x 99999999999999999999 \"abc", "Unclosed String Literal"),  # a syntax fault wins
    (b"ab\x00cd\n\"\\u{00000041}\" $ ! !\n(a $x;c)\n!", None),
])
def test_faults_are_hyperons(data, message):
    assert fault(data) == message


def test_bad_bytes_holds_four_bytes_at_most():
    assert bad_bytes(b"\xff\xffA") == [255, 255, 65]
    assert bad_bytes(b"\xff\xffAB") == [255, 255]
    assert bad_bytes(b"\x80\x80\x80\x80\x80") == [128, 128, 128, 128]


def test_items_come_as_hyperon_reads_them_and_stop_at_the_fault():
    items = read_module(b"(a b\x00c) ! (f $x;c $)\n\"q\\x41\\u{3bb}\"\n(w \xff)")
    assert next(items) == (False, E(S("a"), S("b\x00c")))
    assert next(items) == (True, E(S("f"), V("x;c"), V("")))
    assert next(items)[1].value == "qA\u03bb"  # type: ignore[attr-defined]
    with pytest.raises(ModuleTextError, match="position 39: Bad UTF-8: \\[255, 41\\]"):
        next(items)


PIECES = [b"(", b")", b" ", b"\n", b"a", b"$x", b"$", b"#", b";c", b"\"", b"\\", b"\\x4", b"\\x41", b"\\u{",
          b"}", b"99999999999999999999", b"12", b"1.5", b"\xd9\xa3", b"\xff", b"\xc3", b"\xa9", b"\xe2\x82",
          b"\xac", b"\x00", b"!", b"\x1c", b"\\q", b"\\n", b"\xce\xbb"]


def hyperon_fault(data: bytes, folder: str) -> str | None:
    """What hyperon's `import!` of a module with this text says (None: it loads)."""
    with open(os.path.join(folder, "m.metta"), "wb") as f:
        f.write(data)
    metta = hyperon.MeTTa(env_builder=hyperon.Environment.custom_env(working_dir=folder))
    shown = str(metta.run("!(import! &m m)")[0][0])
    head = "(Error (import! &m m) "
    return shown[len(head):-1] if shown.startswith(head) else None


@settings(max_examples=80)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
def test_faults_agree_with_hyperon(tmp_path_factory, pieces):
    data = b"".join(pieces)
    assert fault(data) == hyperon_fault(data, str(tmp_path_factory.mktemp("mod")))


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "examples").glob("*.metta")), ids=lambda p: p.name)
def test_ordinary_text_gives_the_atoms_a_script_gives(path):
    assert list(read_module(path.read_bytes())) == list(parse_file(path))
