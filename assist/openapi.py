"""OpenAPI 3.1 description of /api/v1, built from the same vocabularies the code validates with."""

from phrasebank import CHANNELS, EMOTIONS, KINDS, SITUATIONS, STATUSES
from phrasebank.feedback import EVENTS, MAX_BATCH


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    text = {
        "400": "Invalid input; error.field names the field",
        "401": "Missing or invalid token",
        "403": "Token lacks the admin role",
        "404": "Not found",
        "409": "Version conflict",
        "415": "Body is not application/json",
    }
    return {c: {"description": text[c], **_json(_ref("Error"))} for c in codes}


def _op(summary, role, ok, body=None, params=None, errors=("400", "401")):
    op = {
        "summary": summary,
        "security": [{"bearer": []}],
        "x-required-role": role,
        "responses": {**ok, **_errors(*errors)},
    }
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _query(name, schema, description):
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_PHRASE_ID = {"name": "phrase_id", "in": "path", "required": True, "schema": {"type": "string"}}

_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                },
            }
        },
    },
    "SuggestRequest": {
        "type": "object",
        "required": ["message"],
        "additionalProperties": False,
        "properties": {
            "message": {"type": "string", "minLength": 1, "maxLength": 5000},
            "customer": {
                "type": "object",
                "description": "Exactly one of email, phone, id.",
                "properties": {k: {"type": "string"} for k in ("email", "phone", "id")},
                "additionalProperties": False,
            },
            "channel": {"enum": list(CHANNELS)},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
            "conversation_id": {"type": "string", "maxLength": 200},
            "kinds": {"type": "array", "items": {"enum": list(KINDS)}, "minItems": 1},
            "conversation": {
                "type": "array",
                "maxItems": 50,
                "description": "Earlier messages of this conversation, oldest first.",
                "items": {
                    "type": "object",
                    "required": ["role", "text"],
                    "properties": {"role": {"enum": ["customer", "agent"]}, "text": {"type": "string"}},
                },
            },
            "agent_name": {"type": "string", "maxLength": 80, "description": "Fills the {agent_name} slot."},
        },
    },
    "CustomerCard": {
        "type": "object",
        "properties": {
            "status": {"enum": ["ok", "not_found", "pending", "error"]},
            "customer": {
                "type": ["object", "null"],
                "properties": {
                    **{k: {"type": ["string", "null"]} for k in ("name", "email", "phone", "company", "tier")},
                    "sources": {"type": "array", "items": {"type": "string"}},
                    "links": {"type": "array", "items": {"type": "string"}},
                },
            },
            "open_tickets": {"type": "array", "items": {"type": "object"}},
            "recent_interactions": {"type": "array", "items": {"type": "object"}},
            "repeat_contact": {
                "type": ["object", "null"],
                "properties": {
                    "count": {"type": "integer"},
                    "since": {"type": "string", "format": "date"},
                    "window_days": {"type": "integer"},
                    "related_ticket": {"type": "object"},
                },
            },
            "follow_ups_due": {"type": "array", "items": {"type": "object"}},
            "already_told_us": {"type": "array", "items": {"type": "object"}},
            "stale": {"type": "boolean"},
            "fetched_at": {"type": ["string", "null"]},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Suggestion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": list(KINDS)},
            "text": {"type": "string", "description": "Rendered with CRM facts; never contains braces."},
            "template": {"type": "string"},
            "emotions": {"type": "array", "items": {"enum": list(EMOTIONS)}},
            "situations": {"type": "array", "items": {"enum": list(SITUATIONS)}},
            "score": {"type": "number"},
            "why": {"type": "string"},
        },
    },
    "SuggestResponse": {
        "type": "object",
        "properties": {
            "request_id": {"type": "string"},
            "emotion": {
                "type": "object",
                "properties": {
                    "label": {"enum": list(EMOTIONS)},
                    "confidence": {"type": "number"},
                    "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
            "situations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"label": {"enum": list(SITUATIONS)}, "confidence": {"type": "number"}},
                },
            },
            "suggestions": {
                "type": "object",
                "properties": {k: {"type": "array", "items": _ref("Suggestion")} for k in KINDS},
            },
            "customer": {"oneOf": [_ref("CustomerCard"), {"type": "null"}]},
            "timing_ms": {"type": "object", "additionalProperties": {"type": "number"}},
        },
    },
    "PhraseInput": {
        "type": "object",
        "required": ["text", "kind"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"},
            "text": {"type": "string", "description": "May use slots such as {first_name}."},
            "kind": {"enum": list(KINDS)},
            "emotions": {"type": "array", "items": {"enum": list(EMOTIONS)}},
            "situations": {"type": "array", "items": {"enum": list(SITUATIONS)}},
            "channels": {"type": "array", "items": {"enum": list(CHANNELS)}},
            "language": {"type": "string", "default": "en"},
            "status": {"enum": list(STATUSES), "default": "draft"},
            "use_when": {"type": "string"},
            "fallback": {"type": "string", "description": "Slot-free variant shown when slots cannot be filled."},
            "version": {"type": "integer", "description": "On PATCH: fail with 409 unless this is current."},
        },
    },
}
_SCHEMAS["Phrase"] = {
    "allOf": [
        _ref("PhraseInput"),
        {
            "type": "object",
            "properties": {
                "author": {"type": "string"},
                "created_at": {"type": "string"},
                "updated_at": {"type": "string"},
                "version": {"type": "integer"},
            },
        },
    ]
}

