"""One HTTP client for every connector: a shared requests.Session, explicit timeouts,
retries with backoff on 5xx and connection errors, and throttling that honours
each vendor's own signal.
"""

import email.utils
import logging
import random
import time

import requests

from .base import AuthFailed, ConnectorError, RateLimited, Unavailable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10)  # (connect, read) seconds
RETRY_STATUSES = {500, 502, 503, 504, 423, 477}
# A server answering "Retry-After: 0" forever must not make us hammer it: its
# waits have a floor, and throttled attempts a cap.
MIN_THROTTLE_WAIT = 0.1
MAX_THROTTLED_ATTEMPTS = 10


def retry_after_seconds(response, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now or time.time()))


def standard_throttle(response):
    """429 means throttled; wait Retry-After when given (None = back off exponentially)."""
    if response.status_code == 429:
        return True, retry_after_seconds(response)
    return False, None


class HttpClient:
    """Make requests to one CRM and return parsed JSON, raising ConnectorError subclasses.

    ``throttle(response) -> (is_throttled, wait_seconds_or_None)`` recognises the
    vendor's rate-limit signal.  ``max_wait`` bounds how long one call may sleep
    in total for throttling or retries before it gives up with RateLimited or
    Unavailable, so callers on a deadline are never held up for long.
    """

    def __init__(self, connector, base_url, headers=None, auth=None, timeout=DEFAULT_TIMEOUT,
                 retries=3, backoff=0.5, max_wait=10.0, throttle=standard_throttle, sleep=time.sleep):
        self.connector = connector
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "assist/0.1"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.throttle = throttle
        self.sleep = sleep

    def url(self, path):
        """Absolute URL for a path (absolute URLs, such as next-page links, pass through)."""
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method, path, allow_404=False, **kwargs):
        """Send a request; returns the Response (None for a 404 when ``allow_404``)."""
        url = self.url(path)
        waited, attempt = 0.0, 0
        while True:
            response, problem = self._send(method, url, kwargs)
            wait = None
            if response is not None:
                throttled, wait = self.throttle(response)
                if throttled:
                    wait = max(MIN_THROTTLE_WAIT, wait) if wait is not None else self._backoff(attempt)
                    if waited + wait > self.max_wait or attempt >= MAX_THROTTLED_ATTEMPTS:
                        raise RateLimited(f"{self.connector} is rate limiting us; retry in {wait:.0f} s",
                                          self.connector, retry_after=wait)
                    problem = f"throttled ({response.status_code})"
                elif response.status_code in RETRY_STATUSES:
                    problem = f"HTTP {response.status_code}"
                    wait = retry_after_seconds(response)
                else:
                    return self._finish(response, allow_404)
            attempt += 1
            wait = wait if wait is not None else self._backoff(attempt - 1)
            if (problem and not problem.startswith("throttled") and attempt > self.retries) or waited + wait > self.max_wait:
                raise Unavailable(f"{self.connector} is unavailable: {problem}", self.connector)
            log.warning("%s %s %s: %s; retrying in %.2f s", self.connector, method, _path_only(url), problem, wait)
            self.sleep(wait)
            waited += wait

    def _send(self, method, url, kwargs):
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs), None
        except requests.Timeout:
            return None, "timed out"
        except requests.ConnectionError:
            return None, "connection failed"
        except requests.RequestException as e:
            raise Unavailable(f"{self.connector}: request failed ({type(e).__name__})", self.connector) from e

    def _backoff(self, attempt):
        return min(8.0, self.backoff * (2**attempt)) * (0.8 + 0.4 * random.random())

    def _finish(self, response, allow_404):
        if response.status_code == 404 and allow_404:
            return None
        if response.status_code in (401, 403):
            error = AuthFailed(f"{self.connector} refused our credentials (HTTP {response.status_code})", self.connector)
        elif response.status_code >= 400:
            error = ConnectorError(f"{self.connector} answered HTTP {response.status_code}", self.connector)
        else:
            return response
        # Vendors put the reason in the body (error codes, never our secrets); keep it for callers.
        error.status_code, error.body = response.status_code, response.text[:2000]
        raise error

    def json(self, method, path, allow_404=False, **kwargs):
        """Send a request and return its JSON body (None for an allowed 404)."""
        response = self.request(method, path, allow_404=allow_404, **kwargs)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise Unavailable(f"{self.connector} sent a malformed response (not JSON)", self.connector) from e

    def close(self):
        """Close the session's pooled connections."""
        self.session.close()


def _path_only(url):
    """The URL without its query string (which can hold emails and phone numbers)."""
    return url.split("?", 1)[0]
