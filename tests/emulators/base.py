"""A real threaded HTTP server on 127.0.0.1 with routes and fault injection.

Each vendor emulator subclasses ``Emulator``, registers routes with
``self.route(method, regex, handler)`` and keeps its data in plain dicts.
Handlers receive a ``Request`` and return ``(status, body, headers)`` where body
is a dict/list (sent as JSON), a str (sent as text/plain) or bytes.

Faults a test can queue (each applies to the next matching request):
  ``fail_next(status, body=None, headers=None, times=1)`` any error response,
  ``slow_next(seconds, times=1)`` delay before answering,
  ``drop_next(times=1)`` close the connection without any response.
An outage lasts until ``recover()``: ``fail_after(count, status=503)`` answers
``count`` more requests normally, then every later one with ``status``.
Every request is recorded in ``self.requests`` for assertions.
"""

import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict  # name -> first value
    query_all: dict  # name -> list of values
    headers: dict  # lower-case names
    body: bytes
    match: re.Match = None

    def json(self):
        return json.loads(self.body or b"null")


class Emulator:
    """Base emulator: start() in a fixture, stop() after; ``url`` is the base URL."""

    def __init__(self):
        self.routes = []
        self.requests = []
        self.faults = []
        self.outage = None  # [requests still answered, (status, body, headers)]
        self._lock = threading.Lock()
        self.server = None

    # -- set-up -------------------------------------------------------------
    def route(self, method, pattern, handler):
        self.routes.append((method, re.compile(pattern + r"$"), handler))

    def start(self):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                emulator._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    # -- faults -------------------------------------------------------------
    def fail_next(self, status, body=None, headers=None, times=1):
        with self._lock:
            self.faults += [("fail", (status, body, headers or {}))] * times

    def slow_next(self, seconds, times=1):
        with self._lock:
            self.faults += [("slow", seconds)] * times

    def drop_next(self, times=1):
        with self._lock:
            self.faults += [("drop", None)] * times

    def fail_after(self, count, status=503, body=None):
        with self._lock:
            self.outage = [count, (status, body or {"error": "Service Unavailable"}, {})]

    def recover(self):
        with self._lock:
            self.outage = None

    def _take_fault(self):
        with self._lock:
            if self.faults:
                return self.faults.pop(0)
            if self.outage and self.outage[0] > 0:
                self.outage[0] -= 1
            elif self.outage:
                return ("fail", self.outage[1])
            return None

    # -- dispatch -----------------------------------------------------------
    def _dispatch(self, handler):
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        query_all = parse_qs(split.query, keep_blank_values=True)
        request = Request(
            method=handler.command,
            path=split.path,
            query={k: v[0] for k, v in query_all.items()},
            query_all=query_all,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        self.requests.append(request)
        fault = self._take_fault()
        if fault and fault[0] == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault[0] == "slow":
            time.sleep(fault[1])
        if fault and fault[0] == "fail":
            return self._send(handler, *fault[1])
        for method, pattern, route_handler in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                request.match = match
                return self._send(handler, *route_handler(request))
        return self._send(handler, 404, {"error": "no route", "path": request.path}, {})

    def _send(self, handler, status, body, headers):
        try:
            self._write(handler, status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a slow answer, as timeout tests intend

    def _write(self, handler, status, body, headers):
        # Headers and body go out in separate writes; without NODELAY, Nagle plus
        # delayed ACK adds ~40 ms to every kept-alive response.
        handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            payload, content_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            payload, content_type = body.encode(), "text/plain"
        else:
            payload, content_type = body or b"", "application/octet-stream"
        handler.send_response(status)
        handler.send_header("Content-Type", headers.pop("Content-Type", content_type))
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
