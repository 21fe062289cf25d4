"""`mettadb` commands.  Each opens the space, calls one library method and
prints its results; every failure, usage errors included, is one line
`Error: ...` on stderr and exit code 1 (see `MettaDBGroup.main`)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

import mettadb
from mettadb.atoms import Atom, Expression, Variable, iter_atoms, source_text
from mettadb.bindings import Bindings
from mettadb.errors import DamagedSpaceError, MettaDBError, ParseError
from mettadb.interchange import metta_line
from mettadb.progress import Progress
from mettadb.space import Space
from mettadb.store import DEFAULT_PATH

__all__ = ["MettaDBGroup", "cli", "main"]

#: seconds `batch --cluster` waits for the scheduler by default
CONNECT_TIMEOUT = 5.0


def _one_line(text: str) -> str:
    """A message as one printable line (undecodable bytes of a path or argument shown as \\xNN)."""
    text = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _message(e: BaseException) -> str | None:
    """The `Error:` text of an expected failure; None for a bug."""
    if isinstance(e, click.UsageError):
        if isinstance(e, click.exceptions.NoArgsIsHelpError):
            return None
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        # click says "not a valid integer range" for a word given to an IntRange
        msg = e.format_message().replace("valid integer range", "valid integer").replace("valid float range", "valid number")
        return msg.rstrip(".") + hint
    if isinstance(e, click.ClickException):
        return e.format_message()
    if isinstance(e, MettaDBError):
        return str(e)
    if isinstance(e, PermissionError):
        return f"permission denied: {e.filename}" if e.filename else "permission denied"
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}"
    if isinstance(e, UnicodeDecodeError):
        return f"invalid UTF-8 byte 0x{e.object[e.start]:02x} in the input"
    if isinstance(e, UnicodeEncodeError):
        return f"not valid UTF-8: {e.object!r}"
    if isinstance(e, MemoryError):
        return "out of memory"
    if isinstance(e, (KeyboardInterrupt, click.Abort)):
        return "interrupted"
    return None


class MettaDBGroup(click.Group):
    """A click group whose every failure is one line `Error: ...` on stderr and exit code 1.

    A failure mettadb does not expect is reported the same way, as an internal
    error; `METTADB_TRACEBACK=1` shows its traceback instead.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as e:  # pragma: no cover - click returns the code instead
            rv = e.exit_code
        except BaseException as e:  # the one place where every failure becomes one line
            if isinstance(e, SystemExit):
                raise
            if isinstance(e, BrokenPipeError) and standalone_mode:
                # the reader went away (`mettadb dump | head`): stop quietly, as other tools do
                with contextlib.suppress(OSError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(1)
            if isinstance(e, click.exceptions.NoArgsIsHelpError) and e.ctx is not None:
                if not standalone_mode:
                    raise
                click.echo(e.ctx.get_help())  # `mettadb` alone: the help, not an error
                sys.exit(0)
            msg = _message(e)
            if msg is None:
                if os.environ.get("METTADB_TRACEBACK"):
                    raise
                msg = f"internal error: {type(e).__name__}: {e} (please report it; METTADB_TRACEBACK=1 shows where)"
            if not standalone_mode:
                raise
            click.echo(f"Error: {_one_line(msg)}", err=True)
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except (MettaDBError, OSError, UnicodeError, MemoryError) as e:
        raise click.ClickException(_message(e) or str(e)) from None


def _no_space(path: str) -> click.ClickException:
    return click.ClickException(f"no space at {os.path.abspath(path)} (load one with `mettadb load FILE`)")


def _space_exists(path: str) -> bool:
    """Whether PATH holds a space; `permission denied: PATH` if the user may not look."""
    data = os.path.join(path, "data.mdb")
    try:
        os.stat(data)
    except PermissionError:
        raise click.ClickException(f"permission denied: {os.path.abspath(path)}") from None
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not os.access(data, os.R_OK) or not os.access(path, os.R_OK | os.X_OK):
        raise click.ClickException(f"permission denied: {os.path.abspath(path)}")
    return True


@contextlib.contextmanager
def _space(ctx: click.Context, readonly: bool = False, durable: bool = True, create: bool = False,
           writes: bool = False) -> Iterator[Space]:
    """The space of `--db`: it must exist unless `create` (load, run, repl); with `writes` (a command that
    always writes) one the user may not write is an error, not a note."""
    with _errors():
        path = ctx.obj["db"]
        if not _space_exists(path):
            if not create:
                raise _no_space(path)
            if os.path.exists(path) and not os.path.isdir(path):
                raise click.ClickException(f"{os.path.abspath(path)} is not a directory")
        space = mettadb.open(path, readonly=readonly, mode=ctx.obj["mode"], durable=durable)
        if writes and space.readonly:
            space.close()
            raise click.ClickException(f"{os.path.abspath(path)} is not writable by you")
        if space.note:
            click.echo(f"note: {space.note}", err=True)
        with space:
            yield space


@contextlib.contextmanager
def _new_space_guard(ctx: click.Context) -> Iterator[list[bool]]:
    """For commands that may create the space: a failure removes what it created, unless the command
    set the yielded flag (`flag[0] = True`: something was committed that the failure does not undo)."""
    path = ctx.obj["db"]
    new = not _space_exists(path)
    dir_existed = os.path.isdir(path)
    committed = [False]
    try:
        yield committed
    except BaseException:
        if new and not committed[0]:
            _remove_new_space(path, dir_existed)
        elif new:
            click.echo(f"note: created a new space at {os.path.abspath(path)}", err=True)
        raise
    if new:
        click.echo(f"note: created a new space at {os.path.abspath(path)}", err=True)


def _remove_new_space(path: str, dir_existed: bool) -> None:
    """Undo the creation of a space: its files only, and the directory if this command made it."""
    if not dir_existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    for name in ("data.mdb", "lock.mdb", "bulk.lock"):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(path, name))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    """`1 atom`, `2,000,000 atoms`."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _utf8(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse an argument that is not valid UTF-8 (the shell passed raw bytes)."""
    for v in value if isinstance(value, tuple) else (value,):
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                bad = v[e.start].encode("utf-8", "surrogateescape")
                raise click.BadParameter(f"not valid UTF-8 (byte 0x{bad[0]:02x} at character {e.start + 1})") from None
    return value


