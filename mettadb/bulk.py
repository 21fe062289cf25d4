"""External sorting of byte keys in bounded memory, for bulk loads.

`KeyRuns` collects a multiset of keys in a list (its `append` is the list's own, so a hot
loop pays nothing per key).  When the caller's memory budget is reached it
calls `spill()`: the list is sorted (deduplicated for set semantics), written
to a temporary run file as msgpack chunks, and sampled.  `buckets()` then cuts
the whole key space into ranges of about `bucket_keys` keys each, chosen from
the samples of all runs (so the input's order does not matter), and yields each
range's keys from every run and from memory, sorted: a k-way merge done by
`list.sort` on already sorted slices.  Nothing here knows about LMDB.

What the merge holds does not grow with the input: it reads at most
`FAN_IN` runs at once (more are first merged into one run on disk, the
fewest needed), and the samples are thinned to at most `MAX_SAMPLES` keys
(every key of a run is sampled at one rate, doubled when they are too many).

What outlives a spill is kept out of Python's small-object heap: the samples as
packed msgpack arrays, the runs as numbers in an `array`.  A small object that
survives (a sampled key, a run's path) keeps its whole 1 MiB arena from going back
to the system once the keys around it are freed: at 10M atoms the loader held 140
arenas for 7 MB of live objects through the merge.
"""

from __future__ import annotations

import bisect
import os
import shutil
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, NamedTuple
from zlib import crc32

import msgpack

__all__ = ["BUCKET_KEYS", "FAN_IN", "MAX_SAMPLES", "RUN_KEYS", "KeyRuns", "Numbering", "RunFiles"]

#: keys a bulk load holds in memory, all its key sets together, before it spills
#: sorted runs to disk (~70 bytes each as Python objects); `METTADB_BULK_RUN_KEYS`
#: overrides it.  Inputs that fit are sorted once and never touch the disk.
RUN_KEYS = int(os.environ.get("METTADB_BULK_RUN_KEYS") or 2_000_000)
#: keys per range handed to the writer (bounds the merge's and a transaction's memory)
BUCKET_KEYS = 250_000
#: keys per msgpack array in a run file: the merge holds one array per run (~70 KB at 1024)
_CHUNK = 1024
#: bytes a run reader asks of its file at a time (msgpack's buffer)
_READ_SIZE = 32 << 10
#: samples per bucket at most: enough to cut buckets of even size
_SAMPLES_PER_BUCKET = 64
#: samples kept at most (~5 MB): past it the sampling rate halves, so buckets stay ~`bucket_keys`
#: keys however large the input (100M atoms had 3M samples, ~250 MB, at every 64th key)
MAX_SAMPLES = 1 << 16
#: runs the merge reads at once (each holds ~100 KB: one msgpack array and a read buffer); 100M atoms
#: make ~100 runs per key set, and merging the extra ones first cost ~10% of that load
FAN_IN = 160


class Numbering(NamedTuple):
    """How a bulk load numbers its atoms in input order: each primary key is sorted with its insertion
    sequence number appended, fixed-width msgpack (`0xCE` + u32, or `0xCF` + u64 past 2**32), so the
    sorted runs keep copies of a key in input order and the suffix is the stored record as it is.

    The numbers start at 2**16 at least (2**32 for the 9-byte form), so the fixed width is msgpack's
    shortest encoding too: every record's number compares bytewise as the numbers do."""

    #: the first number the load may give
    base: int
    #: suffix bytes: 5 or 9
    width: int

    @staticmethod
    def spanning(next_seq: int, span: int) -> Numbering:
        """Numbers from the space's next one (`meta.seq`) for `span` positions."""
        base = max(next_seq, 1 << 16)  # layout.FIRST_SEQ
        if base + span < (1 << 32):
            return Numbering(base, 5)
        return Numbering(max(base, 1 << 32), 9)

    def first(self, next_seq: int) -> int:
        """Where this numbering starts for a space whose next number is `next_seq` (as `spanning`)."""
        return max(next_seq, 1 << 16) if self.width == 5 else max(next_seq, 1 << 32)

    @property
    def packer(self) -> Callable[[int, int], bytes]:
        """`packer(tag, seq)` is the suffix of number seq; tag is `self.tag`."""
        return _U32.pack if self.width == 5 else _U64.pack

    @property
    def tag(self) -> int:
        """The msgpack type byte of the suffix."""
        return 0xCE if self.width == 5 else 0xCF


_U32 = struct.Struct(">BI")
_U64 = struct.Struct(">BQ")


class _ListReader:
    """The in-memory (unspilled) run, read range by range like a file."""

    def __init__(self, keys: list[bytes]) -> None:
        self._keys = keys
        self._pos = 0

    def take_below(self, hi: bytes | None, out: list[bytes]) -> None:
        j = len(self._keys) if hi is None else bisect.bisect_left(self._keys, hi, self._pos)
        out.extend(self._keys[self._pos:j])
        self._pos = j

    def close(self) -> None:
        self._keys = []


