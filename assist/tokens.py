"""API tokens for agents and admins, stored as SHA-256 hashes (never in clear)."""

import hashlib
import secrets

from sqlite_utils import Migrations

from phrasebank.db import write_transaction
from phrasebank.store import utcnow

ROLES = ("agent", "admin")
PREFIX = {"agent": "asa_", "admin": "asd_"}  # tells a human which kind of token it is
migrations = Migrations("assist")


@migrations(name="0001_tokens")
def _tokens(db):
    db["tokens"].create(
        {
            "id": int,
            "name": str,
            "role": str,
            "token_hash": str,
            "created_at": str,
            "last_used_at": str,
            "revoked_at": str,
        },
        pk="id",
    )
    db["tokens"].create_index(["token_hash"], unique=True)


def hash_token(token):
    """SHA-256 hex of a token: tokens are 256-bit random, so no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db, role, name):
    """Create a token and return it in clear; only its hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = PREFIX[role] + secrets.token_urlsafe(32)
    with write_transaction(db):
        db["tokens"].insert(
            {"name": name, "role": role, "token_hash": hash_token(token), "created_at": utcnow()}
        )
    return token


def token_from_secret(db, token):
    """Return the active token row for a clear-text token, or None."""
    if not token or len(token) > 200:
        return None
    rows = db.execute(
        "select id, name, role from tokens where token_hash = ? and revoked_at is null", [hash_token(token)]
    ).fetchall()
    return {"id": rows[0][0], "name": rows[0][1], "role": rows[0][2]} if rows else None


def list_tokens(db):
    """Every token's metadata (never the secret)."""
    return list(db.query("select id, name, role, created_at, revoked_at from tokens order by id"))


def revoke_token(db, token_id):
    """Revoke a token by id; returns True if one was revoked."""
    with write_transaction(db):
        cursor = db.execute(
            "update tokens set revoked_at = ? where id = ? and revoked_at is null", [utcnow(), token_id]
        )
    return cursor.rowcount > 0


def count_tokens(db):
    """Number of active tokens."""
    return db.execute("select count(*) from tokens where revoked_at is null").fetchone()[0]
