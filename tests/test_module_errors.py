"""A module whose text does not read: `import!` gives an error atom carrying hyperon's parser
message (no file, line or column) and the run goes on, as in hyperon."""

from __future__ import annotations


def test_a_module_with_bad_bytes_is_an_import_error_not_the_runs(run, tmp_path):
    (tmp_path / "m.metta").write_bytes(b"(fact \xff)\n")
    script = tmp_path / "s.metta"
    script.write_text("!(+ 0 1)\n!(collapse (import! &self m))\n!(+ 1 1)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == ("[1]\n[((Error (import! ModuleSpace(GroundingSpace-top) m) "
                        "Input read error at position 6: Bad UTF-8: [255, 41, 10]))]\n[2]\n")


def test_an_unclosed_module_is_an_import_error(run, tmp_path):
    (tmp_path / "m.metta").write_text("(fact a\n", encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(import! &m m)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == "[(Error (import! &m m) Unexpected end of expression)]\n"


def test_the_items_before_the_bad_text_are_run(run, tmp_path):
    (tmp_path / "m.metta").write_bytes(b'(a)\n!(println! "before")\n(b "\\q")\n!(println! "after")\n')
    script = tmp_path / "s.metta"
    script.write_text("!(import! &m m)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.stdout == "before\n[(Error (import! &m m) Invalid escape sequence)]\n"


def test_a_script_keeps_its_own_one_line_error(run, tmp_path):
    script = tmp_path / "s.metta"
    script.write_bytes(b"!(+ 1 1)\n(fact \xff)\n")
    r = run("run", str(script))
    assert r.exit_code == 1
    assert r.output.splitlines()[-1] == f"Error: {script}:2:7: invalid UTF-8 byte 0xff"


def test_an_include_of_an_unclosed_module_gives_no_values_and_the_run_goes_on(run, tmp_path):
    (tmp_path / "m.metta").write_text("(fact a)\n(fact\n", encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(+ 0 1)\n!(include m)\n!(match &self (fact $x) $x)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == "[1]\n[]\n[a]\n"


def test_a_nul_byte_in_a_module_is_part_of_a_symbol_which_prints_up_to_it(run, tmp_path):
    (tmp_path / "m.metta").write_bytes(b"(fact a\x00b)\n")
    script = tmp_path / "s.metta"
    script.write_text("!(import! &self m)\n!(match &self (fact $x) ($x x))\n!(match &self (fact $x) (size-atom ($x)))\n",
                      encoding="utf-8")
    r = run("run", str(script))
    assert r.stdout == "[()]\n[(a]\n[1]\n"


def test_register_module_reads_a_failed_module_again_and_import_still_refuses_it(run, tmp_path):
    """As hyperon: `register-module!` loads the file again (its `!`s run again), `import!` does not."""
    (tmp_path / "m.metta").write_text('!(println! "loading")\n(fact a\n', encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(collapse (import! &self m))\n!(collapse (register-module! m.metta))\n"
                      "!(collapse (import! &self m))\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.stdout == ("loading\nloading\n"
                        "[((Error (import! ModuleSpace(GroundingSpace-top) m) Unexpected end of expression))]\n"
                        "[((Error (register-module! m.metta) Unexpected end of expression))]\n"
                        "[((Error (import! ModuleSpace(GroundingSpace-top) m) "
                        "Attempt to access module before loader function has finished))]\n")


def test_where_hyperon_aborts_after_a_failed_module_mettadb_goes_on(run, tmp_path):
    """hyperon 0.2.10 panics on these after a failed `m`: mod-space! of it, include of it, a new module."""
    (tmp_path / "m.metta").write_text("(fact a\n", encoding="utf-8")
    (tmp_path / "good.metta").write_text("(g 1)\n", encoding="utf-8")
    script = tmp_path / "s.metta"
    script.write_text("!(collapse (import! &self m))\n!(collapse (mod-space! m))\n!(collapse (include m))\n"
                      "!(import! &self good)\n!(match &self (g $x) $x)\n", encoding="utf-8")
    r = run("run", str(script))
    assert r.stdout == ("[((Error (import! ModuleSpace(GroundingSpace-top) m) Unexpected end of expression))]\n"
                        "[((Error (mod-space! m) Attempt to access module before loader function has finished))]\n"
                        "[()]\n[()]\n[1]\n")
