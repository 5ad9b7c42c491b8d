// Talking to the assist backend: JSON requests with a timeout, the live card
// stream (fetch + stream reader, because EventSource cannot send the
// Authorization header), and fire-and-forget feedback.

const TIMEOUT_MS = 8000;

/** Why a request failed: kind is network | timeout | http | not-assist | aborted. */
export class ApiFailure extends Error {
  constructor(kind, message, status = 0) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** A small client for one backend URL and token. */
export class ApiClient {
  constructor(backendUrl, token) {
    this.base = String(backendUrl || '').replace(/\/+$/, '');
    this.token = token;
  }

  get(path, options) {
    return this.request('GET', path, undefined, options);
  }

  post(path, body, options) {
    return this.request('POST', path, body, options);
  }

  /** One JSON request; resolves to the parsed body or throws ApiFailure. */
  async request(method, path, body, { signal, timeout = TIMEOUT_MS } = {}) {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers: this.headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      return await readBody(response);
    } catch (error) {
      if (error instanceof ApiFailure) throw error;
      if (signal?.aborted) throw new ApiFailure('aborted', 'cancelled');
      if (timedOut)
        throw new ApiFailure('timeout', `no answer within ${timeout / 1000} s`);
      throw new ApiFailure('network', 'could not connect');
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  headers(json) {
    const headers = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
    };
    if (json) headers['Content-Type'] = 'application/json';
    return headers;
  }

  /** Report feedback events; never throws (the panel must not break on it). */
  async feedback(events) {
    if (!events.length) return;
    for (const delay of [0, 3000]) {
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        await this.post('/api/v1/feedback', { events });
        return;
      } catch (error) {
        // A 4xx will not get better by retrying; a network error might.
        if (error.kind === 'http' && error.status < 500) break;
      }
    }
    console.warn('assist: feedback not recorded', events.length, 'events');
  }
}

async function readBody(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body?.error?.message || `HTTP ${response.status}`;
    throw new ApiFailure('http', message, response.status);
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiFailure(
      'not-assist',
      'the answer was not JSON from an assist backend',
    );
  }
  return body;
}

/**
 * The live card of one customer: GET /api/v1/stream?customer=...
 *
 * Calls onCard(card, eventId, initial) for each `card` event (initial: the
 * current card sent on connect, not a change) and onDown(failure) once
 * when the stream is lost and one immediate reconnect (with Last-Event-ID)
 * also failed; the panel then shows "unreachable" and retries.
 */
export class CardStream {
  constructor(client, customer, { lastEventId = null, onCard, onDown }) {
    this.client = client;
    this.customer = customer;
    this.lastEventId = lastEventId;
    this.onCard = onCard;
    this.onDown = onDown;
    this.controller = new AbortController();
    this.stopped = false;
  }

  start() {
    this.loop();
    return this;
  }

  stop() {
    this.stopped = true;
    this.controller.abort();
  }

  async loop() {
    let failures = 0;
    while (!this.stopped) {
      const connected = await this.connectOnce();
      if (this.stopped) return;
      failures = connected ? 0 : failures + 1;
      if (failures >= 2 || connected === null) {
        this.stopped = true;
        this.onDown(connected === null ? 'auth' : 'network');
        return;
      }
    }
  }

  /** true: was connected, then dropped; false: could not connect; null: refused. */
  async connectOnce() {
    const url = `${this.client.base}/api/v1/stream?customer=${encodeURIComponent(this.customer)}`;
    const headers = {
      ...this.client.headers(false),
      Accept: 'text/event-stream',
    };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    // Without an id the server sends the current card at once: not an update.
    this.initial = !this.lastEventId;
    let response;
    try {
      response = await fetch(url, {
        headers,
        signal: this.controller.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      return false;
    }
    if (response.status === 401 || response.status === 403) return null;
    if (!response.ok || !response.body) return false;
    try {
      await this.read(response.body.getReader());
    } catch {
      // dropped mid-stream: the loop reconnects once with Last-Event-ID
    }
    return true;
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buffer = '';
    while (!this.stopped) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      for (const block of blocks) this.dispatch(parseEvent(block));
    }
  }

  dispatch(event) {
    if (event.id) this.lastEventId = event.id;
    if (event.type !== 'card' || !event.data) return;
    const initial = this.initial;
    this.initial = false;
    try {
      this.onCard(JSON.parse(event.data), this.lastEventId, initial);
    } catch (error) {
      console.warn('assist: bad card event', error);
    }
  }
}

/** One Server-Sent Events block -> {id, type, data}. */
export function parseEvent(block) {
  const event = { id: null, type: 'message', data: '' };
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.type = value;
    else if (field === 'data') data.push(value);
  }
  event.data = data.join('\n');
  return event;
}
