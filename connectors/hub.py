"""In-process publish/subscribe of customer updates, for open sidebar streams."""

import queue
import threading


class Subscription:
    """One open stream's queue of event ids for the customer keys it follows."""

    def __init__(self, keys):
        self.keys = set(keys)
        self.queue = queue.Queue(maxsize=1000)

    def get(self, timeout):
        """The next event id, or None after ``timeout`` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """Fan event ids out to the subscriptions following any of the event's customer keys."""

    def __init__(self):
        self._subscriptions = {}
        self._lock = threading.Lock()

    def subscribe(self, keys):
        """Start following ``keys``; returns a Subscription to read from and later unsubscribe."""
        subscription = Subscription(keys)
        with self._lock:
            for key in subscription.keys:
                self._subscriptions.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription):
        """Stop delivering to ``subscription``."""
        with self._lock:
            for key in subscription.keys:
                followers = self._subscriptions.get(key, set())
                followers.discard(subscription)
                if not followers:
                    self._subscriptions.pop(key, None)

    def publish(self, keys, event_id):
        """Deliver ``event_id`` once to every subscription following any of ``keys``."""
        with self._lock:
            targets = set().union(*(self._subscriptions.get(k, set()) for k in keys)) if keys else set()
        for subscription in targets:
            try:
                subscription.queue.put_nowait(event_id)
            except queue.Full:  # a stuck client; it will resync from Last-Event-ID when it reconnects
                pass

    def count(self):
        """Number of open subscriptions."""
        with self._lock:
            return len(set().union(*self._subscriptions.values())) if self._subscriptions else 0
