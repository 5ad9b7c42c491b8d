"""CRM connectors behind one small interface and one registry. No Flask here."""

from .base import (
    Activity,
    AuthFailed,
    Connector,
    ConnectorError,
    Customer,
    CustomerRecord,
    NotConfigured,
    RateLimited,
    Ticket,
    Unavailable,
)
from .registry import FACTORIES, Context, build_connectors, register

__all__ = [
    "FACTORIES",
    "Activity",
    "AuthFailed",
    "Connector",
    "ConnectorError",
    "Context",
    "Customer",
    "CustomerRecord",
    "NotConfigured",
    "RateLimited",
    "Ticket",
    "Unavailable",
    "build_connectors",
    "register",
]
