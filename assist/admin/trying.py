"""The "Try a message" page: what agents would see for a message, with scores and reasons."""

from flask import current_app, render_template, request

from phrasebank import CHANNELS, KINDS

from . import admin
from .phrases import workbench
from .session import admin_required


def _customers():
    return [(s["email"], s["name"], s["message"]) for s in workbench().samples()]


@admin.get("/try")
@admin_required
def try_message():
    """The empty form."""
    return render_template("admin/try.html", customers=_customers(), channels=CHANNELS, form={}, result=None)


@admin.post("/try")
@admin_required
def try_message_run():
    """Run the message through exactly what /api/v1/suggest does, and show it all."""
    form = {k: (request.form.get(k) or "").strip() for k in ("message", "customer", "channel")}
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    error = None
    if not form["message"]:
        error = "Type a customer message."
    elif len(form["message"]) > limit:
        error = f"The message is {len(form['message'])} characters; the limit is {limit}."
    elif len(form["customer"]) > 320:
        error = "The customer email is too long."
    if error:
        return render_template("admin/try.html", customers=_customers(), channels=CHANNELS, form=form,
                               result=None, error=error), 422
    channel = form["channel"] if form["channel"] in CHANNELS else None
    result = workbench().try_message(form["message"], email=form["customer"] or None, channel=channel)
    kinds = [(kind, result["suggestions"].get(kind, [])) for kind in KINDS]
    return render_template("admin/try.html", customers=_customers(), channels=CHANNELS, form=form,
                           result=result, kinds=kinds)