_COUNTS = {**{e: {"type": "integer"} for e in EVENTS},
           "accepted": {"type": "integer", "description": "requests where it was copied, inserted or thumbed up"}}
_ACCEPTANCE = {"type": ["number", "null"],
               "description": "accepted / shown (at most 1); null if never shown"}
_SCHEMAS["FeedbackEvent"] = {
    "type": "object",
    "required": ["request_id", "phrase_id", "event"],
    "additionalProperties": False,
    "properties": {
        "request_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                       "description": "The request_id of the /suggest response the phrase was shown in"},
        "phrase_id": {"type": "string"},
        "event": {"enum": list(EVENTS)},
    },
}
_SCHEMAS["FeedbackRequest"] = {
    "oneOf": [
        _ref("FeedbackEvent"),
        {"type": "object", "required": ["events"], "additionalProperties": False,
         "properties": {"events": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                   "items": _ref("FeedbackEvent")}}},
    ]
}
_SCHEMAS["Analytics"] = {
    "type": "object",
    "properties": {
        "since": {"type": "string", "format": "date"},
        "until": {"type": "string", "format": "date"},
        "bucket": {"enum": ["day", "week"]},
        "totals": {"type": "object", "properties": {**_COUNTS, "acceptance": _ACCEPTANCE}},
        "phrases": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "text": {"type": "string"}, "kind": {"enum": list(KINDS)},
            "status": {"enum": list(STATUSES)}, **_COUNTS, "acceptance": _ACCEPTANCE}}},
        "series": {"type": "array", "items": {"type": "object", "properties": {
            "period": {"type": "string", "format": "date", "description": "The day, or the Monday of the week"},
            **_COUNTS}}},
        "never_used": {"type": "array", "description": "Approved phrases shown 0 times in the period",
                       "items": {"type": "object",
                                 "properties": {k: {"type": "string"} for k in ("id", "text", "kind")}}},
    },
}


