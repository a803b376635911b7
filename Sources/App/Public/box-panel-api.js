// How the box panel talks to the server: as a box, with `Authorization: Bearer <box token>` and no
// cookies (api.js is for staff sessions and their CSRF token). The token lives in sessionStorage
// only, so it ends with the browser tab. The long poll runs in a loop with the kept cursor, backs
// off on errors and stops for good on a 401.

const TOKEN_KEY = 'pickupbox.boxPanel.token';
const DONE_PREFIX = 'pickupbox.boxPanel.done.';

export function savedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function saveToken(token) {
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* kept in memory only */ }
}

/** Forgets the token and what this tab remembered about the box's work. */
export function forgetToken() {
  try {
    for (const key of Object.keys(sessionStorage)) if (key === TOKEN_KEY || key.startsWith(DONE_PREFIX)) sessionStorage.removeItem(key);
  } catch { /* ignore */ }
}

/** The server accepts 20 to 128 visible characters; anything else is not worth a request. */
export function plausibleToken(token) { return /^[\x21-\x7e]{20,128}$/.test(token); }

/**
 * Assignments this tab has loaded or emptied already (the feed still lists their to_load or
 * to_retrieve after a reload, as a real box would remember in its own storage). Ids only, in lower
 * case: servers before ids went out in lower case sent them in upper case.
 */
export function doneAssignments(boxId) {
  const key = DONE_PREFIX + String(boxId).toLowerCase();
  const norm = (id) => String(id).toLowerCase();
  let ids = [];
  try { ids = JSON.parse(sessionStorage.getItem(key) || sessionStorage.getItem(DONE_PREFIX + boxId) || '[]'); } catch { ids = []; }
  const set = new Set(Array.isArray(ids) ? ids.map(norm) : []);
  return {
    has: (id) => set.has(norm(id)),
    add: (id) => {
      if (!id) return;
      set.add(norm(id));
      try { sessionStorage.setItem(key, JSON.stringify([...set].slice(-500))); } catch { /* ignore */ }
    },
  };
}

/** An error answer of the box API: status (0 = no answer), the server's code, its extra fields. */
export class BoxError extends Error {
  constructor(status, body, headers) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || (status === 0 ? 'network' : 'unexpected');
    this.body = body || {};
    this.retryAfter = Number(headers?.get?.('Retry-After')) || null;
  }
}

/** One call of the box API; resolves to the parsed JSON answer. */
export async function boxCall(token, method, path, { body, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', Authorization: `Bearer ${token}` }, credentials: 'omit', cache: 'no-store', signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new BoxError(0, null, null);
  }
  let data = null;
  if ((response.headers.get('Content-Type') || '').includes('application/json')) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (!response.ok) throw new BoxError(response.status, data, response.headers);
  return data;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Waits `ms` while the page is shown: no timer runs while it is hidden, and showing it starts the wait afresh. */
function visibleDelay(ms) {
  return new Promise((resolve) => {
    let timer = null;
    const change = () => {
      clearTimeout(timer);
      timer = null;
      if (document.visibilityState === 'hidden') return;
      timer = setTimeout(() => { document.removeEventListener('visibilitychange', change); resolve(); }, ms);
    };
    document.addEventListener('visibilitychange', change);
    change();
  });
}

/** A unique event id (visible ASCII, ≤ 100 characters), as a box draws one per event. */
export function newEventId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'panel-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reports a box event. A lost answer is retried with the same event id: the server answers a retry
 * with its first answer and does nothing twice. While the page is hidden the retry waits.
 */
export async function reportEvent(token, kind, compartmentNumber, assignmentId) {
  const body = { eventId: newEventId(), kind, compartmentNumber };
  if (assignmentId) body.assignmentId = assignmentId;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await boxCall(token, 'POST', '/api/v1/box/events', { body });
    } catch (e) {
      if (e.status !== 0 || attempt >= 3) throw e;
      await visibleDelay(1000 * 2 ** attempt);
    }
  }
}

/**
 * The long poll: `GET /api/v1/box/assignments?since=<cursor>&wait=25` again and again. The first
 * call after each start() does not wait (the configuration is needed at once, and after a pause
 * the changes made meanwhile). Errors back off 2, 4, 8 … 30 seconds; a 401 ends the loop. stop()
 * aborts the parked request and the back-off; start() resumes with the kept cursor.
 */
export class Poller {
  constructor(token, { onFeed, onStatus, onUnauthorized, wait = 25 }) {
    this.token = token;
    this.cursor = 0;
    this.wait = wait;
    this.handlers = { onFeed, onStatus, onUnauthorized };
    this.controller = null;
  }

  get running() { return Boolean(this.controller); }

  start() {
    if (this.controller) return;
    this.controller = new AbortController();
    this.loop(this.controller.signal);
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  async loop(signal) {
    let failures = 0;
    let answered = false;
    while (!signal.aborted) {
      const wait = answered ? this.wait : 0;
      try {
        const feed = await boxCall(this.token, 'GET', `/api/v1/box/assignments?since=${this.cursor}&wait=${wait}`, { signal });
        if (signal.aborted) return;
        failures = 0;
        answered = true;
        this.cursor = feed.cursor;
        this.handlers.onStatus({ online: true });
        this.handlers.onFeed(feed);
      } catch (e) {
        if (signal.aborted || e.name === 'AbortError') return;
        if (e.status === 401) {
          if (this.controller?.signal === signal) this.controller = null;
          this.handlers.onUnauthorized();
          return;
        }
        failures += 1;
        const seconds = Math.min(30, 2 ** failures);
        this.handlers.onStatus({ online: false, retryIn: seconds });
        await sleep(seconds * 1000, signal);
      }
    }
  }
}
