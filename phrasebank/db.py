"""Open the SQLite store and apply the phrase bank's numbered migrations."""

import contextlib
import sqlite3
import threading
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("phrasebank")


@migrations(name="0001_phrases")
def _phrases(db):
    db["phrases"].create(
        {
            "id": str,
            "text": str,
            "kind": str,
            "emotions": str,  # JSON list
            "situations": str,  # JSON list
            "channels": str,  # JSON list
            "language": str,
            "status": str,
            "author": str,
            "use_when": str,
            "fallback": str,
            "created_at": str,
            "updated_at": str,
            "version": int,
        },
        pk="id",
    )
    db["phrases"].create_index(["status"])
    db["phrase_revisions"].create(
        {
            "phrase_id": str,
            "version": int,
            "action": str,  # created | updated | status | imported
            "changed_by": str,
            "changed_at": str,
            "data": str,  # JSON of the phrase after the change
        },
        pk=("phrase_id", "version"),
    )


@migrations(name="0002_embeddings")
def _embeddings(db):
    # Keyed by content hash and model, so an unchanged phrase (or one changed
    # back) is never embedded twice.
    db["embeddings"].create(
        {"content_hash": str, "model": str, "dim": int, "vector": bytes, "created_at": str},
        pk=("content_hash", "model"),
    )


@migrations(name="0003_meta")
def _meta(db):
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "phrases_revision", "value": "0"})


def schema_version(db):
    """Number of migrations applied to ``db`` across every migration set."""
    if not db["_sqlite_migrations"].exists():
        return 0
    return db["_sqlite_migrations"].count


def open_database(path):
    """Open (creating if needed) the SQLite file at ``path`` with safe concurrency settings."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    # WAL lets the server read while the CLI or webhooks write; NORMAL sync is
    # durable across process crashes (only an OS crash can lose the last commit).
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=30000")
    return db


def migrate(db):
    """Apply pending phrase-bank migrations; safe to call any number of times."""
    migrations.apply(db)
    return db


_WRITE_LOCKS = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(db):
    """One lock per database file, shared by every connection in this process."""
    path = db.execute("pragma database_list").fetchone()[2] or f"memory:{id(db.conn)}"
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path, threading.Lock())


@contextlib.contextmanager
def write_transaction(db):
    """A transaction that takes the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes can fail with "database is
    locked" when another process wrote in between; taking the lock first makes
    it wait its turn instead.  Writers in this process first queue on a Python
    lock, because SQLite's busy handler makes them sleep and retry (up to 100 ms
    a time) rather than queue, which turned a 30 ms write into seconds under
    webhook bursts.  Nested use becomes a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _write_lock(db):
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.commit()


class ThreadLocalDatabase:
    """One migrated connection per thread to the same SQLite file.

    sqlite3 connections must not be shared between threads that write, and the
    WSGI server runs requests in a thread pool.
    """

    def __init__(self, path):
        import threading

        self.path = str(path)
        self._local = threading.local()
        migrate(open_database(self.path)).close()

    def get(self):
        """The calling thread's Database, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_database(self.path)
        return db
