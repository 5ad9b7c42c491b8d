"""Run the real server (`python -m assist.cli serve`) as a subprocess on 127.0.0.1 for tests."""

import os
import signal
import socket
import subprocess
import sys
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A server process on a data directory; can be killed and restarted on the same data."""

    def __init__(self, data_dir, env=None, model_cache=None):
        self.data_dir = data_dir
        self.env = {**os.environ, "ASSIST_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **(env or {})}
        if model_cache and not (data_dir / "models").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / "models").symlink_to(model_cache.resolve(), target_is_directory=True)
        self.proc = None
        self.port = None
        self.tokens = {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=180):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assist.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.time() + timeout
        lines = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(lines))
            lines.append(line)
            for role in ("agent", "admin"):
                if f"{role} token:" in line:
                    self.tokens[role] = line.split(": ", 1)[1].strip()
            if "listening on" in line:
                break
        self.output = "".join(lines)
        self._wait_healthy(deadline)
        # Keep draining output so the server never blocks on a full pipe.
        import threading

        self._drain = threading.Thread(target=self._drain_output, args=(self.proc,), daemon=True)
        self._drain.start()
        return self

    @staticmethod
    def _drain_output(proc):
        try:
            for _ in proc.stdout:
                pass
        except (ValueError, OSError):
            pass
        finally:
            proc.stdout.close()

    def _wait_healthy(self, deadline):
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy:\n" + self.output)

    def headers(self, role="agent"):
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def kill(self):
        """SIGKILL: no clean shutdown, as in a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._drain.join(timeout=5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
            self._drain.join(timeout=5)