class _RunReader:
    """Reads one sorted run file range by range."""

    def __init__(self, path: str) -> None:
        self._f: BinaryIO = open(path, "rb")
        # read_size: the default buffer is ~0.7 MB a reader, and the merge of a 100M-atom load has ~200
        self._unpacker = msgpack.Unpacker(self._f, raw=False, use_list=True, max_buffer_size=1 << 30,
                                          read_size=_READ_SIZE)
        self._buf: list[bytes] = []
        self._pos = 0

    def take_below(self, hi: bytes | None, out: list[bytes]) -> None:
        """Append to `out` every remaining key < hi (all of them if hi is None)."""
        while True:
            if self._pos >= len(self._buf):
                try:
                    self._buf = next(self._unpacker)
                except StopIteration:
                    self._buf = []
                    self._pos = 0
                    return
                self._pos = 0
            if hi is None:
                j = len(self._buf)
            else:
                j = bisect.bisect_left(self._buf, hi, self._pos)
            out.extend(self._buf[self._pos:j])
            self._pos = j
            if j < len(self._buf):
                return

    def close(self) -> None:
        self._f.close()
        self._unpacker = None  # its buffer, and the keys read ahead, go now: not when the reader does
        self._buf = []


def _merged(readers: list[_RunReader], bounds: list[bytes | None]) -> Iterator[list[bytes]]:
    """The keys of sorted runs, merged, one sorted list per range below each bound."""
    for hi in bounds:
        out: list[bytes] = []
        for r in readers:
            r.take_below(hi, out)
        out.sort()
        yield out


class RunFiles(NamedTuple):
    """Sorted run files written by one `KeyRuns` (in another process), to be adopted by another."""

    paths: list[str]
    #: the sampled keys, one packed msgpack array
    sample: bytes
    keys: int
    #: the sample holds every `every`-th key of each run
    every: int = 1


