"""`register-module!` in `mettadb run`: what its conformance scripts cannot show (the import sandbox)."""

from __future__ import annotations


def test_a_module_outside_the_script_directory_needs_allow_import(run, tmp_path):
    outside = tmp_path / "lib"
    outside.mkdir()
    (outside / "far.metta").write_text("(far 1)\n", encoding="utf-8")
    sub = tmp_path / "scripts"
    sub.mkdir()
    script = sub / "s.metta"
    script.write_text(f'!(register-module! "{outside / "far.metta"}")\n!(import! &self far)\n!(match &self (far $x) $x)\n',
                      encoding="utf-8")
    r = run("run", str(script))
    assert r.exit_code == 0
    assert r.stdout == (f'[(Error (register-module! "{outside / "far.metta"}") "register-module! may only read files '
                        f'under {sub} (use --allow-import PATH)")]\n')
    r = run("run", "--allow-import", str(outside), str(script))
    assert r.stdout == "[()]\n[()]\n[1]\n"
