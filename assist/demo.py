"""GET /demo: a small help desk on the seeded demo customers, to try the sidebar on.

No sign-in: the page shows only the fictional demo data of ``connectors/demo.py``
(example.com addresses, phone numbers reserved for fiction), never the store,
so it reveals nothing about real customers.  The conversations are sent as a
JSON data block and drawn by ``static/demo/demo.js`` with ``textContent``;
Jinja's ``tojson`` escapes ``<``, ``>`` and ``&``, and a strict
Content-Security-Policy forbids inline script, so no string here can run.
"""

from datetime import datetime, timedelta, timezone

from flask import Blueprint, render_template

from connectors.demo import DEMO_MESSAGES, demo_customers

from .page_headers import secure_page

demo = Blueprint("demo", __name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# What each customer's conversation is about, as a help desk shows it in the inbox.
SUBJECTS = {
    "maria.gonzalez@example.com": "Internet down again tonight",
    "james.whitaker@example.net": "Still waiting for my refund",
    "priya.nair@example.org": "Parcel says delivered but never arrived",
    "harold.ellis@example.net": "My late father's account",
    "daniel.okafor@example.com": "URGENT: whole office offline",
    "aisha.rahman@example.org": "Thank you!",
    "robert.chen@example.com": "Bundle discount for a mobile SIM?",
    "sofia.rossi@example.net": "When will my router arrive?",
    "hannah.lewis@example.com": "Nobody called me back",
    "marcus.webb@example.com": "Roaming charges from Spain",
    "lucy.fernandes@example.org": "Wrong charger sent (NW-452219)",
    "kwame.mensah@example.net": "Phone upgrade",
}
# Who writes in each channel; Susan Ellis writes about her late father's account.
CHANNELS = {"harold.ellis@example.net": "email", "james.whitaker@example.net": "email",
            "lucy.fernandes@example.org": "email", "marcus.webb@example.com": "email"}
SENDERS = {"harold.ellis@example.net": "Susan Ellis"}


def demo_conversations(now):
    """One open conversation per demo customer with a message today, newest first."""
    customers = {c["email"]: c for c in demo_customers(now)}
    conversations = []
    for minutes, (email, message) in enumerate(DEMO_MESSAGES.items()):
        customer = customers.get(email, {})
        name = customer.get("name") or email
        received = now - timedelta(minutes=3 + 11 * minutes)
        conversations.append({
            "email": email, "name": name, "sender": SENDERS.get(email, name), "phone": customer.get("phone"),
            "company": customer.get("company"), "tier": customer.get("tier") or "standard",
            "subject": SUBJECTS.get(email) or message[:60], "channel": CHANNELS.get(email, "chat"),
            "received_at": received.isoformat(timespec="seconds"), "messages": [{"role": "customer", "text": message}],
        })
    return conversations


@demo.get("/demo")
def demo_page():
    """The demo help desk; ``?c=<email>`` opens that customer's conversation."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return render_template("demo.html", conversations=demo_conversations(now))


@demo.after_request
def _security_headers(response):
    return secure_page(response, CSP)
