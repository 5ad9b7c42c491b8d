"""CRM connectors behind one small interface and one registry. No Flask here.

The registry is empty until the CRM issue lands; the embedded store will
register through it exactly as a third-party connector would.
"""

REGISTRY = {}


def register(name, factory):
    """Register a connector factory under ``name``."""
    REGISTRY[name] = factory
    return factory
