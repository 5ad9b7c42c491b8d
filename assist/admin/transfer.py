"""Admin pages: export the phrase bank, and import a file with a dry-run diff before applying it.

The preview signs exactly what it showed (the parsed rows, the bank revision
they were planned against, a fingerprint of the plan and the admin) into one
hidden form field.  Apply verifies the signature and, inside one write
transaction, refuses if the bank's revision moved or the plan differs from the
preview, so what is applied is what was previewed, all or nothing.  Nothing is
kept on the server between the two steps.
"""

import hashlib
import json
from datetime import datetime, timezone

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from phrasebank.db import write_transaction
from phrasebank.errors import InvalidPhrase
from phrasebank.io import dump_phrases, parse_phrases

from . import admin
from .common import field_changes, services, store
from .session import admin_required, error_page

FORMATS = ("csv", "json")
MAX_ROWS = 10000
PREVIEW_MAX_AGE = 3600  # seconds a preview stays applicable


class PreviewOutdated(Exception):
    """The bank changed between the preview and Apply."""


def _signer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="assist-admin-import")


@admin.get("/transfer")
@admin_required
def transfer():
    """Export buttons and the import form."""
    return render_template("admin/transfer.html", total=store().count())


@admin.get("/transfer/export")
@admin_required
def transfer_export():
    """Download every field of every phrase as CSV or JSON."""
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        return error_page(400, "Export as csv or json.")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Response(
        dump_phrases(store().export(), fmt),
        mimetype="text/csv" if fmt == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="phrases-{stamp}.{fmt}"'},
    )


def _upload():
    """The uploaded file (or pasted text) as (text, format, source name); InvalidPhrase if unusable."""
    upload = request.files.get("file")
    if upload and upload.filename:
        raw, source = upload.read(), upload.filename
    else:
        raw, source = (request.form.get("content") or "").encode("utf-8"), "pasted text"
    if not raw.strip():
        raise InvalidPhrase("Choose a file or paste its text first.", field="file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidPhrase("The file is not UTF-8 text. Save it as CSV (UTF-8) or JSON.", field="file") from e
    return text, _format(request.form.get("format"), source, text), source


def _format(declared, source, text):
    """The declared format, else the file's suffix, else a guess from the first character."""
    if declared in FORMATS:
        return declared
    suffix = source.rsplit(".", 1)[-1].lower() if "." in source else ""
    if suffix in FORMATS:
        return suffix
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _rows(text, fmt):
    rows = parse_phrases(text, fmt)
    if not rows:
        raise InvalidPhrase("The file holds no phrases.", field="file")
    if len(rows) > MAX_ROWS:
        raise InvalidPhrase(f"Import at most {MAX_ROWS:,} phrases at a time.", field="file")
    return rows


def _fingerprint(plan):
    """A hash of what a plan would write, to prove Apply writes what the preview showed."""
    content = {"added": plan["added"], "changed": plan["changed"], "unchanged": [p["id"] for p in plan["unchanged"]]}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _where(index, fmt):
    # Spreadsheets number the header as row 1, so the first phrase is row 2.
    return f"row {index + 2}" if fmt == "csv" else f"item {index + 1}"


def _preview(plan, existing, fmt):
    """What the preview page shows: added, changed with per-field diffs, rejected with where and why."""
    changed = [{"id": p["id"], "text": p["text"], "changes": field_changes(existing.get(p["id"], {}), p)}
               for p in plan["changed"]]
    rejected = [{**r, "where": _where(r["index"], fmt)} for r in plan["rejected"]]
    return {"added": plan["added"], "changed": changed, "unchanged": len(plan["unchanged"]), "rejected": rejected}


@admin.post("/transfer/preview")
@admin_required
def transfer_preview():
    """Parse the upload and show the dry-run diff; nothing is written."""
    try:
        text, fmt, source = _upload()
        rows = _rows(text, fmt)
    except InvalidPhrase as e:
        return render_template("admin/transfer.html", total=store().count(), error=e.message), 400
    bank = store()
    revision = bank.revision()  # read first: a write after this makes Apply refuse
    existing = {p["id"]: p for p in bank.list()}
    plan = bank.plan_import(rows)
    token = _signer().dumps({"rows": rows, "revision": revision, "plan": _fingerprint(plan), "admin": g.admin["id"]})
    # Apply posts the token back as a form field, which Flask caps at MAX_FORM_MEMORY_SIZE.
    too_large = len(token) + 1000 > (current_app.config.get("MAX_FORM_MEMORY_SIZE") or float("inf"))
    return render_template("admin/import_preview.html", preview=_preview(plan, existing, fmt), source=source,
                           fmt=fmt, total_rows=len(rows), token=None if too_large else token)


def _signed_preview():
    """The preview signed into the form, or an error page response."""
    try:
        data = _signer().loads(request.form.get("plan", ""), max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        return None, error_page(400, "This preview is more than an hour old. Upload the file again.")
    except BadSignature:
        return None, error_page(400, "This preview could not be verified. Upload the file again.")
    if data.get("admin") != g.admin["id"]:
        return None, error_page(403, "This preview was made by another admin. Upload the file again.")
    return data, None


@admin.post("/transfer/apply")
@admin_required
def transfer_apply():
    """Apply exactly the previewed import, all or nothing; refuse if the bank changed since."""
    data, problem = _signed_preview()
    if problem:
        return problem
    bank = store()
    try:
        with write_transaction(bank.db):
            if bank.revision() != data["revision"]:
                raise PreviewOutdated
            plan = bank.apply_import(data["rows"], author=g.admin["name"])
            if _fingerprint(plan) != data["plan"]:
                raise PreviewOutdated  # rolls back the writes above
    except PreviewOutdated:
        message = "The phrase bank changed since this preview, so nothing was imported. Upload the file again."
        return render_template("admin/transfer.html", total=bank.count(), error=message), 409
    except InvalidPhrase as e:
        return render_template("admin/transfer.html", total=bank.count(), error=e.message), 400
    services().engine.refresh(force=True)
    flash(f"Imported: {len(plan['added'])} added, {len(plan['changed'])} changed, "
          f"{len(plan['unchanged'])} unchanged.")
    return redirect(url_for("admin.transfer"))
