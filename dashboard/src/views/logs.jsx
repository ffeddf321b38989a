// Logs that follow live: timestamps, search, stdout and stderr told apart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { demux, stream } from '../api.js';

const KEEP = 5000;

export function Logs({ id, tty }) {
  const [lines, setLines] = useState([]);
  const [query, setQuery] = useState('');
  const [follow, setFollow] = useState(true);
  const [err, setErr] = useState(null);
  const [ended, setEnded] = useState(false);
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
    const partial = { stdout: '', stderr: '' };
    const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const onFrame = (kind, bytes) => {
      const text = partial[kind] + dec[kind].decode(bytes, { stream: true });
      const parts = text.split('\n');
      partial[kind] = parts.pop();
      for (const p of parts) {
        const sp = p.indexOf(' ');
        const ts = /^\d{4}-\d\d-\d\dT/.test(p) && sp > 0 ? p.slice(0, sp) : '';
        buf.push({ kind, ts, text: ts ? p.slice(sp + 1) : p });
      }
      if (!pending) pending = requestAnimationFrame(flush);
    };
    const handler = tty ? (chunk) => onFrame('stdout', chunk) : demux(onFrame);
    stream('GET', `/api/containers/${encodeURIComponent(id)}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=1000`, handler, abort.signal).then(
      () => setEnded(true),
      (e) => abort.signal.aborted || setErr(e.message),
    );
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
      <div class="logbox" ref={box} id="log-lines" tabIndex={0}>
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
