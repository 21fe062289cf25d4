"""The 10M -> 100M breakages, at the largest size the suite affords: many run files from many workers,
bounded samples, a bounded check, a reload that copies nothing."""

from __future__ import annotations

import os
import random

import pytest
from helpers import spy_builds

import mettadb
import mettadb.bulk
import mettadb.check
import mettadb.pload
from mettadb.bulk import KeyRuns


def family(path, persons, seed=42):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(persons):
            f.write(f"(parent P{rnd.randrange(i) if i else 1} P{i})\n(age P{i} {rnd.randrange(1, 100)})\n"
                    f'(name P{i} "N {i}")\n(score P{i} {rnd.randrange(1000) / 1000})\n')
            if i % 3 == 2:
                f.write(f"(Evaluation (Predicate likes) (List P{i} P{rnd.randrange(persons)}))\n")
        f.write("(= (grandparent $x $z) (match &self (, (parent $x $y) (parent $y $z)) $x))\n")
    return path


@pytest.fixture
def scaled_down(monkeypatch):
    """The 100M-atom load's proportions at 150k atoms: ~100 runs per key set, ~30 worker ranges."""
    monkeypatch.setattr(mettadb.bulk, "RUN_KEYS", 3000)
    monkeypatch.setattr(mettadb.bulk, "BUCKET_KEYS", 20_000)
    monkeypatch.setattr(mettadb.pload, "MIN_CHUNK", 64 << 10)
    monkeypatch.setattr(mettadb.pload, "MAX_CHUNK", 128 << 10)
    monkeypatch.setattr(mettadb.check, "_BATCH", 5000)


def test_a_load_of_many_runs_from_many_workers_is_sound(tmp_path, scaled_down):
    kb = family(tmp_path / "kb.metta", 35_000)
    with mettadb.open(tmp_path / "s") as sp:
        r = sp.load(kb, bulk=True, jobs=2)
        assert r.workers == 1 and r.read == r.added > 150_000
        assert sp.check() == []
        assert sp.stats()["heads"][0]["atoms"] == 35_000
        size, gen = os.path.getsize(tmp_path / "s" / "data.mdb"), sp.generation
        again = sp.load(kb, bulk=True, jobs=2)
        assert (again.added, again.present) == (0, r.read)
        assert os.path.getsize(tmp_path / "s" / "data.mdb") == size and sp.generation == gen
        assert [len(list(sp.match(f"(parent $p P{i})", "$p"))) for i in (5, 17_000, 34_999)] == [1, 1, 1]


def test_run_samples_stay_small_however_many_keys(tmp_path):
    with KeyRuns(str(tmp_path), "k", bucket_keys=25_600) as runs:
        for i in range(200_000):
            runs.append(i.to_bytes(4, "big"))
            if len(runs.keys) >= 10_000:
                runs.spill()
        assert len(runs.samples()) <= 200_000 // 100 + 20  # one key in 100 (256 per bucket), not one in 64
        buckets = list(runs.buckets())
    assert 5 <= len(buckets) <= 12
    assert [k for _, _, ks in buckets for k in ks] == [i.to_bytes(4, "big") for i in range(200_000)]


def test_the_merge_spills_what_is_left_in_memory_when_there_are_runs(tmp_path):
    with KeyRuns(str(tmp_path), "none") as none:
        none.keys.extend(i.to_bytes(4, "big") for i in range(200))
        assert len(list(none.buckets())) >= 1 and len(none.keys) == 200  # no runs: sorted in memory, kept
    with KeyRuns(str(tmp_path), "few") as few:
        few.keys.extend(i.to_bytes(4, "big") for i in range(100))
        few.spill()
        few.keys.extend(i.to_bytes(4, "big") for i in range(100, 200))
        got = [k for _, _, ks in few.buckets() for k in ks]
        assert not few.keys and few.spilled == 200  # held through the merge (and a rerun), not any more
    assert got == [i.to_bytes(4, "big") for i in range(200)]


def test_a_load_with_runs_keeps_no_keys_in_memory_for_the_merge(tmp_path, scaled_down, monkeypatch):
    """The keys left in memory at the end of parsing (up to the budget, by chance) are spilled before the
    merge of either key set: the 100M load held ~1M of them (~70 MB) through both merges."""
    seen = spy_builds(monkeypatch)
    kb = family(tmp_path / "kb.metta", 5_000)
    with mettadb.open(tmp_path / "s") as sp:
        r = sp.load(kb, bulk=True, jobs=1)
        assert sp.check() == [] and r.added == r.read > 20_000
    [(left_a, left_r, spilled_a, spilled_r)] = seen
    assert (left_a, left_r) == (0, 0) and spilled_a + spilled_r >= r.read


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def test_the_merge_of_many_runs_holds_little_per_run(tmp_path):
    with KeyRuns(str(tmp_path), "k", bucket_keys=5000) as runs:
        for r in range(40):  # 40 runs of ~1 MB each
            runs.keys.extend(((i * 40 + r).to_bytes(4, "big") + b"-padding-of-a-key") for i in range(40_000))
            runs.spill()
        before = _rss_mb()
        buckets = runs.buckets()
        first = next(buckets)
        grown = _rss_mb() - before
        assert first[2] and first[2] == sorted(first[2])
        del first, buckets
    assert grown < 20, f"{grown:.0f} MB for 40 run readers"  # msgpack's default buffers alone were ~40 MB


