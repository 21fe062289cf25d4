"""External sorting of byte keys in bounded memory, for bulk loads.

`KeyRuns` collects keys in a list (its `append` is the list's own, so a hot
loop pays nothing per key).  Whenever the list passes `run_keys` keys the
caller calls `spill()`: the list is sorted (deduplicated for set semantics),
written to a temporary run file as msgpack chunks, and sampled.  `buckets()`
then cuts the whole key space into ranges of about `run_keys` keys each,
chosen from the samples of all runs (so the input's order does not matter),
and yields each range's keys from every run, sorted: a k-way merge done by
`list.sort` on already sorted slices.  Nothing here knows about LMDB.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgpack

__all__ = ["RUN_KEYS", "KeyRuns"]

#: keys held in memory before a run is spilled (~70 bytes each as Python objects);
#: `METTADB_BULK_RUN_KEYS` overrides it
RUN_KEYS = int(os.environ.get("METTADB_BULK_RUN_KEYS") or 400_000)
_CHUNK = 8192
_SAMPLE_EVERY = 64


class _RunReader:
    """Reads one sorted run file range by range."""

    def __init__(self, path: str) -> None:
        self._f: BinaryIO = open(path, "rb")
        self._unpacker = msgpack.Unpacker(self._f, raw=False, use_list=True, max_buffer_size=1 << 30)
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


class KeyRuns:
    """A multiset of byte keys kept as sorted runs in `directory`; see the module doc."""

    def __init__(self, directory: str, name: str, *, unique: bool, run_keys: int | None = None) -> None:
        self.directory = directory
        self.name = name
        self.unique = unique
        self.run_keys = run_keys or RUN_KEYS
        self.keys: list[bytes] = []
        self.append = self.keys.append
        self._runs: list[str] = []
        self._sample: list[bytes] = []
        self.spilled = 0

    def full(self) -> bool:
        """Whether the in-memory run should be spilled."""
        return len(self.keys) >= self.run_keys

    def _sorted(self, keys: list[bytes]) -> list[bytes]:
        # sorting first and deduplicating the sorted list is twice as fast as sorting a set
        # (a set's order scatters the keys across memory)
        keys = sorted(keys)
        return list(dict.fromkeys(keys)) if self.unique else keys

    def spill(self) -> None:
        """Sort the in-memory keys into a run file and start a new run."""
        keys = self._sorted(self.keys)
        self.keys.clear()
        if not keys:
            return
        path = os.path.join(self.directory, f"{self.name}-{len(self._runs)}.run")
        with open(path, "wb") as f:
            pack = msgpack.Packer(use_bin_type=True).pack
            for i in range(0, len(keys), _CHUNK):
                f.write(pack(keys[i:i + _CHUNK]))
        self._runs.append(path)
        self._sample.extend(keys[::_SAMPLE_EVERY])
        self.spilled += len(keys)

    def buckets(self) -> Iterator[tuple[bytes, bytes | None, list[bytes]]]:
        """Yield (lo, hi, keys) for consecutive ranges covering every key; keys sorted, hi None = no bound."""
        if not self._runs:
            keys = self._sorted(self.keys)
            self.keys.clear()
            yield b"", None, keys
            return
        self.spill()
        sample = sorted(self._sample)
        step = max(1, self.run_keys // _SAMPLE_EVERY)
        bounds: list[bytes] = []
        for i in range(step, len(sample), step):
            if not bounds or sample[i] > bounds[-1]:
                bounds.append(sample[i])
        readers = [_RunReader(p) for p in self._runs]
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

    def discard(self) -> None:
        """Remove the run files."""
        for p in self._runs:
            try:
                os.unlink(p)
            except OSError:
                pass
        self._runs.clear()
        self.keys.clear()

    def __enter__(self) -> KeyRuns:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.discard()