class KeyRuns:
    """A multiset of byte keys kept as sorted runs in `directory`; see the module doc."""

    def __init__(self, directory: str, name: str, *, bucket_keys: int | None = None, suffix: int = 0) -> None:
        self.directory = directory
        self.name = name
        #: bytes appended to each key (a `Numbering`): range bounds are cut without them, so every
        #: copy of a key falls in one range
        self.suffix = suffix
        self.bucket_keys = bucket_keys or BUCKET_KEYS
        self.keys: list[bytes] = []
        self.append = self.keys.append
        self._every = max(1, self.bucket_keys // _SAMPLES_PER_BUCKET)
        self._runs = array("q")  # run file numbers: see `_path`
        self._samples: list[bytes] = []  # packed msgpack arrays of sampled keys
        self._nsamples = 0
        self.spilled = 0
        #: runs merged into bigger ones before the final merge (to stay within FAN_IN)
        self.premerged = 0
        self._made = 0  # run files named so far
        self._thinned = 0  # times the samples were halved
        #: merge with the keys left in memory as they are even when there are runs on disk (see `buckets`)
        self.hold = False

    def _path(self, number: int) -> str:
        return os.path.join(self.directory, f"{self.name}-{number}.run")

    def _new_run(self) -> int:
        """The number of a new run file (its path: `_path`)."""
        self._made += 1
        return self._made - 1

    def samples(self) -> list[bytes]:
        """The sampled keys (not sorted)."""
        out: list[bytes] = []
        for blob in self._samples:
            out.extend(msgpack.unpackb(blob, raw=False))
        return out

    def count(self) -> int:
        """Keys added so far (spilled and in memory, copies included)."""
        return self.spilled + len(self.keys)

    @staticmethod
    def _sorted(keys: list[bytes]) -> list[bytes]:
        # copies of a key are kept: deduplicating costs more here than where they are written
        keys.sort()
        return keys

    def spill(self) -> None:
        """Sort the in-memory keys into a run file and start a new run."""
        keys = self._sorted(self.keys)  # may be self.keys itself: cleared once written
        if not keys:
            return
        # each run sampled from its own offset: runs of interleaved keys sampled in step cluster their
        # samples, and a range cut between clusters holds many times `bucket_keys`
        offset = crc32(self._made.to_bytes(4, "big")) % self._every
        self._runs.append(self._write_run([keys]))
        self._add_sample(keys[offset::self._every])
        self.spilled += len(keys)
        self.keys.clear()

    def _write_run(self, parts: Iterable[list[bytes]]) -> int:
        """A new run file of the sorted keys of `parts` (consecutive, in order); returns its number."""
        number = self._new_run()
        with open(self._path(number), "wb") as f:
            pack = msgpack.Packer(use_bin_type=True).pack
            for keys in parts:
                for i in range(0, len(keys), _CHUNK):
                    f.write(pack(keys[i:i + _CHUNK]))
                del keys  # not held while `parts` makes the next
        return number

    def _add_sample(self, sample: list[bytes]) -> None:
        """Keep a sample taken at the current rate; halve the rate while there are too many."""
        if not sample:
            return
        self._samples.append(msgpack.packb(sample, use_bin_type=True))
        self._nsamples += len(sample)
        if self._nsamples <= MAX_SAMPLES:
            return
        keys = self.samples()
        while len(keys) > MAX_SAMPLES:
            # each sample kept or not by a bit of its hash: halves every part of the key space alike
            # (dropping every other sample in key order would drop whole runs of interleaved keys)
            bit = 1 << self._thinned
            keys = [k for k in keys if not crc32(k) & bit]
            self._thinned += 1
            self._every *= 2
        self._samples = [msgpack.packb(keys, use_bin_type=True)]
        self._nsamples = len(keys)

    def run_files(self) -> RunFiles:
        """Spill what is in memory and hand over the run files (this object forgets them)."""
        self.spill()
        out = RunFiles([self._path(n) for n in self._runs], msgpack.packb(self.samples(), use_bin_type=True),
                       self.spilled, self._every)
        self._runs, self._samples, self._nsamples, self.spilled = array("q"), [], 0, 0
        return out

    def adopt(self, runs: RunFiles) -> None:
        """Take over run files written elsewhere (see `run_files`); they are merged and discarded with ours."""
        for path in runs.paths:  # renamed into our numbering: no path string outlives this call
            number = self._new_run()
            try:
                os.rename(path, self._path(number))
            except OSError:  # another file system
                shutil.move(path, self._path(number))
            self._runs.append(number)
        thin = max(1, self._every // runs.every)  # both rates are powers of two times the same base
        sample: list[bytes] = msgpack.unpackb(runs.sample, raw=False) if runs.sample else []
        self._add_sample(sample[::thin] if thin > 1 else sample)
        self.spilled += runs.keys

    def buckets(self) -> Iterator[tuple[bytes, bytes | None, list[bytes]]]:
        """Yield (lo, hi, keys) for consecutive ranges covering every key; keys sorted, hi None = no bound."""
        if self._runs and self.keys and not self.hold:
            # with runs on disk the keys left in memory are one more: held whole through the merge (and
            # kept for a rerun), they would be up to the budget on top of the merge's own memory
            self.spill()
        rest = self._sorted(self.keys)  # no appends after this; kept, so the merge can be run again
        size = self.bucket_keys
        sfx = self.suffix
        if not self._runs:
            n, i, lo = len(rest), 0, b""
            while True:
                j = i + size
                if j >= n:
                    yield lo, None, rest[i:]
                    return
                bound = rest[j][:-sfx] if sfx else rest[j]
                j = bisect.bisect_left(rest, bound, i)  # copies of one key stay together
                if j == i:
                    j = bisect.bisect_right(rest, bound + b"\xff" * sfx if sfx else bound, i)
                    if j >= n:
                        yield lo, None, rest[i:]
                        return
                    bound = rest[j][:-sfx] if sfx else rest[j]
                yield lo, bound, rest[i:j]
                i, lo = j, bound
        if len(self._runs) + (1 if rest else 0) > FAN_IN:
            self._premerge(FAN_IN - (1 if rest else 0))
        bounds = self._bounds(rest[::self._every], size)
        readers: list[_RunReader | _ListReader] = [_RunReader(self._path(n)) for n in self._runs]
        readers.append(_ListReader(rest))
        try:
            lo = b""
            for hi in [*bounds, None]:
                out: list[bytes] = []
                for r in readers:
                    r.take_below(hi, out)
                yield lo, hi, self._sorted(out)
                if hi is not None:
                    lo = hi
        finally:
            for r in readers:
                r.close()

    def _bounds(self, extra: list[bytes], size: int) -> list[bytes]:
        """Keys that cut the sampled key space into ranges of about `size` keys.

        Cut without a numbering's suffix: every copy of a key (each with its own number) sorts above
        the bound of its bare key, so the copies fall in one range, in input order."""
        sample = self.samples()
        sample.extend(extra)
        sample.sort()
        step = max(1, size // self._every)
        sfx = self.suffix
        bounds: list[bytes] = []
        for i in range(step, len(sample), step):
            b = sample[i][:-sfx] if sfx else sample[i]
            if not bounds or b > bounds[-1]:
                bounds.append(b)
        return bounds

    def _premerge(self, most: int) -> None:
        """Merge the fewest runs needed into one, so that at most `most` are left to read at once."""
        while len(self._runs) > most:
            group = self._runs[:len(self._runs) - most + 1][:FAN_IN]
            readers = [_RunReader(self._path(n)) for n in group]
            try:
                merged = self._write_run(_merged(readers, [*self._bounds([], self.bucket_keys), None]))
            finally:
                for r in readers:
                    r.close()
            for n in group:
                os.unlink(self._path(n))
            self._runs = array("q", [merged]) + self._runs[len(group):]
            self.premerged += len(group)

    def discard(self) -> None:
        """Remove the run files."""
        for n in self._runs:
            try:
                os.unlink(self._path(n))
            except OSError:
                pass
        self._runs = array("q")
        self.keys.clear()

    def __enter__(self) -> KeyRuns:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.discard()
