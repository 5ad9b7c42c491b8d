"""The `assist` command line, run as a user would (CliRunner, and one real server process)."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from assist.cli import cli


@pytest.fixture
def env(tmp_path, embedder, model_cache):
    """ASSIST_DATA_DIR in a temp dir, sharing the session's ONNX export so nothing is re-exported."""
    (tmp_path / "models").symlink_to(model_cache.resolve(), target_is_directory=True)
    return {"ASSIST_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}


def run(env, *args, input=None):
    result = CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)
    return result


@pytest.mark.parametrize(
    "command",
    [[], ["init"], ["serve"], ["token"], ["token", "create"], ["token", "list"], ["token", "revoke"],
     ["phrases"], ["phrases", "import"], ["phrases", "export"], ["crm"], ["crm", "import"], ["sync"]],
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_init_is_safe_to_run_twice_and_prints_tokens_once(env, tmp_path):
    first = run(env, "init")
    assert first.exit_code == 0, first.output
    assert "agent token: asa_" in first.output and "admin token: asd_" in first.output
    second = run(env, "init")
    assert second.exit_code == 0
    assert "token:" not in second.output
    exported = json.loads(run(env, "phrases", "export").output)
    assert len(exported) >= 250
    assert len({p["id"] for p in exported}) == len(exported)


def test_init_keeps_an_admins_edit_to_a_default_phrase(env):
    run(env, "init")
    exported = json.loads(run(env, "phrases", "export").output)
    edited = {**exported[0], "text": "We're on this together now."}
    path = Path(env["ASSIST_DATA_DIR"]) / "edit.json"
    path.write_text(json.dumps([edited]))
    assert run(env, "phrases", "import", str(path)).exit_code == 0
    run(env, "init")
    again = {p["id"]: p for p in json.loads(run(env, "phrases", "export").output)}
    assert again[edited["id"]]["text"] == "We're on this together now."


def test_token_create_prints_only_the_token(env):
    result = CliRunner().invoke(cli, ["token", "create", "--role", "admin", "--name", "ops"], env=env)
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("asd_") and len(result.stdout.strip().splitlines()) == 1
    listed = run(env, "token", "list").output
    assert "ops" in listed and result.stdout.strip() not in listed


def test_token_create_refuses_unknown_role(env):
    result = CliRunner().invoke(cli, ["token", "create", "--role", "root", "--name", "x"], env=env)
    assert result.exit_code != 0 and "root" in result.output


def test_export_csv_then_import_round_trip(env, tmp_path):
    run(env, "init")
    csv_text = run(env, "phrases", "export", "--format", "csv").output
    path = tmp_path / "bank.csv"
    path.write_text(csv_text)
    result = CliRunner().invoke(cli, ["phrases", "import", str(path), "--dry-run"], env=env)
    assert result.exit_code == 0
    assert "0 added, 0 changed" in result.stderr and "0 rejected" in result.stderr


def test_import_of_a_bad_file_changes_nothing(env, tmp_path):
    run(env, "init")
    before = run(env, "phrases", "export").output
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"id": "ok-1", "text": "We're on it.", "kind": "ownership"},
                                {"id": "bad-1", "text": "Sorry if you feel upset.", "kind": "apology"}]))
    result = CliRunner().invoke(cli, ["phrases", "import", str(path)], env=env)
    assert result.exit_code != 0 and "bad-1" in result.output
    assert run(env, "phrases", "export").output == before
    path.write_text("{broken")
    result = CliRunner().invoke(cli, ["phrases", "import", str(path)], env=env)
    assert result.exit_code != 0 and "cannot parse" in result.output


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_a_real_server(env):
    """`assist serve` in a real process: first start prints tokens and serves them."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assist.cli", "serve", "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.time() + 120
        while time.time() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "listening on" in line:
                break
        output = "".join(lines)
        token = next(line.split(": ")[1].strip() for line in lines if "agent token:" in line)
        base = f"http://127.0.0.1:{port}"
        assert "listening on" in output, output
        assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
        response = requests.post(f"{base}/api/v1/suggest", json={"message": "Thanks, you were brilliant!"},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, output
        assert response.json()["emotion"]["label"] == "grateful"
        assert token not in requests.get(f"{base}/healthz", timeout=10).text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