def _path(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse an empty path."""
    for v in value if isinstance(value, tuple) else (value,):
        if v == "":
            raise click.BadParameter("the path is empty")
    return value


def _space_path(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A space's path: not empty, and UTF-8 (LMDB takes no other file names)."""
    return _utf8(ctx, param, _path(ctx, param, value))


@click.group(cls=MettaDBGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="METTADB_DB", default=DEFAULT_PATH, show_default=True, metavar="PATH",
              callback=_space_path, help="The space (a directory); also $METTADB_DB.")
@click.option("--mode", default="600", show_default=True, metavar="OCTAL",
              help="Permissions of a newly created space.")
@click.version_option(mettadb.__version__, prog_name="mettadb")
@click.pass_context
def cli(ctx: click.Context, db: str, mode: str) -> None:
    """A persistent MeTTa atom space.

    Commands that read (match, eval, batch, stats, dump, export, check, backup)
    need an existing space; load, run and repl create one and say so.

    \b
    Example:
      mettadb load facts.metta
      mettadb match '(parent Tom $x)' '$x'
    """
    try:
        m = int(mode, 8)
    except ValueError:
        m = -1
    if not 0 <= m <= 0o777:
        raise click.BadParameter(f"{mode!r} is not an octal mode such as 600 or 644", param_hint="--mode")
    ctx.obj = {"db": db, "mode": m}


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True), callback=_path)
@click.option("--duplicates", is_flag=True, help="Add a copy for every occurrence (default: set union).")
@click.option("--format", "fmt", type=click.Choice(["metta", "paths"]), default=None,
              help="Input format: MeTTa text, or MORK's binary .paths dump (default: paths when every file's "
                   "name ends in .paths, else metta).")
