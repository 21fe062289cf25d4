"""`mettadb` commands.  Each opens the space, calls one library method and
turns a library error into a one-line `Error: ...` (exit code 1)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import click

import mettadb
from mettadb.atoms import Variable, iter_atoms
from mettadb.errors import MettaDBError
from mettadb.progress import Progress
from mettadb.store import DEFAULT_PATH, Space

__all__ = ["cli", "main"]


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except MettaDBError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"{e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}") from None


def _internal(e: BaseException) -> str:
    """One line naming an unexpected exception (its type and the first line of its message)."""
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


@contextlib.contextmanager
def _space(ctx: click.Context, readonly: bool = False, durable: bool = True) -> Iterator[Space]:
    with _errors():
        path = ctx.obj["db"]
        if readonly and not os.path.exists(os.path.join(path, "data.mdb")):
            raise click.ClickException(f"no space at {os.path.abspath(path)} (load one with `mettadb load FILE`)")
        space = mettadb.open(path, readonly=readonly, mode=ctx.obj["mode"], durable=durable)
        if space.note:
            click.echo(f"note: {space.note}", err=True)
        with space:
            yield space


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="METTADB_DB", default=DEFAULT_PATH, show_default=True, metavar="PATH",
              help="The space (a directory); also $METTADB_DB.")
@click.option("--mode", default="600", show_default=True, metavar="OCTAL",
              help="Permissions of a newly created space.")
@click.version_option(mettadb.__version__, prog_name="mettadb")
@click.pass_context
def cli(ctx: click.Context, db: str, mode: str) -> None:
    """A persistent MeTTa atom space.

    \b
    Example:
      mettadb load facts.metta
      mettadb match '(parent Tom $x)' '$x'
    """
    try:
        m = int(mode, 8)
    except ValueError:
        raise click.BadParameter(f"{mode!r} is not an octal mode", param_hint="--mode") from None
    ctx.obj = {"db": db, "mode": m}


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--duplicates", is_flag=True, help="Add a copy for every occurrence (default: set union).")
@click.option("--format", "fmt", type=click.Choice(["metta", "paths"]), default="metta", show_default=True,
              help="Input format: MeTTa text, or MORK's binary .paths dump.")
@click.option("--fast", is_flag=True,
              help="Skip fsync at commit: a crash of the OS (not of mettadb) may lose this load, never corrupt the space.")
@click.option("--bulk/--no-bulk", default=None,
              help="Sort in bounded memory and stage the load over many transactions, made visible by one "
                   "(default: for inputs of 8 MiB and more that are at least a quarter of the space).")
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...], duplicates: bool, fmt: str, fast: bool, bulk: bool | None) -> None:
    """Load MeTTa files into the space, all or nothing (`-` reads stdin).

    \b
    Example:
      mettadb load family.metta rules.metta
      mettadb load --bulk big-kb.metta
    """
    sources: list[Any] = []
    total = 0
    for f in files:
        if f == "-":
            sources.append(sys.stdin.buffer)
        else:
            if not os.path.isfile(f):
                raise click.ClickException(f"{f}: no such file")
            sources.append(f)
            total += os.path.getsize(f)
    path = ctx.obj["db"]
    existed = os.path.exists(os.path.join(path, "data.mdb"))
    try:
        with _space(ctx, durable=not fast) as space, Progress("loading", total or None, bytes_done=True) as bar:
            with _errors():
                if fmt == "paths":
                    report = space.load_paths(*sources, duplicates=duplicates, bulk=bulk)
                else:
                    report = space.load(*sources, duplicates=duplicates, progress=bar.update, bulk=bulk)
    except BaseException:
        if not existed:  # a failed first load leaves no empty space behind
            shutil.rmtree(path, ignore_errors=True)
        raise
    if report.bangs:
        click.echo(f"note: {report.bangs} `!` expressions were not evaluated (use `mettadb run` to evaluate)", err=True)
    click.echo(report.summary(), err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png",
              help="Also draw a bar chart of the largest heads (needs the `plot` extra: matplotlib).")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, plot: str | None) -> None:
    """Counts, size and the largest heads of the space.

    \b
    Example:
      mettadb stats --plot heads.png
    """
    with _space(ctx, readonly=True) as space, _errors():
        st = space.stats()
    if plot:
        _plot_heads(st, plot)
    if as_json:
        click.echo(json.dumps(st, indent=2))
        return
    click.echo(f"space           {st['path']}")
    click.echo(f"atoms           {st['atoms']:,}")
    click.echo(f"distinct        {st['distinct']:,}")
    click.echo(f"size on disk    {st['size_bytes']:,} bytes")
    click.echo(f"format version  {st['format_version']}")
    click.echo(f"generation      {st['generation']}")
    if st["heads"]:
        click.echo("")
        click.echo(f"{'head':<30} {'arity':>5} {'distinct':>12} {'atoms':>12}")
        for h in st["heads"][:20]:
            click.echo(f"{h['head'][:30]:<30} {h['arity']:>5} {h['distinct']:>12,} {h['atoms']:>12,}")
        if len(st["heads"]) > 20:
            click.echo(f"... and {len(st['heads']) - 20} more heads")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Write to a file instead of stdout.")
@click.pass_context
def dump(ctx: click.Context, output: str) -> None:
    """Print every atom as MeTTa text (what `load --duplicates` reads back).

    \b
    Example:
      mettadb dump -o backup.metta
    """
    with _space(ctx, readonly=True) as space, _errors():
        out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
        try:
            for atom in space.atoms():
                out.write(str(atom))
                out.write("\n")
        finally:
            if out is not sys.stdout:
                out.close()


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["metta", "jsonl", "paths"]), default="metta", show_default=True,
              help="MeTTa text, one JSON string per line, or MORK's binary .paths dump.")
@click.pass_context
def export(ctx: click.Context, output: str, fmt: str) -> None:
    """Write every atom to OUTPUT (`-` for stdout) in the chosen format.

    \b
    Example:
      mettadb export --format paths kb.paths
    """
    with _space(ctx, readonly=True) as space, _errors(), Progress("exporting", len(space), unit="atoms") as bar:
        out = sys.stdout.buffer if output == "-" else open(output, "wb")
        try:
            report = space.export(out, fmt, progress=lambda n: bar.update(n, n))
        finally:
            if out is not sys.stdout.buffer:
                out.close()
    click.echo(f"exported {report.atoms} atoms", err=True)
    if report.extended:
        click.echo(f"note: {report.extended} atoms use mettadb's extension tags; MORK cannot read those records",
                   err=True)


@cli.command()
@click.argument("pattern")
@click.argument("template", required=False)
@click.option("--count", is_flag=True, help="Print only the number of matches.")
@click.option("--limit", type=click.IntRange(min=0), help="Stop after N results.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object of bindings per line.")
@click.option("--explain", is_flag=True, help="Show the access path and join order instead.")
@click.pass_context
def match(ctx: click.Context, pattern: str, template: str | None, count: bool, limit: int | None,
          as_json: bool, explain: bool) -> None:
    """Match PATTERN against the space; print TEMPLATE (or the match) per result.

    \b
    Example:
      mettadb match '(, (parent $x $y) (parent $y $z))' '($x $z)' --limit 10
    """
    with _space(ctx, readonly=True) as space, _errors():
        p = mettadb.atom(pattern)
        if explain:
            click.echo(json.dumps(space.explain(p), indent=2))
            return
        t = mettadb.atom(template) if template is not None else p
        names = list(dict.fromkeys(a for a in iter_atoms(p) if isinstance(a, Variable)))
        n = 0
        out = sys.stdout
        for b in space.query(p):
            if limit is not None and n >= limit:
                break
            n += 1
            if count:
                continue
            if as_json:
                out.write(json.dumps({v.name: str(b.resolve(v)) for v in names}) + "\n")
            else:
                out.write(str(b.resolve(t)) + "\n")
        if count:
            click.echo(n)


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Verify keys, indexes, statistics and format version; exit 1 if anything is wrong.

    \b
    Example:
      mettadb check
    """
    with _space(ctx, readonly=True) as space, _errors():
        problems = space.check()
        n, version, where = space.distinct, space.format_version, space.path
    for p in problems:
        click.echo(p)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found in {where}")
    click.echo(f"ok: {n:,} distinct atoms, indexes and statistics agree, format version {version}")


