"""A module whose text does not read: `import!` gives an error atom and the run goes on, as in hyperon
(whose message is its parser's; mettadb's names the module's file, line and column)."""

from __future__ import annotations


def test_a_module_with_bad_bytes_is_an_import_error_not_the_runs(run, tmp_path):
    (tmp_path / "m.metta").write_bytes(b"(fact \xff)\n")
    script = tmp_path / "s.metta"
    script.write_text("!(+ 0 1)\n!(import! &self m)\n!(+ 1 1)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == ("[1]\n[(Error (import! ModuleSpace(GroundingSpace-top) m) "
                        f"{tmp_path / 'm.metta'}:1:7: invalid UTF-8 byte 0xff)]\n")


def test_an_unclosed_module_is_an_import_error_and_a_later_import_tries_again(run, tmp_path):
    (tmp_path / "m.metta").write_text("(fact a\n", encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(import! &m m)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == f"[(Error (import! &m m) {tmp_path / 'm.metta'}:1:1: '(' is never closed)]\n"


def test_an_include_of_an_unclosed_module_gives_no_values_and_the_run_goes_on(run, tmp_path):
    (tmp_path / "m.metta").write_text("(fact a)\n(fact\n", encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(+ 0 1)\n!(include m)\n!(match &self (fact $x) $x)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == "[1]\n[]\n[a]\n"
