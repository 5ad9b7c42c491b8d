"""A dozen demo customers of "Northwind Broadband & Mobile", dated relative to now.

Northwind sells broadband and mobile plans in the US and the UK and runs an
online shop for routers, phones and accessories.  Every history is written
relative to ``now`` so the demo always looks current: the evening outage was
reported three weeks ago, the refund call-back was due two days ago.  Emails
are @example.com/.org/.net and phone numbers come from the ranges reserved for
fiction (+1 415-555-01xx, +44 7700 900xxx).

``DEMO_MESSAGES`` holds what each customer writes today, for the /demo page.
"""

from datetime import datetime, timedelta, timezone

from .card import iso
from .localstore import LocalStore

DEMO_SOURCE = "demo"

DEMO_MESSAGES = {
    "maria.gonzalez@example.com": "My internet has cut out AGAIN tonight, same as every evening. "
    "I work from home and I can't keep doing this.",
    "james.whitaker@example.net": "You took two payments for my bill this month and I still haven't had the "
    "second one back. Where is my refund?",
    "priya.nair@example.org": "It's been over a week and my parcel still hasn't turned up even though tracking "
    "says delivered. Can you just send a replacement?",
    "harold.ellis@example.net": "Hello, it's Susan Ellis again about my late father Harold's account. I sent the "
    "death certificate a few days ago - what happens next with his final bill?",
    "daniel.okafor@example.com": "Our whole office has been offline since 9am, 24 people can't work. We're on "
    "the business SLA and I need an engineer today.",
    "aisha.rahman@example.org": "Just wanted to say thank you! The mesh extender Tom sent fixed everything, "
    "the Wi-Fi upstairs is perfect now.",
    "robert.chen@example.com": "Quick question: if I add a mobile SIM to my broadband account, do I get the "
    "bundle discount?",
    "sofia.rossi@example.net": "Hi, I signed up online yesterday. When will my router arrive, and do I need to "
    "be home for the installation?",
    "hannah.lewis@example.com": "Nobody called me back on Friday like you promised, and I still don't have a "
    "new date for my installation. I took another day off for nothing.",
    "marcus.webb@example.com": "Any news on the roaming charges from my trip to Spain? My bill is due soon and "
    "I'm not paying $186 when I already bought the Travel Pass.",
    "lucy.fernandes@example.org": "I ordered the 65W charger (order NW-452219) but you sent a 20W one. How do I "
    "swap it?",
    "kwame.mensah@example.net": "Is my contract up yet? I'd like to upgrade my phone this week.",
}


def demo_customers(now):
    """The demo customers in LocalStore's import shape, with times relative to ``now`` (aware UTC)."""
    now = now.astimezone(timezone.utc).replace(microsecond=0)
    return [story(now) for story in STORIES]


def seed_demo(db, now=None, region="US"):
    """Import the demo customers into an empty crm_customers table; returns counts, or None if not empty."""
    if db.execute("select exists(select 1 from crm_customers)").fetchone()[0]:
        return None
    return LocalStore(db, region).import_customers(demo_customers(now or datetime.now(timezone.utc)), DEMO_SOURCE)


def _ago(now, days=0, hours=0, minutes=0):
    return iso(now - timedelta(days=days, hours=hours, minutes=minutes))


def _day(now, days):
    """A date as people write it in notes ("14 May"), ``days`` before now (negative: after)."""
    when = now - timedelta(days=days)
    return f"{when.day} {when:%B}"


def _ticket(now, key, subject, description, status, priority, opened, updated, channel):
    return {"id": key, "subject": subject, "description": description, "status": status, "priority": priority,
            "created_at": _ago(now, *opened), "updated_at": _ago(now, *updated), "channel": channel,
            "url": f"https://support.northwind.example.com/tickets/{key}"}


def _activity(now, key, kind, when, summary, ticket_id=None, outcome=None, channel=None, due=None, done=False):
    return {"id": key, "kind": kind, "at": _ago(now, *when), "summary": summary, "ticket_id": ticket_id,
            "outcome": outcome, "channel": channel or (kind if kind in ("call", "email", "chat") else None),
            "due_at": _ago(now, *due) if due else None, "done": done}


