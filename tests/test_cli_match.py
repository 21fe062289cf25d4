"""`mettadb match`: TEMPLATE applies to --json too; variables of stored rules print plainly."""

from __future__ import annotations

import json


def test_json_applies_the_template_as_in_the_readme(run, write):
    run("load", str(write("f.metta", "(parent Tom Bob)\n(parent Bob Ann)\n(parent Bob Liz)\n")))
    r = run("match", "(, (parent $x $y) (parent $y $z))", "($x $z)", "--limit", "10", "--json")
    assert r.exit_code == 0
    assert sorted(r.stdout.splitlines()) == ['{"x": "Tom", "z": "Ann"}', '{"x": "Tom", "z": "Liz"}']
    r = run("match", "(parent Tom $x)", "--json")
    assert [json.loads(line) for line in r.stdout.splitlines()] == [{"x": "Bob"}]
    r = run("match", "(parent $p $c)", "(found)", "--json", "--limit", "1")
    assert r.stdout == "{}\n"


def test_rule_variables_print_under_their_own_names(run, write):
    run("load", str(write("f.metta", "(= (f $a) (g $a))\n(pair $a $b)\n")))
    r = run("match", "$x")
    assert sorted(r.stdout.splitlines()) == ["(= (f $a) (g $a))", "(pair $a $b)"]
    r = run("match", "(= $h $b)", "($h $b)")
    assert r.stdout == "((f $a) (g $a))\n"
    r = run("match", "(= $h $b)", "($a $h)")  # the template's own $a is taken: the rule's $a becomes $a2
    assert r.stdout == "($a (f $a2))\n"
    r = run("match", "(= $h $b)", "--json")
    assert json.loads(r.stdout) == {"h": "(f $a)", "b": "(g $a)"}


def test_the_readme_json_example_on_the_shipped_family(run):
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if "--limit 10 --json" in ln)
    m = re.fullmatch(r"mettadb match '(.*)' '(.*)' --limit 10 --json +# (\{.*\}), one object per line", line)
    assert m is not None, line
    run("load", str(root / "examples" / "family.metta"))
    r = run("match", m[1], m[2], "--limit", "10", "--json")
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    # the comment shows the first line a newcomer sees
    assert rows[0] == json.loads(m[3]) and all(set(row) == {"x", "z"} for row in rows) and len(rows) == 3


def test_deep_rules_print_with_plain_variable_names(run, write):
    depth = 20_000
    run("load", str(write("deep.metta", "(= (deep $a) " + "(f " * depth + "$a" + ")" * depth + ")\n")))
    r = run("match", "(= (deep $q) $b)", "$b")
    assert r.exit_code == 0 and r.stdout == "(f " * depth + "$q" + ")" * depth + "\n"
    r = run("match", "$x")
    assert r.exit_code == 0 and r.stdout.startswith("(= (deep $a) (f (f ") and "#" not in r.stdout