@click.option("--fast", is_flag=True,
              help="Skip fsync at commit: a crash of the OS (not of mettadb) may lose this load, never corrupt the space.")
@click.option("--bulk/--no-bulk", default=None,
              help="Sort in bounded memory and stage the load over many transactions, made visible by one "
                   "(default: for inputs of 8 MiB and more that are at least a quarter of the space).")
@click.option("--jobs", type=click.IntRange(min=0), metavar="N",
              help="Processes that parse a bulk load's large files (default: the cores; 0 or 1: this process only).")
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...], duplicates: bool, fmt: str | None, fast: bool,
         bulk: bool | None, jobs: int | None) -> None:
    """Load MeTTa files into the space, all or nothing (`-` reads stdin).

    Creates the space if there is none (and says so).

    \b
    Example:
      mettadb load family.metta rules.metta
      mettadb load --bulk big-kb.metta
      mettadb load --jobs 4 big-kb.metta
    """
    if jobs == 0:  # as `batch --jobs 0`: no worker processes
        jobs = 1
    if fmt is None:
        jsonl = next((f for f in files if f.endswith(".jsonl")), None)
        if jsonl is not None:  # (read as MeTTa text, each line would be one string atom)
            raise click.ClickException(f"{jsonl}: JSON lines are an export format for other tools; load reads "
                                       "MeTTa text and .paths dumps (--format metta reads the file as MeTTa text)")
        fmt = "paths" if all(f.endswith(".paths") for f in files) else "metta"
    sources: list[Any] = []
    total = 0
    for f in files:
        if f == "-":
            sources.append(sys.stdin.buffer)
        else:
            if not os.path.exists(f):
                raise click.ClickException(f"{f}: no such file")
            if not os.access(f, os.R_OK):
                raise click.ClickException(f"permission denied: {f}")
            if os.path.isfile(f):
                sources.append(f)
                total += os.path.getsize(f)
            else:  # a pipe such as <(zcat kb.metta.gz) or /dev/stdin
                sources.append(open(f, "rb"))  # closed when the process ends
    with _new_space_guard(ctx), _space(ctx, durable=not fast, create=True, writes=True) as space, \
            Progress("loading", total or None, bytes_done=True) as bar, _errors():
        if fmt == "paths":
            report = space.load_paths(*sources, duplicates=duplicates, bulk=bulk, jobs=jobs)
        else:
            report = space.load(*sources, duplicates=duplicates, progress=bar.update, bulk=bulk, jobs=jobs)
    if report.bangs:
        click.echo(f"note: {_plural(report.bangs, '`!` expression')} {'was' if report.bangs == 1 else 'were'} "
                   "not evaluated (use `mettadb run` to evaluate)", err=True)
    click.echo(f"loaded {_plural(report.read, 'atom')}: {report.added:,} added, {report.present:,} already present"
               f" in {report.seconds:.2f} s ({report.rate:,.0f} atoms/s)", err=True)


def _heads_with_args(st: dict[str, Any]) -> list[dict[str, Any]]:
    """Each head with `args`: the arguments after the head (`(parent A B)` is parent/2); None for a lone atom."""
    return [{**h, "args": h["arity"] - 1 if h["arity"] else None} for h in st["heads"]]


def _head_label(h: dict[str, Any]) -> str:
    return h["head"] if h["args"] is None else f"{h['head']}/{h['args']}"


@cli.command()
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output (each head: `arity` counts the head too, `args` does not).")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png", callback=_path,
              help="Also draw a bar chart of the largest heads (needs the `plot` extra: matplotlib).")
@click.pass_context
def stats(ctx: click.Context, as_json: bool, plot: str | None) -> None:
    """Counts, size and the largest heads of the space (`parent/2`: head and number of arguments).

    \b
    Example:
      mettadb stats --plot heads.png
    """
    with _space(ctx, readonly=True) as space, _errors():
        with space.decoding():
            st = space.stats()
    st["heads"] = _heads_with_args(st)
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
    click.echo(f"generation      {st['generation']:,}")
    if st["heads"]:
        click.echo("")
        click.echo(f"{'head/arguments':<30} {'distinct':>12} {'atoms':>12}")
        for h in st["heads"][:20]:
            click.echo(f"{_head_label(h)[:30]:<30} {h['distinct']:>12,} {h['atoms']:>12,}")
        if len(st["heads"]) > 20:
            click.echo(f"... and {_plural(len(st['heads']) - 20, 'more head')}")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-", callback=_path,
              help="Write to a file instead of stdout.")
