// Talking to the dashboard server: the Engine API under /api (proxied to
// the daemon), with the session's CSRF token on every change.

let csrf = '';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function session() {
  const r = await fetch('/session', { credentials: 'same-origin' });
  if (!r.ok) throw new ApiError(r.status, (await errorText(r)));
  const s = await r.json();
  csrf = s.csrf;
  return s;
}

async function errorText(r) {
  try {
    const j = await r.json();
    return j.message || r.statusText;
  } catch {
    return r.statusText || `HTTP ${r.status}`;
  }
}

// A request to the dashboard server; throws ApiError with the daemon's
// message on an error status.
export async function raw(method, path, body, extra = {}) {
  const headers = {};
  if (method !== 'GET' && method !== 'HEAD') headers['X-Berth-CSRF'] = csrf;
  let data;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      data = body;
    } else {
      headers['Content-Type'] = 'application/json';
      data = JSON.stringify(body);
    }
  }
  let r;
  try {
    r = await fetch(path, { method, headers, body: data, credentials: 'same-origin', ...extra });
  } catch (e) {
    throw new ApiError(0, `dashboard unreachable: ${e.message}`);
  }
  if (!r.ok) throw new ApiError(r.status, await errorText(r));
  return r;
}

export const api = {
  async get(path) {
    return (await raw('GET', '/api' + path)).json();
  },
  async text(path) {
    return (await raw('GET', '/api' + path)).text();
  },
  async post(path, body) {
    const r = await raw('POST', '/api' + path, body);
    const t = await r.text();
    return t ? JSON.parse(t) : null;
  },
  async del(path) {
    const r = await raw('DELETE', '/api' + path);
    const t = await r.text();
    return t ? JSON.parse(t) : null;
  },
};

// Reads a streamed answer chunk by chunk until it ends or `signal` aborts.
export async function stream(method, path, onChunk, signal) {
  const r = await raw(method, path, undefined, { signal });
  const reader = r.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

// A stream of JSON documents separated by newlines (events, stats).
export function jsonLines(onDoc) {
  const dec = new TextDecoder();
  let buf = '';
  return (chunk) => {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onDoc(JSON.parse(line));
    }
  };
}

// Docker's multiplexed stdout/stderr stream (containers without a tty):
// 8-byte headers [stream, 0, 0, 0, size(4, big endian)] before each frame.
export function demux(onFrame) {
  let buf = new Uint8Array(0);
  return (chunk) => {
    const b = new Uint8Array(buf.length + chunk.length);
    b.set(buf);
    b.set(chunk, buf.length);
    let off = 0;
    while (b.length - off >= 8) {
      const size = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
      if (b.length - off - 8 < size) break;
      onFrame(b[off] === 2 ? 'stderr' : 'stdout', b.subarray(off + 8, off + 8 + size));
      off += 8 + size;
    }
    buf = b.slice(off);
  };
}
