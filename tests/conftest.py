"""Shared fixtures: a real embedder, a prepared store per test, app/client/tokens.

The real model runs everywhere (it is fast and offline). The ONNX export is
cached in tests/.cache so it is made once per checkout, and a fully prepared
store (default bank loaded and embedded) is built once per session and copied
for each test, so every test still gets its own real SQLite file.
"""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assist import create_app, tokens  # noqa: E402
from assist.cli import initialise  # noqa: E402
from phrasebank.embedder import Embedder  # noqa: E402

CACHE = Path(__file__).parent / ".cache"


@pytest.fixture(scope="session")
def model_cache():
    """Where the ONNX export of the model is cached across test runs."""
    return CACHE / "models"


@pytest.fixture(scope="session")
def embedder():
    """The real default embedding model, served by the lean ONNX runner."""
    return Embedder(cache_dir=CACHE / "models").load()


@pytest.fixture(scope="session")
def classifier(embedder):
    """The shipped message classifier for the default model."""
    from phrasebank.understanding import classifier_for

    return classifier_for(embedder, CACHE / "models")


@pytest.fixture(scope="session")
def prepared_store(tmp_path_factory, embedder, classifier):
    """A store with the default bank loaded and embedded, built once per session."""
    data_dir = tmp_path_factory.mktemp("prepared")
    settings = {"DATA_DIR": str(data_dir), "DATABASE": str(data_dir / "assist.db")}
    initialise(settings, announce=False)
    app = create_app({**settings, "EMBEDDER": embedder, "CLASSIFIER": classifier})
    # Fold the WAL into the main file so a plain copy holds everything.
    app.extensions["assist"].database.get().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data_dir / "assist.db"


@pytest.fixture
def data_dir(tmp_path, prepared_store):
    """A fresh data directory holding a copy of the prepared store."""
    shutil.copy(prepared_store, tmp_path / "assist.db")
    return tmp_path


@pytest.fixture
def app(data_dir, embedder, classifier):
    """The Flask app on this test's own SQLite file."""
    return create_app({"DATA_DIR": str(data_dir), "EMBEDDER": embedder, "CLASSIFIER": classifier})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["assist"].database.get()


@pytest.fixture
def agent_token(db):
    return tokens.create_token(db, "agent", "test agent")


@pytest.fixture
def admin_token(db):
    return tokens.create_token(db, "admin", "test admin")


@pytest.fixture
def agent(agent_token):
    """Headers for an agent."""
    return {"Authorization": f"Bearer {agent_token}"}


@pytest.fixture
def admin(admin_token):
    """Headers for an admin."""
    return {"Authorization": f"Bearer {admin_token}"}


WEBHOOK_SECRET = "test-generic-webhook-secret"


@pytest.fixture
def live_server(tmp_path, model_cache, embedder):
    """A real `assist serve` process on its own data dir, with the generic webhook enabled."""
    from tests.live import LiveServer

    server = LiveServer(tmp_path / "live", env={"ASSIST_WEBHOOK_SECRET": WEBHOOK_SECRET}, model_cache=model_cache)
    server.start()
    yield server
    server.stop()
