"""The JSON API under /api/v1: suggestions and the phrase bank."""

from flask import Blueprint, Response, current_app, g, jsonify, request

from phrasebank import CHANNELS, EMOTIONS, KINDS, SITUATIONS, STATUSES
from phrasebank.errors import InvalidPhrase
from phrasebank.io import dump_phrases, parse_phrases
from phrasebank.store import PhraseStore

from . import assistant
from . import validation as v
from .auth import require
from .errors import bad_request
from .openapi import openapi_spec

api = Blueprint("api", __name__, url_prefix="/api/v1")

SUGGEST_FIELDS = ("message", "customer", "channel", "limit", "conversation_id", "kinds", "conversation", "agent_name")
CONVERSATION_ROLES = ("customer", "agent")
MAX_CONVERSATION = 50
CUSTOMER_KEYS = ("email", "phone", "id")  # also used by the customers blueprint
IMPORT_FIELDS = ("phrases", "content", "format", "dry_run")
IMPORT_FORMATS = ("json", "csv")
PHRASE_FILTERS = {"kind": KINDS, "emotion": EMOTIONS, "situation": SITUATIONS, "channel": CHANNELS, "status": STATUSES}


def _services():
    return current_app.extensions["assist"]


def _store():
    return PhraseStore(_services().database.get())


def _customer_ref(body):
    """Validate the optional customer reference: exactly one of email, phone, id."""
    customer = body.get("customer")
    if customer is None:
        return None
    if not isinstance(customer, dict):
        raise bad_request("customer must be an object with one of: email, phone, id.", "customer", "wrong_type")
    v.reject_unknown(customer, CUSTOMER_KEYS, prefix="customer.")
    present = [k for k in CUSTOMER_KEYS if customer.get(k) is not None]
    if len(present) != 1:
        raise bad_request("customer needs exactly one of: email, phone, id.", "customer", "invalid")
    key = present[0]
    return {key: v.text(customer, key, required=True, max_chars=320, field=f"customer.{key}")}


def _conversation(body):
    """Validate earlier messages of this conversation: [{"role", "text"}], oldest first."""
    conversation = body.get("conversation")
    if conversation is None:
        return None
    if not isinstance(conversation, list) or len(conversation) > MAX_CONVERSATION:
        raise bad_request(f"conversation must be a list of at most {MAX_CONVERSATION} messages.", "conversation")
    clean = []
    for i, item in enumerate(conversation):
        if not isinstance(item, dict):
            raise bad_request("each conversation message must be an object.", f"conversation[{i}]", "wrong_type")
        v.reject_unknown(item, ("role", "text"), prefix=f"conversation[{i}].")
        role = v.choice(item, "role", CONVERSATION_ROLES, field=f"conversation[{i}].role")
        if role is None:
            raise bad_request("role is required.", f"conversation[{i}].role", "missing")
        text = v.text(item, "text", required=True, max_chars=current_app.config["MAX_MESSAGE_CHARS"],
                      field=f"conversation[{i}].text")
        clean.append({"role": role, "text": text})
    return clean


def _kinds(body):
    kinds = body.get("kinds")
    if kinds is None:
        return KINDS
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k in KINDS for k in kinds):
        raise bad_request(f"kinds must be a non-empty list of: {', '.join(KINDS)}.", "kinds", "invalid_choice")
    return tuple(k for k in KINDS if k in kinds)


@api.post("/suggest")
@require("agent")
def suggest():
    """Understand a customer message and suggest what to say."""
    body = v.json_body()
    v.reject_unknown(body, SUGGEST_FIELDS)
    message = v.text(body, "message", required=True, max_chars=current_app.config["MAX_MESSAGE_CHARS"])
    customer = _customer_ref(body)
    channel = v.choice(body, "channel", CHANNELS)
    limit = v.integer(body, "limit", 1, 10, 3)
    v.text(body, "conversation_id", max_chars=200)
    agent_name = v.text(body, "agent_name", max_chars=80)
    result = assistant.suggest(
        _services(), message, customer_ref=customer, conversation=_conversation(body), channel=channel,
        limit=limit, kinds=_kinds(body), agent_name=agent_name,
    )
    return jsonify(result)


@api.get("/me")
@require("agent")
def me():
    """Who the presented token belongs to (used by the sidebar's "test connection")."""
    return jsonify({"name": g.token["name"], "role": g.token["role"]})


def _matches(phrase, filters, query):
    for name, value in filters.items():
        field = phrase.get(name + "s") if name in ("emotion", "situation", "channel") else phrase.get(name)
        if isinstance(field, list) and value not in field:
            return False
        if isinstance(field, str) and field != value:
            return False
    return not query or query in phrase["text"].lower() or query in (phrase.get("use_when") or "").lower()