def _customer(key, name, email, phone, tier="standard", company=None, tickets=(), activities=()):
    return {"id": key, "name": name, "email": email, "phone": phone, "company": company, "tier": tier,
            "tickets": list(tickets), "activities": list(activities)}


# -- repeat contacts ----------------------------------------------------------------

def _maria(now):
    """Broadband drops every evening: reported three weeks ago, called twice since, writing again now."""
    t = "NW-20417"
    return _customer("NW-C1001", "Maria Gonzalez", "maria.gonzalez@example.com", "+1 415-555-0142", tickets=[
        _ticket(now, t, "No connection every evening",
                "Broadband drops out most evenings between 7pm and 10pm; the router's internet light goes red. "
                "Restarting the router does not help.", "open", "high", (21, 3), (6, 2), "phone"),
        _ticket(now, "NW-18220", "Bill higher than expected", "Bill went up after the 12-month discount ended.",
                "solved", "low", (96,), (94,), "chat"),
    ], activities=[
        _activity(now, "A-50101", "call", (21, 3), "Reported evening dropouts. Line test passed; talked her through "
                  "a factory reset. Account number 4410-2291.", t, "line test passed"),
        _activity(now, "A-50102", "note", (21, 2, 50), "Router is a Northwind Hub 3. Service address 2217 Mission "
                  "Street, San Francisco, 94110. Works from home, evenings matter most."),
        _activity(now, "A-50103", "call", (14, 1), "Still dropping every evening after the reset. Booked an engineer "
                  f"for {_day(now, 10)}.", t, "engineer booked"),
        _activity(now, "A-50104", "note", (10, 5), "Engineer visit: replaced the wall socket filter, line looked "
                  "clean in the daytime.", t),
        _activity(now, "A-50105", "call", (6, 2), "Dropouts continue after the engineer visit. Escalated to the "
                  "network team to check the evening load on her cabinet.", t, "escalated to network team"),
        _activity(now, "A-50106", "chat", (96,), "Asked why her bill went up; explained the discount ended and moved "
                  "her to the loyalty price.", "NW-18220", "resolved"),
    ])


def _james(now):
    """Charged twice, disputed twice, refund promised; the call-back task is two days overdue."""
    t = "NW-20588"
    return _customer("NW-C1002", "James Whitaker", "james.whitaker@example.net", "+44 7700 900123", tickets=[
        _ticket(now, t, "Charged twice for my monthly bill",
                "Two payments of £42.50 were taken on the 1st for the same bill. Customer wants the duplicate "
                "payment refunded.", "open", "normal", (12, 4), (3, 1), "email"),
        _ticket(now, "NW-15002", "Upgrade to 500Mb fibre", "Asked to move from 150Mb to 500Mb fibre.",
                "closed", "low", (210,), (205,), "phone"),
    ], activities=[
        _activity(now, "A-50201", "email", (12, 4), "Sent a bank statement showing two £42.50 payments. Account "
                  "number 7730-5521.", t, "passed to billing"),
        _activity(now, "A-50202", "call", (7, 2), "Chased the double charge. Billing confirmed the duplicate; "
                  "refund of £42.50 raised, 3-5 working days.", t, "refund raised"),
        _activity(now, "A-50203", "task", (7, 2), "Call back about refund - check the £42.50 has reached his "
                  "account", t, channel="call", due=(2,)),
        _activity(now, "A-50204", "email", (3, 1), "Emailed again: the refund is still not on his statement.", t,
                  "awaiting billing"),
    ])


def _priya(now):
    """Online shop: a parcel marked delivered that never arrived, chased twice since."""
    t = "NW-20633"
    return _customer("NW-C1003", "Priya Nair", "priya.nair@example.org", "+1 415-555-0167", tickets=[
        _ticket(now, t, "Parcel marked delivered but never arrived",
                "Order NW-448812 (Hub 3 mesh kit) shows as delivered on the tracking page but nothing was left "
                "at the door.", "open", "high", (9, 6), (1, 3), "chat"),
        _ticket(now, "NW-19870", "Return a phone case", "Wrong colour; refund issued when the return arrived.",
                "solved", "low", (70,), (62,), "chat"),
    ], activities=[
        _activity(now, "A-50301", "chat", (9, 6), "Order number NW-448812 shows delivered; she checked with the "
                  "neighbours and the building lobby.", t, "carrier claim opened"),
        _activity(now, "A-50302", "note", (9, 5), "Tracking number 1Z999AA10123456784. Delivery address 85 Harbor "
                  "View Drive, Oakland, 94607."),
        _activity(now, "A-50303", "chat", (4, 2), "Chased the missing parcel; the carrier investigation is still "
                  "open. Told her 48 hours.", t, "waiting on carrier"),
        _activity(now, "A-50304", "email", (1, 3), "Emailed asking for an update on the missing parcel.", t,
                  "no reply yet"),
    ])


