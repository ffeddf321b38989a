// Image pulls started from the Images view. Each follows the daemon's
// JSON progress stream (POST /images/create); the pulls live outside the
// view, so switching views neither stops nor forgets them.
import { useEffect, useState } from 'preact/hooks';
import { jsonLines, stream } from './api.js';
import { touch } from './store.js';

const pulls = []; // newest first
const listeners = new Set();
let nextKey = 1;
let frame = 0;

// Progress arrives many times a second: repaint at most once a frame.
function emit() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    for (const l of listeners) l();
  });
}

export function usePulls() {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return pulls;
}

// `name[:tag][@digest]` as the docker CLI sends it: the name in
// `fromImage`, the digest (else the tag, else "latest") in `tag`; a query
// without `tag` would pull every tag of the repository.
export function pullQuery(ref) {
  let name = ref.trim();
  let tag = 'latest';
  const at = name.indexOf('@');
  if (at >= 0) {
    tag = name.slice(at + 1);
    name = name.slice(0, at);
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    if (at < 0) tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  return `fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`;
}

export function startPull(ref) {
  const p = { key: nextKey++, ref: ref.trim(), state: 'pulling', layers: [], lines: [], error: null };
  pulls.unshift(p);
  emit();
  run(p);
  return p;
}

export function dismiss(p) {
  const i = pulls.indexOf(p);
  if (i >= 0 && p.state !== 'pulling') pulls.splice(i, 1);
  emit();
}

async function run(p) {
  try {
    await stream('POST', `/api/images/create?${pullQuery(p.ref)}`, jsonLines((m) => onMessage(p, m)));
    if (!p.error) p.state = 'done';
  } catch (e) {
    // Refused before the stream began (a bad reference, an unknown
    // repository), or the connection was cut mid-way (Firefox cuts silent
    // ones when the host's network changes): the daemon goes on pulling.
    if (!p.error) p.error = e instanceof TypeError ? `lost the progress stream (${e.message}); the daemon goes on with the pull and the table will show the image` : e.message;
  }
  if (p.error) p.state = 'failed';
  emit();
  touch();
}

// One message of the stream: a layer's progress (it has an id and a
// progressDetail), an error, or a line of status ("Pulling from …",
// "Digest: …", "Status: Downloaded newer image for …").
function onMessage(p, m) {
  if (m.error || m.errorDetail) {
    p.error = (m.errorDetail && m.errorDetail.message) || m.error;
  } else if (m.id && m.progressDetail && m.status) {
    let l = p.layers.find((x) => x.id === m.id);
    if (!l) p.layers.push((l = { id: m.id, status: '', current: 0, total: 0 }));
    l.status = m.status;
    const d = m.progressDetail;
    if (d.total > 0) {
      l.current = d.current || 0;
      l.total = d.total;
    }
    if (m.status === 'Pull complete' || m.status === 'Download complete') l.current = l.total;
  } else if (m.status) {
    p.lines.push(m.id ? `${m.id}: ${m.status}` : m.status);
  }
  emit();
}
