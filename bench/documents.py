"""Document pipeline figures: extraction throughput and search latency with 10,000 documents.

    .venv/bin/python bench/documents.py                  # both dialects, about 2 minutes
    .venv/bin/python bench/documents.py --dialect sqlite --documents 2000

1. Extraction: a corpus of real PDFs (3 pages) and DOCX files, extracted in one thread, in two
   threads, and in the two-process ExtractorPool; then one big PDF while another thread keeps
   a 5 ms beat (a heartbeat or a small job), to show whether extraction starves the worker.
2. Pipeline: uploads through ``Documents.upload`` drained by a real worker (process pool),
   documents per second from the first upload to the last ``ready``.
3. Search: 10,000 ready documents of ~300 words for 2,000 experts, indexed by
   ``index_document_chunks``'s own code, then 300 queries (rare, common and two-word).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo root importable for bench.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.targets import DEFAULT_PG_ADMIN_URL, PostgresTarget, SQLiteTarget, postgres_unavailable
from jobdeck import JobDeck
from jobdeck.contrib.documents import LocalStorage, install_documents
from jobdeck.contrib.documents.db import Queries
from jobdeck.contrib.documents.extract import ExtractOptions, extract
from jobdeck.contrib.documents.extractors import ExtractorPool, InlineExtractor
from jobdeck.contrib.documents.repository import Times


def _vocabulary(size: int) -> list[str]:
    rng = random.Random(0)
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = rng.randint(2, 4)
        words[
            "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(syllables))
        ] = None
    return list(words)


# Word frequencies follow Zipf's law, as in real text: WORDS[0] is the most common.
WORDS = _vocabulary(6000)
WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, weights=WEIGHTS, k=words))


def corpus_pdf(rng: random.Random, pages: int, words_per_page: int = 250) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=10)
    for _ in range(pages):
        document.add_page()
        document.multi_cell(0, 5, text(rng, words_per_page))
    return bytes(document.output())


def corpus_docx(rng: random.Random) -> bytes:
    import docx

    document = docx.Document()
    for _ in range(8):
        document.add_paragraph(text(rng, 60))
    table = document.add_table(rows=6, cols=3)
    for row in table.rows:
        for cell in row.cells:
            cell.text = text(rng, 5)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:8.1f} docs/s"


def run_parallel(work: Callable[[bytes], Any], items: list[bytes], threads: int) -> float:
    queue = list(items)
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if not queue:
                    return
                data = queue.pop()
            work(data)

    began = time.perf_counter()
    runners = [threading.Thread(target=loop) for _ in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    return time.perf_counter() - began


def small_job_p95(work: Callable[[], Any]) -> tuple[float, float]:
    """(seconds of ``work``, p95 ms of a ~1 ms pure-Python job run in a loop meanwhile)."""
    durations: list[float] = []
    done = threading.Event()

    def small_jobs() -> None:
        while not done.is_set():
            began = time.perf_counter()
            sum(i * i for i in range(10_000))
            durations.append((time.perf_counter() - began) * 1000)

    other = threading.Thread(target=small_jobs)
    other.start()
    began = time.perf_counter()
    work()
    elapsed = time.perf_counter() - began
    done.set()
    other.join()
    return elapsed, pct(durations, 95)


def bench_extraction(count: int) -> None:
    rng = random.Random(1)
    items = [corpus_pdf(rng, 3) if n % 4 else corpus_docx(rng) for n in range(count)]
    options = ExtractOptions()
    print(f"\nextraction of {count} documents (3-page PDFs and DOCX with a table):")
    extract(items[0], options)  # imports, outside the timing
    print(f"  one thread                {per_second(count, run_parallel(extract, items, 1))}")
    inline = InlineExtractor()
    seconds = run_parallel(lambda d: inline.run(d, options), items, 2)
    print(f"  two threads (GIL)         {per_second(count, seconds)}")
    pool = ExtractorPool(processes=2)
    try:
        started = time.perf_counter()
        run_parallel(lambda d: pool.run(d, options), items[:2], 2)  # start both children
        print(f"  pool start-up             {time.perf_counter() - started:8.2f} s (once)")
        seconds = run_parallel(lambda d: pool.run(d, options), items, 2)
        print(f"  two-process pool          {per_second(count, seconds)}")
        big = corpus_pdf(random.Random(2), 120, words_per_page=600)
        _, idle = small_job_p95(lambda: time.sleep(1))
        print(f"  a ~1 ms job alone                       p95 {idle:6.1f} ms")
        took, busy = small_job_p95(lambda: extract(big, options))
        print(f"  ... beside a 120-page PDF in a thread   p95 {busy:6.1f} ms ({took:.2f} s)")
        took, busy = small_job_p95(lambda: pool.run(big, options))
        print(f"  ... beside a 120-page PDF in the pool   p95 {busy:6.1f} ms ({took:.2f} s)")
    finally:
        pool.close()


def bench_pipeline(target: Any, count: int) -> None:
    url = target.fresh()
    rng = random.Random(3)
    items = [corpus_pdf(rng, 3) for _ in range(count)]
    deck = JobDeck(url, concurrency=8, poll_interval=0.05)
    with tempfile.TemporaryDirectory() as folder:
        documents = install_documents(deck, LocalStorage(folder), index_delay=0.5)
        worker = deck.worker()
        runner = threading.Thread(target=lambda: worker.run(install_signals=False), daemon=True)
        runner.start()
        worker.wait_started(10)
        try:
            began = time.perf_counter()
            ids = [
                documents.upload(f"expert-{n % 20}", f"{n}.pdf", d).id for n, d in enumerate(items)
            ]
            while documents.repository.count_by_status()["ready"] < count:
                time.sleep(0.02)
            seconds = time.perf_counter() - began
        finally:
            worker.stop()
            runner.join(30)
            documents.close()
            deck.close()
    target.discard(url)
    print(f"  pipeline, {len(ids)} uploads -> ready  {per_second(count, seconds)} ({target.label})")


def populate(documents: Any, count: int, owners: int, rng: random.Random) -> None:
    """``count`` ready documents straight into the table, then the owners' real re-indexes."""
    db = documents.database()
    q, t = Queries(db.dialect), Times(db.dialect)
    now = t.to_db(documents.deck.clock.now())
    for start in range(0, count, 1000):
        rows = [
            {
                "owner_id": f"expert-{n % owners}",
                "filename": f"cv-{n}.pdf",
                "storage_key": f"bench/{n}",
                "content_type": "application/pdf",
                "size_bytes": 1000,
                "uploaded_by": "bench",
                "now": now,
            }
            for n in range(start, min(start + 1000, count))
        ]
        with db.transaction() as conn:
            q.execute_many(conn, "insert_document", rows)
    ids = documents.repository.ids_with_status("pending", limit=count)
    texts = [
        {
            "id": document_id,
            "text": text(rng, 300),
            "content_type": "application/pdf",
            "now": now,
        }
        for document_id in ids
    ]
    for start in range(0, len(texts), 1000):
        with db.transaction() as conn:
            q.execute_many(conn, "finish_ready", texts[start : start + 1000])
    for owner in range(owners):
        documents.index.reindex_owner(f"expert-{owner}", documents.deck.clock.now())