@click.pass_context
def dump(ctx: click.Context, output: str) -> None:
    """Print every atom as MeTTa text, in insertion order (what `load --duplicates` reads back); a summary goes to stderr.

    \b
    Example:
      mettadb dump -o backup.metta
    """
    n = 0
    with _space(ctx, readonly=True) as space, _errors():
        out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
        try:
            with space.decoding():
                for atom in space.atoms(ordered=True):
                    out.write(metta_line(atom, n + 1))
                    out.write("\n")
                    n += 1
        except MettaDBError:
            if out is not sys.stdout:
                out.close()
                _drop_partial(output)
            raise
        finally:
            if out is not sys.stdout:
                out.close()
    click.echo(f"dumped {_plural(n, 'atom')}" + (f" to {output}" if output != "-" else ""), err=True)


def _drop_partial(output: str) -> None:
    """Remove the output of a dump or export that stopped part way (a regular file only, not a link or
    a device such as `/dev/stdout`)."""
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.lstat(output).st_mode):
            os.unlink(output)


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True), callback=_path)
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
            with space.decoding():
                report = space.export(out, fmt, progress=lambda n: bar.update(n, n))
        except MettaDBError:
            if out is not sys.stdout.buffer:
                out.close()
                _drop_partial(output)
            raise
        finally:
            if out is not sys.stdout.buffer:
                out.close()
    click.echo(f"exported {_plural(report.atoms, 'atom')}" + (f" to {output}" if output != "-" else ""), err=True)
    if report.extended:
        click.echo(f"note: {_plural(report.extended, 'atom')} use mettadb's extension tags; MORK cannot read those records",
                   err=True)


def _display_names(atom: Atom) -> Atom:
    """`atom` with each fresh variable (`$a#12`, from a stored rule) renamed to a plain name not used in it."""
    variables = [a for a in iter_atoms(atom) if isinstance(a, Variable)]
    if not any("#" in v.name for v in variables):
        return atom
    taken = {v.name for v in variables if "#" not in v.name}
    rename: dict[Variable, Variable] = {}
    for v in variables:
        if "#" in v.name and v not in rename:
            base = v.name.split("#", 1)[0] or "x"
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}{k}"
            taken.add(name)
            rename[v] = Variable(name)
    return Bindings(rename).resolve(atom)  # iterative: any depth