def _paths():
    phrase_ok = {"200": {"description": "The phrase", **_json(_ref("Phrase"))}}
    filters = [_query(n, {"enum": list(vals)}, f"Only phrases with this {n}") for n, vals in (
        ("kind", KINDS), ("emotion", EMOTIONS), ("situation", SITUATIONS), ("channel", CHANNELS), ("status", STATUSES)
    )]
    filters += [
        _query("q", {"type": "string"}, "Text contained in the phrase or its intended use"),
        _query("page", {"type": "integer", "minimum": 1}, "Page number, from 1"),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "Phrases per page (default 50)"),
    ]
    import_body = {
        "type": "object",
        "description": "Either phrases (objects) or content (the text of a JSON or CSV export) with its format.",
        "properties": {
            "phrases": {"type": "array", "items": _ref("PhraseInput")},
            "content": {"type": "string", "description": "A phrase file's text, as exported"},
            "format": {"enum": ["json", "csv"], "description": "Format of content (required with it)"},
            "dry_run": {"type": "boolean"},
        },
        "oneOf": [{"required": ["phrases"]}, {"required": ["content", "format"]}],
    }
    return {
        "/suggest": {
            "post": _op(
                "Understand a customer message and suggest what to say",
                "agent",
                {"200": {"description": "Suggestions", **_json(_ref("SuggestResponse"))}},
                body=_ref("SuggestRequest"),
                errors=("400", "401", "415"),
            )
        },
        "/customers/context": {
            "get": _op(
                "The customer card: identity, open tickets, repeat contact, follow-ups, facts already given",
                "agent",
                {"200": {"description": "The card; status says ok, not_found, pending or error",
                         **_json(_ref("CustomerCard"))}},
                params=[_query(k, {"type": "string"}, f"Customer {k} (give exactly one)") for k in ("email", "phone", "id")],
            )
        },
        "/stream": {
            "get": _op(
                "Server-Sent Events: the customer's card on every CRM update (resume with Last-Event-ID)",
                "agent",
                {"200": {"description": "text/event-stream of `card` events whose id is the webhook event id"}},
                params=[_query("customer", {"type": "string"}, "Email, phone or CRM id of the customer"),
                        _query("last_event_id", {"type": "integer"}, "Alternative to the Last-Event-ID header")],
            )
        },
        "/admin/webhooks": {
            "get": _op(
                "Recent webhook deliveries with each event's outcome, and recently rejected requests",
                "admin",
                {"200": {"description": "Deliveries"}},
                params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Default 50"),
                        _query("connector", {"type": "string"}, "Only this connector")],
                errors=("400", "401", "403"),
            )
        },
        "/admin/webhooks/{delivery_id}/payload": {
            "get": _op(
                "The raw body of one delivery (until purged)", "admin", {"200": {"description": "Raw bytes"}},
                params=[{"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                errors=("401", "403", "404"),
            )
        },
        "/me": {"get": _op("The token's name and role", "agent", {"200": {"description": "Token owner"}}, errors=("401",))},
        "/feedback": {
            "post": _op(
                "Record what agents did with suggestions: one event or a batch (all or nothing, idempotent)",
                "agent",
                {"201": {"description": "Stored; repeats of a (request_id, phrase_id, event) count as duplicates",
                         **_json({"type": "object", "properties": {"recorded": {"type": "integer"},
                                                                   "duplicates": {"type": "integer"}}})}},
                body=_ref("FeedbackRequest"),
                errors=("400", "401", "415"),
            )
        },
        "/analytics": {
            "get": _op(
                "Feedback per phrase and per day or week, acceptance, and never-used approved phrases",
                "admin",
                {"200": {"description": "Analytics for the period", **_json(_ref("Analytics"))}},
                params=[_query("since", {"type": "string", "format": "date"}, "First day (UTC); default until - 29"),
                        _query("until", {"type": "string", "format": "date"}, "Last day (inclusive, UTC), default today"),
                        _query("bucket", {"enum": ["day", "week"]}, "Series per day (default) or week (from Monday)"),
                        _query("phrase_id", {"type": "string"}, "Only this phrase")],
                errors=("400", "401", "403"),
            )
        },
        "/phrases": {
            "get": _op("List phrases", "agent", {"200": {"description": "A page of phrases"}}, params=filters),
            "post": _op("Create a phrase", "admin", {"201": {"description": "Created", **_json(_ref("Phrase"))}},
                        body=_ref("PhraseInput"), errors=("400", "401", "403", "415")),
        },
        "/phrases/{phrase_id}": {
            "get": _op("One phrase", "agent", phrase_ok, params=[_PHRASE_ID], errors=("401", "404")),
            "patch": _op("Change a phrase", "admin", phrase_ok, body=_ref("PhraseInput"), params=[_PHRASE_ID],
                         errors=("400", "401", "403", "404", "409", "415")),
            "delete": _op("Retire a phrase", "admin", phrase_ok, params=[_PHRASE_ID], errors=("401", "403", "404")),
        },
        "/phrases/{phrase_id}/history": {
            "get": _op("Every version of a phrase", "admin", {"200": {"description": "History"}},
                       params=[_PHRASE_ID], errors=("401", "403", "404")),
        },
        "/changes": {
            "get": _op("The audit log: every change to the bank, newest first, with before and after", "admin",
                       {"200": {"description": "One page of changes"}},
                       params=[_query("page", {"type": "integer", "minimum": 1}, "Default 1"),
                               _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "Default 50"),
                               _query("by", {"type": "string"}, "Only changes by this token name")],
                       errors=("400", "401", "403")),
        },
        "/phrases/import": {
            "post": _import_op(import_body),
        },
        "/phrases/export": {
            "get": _op("Export every field of every phrase", "admin", {"200": {"description": "JSON or CSV"}},
                       params=[_query("format", {"enum": ["json", "csv"]}, "Default json")],
                       errors=("400", "401", "403")),
        },
    }


def _import_op(import_body):
    """The import operation: a JSON body, or a CSV file sent as text/csv with ?dry_run=true."""
    op = _op("Import phrases (all or nothing; dry_run shows the diff)", "admin",
             {"200": {"description": "Import plan and counts"}}, body=import_body, errors=("400", "401", "403", "415"))
    op["requestBody"]["content"]["text/csv"] = {
        "schema": {"type": "string", "description": "A CSV export (header row of phrase fields, lists joined by |)"},
    }
    op["parameters"] = [_query("dry_run", {"enum": ["true", "false", "1", "0"]}, "With a text/csv body: only show the diff")]
    return op


def openapi_spec():
    """The OpenAPI document for /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "assist API", "version": "1.0.0", "description": "Agent-assist: suggestions and the phrase bank."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": _paths(),
        "x-webhooks": {
            "/webhooks/{connector}": "POST from a CRM (hubspot, zendesk, salesforce, freshdesk, chatwoot, generic): "
            "signed by the vendor, not by a bearer token; see README 'Webhooks'.",
        },
    }
