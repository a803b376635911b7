// The one way the pages talk to the server: JSON in and out, the session's CSRF token on every
// state-changing call, errors as ApiError with the server's machine code, and an expired session
// sent to the login page (the page's form is kept in sessionStorage and restored afterwards). A
// token the server no longer takes (a new login in another tab) is fetched anew and the call is
// sent once more.

let csrfToken = null;
let onUnauthenticated = () => {};
let onSession = () => {};

export function setCsrfToken(token) { csrfToken = token; }

/** Called with no arguments when a call answers 401 (session expired or never started). */
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

/** Called with the session (GET /auth/session) read after the server refused the CSRF token. */
export function setSessionHandler(fn) { onSession = fn; }

/** An error answer of the API: {error, message, field, …} plus the HTTP status. */
export class ApiError extends Error {
  constructor(status, body, headers) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || (status === 0 ? 'network' : 'unexpected');
    this.field = body?.field || null;
    this.body = body || {};
    this.retryAfter = Number(headers?.get?.('Retry-After')) || null;
  }
}

/**
 * api('GET', '/api/v1/applications', {query: {state: 'ready_in_box'}})
 * api('POST', '/api/v1/applications', {body: {...}, headers: {'Idempotency-Key': k}})
 * Resolves to the parsed JSON (or text for non-JSON answers, null for 204).
 */
export async function api(method, path, { body, query, headers = {}, raw = false, signal, retried = false } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin', signal };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) {
    if (typeof body === 'string') {
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, null);
  }
  const type = response.headers.get('Content-Type') || '';
  if (!response.ok) {
    let data = null;
    if (type.includes('application/json')) {
      try { data = await response.json(); } catch { data = null; }
    }
    const error = new ApiError(response.status, data, response.headers);
    if (response.status === 401 && error.code === 'unauthenticated') onUnauthenticated();
    if (response.status === 403 && error.code === 'csrf_token_invalid' && !retried && await renewCsrfToken(signal)) {
      return api(method, path, { body, query, headers, raw, signal, retried: true });
    }
    throw error;
  }
  if (response.status === 204) return null;
  if (raw) return response;
  if (type.includes('application/json')) return response.json();
  return response.text();
}

/** Reads the session's current token (another tab may have logged in anew); true when there is one. */
async function renewCsrfToken(signal) {
  let session;
  try { session = await api('GET', '/api/v1/auth/session', { signal }); } catch { return false; }
  if (!session?.authenticated) { onUnauthenticated(); return false; }
  csrfToken = session.csrfToken;
  onSession(session);
  return true;
}

/** A random Idempotency-Key, so that a retried click never registers twice. */
export function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