@cli.command()
@click.argument("pattern", callback=_utf8)
@click.argument("template", required=False, callback=_utf8)
@click.option("--count", is_flag=True, help="Print only the number of matches.")
@click.option("--limit", type=click.IntRange(min=0), help="Stop after N results.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per result: each variable of TEMPLATE (else of PATTERN) and its value.")
@click.option("--explain", is_flag=True, help="Show the plan (access paths, join order, estimates) without running it.")
@click.option("--analyze", is_flag=True, help="With --explain: run the query and show actual rows and keys per step.")
@click.pass_context
def match(ctx: click.Context, pattern: str, template: str | None, count: bool, limit: int | None,
          as_json: bool, explain: bool, analyze: bool) -> None:
    """Match PATTERN against the space; print TEMPLATE (or the match) per result.

    Variables of stored rules print under their own names (`$a`, or `$a2`
    where that name is taken).

    \b
    Example:
      mettadb match '(, (parent $x $y) (parent $y $z))' '($x $z)' --limit 10
    """
    with _space(ctx, readonly=True) as space, _errors():
        p = mettadb.atom(pattern)
        if analyze and not explain:
            raise click.ClickException("--analyze needs --explain")
        if explain:
            click.echo(json.dumps(space.explain(p, analyze=analyze), indent=2))
            return
        if count:
            n = space.count_matches(p)
            click.echo(n if limit is None else min(n, limit))
            return
        t = mettadb.atom(template) if template is not None else p
        names = list(dict.fromkeys(a for a in iter_atoms(t) if isinstance(a, Variable)))
        n = 0
        out = sys.stdout
        with space.decoding():
            for b in space.query(p):
                if limit is not None and n >= limit:
                    break
                n += 1
                if as_json:
                    values = _display_names(Expression([b.resolve(v) for v in names])) if names else Expression([])
                    assert isinstance(values, Expression)
                    out.write(json.dumps({v.name: str(x) for v, x in zip(names, values.children)}) + "\n")
                else:
                    out.write(str(_display_names(b.resolve(t))) + "\n")


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Verify keys, indexes, statistics and format version; exit 1 if anything is wrong.

    Shows its progress on a terminal.

    \b
    Example:
      mettadb check
    """
    with _space(ctx, readonly=True) as space, _errors():
        where = space.path
        try:
            n: int | None = space.distinct
        except DamagedSpaceError:
            n = None  # (the check reports it)
        with Progress("checking", n, unit="atoms") as bar:
            bar.update(0, 0)
            problems = space.check(progress=lambda done: bar.update(done, done))
        if not problems:
            n, version = space.distinct, space.format_version
    for p in problems:
        click.echo(p)
    if problems or n is None:
        raise click.ClickException(f"{_plural(len(problems), 'problem')} found in {where}")
    click.echo(f"ok: {_plural(n, 'distinct atom')}, indexes and statistics agree, format version {version}")


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
    from mettadb.migrations import migrate as run_migrations

    from mettadb.store import FORMAT_VERSION

    if list_:
        for v in sorted(MIGRATIONS):
            click.echo(f"{v:4d}  {MIGRATIONS[v].description}")
        return
    path = ctx.obj["db"]
    if not _space_exists(path):
        raise click.ClickException(f"no space at {os.path.abspath(path)}")
    with _errors(), Progress("migrating", None, unit="steps") as bar:
        bar.update(0, 0)
        steps = run_migrations(path, dry_run=dry_run)
    if not steps:
        click.echo(f"already at format version {FORMAT_VERSION}")
    for v, desc in steps:
        click.echo(f"{'would migrate' if dry_run else 'migrated'} to format {v}: {desc}")


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False), callback=_space_path)
@click.option("--compact", is_flag=True, help="Omit free pages (smaller copy, takes longer).")
@click.pass_context
def backup(ctx: click.Context, dest: str, compact: bool) -> None:
    """Make a consistent copy of the space at DEST, safe while others read and write.

    The copy is owner-only (directory 0700, data.mdb 0600).

    \b
    Example:
      mettadb backup /backups/kb-2026-11-26 --compact
    """
    if os.path.exists(os.path.join(dest, "data.mdb")):
        raise click.ClickException(f"{dest} already holds a space")
    with _space(ctx, readonly=True) as space, _errors():
        space.copy_to(dest, compact=compact)
        os.chmod(os.path.join(dest, "data.mdb"), 0o600)
        gen = space.generation
    click.echo(f"copied generation {gen:,} to {dest}", err=True)


def _plot_heads(st: dict[str, Any], dest: str, top: int = 20) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise click.ClickException("--plot needs matplotlib: pip install 'mettadb[plot]'") from None
    heads = st["heads"][:top]
    labels = [_head_label(h) for h in heads]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(heads), 3) + 1.2))
    ax.barh(list(reversed(labels)), list(reversed([h["atoms"] for h in heads])), color="#4477aa")
    ax.set_xlabel("atoms (copies counted)")
    ax.set_ylabel("head/arguments")
    ax.set_title(f"{os.path.basename(st['path'])}: {st['atoms']:,} atoms, {st['distinct']:,} distinct")
    fig.tight_layout()
    with _errors():
        fig.savefig(dest, dpi=100)
    plt.close(fig)
    click.echo(f"wrote {dest}", err=True)


def decode_script(data: bytes, source: str) -> str:
    """Script bytes as text; invalid UTF-8 is a ParseError naming SOURCE:LINE:COL like `load`'s."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        head = data[: e.start]
        line = head.count(b"\n") + 1
        col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise ParseError(f"invalid UTF-8 byte 0x{data[e.start]:02x}", line, col, source) from None