def _hannah(now):
    """A missed installation; the agent promised a call back by Friday and it did not happen."""
    t = "NW-20590"
    return _customer("NW-C1004", "Hannah Lewis", "hannah.lewis@example.com", "+44 7700 900789", tickets=[
        _ticket(now, t, "Engineer didn't turn up for installation",
                "Installation was booked for the 8am-1pm slot; nobody came and nobody called. Customer took the "
                "day off work.", "open", "high", (8, 3), (8, 2), "phone"),
    ], activities=[
        _activity(now, "A-50401", "call", (8, 3), "Engineer no-show for the new installation at 3 Mill Road, "
                  "Cambridge, CB1 2AD. Apologised and asked the field team why.", t, "escalated to field team"),
        _activity(now, "A-50402", "note", (8, 2, 40), "Promised to call her back by Friday with a new installation "
                  "date.", t),
    ])


def _marcus(now):
    """Mobile: roaming charges despite a travel pass, raised three days ago."""
    t = "NW-20712"
    return _customer("NW-C1005", "Marcus Webb", "marcus.webb@example.com", "+1 415-555-0156", tickets=[
        _ticket(now, t, "Roaming charges after trip to Spain",
                "$186 of data roaming charges although the Travel Pass was added before the trip.",
                "pending", "normal", (3, 5), (2, 1), "chat"),
    ], activities=[
        _activity(now, "A-50501", "chat", (3, 5), "Says the Travel Pass was active for the whole trip; asked "
                  "billing to check the usage records. Account number 6120-3384.", t, "passed to billing"),
    ])


def _kwame(now):
    """Asked about upgrading three weeks ago; asking again now that the contract is about to end."""
    t = "NW-20150"
    return _customer("NW-C1006", "Kwame Mensah", "kwame.mensah@example.net", "+44 7700 900321", tickets=[
        _ticket(now, t, "When can I upgrade my phone?",
                "Asked about upgrading his handset to the Pixel 9 and when his contract ends.", "solved", "low",
                (23,), (23,), "chat"),
    ], activities=[
        _activity(now, "A-50601", "chat", (23,), f"Contract ends {_day(now, -3)}; he can upgrade from then "
                  "without a fee. Sent the upgrade price list.", t, "answered"),
    ])


# -- other situations -----------------------------------------------------------------

def _harold(now):
    """Bereavement: the account holder has died and his daughter, the executor, is handling it."""
    t = "NW-20701"
    return _customer("NW-C1007", "Harold Ellis", "harold.ellis@example.net", "+44 7700 900456", tickets=[
        _ticket(now, t, "Bereavement: close the account of the late Harold Ellis",
                f"Mr Ellis passed away on {_day(now, 19)}. His daughter Susan Ellis is executor and is handling "
                "the account.", "pending", "normal", (6, 2), (2, 4), "phone"),
    ], activities=[
        _activity(now, "A-50701", "call", (6, 2), "Susan Ellis (daughter, executor) called to tell us her father "
                  "passed away. Condolences given; bereavement pack sent to 14 Orchard Lane, Bristol, BS6 5TN.", t,
                  "bereavement pack sent"),
        _activity(now, "A-50702", "note", (6, 1), "Stop all bills and marketing to Mr Ellis. Final bill to Susan "
                  "at susan.ellis@example.org. Account number 5521-0087. Be gentle: she is very upset.", t),
        _activity(now, "A-50703", "email", (2, 4), "Death certificate received from Susan; final bill being "
                  "prepared, no early termination fee.", t, "final bill in progress"),
    ])


