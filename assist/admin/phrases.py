"""Admin pages for the phrase bank: list and search, create and edit with lint, workflow, history.

Views stay thin: parse the form, call the store / workbench, render.  Every
write records who (the admin token's name) in the phrase's revisions, and the
engine is refreshed at once so agents see approved changes immediately.
"""

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from connectors.demo import DEMO_MESSAGES
from phrasebank import CHANNELS, EMOTIONS, KINDS, SITUATIONS, STATUSES, InvalidPhrase, PhraseNotFound, feedback
from phrasebank import lint as phrase_lint
from phrasebank.errors import VersionConflict
from phrasebank.phrases import EDITABLE, LANGUAGE_PATTERN
from phrasebank.search import FILTERS, SORTS, PhraseQuery, find

from ..errors import bad_request
from ..validation import json_body
from . import admin
from .common import field_changes, services, store
from .session import admin_required
from .workbench import Workbench

PER_PAGE = 50
VOCAB = {"kind": KINDS, "emotion": EMOTIONS, "situation": SITUATIONS, "channel": CHANNELS, "status": STATUSES}
# Workflow buttons: from a status, the statuses an admin may move a phrase to.
TRANSITIONS = {"draft": ("approved", "retired"), "approved": ("retired", "draft"), "retired": ("draft", "approved")}


def workbench():
    """The app's Workbench (previews, try a message, bank vectors), made on first use."""
    extras = current_app.extensions["assist_admin"]
    if "workbench" not in extras:
        extras["workbench"] = Workbench(services())
    return extras["workbench"]


@admin.get("/")
@admin_required
def index():
    """The admin app starts at the phrase list."""
    return redirect(url_for("admin.phrase_list"))


# -- list ----------------------------------------------------------------------------------


def _list_query(args):
    filters = {}
    for name in FILTERS:
        value = (args.get(name) or "").strip()
        if name == "language" and value and LANGUAGE_PATTERN.match(value):
            filters[name] = value
        elif value in VOCAB.get(name, ()):
            filters[name] = value
    sort = args.get("sort") if args.get("sort") in SORTS else "id"
    page = args.get("page", "1")
    return PhraseQuery(words=(args.get("q") or "").strip()[:200], filters=filters, sort=sort,
                       page=int(page) if page.isdigit() and len(page) < 7 else 1, per_page=PER_PAGE)


@admin.get("/phrases")
@admin_required
def phrase_list():
    """Phrases with words and semantic search, filters, sort by usage or acceptance, pages."""
    query = _list_query(request.args)
    like = (request.args.get("like") or "").strip()[: current_app.config["MAX_MESSAGE_CHARS"]]
    db = services().database.get()
    similarity = None
    if like:
        bench = workbench()
        similarity = bench.bank_vectors.similarities(db, services().embedder.encode_one(like))
    result = find(db, query, stats=feedback.phrase_stats(db), similarity=similarity)
    languages = [r[0] for r in db.execute("select distinct language from phrases order by 1")]
    args = {k: v for k, v in request.args.items() if k in (*FILTERS, "q", "like", "sort") and v}
    return render_template("admin/phrases.html", result=result, query=query, like=like, vocab=VOCAB,
                           languages=languages, sorts=SORTS, args=args)


# -- create and edit -------------------------------------------------------------------------


def draft_from(data, getlist):
    """A phrase draft from form or JSON fields (light cleaning; the store validates on save)."""
    def text(name, limit):
        value = data.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return {
        "text": text("text", 5000),
        "kind": data.get("kind") if data.get("kind") in KINDS else "",
        "emotions": [e for e in EMOTIONS if e in getlist("emotions")],
        "situations": [s for s in SITUATIONS if s in getlist("situations")],
        "channels": [c for c in CHANNELS if c in getlist("channels")],
        "language": text("language", 20) or "en",
        "use_when": text("use_when", 2000),
        "fallback": text("fallback", 5000),
    }


def _form_draft():
    return draft_from(request.form, request.form.getlist)


def _render_form(draft, phrase=None, problems=(), error=None, status=200, needs_confirm=False):
    keys = [phrase_lint.warning_key(p) for p in phrase_lint.warnings(problems)] if needs_confirm else []
    customers = [(s["email"], s["name"]) for s in workbench().samples()]
    body = render_template("admin/phrase_form.html", draft=draft, phrase=phrase, problems=list(problems),
                           error=error, needs_confirm=needs_confirm, confirm_keys=keys, vocab=VOCAB,
                           customers=customers, transitions=TRANSITIONS.get(phrase["status"], ()) if phrase else ())
    return body, status