def _read_bytes(f: Any) -> bytes:
    """A regular file whole (as `metta` reads it: invalid UTF-8 after a NUL byte is still an error); a pipe
    or a device up to its first NUL byte, which ends a script (`run /dev/zero` stops at once)."""
    try:
        regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (OSError, ValueError):  # (no file descriptor: an in-memory stream, read whole)
        regular = True
    if regular:
        data: bytes = f.read()
        return data
    chunks: list[bytes] = []
    while True:
        chunk = f.read1(1 << 16)
        if not chunk:
            return b"".join(chunks)
        cut = chunk.find(b"\0")
        if cut >= 0:
            chunks.append(chunk[: cut + 1])
            return b"".join(chunks)
        chunks.append(chunk)


def _read_script(path: str) -> tuple[str, str]:
    """The text and source name of a script file, `-` for stdin."""
    if path == "-":
        source = "<stdin>"
        with _errors():
            data = _read_bytes(sys.stdin.buffer)
    else:
        if not os.path.exists(path):
            raise click.ClickException(f"{path}: no such file")
        source = path
        with _errors(), open(path, "rb") as f:
            data = _read_bytes(f)
    with _errors():
        text = decode_script(data, source)
    if "\r" in text:  # `metta` reads a script as Python reads text: `\r\n` and a lone `\r` are a newline
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, source


def _seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and math.isnan(value):
        raise click.BadParameter("not a number")
    return value or None  # 0 means no limit


_max_steps = click.option("--max-steps", type=click.IntRange(min=1), help="Stop an evaluation after N steps.")
_timeout = click.option("--timeout", type=click.FloatRange(min=0), callback=_seconds, metavar="SECONDS",
                        help="Stop an evaluation after SECONDS (0, the default: no limit).")
_max_memory = click.option(
    "--max-memory", type=click.IntRange(min=0), metavar="MB",
    help="Stop an evaluation that grows the process by more than MB (default 256; 0: no limit). "
         "A runaway recursion stops here, in seconds.")


def _memory(mb: int | None) -> dict[str, Any]:
    return {} if mb is None else {"max_memory": mb << 20}


_allow_import = click.option("--allow-import", multiple=True, type=click.Path(file_okay=False, exists=True), callback=_path,
                             help="Let import! read .metta files under PATH too.")
_allow_python = click.option("--allow-python", is_flag=True,
                             help="Let py-atom, py-dot and the Python operations they find run Python code "
                                  "(they import modules and run Python text, outside the sandbox).")


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False, allow_dash=True), callback=_path)
@click.option("--commit-each", is_flag=True,
              help="Commit after each `!` (with the atoms before it); a failure then undoes only the part since "
                   "the last `!` (default: one commit at the end, a failure undoes the whole run).")
@click.option("--fail-on-error", is_flag=True,
              help="Exit 1 if the script stops on an (Error ...) result (for CI); what ran before it is kept.")
@click.option("--duplicates", is_flag=True,
              help="Add every atom of the script, even one the space already held before this run.")
