"""The one small interface every CRM connector implements, and the records it returns.

Records are plain dataclasses with ISO 8601 UTC strings for times, so the card
builder, the local store and the API never see vendor shapes.  Text fields come
from the CRM and are attacker-controlled: they are data, never markup.
"""

from dataclasses import dataclass, field


class ConnectorError(Exception):
    """Base error; ``message`` is safe to show and never contains credentials."""

    status = 502
    code = "crm_error"

    def __init__(self, message, connector=None):
        super().__init__(message)
        self.message = message
        self.connector = connector


class NotConfigured(ConnectorError):
    """Required settings (credentials, base URL) are missing or malformed."""

    code = "crm_not_configured"


class AuthFailed(ConnectorError):
    """The CRM refused our credentials (401/403 for auth reasons)."""

    code = "crm_auth_failed"


class RateLimited(ConnectorError):
    """The CRM throttled us and waiting would take longer than we may wait."""

    code = "crm_rate_limited"

    def __init__(self, message, connector=None, retry_after=None):
        super().__init__(message, connector)
        self.retry_after = retry_after


class Unavailable(ConnectorError):
    """Timeouts, dropped connections, 5xx after retries, or a malformed response."""

    code = "crm_unavailable"


@dataclass
class Customer:
    """A customer (contact, user, requester) as one CRM knows them."""

    source: str
    id: str
    name: str = None
    email: str = None
    phone: str = None  # E.164 when the CRM's number could be parsed
    company: str = None
    tier: str = None
    url: str = None
    updated_at: str = None

    def to_dict(self):
        """A plain dict of the fields (all scalars, so a shallow copy is a full copy)."""
        return dict(self.__dict__)


@dataclass
class Ticket:
    """A ticket, case or conversation."""

    source: str
    id: str
    subject: str = None
    description: str = None
    status: str = None
    priority: str = None
    created_at: str = None
    updated_at: str = None
    url: str = None
    is_open: bool = True
    channel: str = None

    def to_dict(self):
        """A plain dict of the fields (all scalars, so a shallow copy is a full copy)."""
        return dict(self.__dict__)


@dataclass
class Activity:
    """A note, task, comment, call or message on the customer's record.

    ``due_at`` is set for tasks and promised call-backs; ``done`` says whether
    that promise was kept.
    """

    source: str
    id: str
    at: str = None
    kind: str = "note"  # note | task | comment | call | email | chat | message
    channel: str = None
    summary: str = None
    ticket_id: str = None
    due_at: str = None
    done: bool = False
    outcome: str = None

    def to_dict(self):
        """A plain dict of the fields (all scalars, so a shallow copy is a full copy)."""
        return dict(self.__dict__)


@dataclass
class CustomerRecord:
    """Everything one connector knows about one customer."""

    customer: Customer
    tickets: list = field(default_factory=list)
    activities: list = field(default_factory=list)


class Connector:
    """Base class: look customers up, and list their tickets and activities.

    Subclasses set ``name`` and implement the three methods below.  They raise
    ConnectorError subclasses, never library exceptions.
    """

    name = "base"

    def find_customer(self, email=None, phone=None, customer_id=None):
        """Return the Customer matching one identifier, or None if there is none."""
        raise NotImplementedError

    def tickets(self, customer, since=None):
        """Return the customer's tickets (all pages), newest first."""
        raise NotImplementedError

    def activities(self, customer, since=None):
        """Return the customer's notes, tasks and other activities (all pages), newest first."""
        raise NotImplementedError

    def customer_pages(self, since=None, cursor=None):
        """Yield ``(customers, next_cursor)`` pages of every customer updated since ``since``.

        ``cursor`` resumes after an interrupted sync; ``next_cursor`` is None on
        the last page.  Used by `assist sync`; connectors that cannot list
        customers leave this unimplemented.
        """
        raise NotImplementedError(f"{self.name} cannot list customers for a sync")

    def record_for(self, customer, since=None):
        """Tickets and activities of a customer already in hand (no second lookup)."""
        return CustomerRecord(customer, self.tickets(customer, since), self.activities(customer, since))

    def record(self, email=None, phone=None, customer_id=None, since=None):
        """Customer plus tickets and activities in one call, or None if not found."""
        customer = self.find_customer(email=email, phone=phone, customer_id=customer_id)
        if customer is None:
            return None
        return CustomerRecord(customer, self.tickets(customer, since), self.activities(customer, since))

    def close(self):
        """Release network resources."""
