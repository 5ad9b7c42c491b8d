"""The phrase bank in SQLite: the source of truth for every phrase and its history."""

import json
import uuid
from datetime import datetime, timezone

from . import phrases
from .db import write_transaction
from .errors import InvalidPhrase, PhraseNotFound, VersionConflict

_JSON_FIELDS = ("emotions", "situations", "channels")


def utcnow():
    """Current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _from_row(row):
    phrase = dict(row)
    for name in _JSON_FIELDS:
        phrase[name] = json.loads(phrase[name] or "[]")
    return phrase


def _to_row(phrase):
    row = dict(phrase)
    for name in _JSON_FIELDS:
        row[name] = json.dumps(row[name])
    return row


class PhraseStore:
    """Read and write phrases in a migrated sqlite-utils Database."""

    def __init__(self, db):
        self.db = db

    def get(self, phrase_id):
        """Return one phrase as a dict, or raise PhraseNotFound."""
        rows = list(self.db["phrases"].rows_where("id = ?", [phrase_id]))
        if not rows:
            raise PhraseNotFound(f"no phrase with id {phrase_id!r}", field="id")
        return _from_row(rows[0])

    def get_many(self, ids):
        """{id: phrase} for the ``ids`` that exist (one query)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {p["id"]: p for p in map(_from_row, self.db.query(f"select * from phrases where id in ({marks})",
                                                                  list(ids)))}

    def list(self, status=None):
        """Return every phrase (optionally only those with ``status``), ordered by id."""
        where, args = ("status = ?", [status]) if status else (None, None)
        return [_from_row(r) for r in self.db["phrases"].rows_where(where, args, order_by="id")]

    def count(self, status=None):
        """Number of phrases, optionally with one status."""
        if status:
            return self.db.execute("select count(*) from phrases where status = ?", [status]).fetchone()[0]
        return self.db["phrases"].count

    def revision(self):
        """A counter bumped by every write, so running servers notice changes made elsewhere."""
        row = self.db.execute("select value from meta where key = 'phrases_revision'").fetchone()
        return int(row[0]) if row else 0

    def create(self, data, author):
        """Validate and insert a new phrase; returns it."""
        clean = phrases.validate({**phrases.DEFAULTS, **data})
        phrase_id = phrases.check_id(data["id"]) if data.get("id") else f"p-{uuid.uuid4().hex[:12]}"
        now = utcnow()
        phrase = {"id": phrase_id, **clean, "author": author, "created_at": now, "updated_at": now, "version": 1}
        with write_transaction(self.db):
            if self.db.execute("select 1 from phrases where id = ?", [phrase_id]).fetchone():
                raise InvalidPhrase(f"a phrase with id {phrase_id!r} already exists", field="id")
            self._write(phrase, "created", author)
        return phrase

    def update(self, phrase_id, changes, author, expected_version=None):
        """Apply ``changes`` to the editable fields of a phrase; returns the new phrase.

        With ``expected_version`` the write fails with VersionConflict if someone
        else changed the phrase first.
        """
        unknown = sorted(set(changes) - set(phrases.EDITABLE) - {"id", "version"})
        if unknown:
            raise InvalidPhrase(f"field {unknown[0]!r} cannot be changed", field=unknown[0])
        with write_transaction(self.db):
            current = self.get(phrase_id)
            if expected_version is not None and expected_version != current["version"]:
                raise VersionConflict(
                    f"phrase {phrase_id!r} is at version {current['version']}, not {expected_version}",
                    field="version",
                )
            clean = phrases.validate({**current, **{k: v for k, v in changes.items() if k in phrases.EDITABLE}})
            if all(clean[k] == current[k] for k in clean):
                return current
            phrase = {**current, **clean, "updated_at": utcnow(), "version": current["version"] + 1}
            action = "status" if set(changes) <= {"status", "version", "id"} else "updated"
            self._write(phrase, action, author)
        return phrase

    def _write(self, phrase, action, author):
        """Upsert the phrase, record its revision and bump the bank revision (caller holds a transaction)."""
        self.db["phrases"].upsert(_to_row(phrase), pk="id")
        self.db["phrase_revisions"].insert(
            {
                "phrase_id": phrase["id"],
                "version": phrase["version"],
                "action": action,
                "changed_by": author,
                "changed_at": phrase["updated_at"],
                "data": json.dumps(phrase),
            },
            pk=("phrase_id", "version"),
            replace=True,
        )
        self.db.execute("update meta set value = cast(value as integer) + 1 where key = 'phrases_revision'")

    def history(self, phrase_id):
        """Every recorded version of a phrase, oldest first."""
        rows = self.db["phrase_revisions"].rows_where("phrase_id = ?", [phrase_id], order_by="version")
        return [{**r, "data": json.loads(r["data"])} for r in rows]

    def recent_changes(self, page=1, per_page=50, author=None):
        """The audit log: every recorded change to the bank, newest first, one page of it.

        Each change carries the phrase as it was before (None for a creation)
        and after.  ``author`` narrows to one person's changes.  Returns
        ``{"changes": [...], "total", "page", "pages", "per_page"}``.
        """
        where, args = ("where r.changed_by = ?", [author]) if author else ("", [])
        total = self.db.execute(f"select count(*) from phrase_revisions r {where}", args).fetchone()[0]
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = self.db.execute(
            "select r.phrase_id, r.version, r.action, r.changed_by, r.changed_at, r.data,"
            " (select b.data from phrase_revisions b where b.phrase_id = r.phrase_id and b.version < r.version"
            "  order by b.version desc limit 1)"
            f" from phrase_revisions r {where}"
            " order by r.changed_at desc, r.phrase_id, r.version desc limit ? offset ?",
            [*args, per_page, (page - 1) * per_page],
        ).fetchall()
        changes = [{"phrase_id": pid, "version": version, "action": action, "changed_by": who, "changed_at": when,
                    "before": json.loads(before) if before else None, "after": json.loads(after)}
                   for pid, version, action, who, when, after, before in rows]
        return {"changes": changes, "total": total, "page": page, "pages": pages, "per_page": per_page}

    def export(self):
        """Every field of every phrase, ordered by id."""
        return [{name: p[name] for name in phrases.FIELDS} for p in self.list()]

    def plan_import(self, rows):
        """Validate ``rows`` against the bank without writing; returns the diff.

        Returns ``{"added": [...], "changed": [...], "unchanged": [...], "rejected": [...]}``
        where added/changed hold clean phrases and rejected holds
        ``{"index", "id", "field", "message"}``.
        """
        plan = {"added": [], "changed": [], "unchanged": [], "rejected": []}
        existing = {p["id"]: p for p in self.list()}
        seen = set()
        for index, row in enumerate(rows):
            try:
                item = self._plan_row(row, existing, seen)
            except InvalidPhrase as e:
                row_id = row.get("id") if isinstance(row, dict) else None
                plan["rejected"].append({"index": index, "id": row_id, "field": e.field, "message": e.message})
                continue
            plan[item[0]].append(item[1])
        return plan

    def _plan_row(self, row, existing, seen):
        if not isinstance(row, dict):
            raise InvalidPhrase("each phrase must be an object", field="phrase")
        phrase_id = phrases.check_id(row.get("id"))
        if phrase_id in seen:
            raise InvalidPhrase(f"id {phrase_id!r} appears twice in the import", field="id")
        seen.add(phrase_id)
        current = existing.get(phrase_id)
        clean = phrases.validate({**phrases.DEFAULTS, **(current or {}), **row})
        if current is None:
            return "added", {"id": phrase_id, **clean}
        if all(clean[k] == current[k] for k in clean):
            return "unchanged", {"id": phrase_id}
        return "changed", {"id": phrase_id, **clean}

    def apply_import(self, rows, author):
        """Import phrases atomically: if any row is rejected nothing is written.

        Returns the plan (see ``plan_import``) with counts.
        """
        plan = self.plan_import(rows)
        if plan["rejected"]:
            first = plan["rejected"][0]
            raise InvalidPhrase(
                f"import rejected: row {first['index']} ({first['id']}): {first['message']}",
                field=first["field"] or "phrases",
            )
        now = utcnow()
        with write_transaction(self.db):
            for item in plan["added"]:
                self._write(
                    {**item, "author": author, "created_at": now, "updated_at": now, "version": 1}, "imported", author
                )
            for item in plan["changed"]:
                current = self.get(item["id"])
                self._write({**current, **item, "updated_at": now, "version": current["version"] + 1}, "imported", author)
        return plan
