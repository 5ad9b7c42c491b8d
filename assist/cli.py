"""The `assist` command line: init, serve, tokens, phrase import/export."""

import sys

import click

from phrasebank.defaults import load_default_bank
from phrasebank.errors import PhraseBankError
from phrasebank.io import dump_phrases, read_phrase_file
from phrasebank.store import PhraseStore

from . import config as config_module
from . import tokens
from .services import prepare_database


def _settings():
    return config_module.finish(config_module.from_environment())


def _store_db():
    return prepare_database(_settings()["DATABASE"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """assist: agent-assist backend. Every command honours ASSIST_DATA_DIR."""


def initialise(settings, announce=True):
    """Create the store, load the default bank and demo data, create first tokens; returns tokens created."""
    db = prepare_database(settings["DATABASE"])
    added = load_default_bank(PhraseStore(db))
    if int(settings.get("DEMO_DATA", 1)):
        from connectors.demo import seed_demo

        seeded = seed_demo(db, region=settings.get("PHONE_REGION", "US"))
        if seeded and announce:
            click.echo(f"Demo CRM data: {seeded['customers']} customers seeded into the embedded store.", err=True)
    created = {}
    if tokens.count_tokens(db) == 0:
        created = {
            "agent": tokens.create_token(db, "agent", "first agent"),
            "admin": tokens.create_token(db, "admin", "first admin"),
        }
    db.close()
    if announce:
        click.echo(f"Store: {settings['DATABASE']} ({added} default phrases added)", err=True)
    return created


def _print_first_tokens(created):
    if not created:
        return
    click.echo("\nFirst start: these tokens are shown once (only their hashes are stored).")
    click.echo(f"  agent token: {created['agent']}")
    click.echo(f"  admin token: {created['admin']}")
    click.echo("Create more with: assist token create --role agent --name NAME\n")


@cli.command()
def init():
    """Create the store and load the default phrase bank (safe to run twice)."""
    settings = _settings()
    created = initialise(settings)
    _print_first_tokens(created)
    from .services import build_services

    services = build_services(settings)  # exports the ONNX model and embeds phrases once
    click.echo(f"Ready: {len(services.engine.index)} approved phrases indexed with {services.embedder.runtime}.", err=True)


@cli.command()
@click.option("--host", envvar="ASSIST_HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="ASSIST_PORT", default=8400, type=int, show_default=True, help="Port to listen on.")
@click.option("--threads", envvar="ASSIST_THREADS", default=64, type=int, show_default=True,
              help="Worker threads; each open live stream holds one.")
def serve(host, port, threads):
    """Run the server with the waitress WSGI server (initialises the store if needed)."""
    import waitress

    from . import create_app

    created = initialise(_settings())
    app = create_app()
    _print_first_tokens(created)
    # Bind first, then announce: "listening" must be true when it is printed.
    # connection_limit above threads: idle keep-alive sockets cost no thread.
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="assist",
                                    connection_limit=max(1000, threads * 4), channel_timeout=60)
    base = f"http://{host}:{port}"
    click.echo(f"assist is listening on {base}")
    click.echo(f"  health:  {base}/healthz")
    click.echo(f"  API:     {base}/api/v1/openapi.json")
    click.echo(f"  admin:   {base}/admin      (sign in with an admin token)")
    click.echo(f"  demo:    {base}/demo       (a help desk to try the extension on)")
    click.echo(f"  sidebar: {base}/sidebar    (the side panel as a page)")
    sys.stdout.flush()
    server.run()


@cli.group()
def token():
    """Create, list and revoke API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(tokens.ROLES), required=True, help="agent: read and suggest; admin: also write.")
@click.option("--name", required=True, help="Who or what the token is for.")
def token_create(role, name):
    """Create a token and print only the token on stdout."""
    click.echo(tokens.create_token(_store_db(), role, name))


@token.command("list")
def token_list():
    """List tokens (never their secrets)."""
    for row in tokens.list_tokens(_store_db()):
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(f"{row['id']}\t{row['role']}\t{row['name']}\t{row['created_at']}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Revoke a token by its id (see `assist token list`)."""
    if not tokens.revoke_token(_store_db(), token_id):
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"revoked token {token_id}", err=True)


@cli.group()
def phrases():
    """Import and export the phrase bank."""


@phrases.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "yaml"]), help="Default: from the file suffix.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--author", default="cli", show_default=True, help="Recorded as the author of the change.")
def phrases_import(file, fmt, dry_run, author):
    """Import phrases from FILE (JSON, YAML or CSV). All or nothing."""
    store = PhraseStore(_store_db())
    try:
        rows = read_phrase_file(file, fmt)
        plan = store.plan_import(rows) if dry_run else store.apply_import(rows, author)
    except PhraseBankError as e:
        raise click.ClickException(e.message) from e
    for item in plan["rejected"]:
        click.echo(f"rejected row {item['index']} ({item['id']}): {item['field']}: {item['message']}", err=True)
    summary = ", ".join(f"{len(plan[k])} {k}" for k in ("added", "changed", "unchanged", "rejected"))
    click.echo(("dry run: " if dry_run else "") + summary, err=True)
    if plan["rejected"]:
        sys.exit(1)


