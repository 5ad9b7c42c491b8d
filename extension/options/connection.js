// "Test connection": call GET /api/v1/me and say exactly what is wrong.

const TIMEOUT_MS = 5000;

/** Parse what the agent typed into a backend URL; {url} or {error}. */
export function parseBackendUrl(text) {
  const value = String(text || '').trim();
  const invalid = {
    error:
      'That is not a URL. Use the address of the assist server, like http://127.0.0.1:8400.',
  };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^https?:\/\//i.test(value))
    return invalid;
  let url;
  try {
    url = new URL(/^https?:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    return invalid;
  }
  // Chrome's URL parser lets "not a url" through as a percent-encoded host.
  const hostOk = /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(
    url.hostname,
  );
  if (!value || !['http:', 'https:'].includes(url.protocol) || !hostOk)
    return invalid;
  // People paste the address of a page they have open: /demo, /sidebar, /api/v1/...
  const path = url.pathname.replace(
    /\/(demo|sidebar|admin|healthz|api\/v1)(\/.*)?$/,
    '',
  );
  return { url: (url.origin + path).replace(/\/+$/, '') };
}

/**
 * Check a backend URL and token. Resolves to {result, message} where result
 * is ok | unreachable | bad-token | wrong-role | not-assist | server-error.
 */
export async function testConnection(backendUrl, token) {
  const origin = new URL(backendUrl).origin;
  if (!token)
    return { result: 'bad-token', message: 'Enter your agent token.' };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(`${backendUrl}/api/v1/me`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      signal: controller.signal,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    const why = controller.signal.aborted
      ? `did not answer within ${TIMEOUT_MS / 1000} s`
      : 'could not be reached';
    return {
      result: 'unreachable',
      message: `Unreachable: ${origin} ${why}. Is the server running, and is the URL right?`,
    };
  } finally {
    clearTimeout(timer);
  }
  return describe(response, origin);
}

async function describe(response, origin) {
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    return {
      result: 'bad-token',
      message:
        'Bad token: the backend refused it (401). It is mistyped, revoked or for another server.',
    };
  }
  if (response.status === 403) {
    return {
      result: 'wrong-role',
      message:
        'Wrong role: this token may not use the sidebar (403). Use an agent token.',
    };
  }
  if (response.status >= 500) {
    return {
      result: 'server-error',
      message: `The backend at ${origin} failed (HTTP ${response.status}). Try again shortly.`,
    };
  }
  if (
    !response.ok ||
    !body ||
    typeof body.role !== 'string' ||
    typeof body.name !== 'string'
  ) {
    return {
      result: 'not-assist',
      message: `Something answered at ${origin} (HTTP ${response.status}), but it is not an assist backend. Check the URL.`,
    };
  }
  if (!['agent', 'admin'].includes(body.role)) {
    return {
      result: 'wrong-role',
      message: `Wrong role: this is a "${body.role}" token; the sidebar needs an agent token.`,
    };
  }
  const note =
    body.role === 'admin'
      ? ' This is an admin token; agents should use an agent token.'
      : '';
  return {
    result: 'ok',
    message: `Connected to ${origin} as ${body.name} (${body.role}).${note}`,
  };
}
