"""One registry of connectors: built-in ones register exactly as a third party would.

A factory takes ``(settings, context)``: ``settings`` maps ASSIST_* names to
strings (the environment), ``context`` carries shared resources (the local
database, the default phone region).  It returns a Connector or raises
NotConfigured naming what is missing.
"""

import logging
from dataclasses import dataclass

from .base import ConnectorError, NotConfigured

log = logging.getLogger(__name__)

FACTORIES = {}
BUILTIN_MODULES = ("local", "hubspot", "zendesk", "salesforce", "freshdesk", "chatwoot")


@dataclass
class Context:
    """Shared resources a connector factory may use."""

    database: object = None  # has get() -> sqlite-utils Database
    region: str = "US"


def register(name):
    """Decorator: register ``factory`` under ``name``."""

    def decorator(factory):
        FACTORIES[name] = factory
        return factory

    return decorator


def load_builtins():
    """Import the built-in connector modules so they register themselves."""
    import importlib

    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(f"connectors.{module}")
        except ImportError as e:  # a connector under construction must not stop the others
            log.error("connector module %s failed to import: %s", module, e)


def require(settings, *names):
    """Return the values of required settings, or raise NotConfigured naming the missing ones."""
    missing = [n for n in names if not (settings.get(n) or "").strip()]
    if missing:
        raise NotConfigured(f"missing {', '.join(missing)}")
    return [settings[n].strip() for n in names]


def build_connectors(names, settings, context):
    """Build the enabled connectors; returns (connectors by name, problems by name).

    A misconfigured or unknown connector is reported in ``problems`` and does
    not stop the others.
    """
    load_builtins()
    connectors, problems = {}, {}
    for name in names:
        factory = FACTORIES.get(name)
        if factory is None:
            problems[name] = f"unknown connector; known: {', '.join(sorted(FACTORIES))}"
            continue
        try:
            connectors[name] = factory(settings, context)
        except ConnectorError as e:
            problems[name] = e.message
        except (ValueError, TypeError) as e:
            problems[name] = f"bad configuration: {e}"
    for name, problem in problems.items():
        log.error("connector %s is not available: %s", name, problem)
    return connectors, problems