def bench_search(target: Any, count: int, queries: int) -> None:
    url = target.fresh()
    deck = JobDeck(url)
    documents = install_documents(deck, LocalStorage(tempfile.gettempdir()))
    try:
        rng = random.Random(4)
        began = time.perf_counter()
        populate(documents, count, max(1, count // 5), rng)
        built = time.perf_counter() - began
        chunks = documents.index.count_chunks()
        kinds = {
            "rare word": lambda: rng.choice(WORDS[1000:]),
            "two words": lambda: f"{rng.choice(WORDS[100:1000])} {rng.choice(WORDS[10:100])}",
            "common word": lambda: rng.choice(WORDS[:10]),
        }
        figures = []
        for kind, make in kinds.items():
            times, found = [], []
            for _ in range(queries // len(kinds)):
                query = make()
                started = time.perf_counter()
                found.append(len(documents.search(query, limit=20)))
                times.append((time.perf_counter() - started) * 1000)
            figures.append((kind, times, statistics.mean(found)))
        print(
            f"\nsearch, {count} documents / {chunks} chunks / {count // 5} experts "
            f"({target.label}; built and indexed in {built:.1f} s):"
        )
        every: list[float] = []
        for kind, times, hits in figures:
            every.extend(times)
            print(
                f"  {kind:<12} p50 {pct(times, 50):7.1f} ms  p95 {pct(times, 95):7.1f} ms  "
                f"({hits:.1f} experts per answer)"
            )
        print(f"  {'all':<12} p50 {pct(every, 50):7.1f} ms  p95 {pct(every, 95):7.1f} ms")
    finally:
        documents.close()
        deck.close()
        target.discard(url)


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--documents", type=int, default=10_000, help="indexed for search")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--extract", type=int, default=80, help="documents to extract")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--parts", default="extract,pipeline,search", help="comma-separated parts to run"
    )
    args = parser.parse_args()

    targets: list[Any] = []
    if args.dialect in ("sqlite", "both"):
        targets.append(SQLiteTarget())
    if args.dialect in ("postgres", "both"):
        problem = postgres_unavailable(args.pg_admin_url)
        if problem:
            print(f"PostgreSQL skipped: {problem}")
        else:
            targets.append(PostgresTarget(args.pg_admin_url))
    parts = set(args.parts.split(","))
    try:
        if "extract" in parts:
            bench_extraction(args.extract)
        if "pipeline" in parts:
            print()
            for target in targets:
                bench_pipeline(target, args.extract)
        if "search" in parts:
            for target in targets:
                bench_search(target, args.documents, args.queries)
    finally:
        for target in targets:
            target.close()


if __name__ == "__main__":
    main()