@cli.command()
@click.option("--list", "list_", is_flag=True, help="List every registered migration.")
@click.option("--dry-run", is_flag=True, help="Say what would run, change nothing.")
@click.pass_context
def migrate(ctx: click.Context, list_: bool, dry_run: bool) -> None:
    """Upgrade the space's on-disk format to this release's (each step in one transaction).

    \b
    Example:
      mettadb migrate --dry-run
    """
    from mettadb.migrations import MIGRATIONS

    from mettadb.store import FORMAT_VERSION
    from mettadb.store import migrate as run_migrations

    if list_:
        for v in sorted(MIGRATIONS):
            click.echo(f"{v:4d}  {MIGRATIONS[v].description}")
        return
    path = ctx.obj["db"]
    if not os.path.exists(os.path.join(path, "data.mdb")):
        raise click.ClickException(f"no space at {os.path.abspath(path)}")
    with _errors(), Progress("migrating", None, unit="steps") as bar:
        bar.update(0, 0)
        steps = run_migrations(path, dry_run=dry_run)
    if not steps:
        click.echo(f"already at format version {FORMAT_VERSION}")
    for v, desc in steps:
        click.echo(f"{'would migrate' if dry_run else 'migrated'} to format {v}: {desc}")


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--compact", is_flag=True, help="Omit free pages (smaller copy, takes longer).")
@click.pass_context
def backup(ctx: click.Context, dest: str, compact: bool) -> None:
    """Make a consistent copy of the space at DEST, safe while others read and write.

    \b
    Example:
      mettadb backup /backups/kb-2026-11-26 --compact
    """
    if os.path.exists(os.path.join(dest, "data.mdb")):
        raise click.ClickException(f"{dest} already holds a space")
    with _space(ctx, readonly=True) as space, _errors():
        space.copy_to(dest, compact=compact)
        gen = space.generation
    click.echo(f"copied generation {gen} to {dest}", err=True)