def _daniel(now):
    """A business-tier customer with an account manager and an SLA, writing about a new outage."""
    return _customer("NW-C1008", "Daniel Okafor", "daniel.okafor@example.com", "+1 415-555-0188", "business",
                     "Okafor & Reyes Architects", tickets=[
        _ticket(now, "NW-20655", "Add 5 mobile lines to business plan",
                "Five more SIMs for new starters on the shared business data plan.", "pending", "normal", (6, 1),
                (2,), "email"),
        _ticket(now, "NW-17743", "Static IP for office VPN", "Set up a static IP block for the office VPN.",
                "solved", "normal", (120,), (117,), "phone"),
    ], activities=[
        _activity(now, "A-50801", "note", (30,), "VIP business account. Account manager: Rachel Kim. 24 staff, "
                  "1Gb business fibre and 18 mobile lines, 4-hour fix SLA. Office at 500 Howard Street, San "
                  "Francisco, 94105."),
        _activity(now, "A-50802", "email", (6, 1), "Asked for 5 more lines for new starters; quote sent.",
                  "NW-20655", "quote sent"),
        _activity(now, "A-50803", "call", (2,), "Happy with the quote; we are waiting for the signed order form.",
                  "NW-20655", "awaiting order form"),
        _activity(now, "A-50804", "task", (2,), "Chase the signed order form for the 5 new lines", "NW-20655",
                  channel="email", due=(-2,)),
    ])


def _aisha(now):
    """A happy customer: weak Wi-Fi fixed seven weeks ago, a 10/10 survey, writing to say thanks."""
    return _customer("NW-C1009", "Aisha Rahman", "aisha.rahman@example.org", "+1 415-555-0119", tickets=[
        _ticket(now, "NW-19502", "Wi-Fi weak upstairs", "No signal in the upstairs office; sent a mesh extender.",
                "solved", "normal", (50,), (46,), "phone"),
    ], activities=[
        _activity(now, "A-50901", "call", (50,), "Weak Wi-Fi in the upstairs office; Tom sent a Hub 3 mesh "
                  "extender.", "NW-19502", "extender sent"),
        _activity(now, "A-50902", "comment", (44,), "Satisfaction survey 10/10: \"Tom was brilliant and patient.\""),
        _activity(now, "A-50903", "chat", (12,), "Asked how to set up parental controls; sent the help article.",
                  outcome="resolved first contact"),
    ])


def _robert(now):
    """Closed old tickets only: a long-standing customer with a quiet year."""
    return _customer("NW-C1010", "Robert Chen", "robert.chen@example.com", "+1 415-555-0133", tickets=[
        _ticket(now, "NW-12004", "Router keeps rebooting", "Old Hub 2 rebooting several times a day.", "closed",
                "normal", (240,), (236,), "phone"),
        _ticket(now, "NW-9981", "Moving house - transfer broadband", "Move service to the new address.", "closed",
                "low", (410,), (398,), "email"),
    ], activities=[
        _activity(now, "A-51001", "call", (240,), "Router rebooting; replaced the Hub 2 with a Hub 3.", "NW-12004",
                  "router replaced"),
        _activity(now, "A-51002", "email", (410,), "Moved service to 78 Lake Street, Seattle, 98101.", "NW-9981",
                  "move completed"),
    ])


def _lucy(now):
    """Online shop: a past address change, and a new problem (wrong item) today."""
    return _customer("NW-C1011", "Lucy Fernandes", "lucy.fernandes@example.org", "+1 415-555-0124", tickets=[
        _ticket(now, "NW-19210", "Update delivery address", "Wanted an order delivered to her new flat.", "solved",
                "low", (60,), (60,), "chat"),
    ], activities=[
        _activity(now, "A-51101", "chat", (60,), "Changed the delivery address for order NW-431007 to 48 Elm "
                  "Avenue, Portland, 97205.", "NW-19210", "address updated"),
    ])


def _sofia(now):
    """Brand new: signed up yesterday, nothing on record yet."""
    return _customer("NW-C1012", "Sofia Rossi", "sofia.rossi@example.net", "+1 415-555-0175")


STORIES = (_maria, _james, _priya, _hannah, _marcus, _kwame, _harold, _daniel, _aisha, _robert, _lucy, _sofia)