@phrases.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def phrases_export(fmt):
    """Write every field of every phrase to stdout."""
    click.echo(dump_phrases(PhraseStore(_store_db()).export(), fmt), nl=False)


@cli.group()
def crm():
    """The embedded CRM store: import customers and interactions."""


@crm.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="import", show_default=True, help="Name recorded as the records' origin.")
def crm_import(file, source):
    """Load customers, tickets and activities from JSON or a flat CSV into the local store (all or nothing)."""
    from connectors.base import ConnectorError
    from connectors.localstore import LocalStore, read_crm_file

    settings = _settings()
    try:
        counts = LocalStore(_store_db(), settings["PHONE_REGION"]).import_customers(read_crm_file(file), source)
    except ConnectorError as e:
        raise click.ClickException(e.message) from e
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()) + " imported", err=True)


@cli.command()
@click.argument("connector")
@click.option("--since", help="Only customers updated since this date (YYYY-MM-DD).")
@click.option("--restart", is_flag=True, help="Start over instead of resuming an interrupted sync.")
def sync(connector, since, restart):
    """Backfill the local store from CONNECTOR (resumes after an interruption)."""
    from connectors import ConnectorError, Context, RateLimited, Unavailable, build_connectors
    from connectors.sync import sync as run_sync
    from phrasebank.db import ThreadLocalDatabase

    settings = _settings()
    if since and not _is_date(since):
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--since")
    db = _store_db()
    context = Context(database=ThreadLocalDatabase(settings["DATABASE"]), region=settings["PHONE_REGION"])
    built, problems = build_connectors([connector], settings["CONNECTOR_SETTINGS"], context)
    if connector in problems:
        raise click.ClickException(f"{connector}: {problems[connector]}")
    seen = [0]

    def progress(count):
        seen[0] += count
        click.echo(f"\r{connector}: {seen[0]} customers copied", nl=False, err=True)

    try:
        stored, total = run_sync(db, built[connector], since=since, restart=restart,
                                 region=settings["PHONE_REGION"], on_page=progress)
    except (Unavailable, RateLimited) as e:
        raise click.ClickException(f"{e.message}; run the same command again to resume") from e
    except ConnectorError as e:
        raise click.ClickException(e.message) from e
    except NotImplementedError as e:
        raise click.ClickException(str(e)) from e
    click.echo("", err=True)
    resumed = f" ({total} in total with the interrupted run)" if total != stored else ""
    click.echo(f"{stored} customers synced from {connector}{resumed}", err=True)


def _is_date(text):
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def main():
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