def _plot_heads(st: dict[str, Any], dest: str, top: int = 20) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise click.ClickException("--plot needs matplotlib: pip install 'mettadb[plot]'") from None
    heads = st["heads"][:top]
    labels = [f"{h['head']}/{h['arity']}" for h in heads]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(heads), 3) + 1.2))
    ax.barh(list(reversed(labels)), list(reversed([h["atoms"] for h in heads])), color="#4477aa")
    ax.set_xlabel("atoms (copies counted)")
    ax.set_title(f"{os.path.basename(st['path'])}: {st['atoms']:,} atoms, {st['distinct']:,} distinct")
    fig.tight_layout()
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    click.echo(f"wrote {dest}", err=True)


def _read_script(path: str) -> tuple[str, str]:
    """The text and source name of a script file, `-` for stdin."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    if not os.path.isfile(path):
        raise click.ClickException(f"{path}: no such file")
    with open(path, encoding="utf-8") as f:
        return f.read(), path


def _eval_options(max_steps: int | None, timeout: float | None, allow_import: tuple[str, ...]) -> dict[str, Any]:
    return {"max_steps": max_steps, "timeout": timeout, "allow_import": allow_import}


_limits = [
    click.option("--max-steps", type=click.IntRange(min=1), help="Stop an evaluation after N steps."),
    click.option("--timeout", type=click.FloatRange(min=0), help="Stop an evaluation after S seconds."),
    click.option("--allow-import", multiple=True, type=click.Path(file_okay=False),
                 help="Let import! read .metta files under PATH too."),
]


def _with_limits(f: Any) -> Any:
    for opt in reversed(_limits):
        f = opt(f)
    return f


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--commit-each", is_flag=True, help="Commit after each `!` instead of once at the end.")
@_with_limits
@click.pass_context
def run(ctx: click.Context, script: str, commit_each: bool, max_steps: int | None, timeout: float | None,
        allow_import: tuple[str, ...]) -> None:
    """Run a MeTTa script: add its atoms, evaluate each `!`, print results as hyperon's `metta` does.

    \b
    Example:
      mettadb run family.metta
    """
    from mettadb.eval import format_results

    text, source = _read_script(script)
    with _space(ctx) as space, _errors():
        try:
            results = space.run(text, source=source, commit_each=commit_each,
                                **_eval_options(max_steps, timeout, allow_import))
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; the run was rolled back") from None
        except (MettaDBError, OSError, click.ClickException):
            raise
        except Exception as e:  # a bug, not the user's: one line, never a traceback
            raise click.ClickException(f"internal error ({_internal(e)}); the run was rolled back") from None
    for r in results:
        click.echo(format_results(r))


@cli.command("eval")
@click.argument("expr")
@_with_limits
@click.pass_context
def eval_(ctx: click.Context, expr: str, max_steps: int | None, timeout: float | None, allow_import: tuple[str, ...]) -> None:
    """Evaluate one expression against the space and print its results.

    \b
    Example:
      mettadb eval '(match &self (parent Tom $x) $x)'
    """
    from mettadb.eval import format_results

    with _space(ctx) as space, _errors():
        atom = mettadb.atom(expr)
        try:
            results = space.eval(atom, **_eval_options(max_steps, timeout, allow_import))
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None
        except (MettaDBError, OSError, click.ClickException):
            raise
        except Exception as e:  # a bug, not the user's: one line, never a traceback
            raise click.ClickException(f"internal error ({_internal(e)}); nothing was written") from None
    click.echo(format_results(results))


@cli.command()
@click.argument("queries", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jobs", default="auto", show_default=True, metavar="N|auto",
              help="Worker processes; auto keeps small batches in-process.")
@click.option("--cluster", metavar="tcp://HOST:PORT", help="Run the chunks on a Dask scheduler instead.")
@click.option("--replica", metavar="PATH", help="Path of the space on the Dask workers (default: the same path).")
@_with_limits
@click.pass_context
def batch(ctx: click.Context, queries: str, jobs: str, cluster: str | None, replica: str | None,
          max_steps: int | None, timeout: float | None, allow_import: tuple[str, ...]) -> None:
    """Evaluate each `!` query of a file read-only and in parallel; results in input order.

    \b
    Example:
      mettadb batch aunts.metta --jobs 4
    """
    from mettadb.parser import parse_script

    text, source = _read_script(queries)
    if jobs != "auto":
        try:
            n_jobs: int | str = int(jobs)
        except ValueError:
            raise click.BadParameter("expected a number or auto", param_hint="--jobs") from None
    else:
        n_jobs = "auto"
    with _errors():
        items = [str(a) for _bang, a in parse_script(text, source)]
    options = {"max_steps": max_steps, "timeout": timeout}
    client = None
    if cluster:
        try:
            from distributed import Client
        except ImportError:
            raise click.ClickException("--cluster needs Dask: pip install 'mettadb[dask]'") from None
        client = Client(cluster)
    try:
        with _space(ctx, readonly=True) as space, _errors(), Progress("batch", len(items), unit="queries") as bar:
            result = space.evaluate_many(items, jobs=n_jobs, client=client, replica_path=replica,
                                         progress=lambda done, total: bar.update(done, done), **options)
    finally:
        if client is not None:
            client.close()
    out = sys.stdout
    for line in result.lines:
        out.write(line + "\n")
    out.flush()
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(result.summary(len(items)), err=True)


@cli.command()
@click.pass_context
def repl(ctx: click.Context) -> None:
    """An interactive session: `!expr` evaluates, a plain atom is added (committed at once).

    Multi-line input continues until the expression is complete; Ctrl-C cancels
    the running evaluation; Ctrl-D leaves.

    \b
    Example:
      mettadb repl
    """
    from mettadb.repl import Repl

    with _space(ctx) as space:
        Repl(space).loop()


def main() -> None:
    """Console entry point."""
    cli(prog_name="mettadb")


if __name__ == "__main__":
    main()
