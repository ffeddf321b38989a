// Logs that follow live: timestamps, search, stdout and stderr told apart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { demux, stream } from '../api.js';

const KEEP = 5000;

// An RFC 3339 timestamp as the API's `since` wants it: seconds.nanoseconds.
export function unixNanos(ts) {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return null;
  const secs = Math.floor(Date.parse(m[1] + m[3]) / 1000);
  if (!Number.isFinite(secs)) return null;
  return `${secs}.${(m[2] || '').padEnd(9, '0').slice(0, 9)}`;
}

const later = (a, b) => {
  const [as, an] = a.split('.').map(Number);
  const [bs, bn] = b.split('.').map(Number);
  return as > bs || (as === bs && an > bn);
};

export function Logs({ id, tty }) {
  const [lines, setLines] = useState([]);
  const [query, setQuery] = useState('');
  const [follow, setFollow] = useState(true);
  const [err, setErr] = useState(null);
  const [ended, setEnded] = useState(false);
  const [resumes, setResumes] = useState(0);
  const box = useRef();
  useEffect(() => {
    const abort = new AbortController();
    const buf = [];
    let pending = null;
    // Batch lines into one render per frame: a chatty container must not
    // re-render per line.
    const flush = () => {
      pending = null;
      if (buf.length > KEEP) buf.splice(0, buf.length - KEEP);
      setLines([...buf]);
    };
    let last = null; // seconds.nanos of the last line shown
    let resumed = null; // while resuming: lines up to here were shown
    const run = async () => {
      for (;;) {
        const partial = { stdout: '', stderr: '' };
        const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
        const onFrame = (kind, bytes) => {
          const text = partial[kind] + dec[kind].decode(bytes, { stream: true });
          const parts = text.split('\n');
          partial[kind] = parts.pop();
          for (const p of parts) {
            const sp = p.indexOf(' ');
            const ts = /^\d{4}-\d\d-\d\dT/.test(p) && sp > 0 ? p.slice(0, sp) : '';
            const at = ts && unixNanos(ts);
            if (resumed && at && !later(at, resumed)) continue;
            if (at) last = at;
            buf.push({ kind, ts, text: ts ? p.slice(sp + 1) : p });
          }
          if (!pending) pending = requestAnimationFrame(flush);
        };
        const handler = tty ? (chunk) => onFrame('stdout', chunk) : demux(onFrame);
        // After a cut with no line seen yet, the log was empty: all of it.
        const from = last ? `since=${last}` : resumed === '' ? 'tail=all' : 'tail=1000';
        try {
          await stream('GET', `/api/containers/${encodeURIComponent(id)}/logs?follow=1&stdout=1&stderr=1&timestamps=1&${from}`, handler, abort.signal);
          setEnded(true);
          return;
        } catch (e) {
          if (abort.signal.aborted) return;
          // The connection was cut (Firefox does so to streams silent for
          // 5 s after the host's network changes): resume after the last
          // line. An answer from the daemon (an error status) ends it.
          if (!(e instanceof TypeError || e.status === 0)) {
            setErr(e.message);
            return;
          }
          resumed = last || '';
          setResumes((n) => n + 1);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    run();
    return () => {
      abort.abort();
      if (pending) cancelAnimationFrame(pending);
    };
  }, [id, tty]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  const q = query.toLowerCase();
  const shown = q ? lines.filter((l) => l.text.toLowerCase().includes(q)) : lines;
  return (
    <div class="logs">
      <div class="toolbar">
        <input type="search" placeholder="Search logs" aria-label="search logs" value={query} onInput={(e) => setQuery(e.target.value)} />
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow</label>
        <span class="muted">{shown.length} lines{ended ? ' · the log stream ended (container stopped)' : ''}</span>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      <div class="logbox" ref={box} id="log-lines" tabIndex={0} data-resumes={resumes}>
        {shown.map((l) => (
          <div class={`line ${l.kind}`}>
            <time>{l.ts.replace('T', ' ').slice(0, 23)}</time>
            <span>{l.text}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
