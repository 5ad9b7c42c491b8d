"""Per-app services (database, embedder, classifier, engine), kept in app.extensions["assist"]."""

import atexit
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from connectors import Context, build_connectors
from connectors import context as crm_context
from connectors import inbox as crm_inbox
from connectors import local as crm_local
from connectors import sync as crm_sync
from connectors.context import CustomerContext
from connectors.hub import Hub
from connectors.inbox import Inbox
from connectors.processor import Processor
from phrasebank import feedback
from phrasebank.db import ThreadLocalDatabase, migrate, open_database, schema_version
from phrasebank.embedder import Embedder
from phrasebank.engine import SuggestionEngine
from phrasebank.vectors import cached_vectors

from . import tokens

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request needs, built once per app."""

    config: dict
    database: ThreadLocalDatabase
    embedder: Embedder
    engine: SuggestionEngine = None
    context: CustomerContext = None
    inbox: Inbox = None
    hub: Hub = None
    processor: Processor = None
    started_at: float = field(default_factory=time.time)

    def schema_version(self):
        """Migrations applied to the store."""
        return schema_version(self.database.get())


def prepare_database(path):
    """Create the SQLite file if needed and apply every migration; returns the Database."""
    db = open_database(path)
    migrate(db)
    for migration_set in (tokens.migrations, crm_local.migrations, crm_context.migrations, crm_sync.migrations,
                          crm_inbox.migrations, feedback.migrations):
        migration_set.apply(db)
    return db


def build_services(config):
    """Open the store, load the model and classifier, build the phrase index."""
    prepare_database(config["DATABASE"]).close()
    database = ThreadLocalDatabase(config["DATABASE"])
    embedder = config.get("EMBEDDER") or Embedder(
        model=config["EMBEDDING_MODEL"],
        backend=config["EMBEDDING_BACKEND"],
        cache_dir=Path(config["DATA_DIR"]) / "models",
        threads=config["EMBEDDING_THREADS"],
    )
    classifier = config.get("CLASSIFIER")
    if classifier is None:
        from phrasebank.understanding import classifier_for

        classifier = classifier_for(embedder, Path(config["DATA_DIR"]) / "models")
    services = Services(config=config, database=database, embedder=embedder)
    services.engine = SuggestionEngine(database, embedder, classifier, learning=bool(config["LEARNING"]))
    services.engine.refresh(force=True)
    services.context = build_context(config, database, embedder)
    services.inbox = Inbox(database)
    services.hub = Hub()
    services.processor = Processor(services.inbox, database, services.context, services.hub,
                                   region=config["PHONE_REGION"], model_name=embedder.name,
                                   retention_days=config["WEBHOOK_RETENTION_DAYS"],
                                   embed=lambda texts: cached_vectors(database.get(), embedder, texts)).start()
    # Tickets imported or synced since the last start: embed them behind the scenes.
    primer = threading.Thread(target=lambda: prime_ticket_vectors(database.get(), embedder, config["REPEAT_WINDOW_DAYS"]),
                              name="prime-ticket-vectors", daemon=True)
    primer.start()
    # A daemon thread still inside onnxruntime when the interpreter exits aborts
    # the process ("terminate called without an active exception"): wind down first.
    atexit.register(_wind_down, services.processor, primer)
    return services


def build_context(config, database, embedder):
    """The enabled CRM connectors behind one CustomerContext; misconfigured ones are reported, not fatal."""
    names = [n.strip() for n in config["CONNECTORS"].split(",") if n.strip()]
    connectors, problems = build_connectors(
        names, config["CONNECTOR_SETTINGS"], Context(database=database, region=config["PHONE_REGION"])
    )

    def embed(texts):
        return cached_vectors(database.get(), embedder, texts)

    return CustomerContext(connectors, database, embed=embed, problems=problems, ttl=config["CARD_TTL"],
                           region=config["PHONE_REGION"], window_days=config["REPEAT_WINDOW_DAYS"],
                           encode=embedder.encode)


def secret_key(config):
    """The configured secret key, or one generated once into the data directory (mode 0600)."""
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    path = Path(config["DATA_DIR"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _wind_down(processor, *threads):
    processor.stop()
    processor.join(timeout=30)
    for thread in threads:
        thread.join(timeout=30)


def prime_ticket_vectors(db, embedder, days=30):
    """Embed (once) the ticket texts repeat detection will compare with; returns how many texts."""
    from connectors.localstore import repeat_candidate_texts

    texts = repeat_candidate_texts(db, days)
    cached_vectors(db, embedder, texts)
    return len(texts)
