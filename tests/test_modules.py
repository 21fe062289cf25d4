"""hyperon's optional modules (`random`, `json`, `fileio`) in `mettadb run`: what the conformance
scripts cannot show (the file sandbox, a run that imports nothing, the generator's stream)."""

from __future__ import annotations

import os

from mettadb.interp.modules import ChaCha12


def test_file_open_outside_the_script_directory_needs_allow_import(run, write, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret", encoding="utf-8")
    try:
        sub = tmp_path / "scripts"
        sub.mkdir()
        script = sub / "s.metta"
        script.write_text(f'!(import! &self fileio)\n!(let $h (file-open! "{outside}" "r") (file-read-to-string! $h))\n',
                          encoding="utf-8")
        r = run("run", str(script))
        assert r.stdout == ("[()]\n" f'[(Error (file-open! "{outside}" "r") "file-open! may only open files under '
                            f'{sub} (use --allow-import PATH)")]\n')
        r = run("run", "--allow-import", str(tmp_path.parent), str(script))
        assert r.stdout == '[()]\n["secret"]\n'
    finally:
        os.unlink(outside)


def test_a_module_imported_under_a_name_leaves_its_functions_unknown(run, write):
    script = write("s.metta", "!(import! &r random)\n!(get-type random-int)\n!(random-int &rng 0 1)\n")
    assert run("run", str(script)).stdout == "[()]\n[%Undefined%]\n[(random-int &rng 0 1)]\n"


def test_a_seeded_generator_repeats_hyperons_stream():
    # (rand 0.9's StdRng seeded with 0: the first draws hyperon's `random-int` scales to 731113, 773460)
    g = ChaCha12.from_u64(0)
    assert [(g.next_u64() * 1_000_000) >> 64 for _ in range(3)] == [731113, 773460, 25844]


def test_a_link_out_of_the_script_directory_is_refused(run, link_out):
    script = link_out.parent / "s.metta"
    script.write_text(f'!(import! &self fileio)\n!(file-open! "{link_out}" "r")\n', encoding="utf-8")
    out = run("run", str(script)).stdout
    assert "file-open! may only open files under" in out and "FileHandle" not in out


def test_file_read_exact_refuses_a_buffer_past_its_limit(run, write):
    write("f.txt", "abc")
    script = write("s.metta", '!(import! &self fileio)\n!(let $h (file-open! "f.txt" "r") (file-read-exact! $h 2000000000))\n')
    cwd = os.getcwd()
    os.chdir(script.parent)
    try:
        out = run("run", str(script)).stdout
    finally:
        os.chdir(cwd)
    assert out.endswith("file-read-exact! reads at most 1073741824 bytes at once)]\n")


def test_json_encode_of_a_list_thousands_of_levels_deep(space):
    """hyperon encodes it; mettadb's encoder was recursive (RecursionError, an internal error)."""
    deep = "(" * 3000 + "1" + ")" * 3000
    [[out]] = [r for r in space.run(f"!(import! &self json)\n!(json-encode {deep})")[1:]]
    assert str(out) == '"' + "[" * 3000 + "1" + "]" * 3000 + '"'