@api.get("/phrases")
@require("agent")
def list_phrases():
    """List phrases with filters (kind, emotion, situation, channel, status, q) and pages."""
    filters = {name: value for name in PHRASE_FILTERS if (value := v.query_choice(name, PHRASE_FILTERS[name]))}
    query = (request.args.get("q") or "").strip().lower()[:200]
    page = v.query_int("page", 1, 100000, 1)
    per_page = v.query_int("per_page", 1, 500, 50)
    found = [p for p in _store().list() if _matches(p, filters, query)]
    start = (page - 1) * per_page
    return jsonify({"phrases": found[start : start + per_page], "total": len(found), "page": page, "per_page": per_page})


@api.get("/phrases/<phrase_id>")
@require("agent")
def get_phrase(phrase_id):
    """One phrase by id."""
    return jsonify(_store().get(phrase_id))


@api.post("/phrases")
@require("admin")
def create_phrase():
    """Create a phrase (draft unless a status is given)."""
    body = v.json_body()
    phrase = _store().create(body, author=g.token["name"])
    _services().engine.refresh(force=True)
    return jsonify(phrase), 201


@api.patch("/phrases/<phrase_id>")
@require("admin")
def update_phrase(phrase_id):
    """Change a phrase; send "version" to fail with 409 if it changed meanwhile."""
    body = v.json_body()
    version = v.integer(body, "version", 1, 2**31, None)
    phrase = _store().update(phrase_id, body, author=g.token["name"], expected_version=version)
    _services().engine.refresh(force=True)
    return jsonify(phrase)


@api.delete("/phrases/<phrase_id>")
@require("admin")
def retire_phrase(phrase_id):
    """Retire a phrase (kept for history and analytics, never suggested again)."""
    phrase = _store().update(phrase_id, {"status": "retired"}, author=g.token["name"])
    _services().engine.refresh(force=True)
    return jsonify(phrase)


@api.get("/phrases/<phrase_id>/history")
@require("admin")
def phrase_history(phrase_id):
    """Every version of a phrase, oldest first."""
    store = _store()
    store.get(phrase_id)
    return jsonify({"history": store.history(phrase_id)})


@api.get("/changes")
@require("admin")
def recent_changes():
    """The audit log of the whole bank, newest first: {"changes": [{phrase_id, version, action,
    changed_by, changed_at, before, after}], "total", "page", "pages", "per_page"}."""
    page = v.query_int("page", 1, 100000, 1)
    per_page = v.query_int("per_page", 1, 500, 50)
    author = (request.args.get("by") or "").strip()[:200] or None
    return jsonify(_store().recent_changes(page=page, per_page=per_page, author=author))


@api.post("/phrases/import")
@require("admin")
def import_phrases():
    """Import phrases, all or nothing: {"phrases": [...]}, {"format", "content"} or a text/csv body."""
    rows, dry_run = _import_request()
    if not isinstance(rows, list) or not rows:
        raise bad_request("phrases must be a non-empty list of phrase objects.", "phrases")
    if len(rows) > 10000:
        raise bad_request("import at most 10,000 phrases at a time.", "phrases", "too_long")
    store = _store()
    plan = store.plan_import(rows) if dry_run else store.apply_import(rows, author=g.token["name"])
    if not dry_run:
        _services().engine.refresh(force=True)
    summary = {k: len(plan[k]) for k in ("added", "changed", "unchanged", "rejected")}
    return jsonify({"dry_run": dry_run, "summary": summary, **plan})


def _import_request():
    """The rows and dry_run flag of an import, from a text/csv body or a JSON object."""
    if request.mimetype == "text/csv":
        dry_run = v.query_choice("dry_run", ("true", "false", "1", "0")) in ("true", "1")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError as e:
            raise bad_request("The CSV body must be UTF-8 text.", "body", "invalid_encoding") from e
        return _parsed(text, "csv", "body"), dry_run
    body = v.json_body()
    v.reject_unknown(body, IMPORT_FIELDS)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise bad_request("dry_run must be true or false.", "dry_run", "wrong_type")
    if ("phrases" in body) == ("content" in body):
        raise bad_request("send either phrases (a list) or content (a file's text) with its format.", "phrases")
    if "phrases" in body:
        if v.choice(body, "format", ("json",), "json") != "json":
            raise bad_request("format goes with content.", "format")
        return body["phrases"], dry_run
    fmt = v.choice(body, "format", IMPORT_FORMATS)
    if fmt is None:
        raise bad_request(f"format is required with content: one of {', '.join(IMPORT_FORMATS)}.", "format", "missing")
    content = v.text(body, "content", required=True, max_chars=current_app.config["MAX_CONTENT_LENGTH"])
    return _parsed(content, fmt, "content"), dry_run


def _parsed(text, fmt, field):
    """Phrase rows parsed from a file's text; a parse error is a 400 naming ``field``."""
    try:
        return parse_phrases(text, fmt)
    except InvalidPhrase as e:
        raise bad_request(e.message, field) from e


@api.get("/phrases/export")
@require("admin")
def export_phrases():
    """Every field of every phrase, as JSON (default) or CSV."""
    fmt = v.query_choice("format", ("json", "csv")) or "json"
    text = dump_phrases(_store().export(), fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(text, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename=phrases.{fmt}"})


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    return jsonify(openapi_spec())