@_max_steps
@_timeout
@_max_memory
@_allow_import
@_allow_python
@click.pass_context
def run(ctx: click.Context, script: str, commit_each: bool, fail_on_error: bool, duplicates: bool,
        max_steps: int | None, timeout: float | None, max_memory: int | None, allow_import: tuple[str, ...],
        allow_python: bool) -> None:
    """Run a MeTTa script: add its atoms, evaluate each `!`, print results as hyperon's `metta` does.

    Creates the space if there is none (and says so). Like `load`, an atom the
    space already held before this run is not added again, so a script can be
    run twice (within one run, copies are kept, as hyperon keeps them;
    --duplicates always adds). Like hyperon, a script stops at the first `!`
    whose result is an (Error ...) and exits 0 unless --fail-on-error.

    \b
    Example:
      mettadb run family.metta
      mettadb run --fail-on-error tests.metta
    """
    from mettadb.interp import format_results, is_error

    text, source = _read_script(script)
    cut = text.find("\0")
    if cut >= 0:
        line = text.count("\n", 0, cut) + 1
        col = cut - text.rfind("\n", 0, cut)
        click.echo(f"note: {source}:{line}:{col}: NUL byte: the rest of the script is not read "
                   "(as hyperon does not read it)", err=True)

    done: list[list[Any]] = []  # without --commit-each: the results of the `!`s so far

    def show(_atom: Any, res: list[Any]) -> None:
        if not commit_each:
            done.append(res)
            return
        # with --commit-each a `!` is printed once committed: a later failure does not take it back
        click.echo(format_results(res))
        committed[0] = True

    with _new_space_guard(ctx) as committed, _space(ctx, create=True) as space, _errors():
        try:
            try:
                results = space.run(text, source=source, commit_each=commit_each, duplicates=duplicates,
                                    max_steps=max_steps, timeout=timeout, allow_import=allow_import,
                                    allow_python=allow_python, on_result=show, **_memory(max_memory))
            except BaseException as e:
                # like hyperon's `metta`, which prints every result at the end (after what `println!`
                # printed), the results of the `!`s before a failure are printed too (the run rolls
                # back); but none when the script does not parse, as hyperon prints none then
                if not isinstance(e, ParseError):
                    for r in done:
                        click.echo(format_results(r))
                raise
            for r in done:
                click.echo(format_results(r))
        except KeyboardInterrupt:
            what = "what came after the last completed `!` was" if commit_each else "the run was"
            raise click.ClickException(f"interrupted; {what} rolled back") from None
    if fail_on_error and results and any(is_error(a) for a in results[-1]):
        err = next(a for a in results[-1] if is_error(a))
        where = f"{source}: " if source else ""
        shown = str(err)[:300].replace("\n", "\\n")  # (one line: a Python exception's error spans several)
        raise click.ClickException(f"{where}the script stopped on an error: {shown}")


@cli.command("eval")
@click.argument("expr", callback=_utf8)
@_max_steps
@_timeout
@_max_memory
@_allow_import
@_allow_python
@click.pass_context
def eval_(ctx: click.Context, expr: str, max_steps: int | None, timeout: float | None, max_memory: int | None,
          allow_import: tuple[str, ...], allow_python: bool) -> None:
    """Evaluate one expression against the space and print its results.

    \b
    Example:
      mettadb eval '(match &self (parent Tom $x) $x)'
    """
    from mettadb.interp import format_results

    with _space(ctx) as space, _errors():
        atom = mettadb.atom(expr)
        try:
            results = space.eval(atom, max_steps=max_steps, timeout=timeout, allow_import=allow_import,
                                 allow_python=allow_python, **_memory(max_memory))
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None
    click.echo(format_results(results))


class _Jobs(click.ParamType):  # type: ignore[type-arg]
    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if value == "auto" or isinstance(value, int):
            return value  # type: ignore[no-any-return]
        try:
            n = int(value)
        except ValueError:
            self.fail("expected a number or auto", param, ctx)
        if not 0 <= n <= 1024:
            self.fail(f"{value} is not between 0 (in-process) and 1024", param, ctx)
        return n


_ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})")


def _address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --cluster value must look like tcp://HOST:PORT (the scheme may be left out)."""
    if value is None:
        return None
    m = _ADDRESS.fullmatch(value)
    if m is None or not 0 < int(m[3]) < 65536:
        raise click.BadParameter(f"{value!r} is not a scheduler address like tcp://HOST:PORT")
    return value


