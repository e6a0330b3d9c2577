"""The search index over experts' documents: chunking, the index interface, and its SQL
implementation (SQLite FTS5 or PostgreSQL full-text search, by the database's dialect).

The interface is four verbs, so another engine (Elasticsearch, say) is one module: rebuild an
owner's entries from their ready documents, drop one document's entries, search, and list the
documents an owner has entries for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jobdeck.contrib.documents.db import Database, Queries
from jobdeck.contrib.documents.extract import MARK_CLOSE, MARK_OPEN
from jobdeck.contrib.documents.repository import Times

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_TERMS = 12
SNIPPET_WORDS = 24


@dataclass(frozen=True)
class Chunk:
    owner_id: str
    document_id: int
    filename: str
    chunk_no: int
    body: str


@dataclass(frozen=True)
class Chunker:
    """Windows of ``words`` words that overlap by ``overlap``, so a phrase cut at a boundary
    still matches whole in one chunk, and a snippet is never a whole document."""

    words: int = 150
    overlap: int = 25

    def __post_init__(self) -> None:
        if self.words < 10 or not 0 <= self.overlap < self.words // 2:
            raise ValueError("chunks need at least 10 words and an overlap under half of them")

    def split(self, text: str) -> Iterator[str]:
        tokens = text.split()
        step = self.words - self.overlap
        for start in range(0, max(len(tokens) - self.overlap, 1), step):
            window = tokens[start : start + self.words]
            if window:
                yield " ".join(window)

    def chunks(self, owner_id: str, document_id: int, filename: str, text: str) -> list[Chunk]:
        return [
            Chunk(owner_id, document_id, filename, number, body)
            for number, body in enumerate(self.split(text))
        ]


@dataclass(frozen=True)
class SearchHit:
    """One expert in the results: their best-matching chunk and where it came from."""

    owner_id: str
    relevance: float  # higher is better; comparable within one search only
    document_id: int
    filename: str
    snippet: str  # plain text
    snippet_html: str  # escaped, with <mark> around the matched words
    matches: int  # how many of the owner's chunks matched

    def as_json(self) -> dict[str, Any]:
        return {
            "owner_id": self.owner_id,
            "relevance": self.relevance,
            "document_id": self.document_id,
            "filename": self.filename,
            "snippet": self.snippet,
            "snippet_html": self.snippet_html,
            "matches": self.matches,
        }


@dataclass(frozen=True)
class IndexReport:
    owner_id: str
    documents: int
    chunks: int


class SearchIndex(Protocol):
    def reindex_owner(self, owner_id: str, now: datetime) -> IndexReport:
        """Replace all of the owner's entries with their ready documents' chunks, atomically."""
        ...

    def remove_document(self, document_id: int) -> None: ...
    def search(self, query: str, limit: int = 20) -> list[SearchHit]: ...
    def indexed_documents(self, owner_id: str) -> set[int]: ...


def query_terms(query: str) -> list[str]:
    """The words of a query (letters and digits), lower case, at most MAX_QUERY_TERMS."""
    unique = dict.fromkeys(w.lower() for w in _WORD.findall(query))
    return list(unique)[:MAX_QUERY_TERMS]


def render_snippet(marked: str) -> tuple[str, str]:
    """(plain text, HTML) from text whose matches are wrapped in the private-use marks."""
    import html

    plain = marked.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    escaped = html.escape(marked, quote=False)
    return plain, escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


class SqlSearchIndex:
    """The index in the deck's database: FTS5 (bm25) on SQLite, tsvector + GIN on PostgreSQL."""

    def __init__(self, db: Callable[[], Database], chunker: Chunker | None = None) -> None:
        self._db = db
        self.chunker = chunker or Chunker()

    def reindex_owner(self, owner_id: str, now: datetime) -> IndexReport:
        """One transaction: lock the owner, read their ready documents, swap the chunks.

        Reading inside the transaction (after the lock) matters: two re-indexes of one owner
        that overlap must not let the one that read older documents commit last.
        """
        db = self._db()
        q, t = Queries(db.dialect), Times(db.dialect)
        owner = {"owner_id": owner_id}
        with db.transaction() as conn:
            q.execute(conn, "lock_owner", owner)
            documents = q.rows(conn, "ready_documents", owner)
            chunks = [
                chunk
                for d in documents
                for chunk in self.chunker.chunks(
                    owner_id, int(d["id"]), d["filename"], d["extracted_text"] or ""
                )
            ]
            q.execute(conn, "delete_owner_chunks", owner)
            q.execute_many(
                conn,
                "insert_chunk",
                [
                    {
                        "owner_id": c.owner_id,
                        "document_id": c.document_id,
                        "filename": c.filename,
                        "chunk_no": c.chunk_no,
                        "body": c.body,
                    }
                    for c in chunks
                ],
            )
            q.execute(conn, "index_owner_chunks", owner)
            q.execute(conn, "mark_owner_indexed", {**owner, "now": t.to_db(now)})
        return IndexReport(owner_id, len(documents), len(chunks))

    def remove_document(self, document_id: int) -> None:
        db = self._db()
        with db.transaction() as conn:
            Queries(db.dialect).execute(
                conn, "delete_document_chunks", {"document_id": document_id}
            )

    def indexed_documents(self, owner_id: str) -> set[int]:
        db = self._db()
        with db.reading() as conn:
            rows = Queries(db.dialect).rows(conn, "indexed_documents", {"owner_id": owner_id})
        return {int(r["document_id"]) for r in rows}

    def count_chunks(self, owner_id: str | None = None) -> int:
        db = self._db()
        with db.reading() as conn:
            row = Queries(db.dialect).one(conn, "count_chunks", {"owner_id": owner_id})
        return int(row["n"]) if row else 0

    def rebuild(self) -> None:
        """Rebuild SQLite's FTS5 index from the chunk rows (after a restore or a hand edit)."""
        db = self._db()
        with db.transaction() as conn:
            Queries(db.dialect).execute(conn, "rebuild_index")

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Experts whose documents hold every word of the query (in any of them), ranked by
        their best-matching chunk, which gives the snippet."""
        terms = query_terms(query)
        if not terms:
            return []
        db = self._db()
        q, t = Queries(db.dialect), Times(db.dialect)
        if db.dialect == "sqlite":
            # Each term quoted: people's text never reaches FTS5's query syntax.
            quoted = [f'"{term}"' for term in terms]
            params: dict[str, Any] = {
                "terms": json.dumps(quoted),
                "any_query": " OR ".join(quoted),
                "open": MARK_OPEN,
                "close": MARK_CLOSE,
                "ellipsis": "…",
                "words": SNIPPET_WORDS,
            }
        else:
            # Terms are letters and digits only, so they cannot be tsquery operators.
            params = {
                "terms": terms,
                "any_query": " | ".join(terms),
                "options": f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=35, "
                'MinWords=15, MaxFragments=2, FragmentDelimiter=" … "',
            }
        with db.reading() as conn:
            owner_params = {k: params[k] for k in ("terms", "any_query")}
            best = q.rows(conn, "search_owners", {**owner_params, "limit": limit})
            if not best:
                return []
            ids = [int(r["chunk_id"]) for r in best]
            snippets = {
                int(r["chunk_id"]): r["snippet"]
                for r in q.rows(
                    conn,
                    "search_snippets",
                    {**params, "ids": t.ids(ids)},
                )
            }
        hits = []
        for row in best:
            plain, marked = render_snippet(snippets.get(int(row["chunk_id"]), ""))
            hits.append(
                SearchHit(
                    owner_id=row["owner_id"],
                    relevance=float(row["relevance"]),
                    document_id=int(row["document_id"]),
                    filename=row["filename"],
                    snippet=plain,
                    snippet_html=marked,
                    matches=int(row["matches"]),
                )
            )
        return hits
