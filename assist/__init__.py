"""assist: the agent-assist backend (Flask app factory)."""

import logging

from flask import Flask

from . import config as config_module
from .errors import register_error_handlers
from .services import build_services, secret_key


def create_app(test_config=None):
    """Create the app: defaults, then ASSIST_* environment, or ``test_config`` if given."""
    app = Flask(__name__)
    settings = config_module.defaults() if test_config is not None else config_module.from_environment()
    settings.update(test_config or {})
    settings = config_module.finish(settings)
    app.config.update(settings)
    app.config["SECRET_KEY"] = secret_key(settings)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # an import of 10,000 phrases fits
    app.json.sort_keys = False
    logging.basicConfig(level=settings["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.extensions["assist"] = build_services(settings)
    register_error_handlers(app)

    from .admin import admin
    from .admin_api import admin_api
    from .api import api
    from .customers import customers
    from .demo import demo
    from .feedback import feedback_api
    from .health import health
    from .sidebar import sidebar
    from .stream import stream
    from .webhooks import webhooks

    for blueprint in (health, api, customers, stream, webhooks, admin_api, admin, demo, feedback_api, sidebar):
        app.register_blueprint(blueprint)
    return app