def _connect(cluster: str, timeout: float) -> Any:
    """A Dask client for `cluster`, or a one-line error within about `timeout` seconds."""
    m = _ADDRESS.fullmatch(cluster)
    assert m is not None  # checked by _address
    host, port = m[2].strip("[]"), int(m[3])
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e)).lower()
        raise click.ClickException(f"cannot reach the Dask scheduler at {cluster} within {timeout:g} s: {why}") from None
    try:
        from distributed import Client
    except ImportError:
        raise click.ClickException("--cluster needs Dask: pip install 'mettadb[dask]'") from None
    try:
        return Client(cluster if m[1] else f"tcp://{cluster}", timeout=timeout)  # type: ignore[no-untyped-call]
    except Exception as e:  # whatever Dask's handshake raises, one line
        why = ("what answers there is not a Dask scheduler" if isinstance(e, MemoryError)
               else f"{type(e).__name__}: {str(e)[:200]}")
        raise click.ClickException(f"cannot connect to the Dask scheduler at {cluster} within {timeout:g} s: {why}") from None


@cli.command()
@click.argument("queries", type=click.Path(dir_okay=False, allow_dash=True), callback=_path)
@click.option("--jobs", default="auto", show_default=True, type=_Jobs(),
              help="Worker processes (0: in-process); auto keeps small batches in-process.")
@click.option("--cluster", metavar="tcp://HOST:PORT", callback=_address,
              help="Run the chunks on a Dask scheduler instead.")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True, max=3600), default=CONNECT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="How long to wait for the --cluster scheduler.")
@click.option("--replica", metavar="PATH", callback=_space_path, help="Path of the space on the Dask workers (default: the same path).")
@_max_steps
@_timeout
@_max_memory
@click.pass_context
def batch(ctx: click.Context, queries: str, jobs: int | str, cluster: str | None, connect_timeout: float,
          replica: str | None, max_steps: int | None, timeout: float | None, max_memory: int | None) -> None:
    """Evaluate each `!` query of a file read-only and in parallel; results in input order.

    Only `!` lines are queries, each evaluated on its own; a plain atom is
    refused (a batch never writes: load facts and rules with `mettadb load`).

    \b
    Example:
      mettadb batch aunts.metta --jobs 4
    """
    from mettadb.runner import script_items

    text, source = _read_script(queries)
    with _errors():
        parsed = list(script_items(text, source))
    for bang, atom, line in parsed:
        if not bang:
            raise click.ClickException(
                f"{source}:{line}: {str(atom)[:60]} is not a query: a batch only evaluates `!` lines "
                "(load facts and rules with `mettadb load`)")
    items = [source_text(a) for _bang, a, _line in parsed]  # (a regex token written back as such)
    options = {"max_steps": max_steps, "timeout": timeout, **_memory(max_memory)}
    client = None
    with _space(ctx, readonly=True) as space:
        if cluster:
            client = _connect(cluster, connect_timeout)
        try:
            with _errors(), Progress("batch", len(items), unit="queries") as bar:
                result = space.evaluate_many(items, jobs=jobs, client=client, replica_path=replica,
                                             progress=lambda done, total: bar.update(done, done), **options)
        finally:
            if client is not None:
                client.close()
    out = sys.stdout
    for answer in result.lines:
        out.write(answer + "\n")
    out.flush()
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"batch: {_plural(len(items), 'query', 'queries')}, {_plural(result.workers, 'worker')}, "
               f"version {result.generation:,}, {result.seconds:.2f} s", err=True)


@cli.command()
@click.pass_context
def repl(ctx: click.Context) -> None:
    """An interactive session: `!expr` evaluates, a plain atom is added (committed at once), each as `run`
    reads a script's items (one session, one script: a token stands for what `bind!` named, an atom
    the space held before the session is not added again).

    Multi-line input continues until the expression is complete; Ctrl-C cancels
    the running evaluation; Ctrl-D leaves. Creates the space if there is none.

    \b
    Example:
      mettadb repl
    """
    from mettadb.repl import Repl

    new = not _space_exists(ctx.obj["db"])
    with _space(ctx, create=True) as space:
        if new:
            click.echo(f"note: created a new space at {space.path}", err=True)
        Repl(space).loop()


def main() -> None:
    """Console entry point."""
    cli(prog_name="mettadb")


if __name__ == "__main__":
    main()
