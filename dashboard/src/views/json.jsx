// JSON folded by level (objects and arrays open on click), with a search
// that lists the matching leaves by their path.
import { useState } from 'preact/hooks';

export function Json({ value }) {
  const [q, setQ] = useState('');
  const query = q.trim().toLowerCase();
  return (
    <div class="json" id="inspect-json">
      <input type="search" id="inspect-search" placeholder="Search keys and values" aria-label="search inspect" value={q} onInput={(e) => setQ(e.target.value)} />
      {query ? <Matches v={value} query={query} /> : <Node v={value} open />}
    </div>
  );
}

function leaves(v, path, out) {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v)) leaves(x, path ? `${path}.${k}` : String(k), out);
  } else {
    out.push([path, v]);
  }
  return out;
}

function Matches({ v, query }) {
  const found = leaves(v, '', []).filter(([p, x]) => p.toLowerCase().includes(query) || String(x).toLowerCase().includes(query));
  if (found.length === 0) return <p class="muted">Nothing matches.</p>;
  return (
    <div class="matches">
      {found.map(([p, x]) => (
        <div class="leaf"><span class="k">{p}: </span><span class={`v ${x === null ? 'null' : typeof x}`}>{JSON.stringify(x)}</span></div>
      ))}
    </div>
  );
}

function Node({ k, v, open }) {
  const key = k !== undefined ? <span class="k">{k}: </span> : null;
  if (v === null || typeof v !== 'object') {
    return <div class="leaf">{key}<span class={`v ${v === null ? 'null' : typeof v}`}>{JSON.stringify(v)}</span></div>;
  }
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  const brackets = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <div class="leaf">{key}<span class="v">{brackets.join('')}</span></div>;
  return (
    <details open={open}>
      <summary>{key}{brackets[0]}<span class="muted">{entries.length} {Array.isArray(v) ? 'items' : 'keys'}</span>{brackets[1]}</summary>
      <div class="children">{entries.map(([ck, cv]) => <Node k={ck} v={cv} />)}</div>
    </details>
  );
}