def _merge_peak(tmp_path, name: str, runs_count: int, keys_per_run: int = 6000) -> tuple[int, KeyRuns]:
    """Peak bytes Python allocates while merging `runs_count` equal runs (the buckets themselves excluded)."""
    import tracemalloc

    runs = KeyRuns(str(tmp_path), name, bucket_keys=20_000)
    for r in range(runs_count):
        runs.keys.extend((i * runs_count + r).to_bytes(6, "big") + b"-a-key-of-some-length" for i in range(keys_per_run))
        runs.spill()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        peak = 0
        prev = None
        n = 0
        for _lo, _hi, keys in runs.buckets():
            assert prev is None or keys[0] > prev
            prev = keys[-1]
            n += len(keys)
            del keys
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()
    assert n == runs_count * keys_per_run
    return peak, runs


def test_the_merge_holds_the_same_whatever_the_number_of_runs(tmp_path, monkeypatch):
    """Memory that grew with the input (a reader per run, a sample per 1000 keys) is bounded: 4x the runs
    (the 10M -> 100M step has ~11 -> ~110 runs per key set) merge in about the same memory."""
    monkeypatch.setattr(mettadb.bulk, "FAN_IN", 8)
    monkeypatch.setattr(mettadb.bulk, "MAX_SAMPLES", 2000)
    small, a = _merge_peak(tmp_path, "small", 8)
    big, b = _merge_peak(tmp_path, "big", 32)
    assert a.premerged == 0 and b.premerged > 0
    assert len(b.samples()) <= 2000
    assert big <= 1.2 * small, f"{big / small:.2f}x the memory for 4x the runs"
    a.discard()
    b.discard()


def test_a_premerge_opens_at_most_fan_in_runs_and_keeps_every_key(tmp_path, monkeypatch):
    monkeypatch.setattr(mettadb.bulk, "FAN_IN", 5)
    opened, most = [0], [0]
    real = mettadb.bulk._RunReader

    class Counting(real):  # type: ignore[misc,valid-type]
        def __init__(self, path):
            super().__init__(path)
            opened[0] += 1
            most[0] = max(most[0], opened[0])

        def close(self):
            opened[0] -= 1
            super().close()

    monkeypatch.setattr(mettadb.bulk, "_RunReader", Counting)
    rnd = random.Random(3)
    expected = []
    with KeyRuns(str(tmp_path), "k", bucket_keys=300) as runs:
        for _ in range(23):
            ks = [rnd.randrange(10**6).to_bytes(4, "big") for _ in range(rnd.randrange(1, 900))]
            expected += ks
            runs.keys.extend(ks)
            runs.spill()
        runs.keys.extend(b"\x00\x00\x00\x01" for _ in range(10))  # left in memory: copies kept
        expected += [b"\x00\x00\x00\x01"] * 10
        first = [k for _, _, ks in runs.buckets() for k in ks]
        again = [k for _, _, ks in runs.buckets() for k in ks]  # a retried build merges again
        assert runs.premerged >= 23 - 5 and len(runs._runs) <= 5
    assert first == again == sorted(expected)
    assert most[0] <= 5 and opened[0] == 0


def test_thinned_samples_still_cut_even_buckets(tmp_path, monkeypatch):
    monkeypatch.setattr(mettadb.bulk, "MAX_SAMPLES", 2000)  # ~16 samples a bucket (at 100M atoms: ~80)
    with KeyRuns(str(tmp_path), "k", bucket_keys=2000) as runs, KeyRuns(str(tmp_path), "w", bucket_keys=2000) as w:
        for r in range(40):
            runs.keys.extend((i * 40 + r).to_bytes(4, "big") for i in range(5000))
            runs.spill()
        w.keys.extend((10**7 + i).to_bytes(4, "big") for i in range(5000))
        runs.adopt(w.run_files())  # a worker's sample, taken at the first rate
        assert len(runs.samples()) <= 2000 and runs._every > 2000 // 64
        sizes = [len(ks) for _, _, ks in runs.buckets()]
    assert sum(sizes) == 205_000 and max(sizes) <= 2 * 2000 and len(sizes) >= 205_000 // 4000


_SPILLS = """
import os, sys
from mettadb.bulk import KeyRuns

def anon():
    return int(next(l for l in open("/proc/self/status") if l.startswith("RssAnon")).split()[1]) >> 10

runs, other = KeyRuns(sys.argv[1], "a"), KeyRuns(sys.argv[1], "b")
base = anon()
peak = 0
for i in range(6):  # a loader's parse: runs spilled, some adopted from a worker
    for j in range(400_000):
        runs.append(b"\\xc3\\x06parent\\xc8P%07d" % (i * 400_000 + j))
    peak = max(peak, anon())
    runs.spill()
    if i % 2:
        other.append(b"\\xc2k%d" % i)
        runs.adopt(other.run_files())
print(anon() - base, peak - base)
"""


def test_what_outlives_a_spill_does_not_hold_the_spilled_keys_memory(tmp_path):
    """Samples and run names outlive each spill; as small objects scattered among the keys they kept most of
    Python's 1 MiB arenas alive, so a 10M load went into its merge holding 156 MB for 7 MB of live objects."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _SPILLS, str(tmp_path)], capture_output=True, text=True, check=True)
    left, peak = map(int, out.stdout.split())
    assert peak > 15, out.stdout  # the keys of one spill were in memory
    assert left < peak / 4, f"{left} MB still held after the spills (a spill's keys peaked at {peak} MB)"