def _checked(draft, exclude=None):
    """(problems, response or None): a response when lint blocks or warnings are not yet confirmed."""
    if not draft["kind"]:
        return [], "kind"
    problems = workbench().check(draft, exclude=exclude)
    if phrase_lint.blocking(problems):
        return problems, "blocked"
    wanted = {phrase_lint.warning_key(p) for p in phrase_lint.warnings(problems)}
    confirmed = set(request.form.getlist("acknowledge")) if request.form.get("confirm") == "1" else set()
    if wanted - confirmed:
        return problems, "confirm"
    return problems, None


def _refused(draft, phrase, problems, reason):
    if reason == "kind":
        return _render_form(draft, phrase, error="Choose the kind of phrase.", status=422)
    if reason == "blocked":
        return _render_form(draft, phrase, problems, error="Not saved: fix the problems marked “blocks”.",
                            status=422)
    return _render_form(draft, phrase, problems, status=422, needs_confirm=True,
                        error="Not saved yet: check the warnings, then save anyway or change the text.")


@admin.get("/phrases/new")
@admin_required
def phrase_new():
    """An empty phrase form (optionally pre-filled from ?text=&kind=)."""
    draft = draft_from(request.args, request.args.getlist)
    return _render_form(draft)


@admin.post("/phrases/new")
@admin_required
def phrase_create():
    """Create a draft phrase after lint (blocks refuse; warnings need "save anyway")."""
    draft = _form_draft()
    problems, reason = _checked(draft)
    if reason:
        return _refused(draft, None, problems, reason)
    wanted_id = (request.form.get("id") or "").strip()
    try:
        phrase = store().create({**draft, "status": "draft", **({"id": wanted_id} if wanted_id else {})},
                                 author=g.admin["name"])
    except InvalidPhrase as e:
        return _render_form(draft, None, problems, error=e.message, status=422)
    services().engine.refresh(force=True)
    flash(f"Saved {phrase['id']} as a draft. Agents see it once it is approved.")
    return redirect(url_for("admin.phrase_edit", phrase_id=phrase["id"]))


def _phrase_or_404(phrase_id):
    try:
        return store().get(phrase_id)
    except PhraseNotFound:
        abort(404, description=f"No phrase with id {phrase_id!r}.")


@admin.get("/phrases/<phrase_id>")
@admin_required
def phrase_edit(phrase_id):
    """The edit form of one phrase, with its workflow buttons."""
    phrase = _phrase_or_404(phrase_id)
    return _render_form({k: phrase[k] for k in EDITABLE}, phrase)


def _form_version():
    version = request.form.get("version", "")
    return int(version) if version.isdigit() and len(version) < 10 else None


@admin.post("/phrases/<phrase_id>")
@admin_required
def phrase_update(phrase_id):
    """Save changes to a phrase after lint; refuses if someone else changed it meanwhile."""
    phrase = _phrase_or_404(phrase_id)
    draft = _form_draft()
    problems, reason = _checked(draft, exclude=phrase_id)
    if reason:
        return _refused(draft, phrase, problems, reason)
    try:
        saved = store().update(phrase_id, draft, author=g.admin["name"], expected_version=_form_version())
    except VersionConflict:
        current = store().get(phrase_id)
        return _render_form(draft, current, problems, status=409,
                            error=f"Someone saved this phrase meanwhile (it is now version {current['version']}). "
                            "Your text is below; saving again overwrites theirs.")
    except InvalidPhrase as e:
        return _render_form(draft, phrase, problems, error=e.message, status=422)
    services().engine.refresh(force=True)
    unchanged = saved["version"] == phrase["version"]
    flash("Nothing changed." if unchanged else f"Saved {phrase_id} (version {saved['version']}).")
    return redirect(url_for("admin.phrase_edit", phrase_id=phrase_id))


@admin.post("/phrases/<phrase_id>/status")
@admin_required
def phrase_status(phrase_id):
    """Move a phrase through the workflow: draft -> approved -> retired (and back)."""
    phrase = _phrase_or_404(phrase_id)
    status = request.form.get("status")
    if status not in TRANSITIONS.get(phrase["status"], ()):
        flash(f"{phrase_id} is {phrase['status']}; it cannot become {status!s}.")
        return redirect(url_for("admin.phrase_edit", phrase_id=phrase_id))
    try:
        store().update(phrase_id, {"status": status}, author=g.admin["name"], expected_version=_form_version())
    except VersionConflict:
        flash("Someone changed this phrase meanwhile; check it and try again.")
        return redirect(url_for("admin.phrase_edit", phrase_id=phrase_id))
    except InvalidPhrase as e:  # written before today's rules: fix it before approving
        flash(f"Cannot change the status: {e.message}")
        return redirect(url_for("admin.phrase_edit", phrase_id=phrase_id))
    services().engine.refresh(force=True)
    verb = {"approved": "Approved: agents can now be offered", "retired": "Retired: agents no longer see",
            "draft": "Back to draft: agents no longer see"}[status]
    flash(f"{verb} {phrase_id}.")
    return redirect(url_for("admin.phrase_edit", phrase_id=phrase_id))


# -- history -------------------------------------------------------------------------------


@admin.get("/phrases/<phrase_id>/history")
@admin_required
def phrase_history(phrase_id):
    """Every version of a phrase: who, when, what changed (before and after), and restore buttons."""
    phrase = _phrase_or_404(phrase_id)
    revisions = store().history(phrase_id)
    versions = []
    for i, revision in enumerate(revisions):
        before = revisions[i - 1]["data"] if i else None
        versions.append({**revision, "changes": field_changes(before, revision["data"])})
    return render_template("admin/phrase_history.html", phrase=phrase, versions=list(reversed(versions)))


@admin.get("/changes")
@admin_required
def recent_changes():
    """The audit log of the whole bank: who changed which phrase when, before and after, newest first."""
    page = request.args.get("page", "1")
    author = (request.args.get("by") or "").strip()[:200] or None
    log = store().recent_changes(page=int(page) if page.isdigit() and len(page) < 7 else 1,
                                  per_page=PER_PAGE, author=author)
    for change in log["changes"]:
        change["changes"] = field_changes(change["before"], change["after"])
    return render_template("admin/changes.html", log=log, author=author)


@admin.post("/phrases/<phrase_id>/restore")
@admin_required
def phrase_restore(phrase_id):
    """Restore the wording and tags of an earlier version as a new version (the status stays)."""
    phrase = _phrase_or_404(phrase_id)
    wanted = request.form.get("version", "")
    revision = next((r for r in store().history(phrase_id) if str(r["version"]) == wanted), None)
    if revision is None:
        abort(404, description=f"{phrase_id} has no version {wanted!r}.")
    changes = {k: revision["data"][k] for k in EDITABLE if k != "status" and k in revision["data"]}
    try:
        saved = store().update(phrase_id, changes, author=g.admin["name"])
    except InvalidPhrase as e:
        flash(f"Version {wanted} cannot be restored: {e.message}")
        return redirect(url_for("admin.phrase_history", phrase_id=phrase_id))
    services().engine.refresh(force=True)
    if saved["version"] == phrase["version"]:
        flash(f"The current text already matches version {wanted}.")
    else:
        flash(f"Restored version {wanted} as version {saved['version']}.")
    return redirect(url_for("admin.phrase_history", phrase_id=phrase_id))


# -- live preview --------------------------------------------------------------------------


@admin.post("/api/preview")
@admin_required
def preview():
    """JSON for the live preview: rendered text, lint (with near-duplicates), rank on sample messages."""
    body = json_body()
    draft = draft_from(body, lambda name: body.get(name) if isinstance(body.get(name), list) else [])
    if body.get("kind") not in (None, "", *KINDS):
        raise bad_request(f"kind must be one of: {', '.join(KINDS)}.", "kind", "invalid_choice")
    phrase_id = body.get("id") if isinstance(body.get("id"), str) else None
    email = body.get("customer") if body.get("customer") in DEMO_MESSAGES else None
    bench = workbench()
    if not draft["text"]:
        problems = phrase_lint.lint_phrase(draft)
        return jsonify({"rendered": None, "lint": problems, "blocked": True, "rankings": []})
    vector = bench.draft_vector(draft)
    problems = bench.check(draft, vector=vector, exclude=phrase_id)
    return jsonify({
        "rendered": bench.render(draft, email),
        "lint": problems,
        "blocked": bool(phrase_lint.blocking(problems)),
        "rankings": bench.rankings({**draft, "id": phrase_id}, vector) if draft["kind"] else [],
    })


from . import trying  # noqa: E402,F401  (the "Try a message" page shares this module's helpers)
