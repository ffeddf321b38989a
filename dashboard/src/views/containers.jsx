// The containers table: live from the event stream, grouped by compose
// project, filtered, with actions on one row or on the selected rows.
// Rows are virtualised: only the visible ones are in the DOM, so a
// thousand containers scroll smoothly.
import { useMemo, useRef, useState, useEffect } from 'preact/hooks';
import { useStore } from '../store.js';
import { act, actionsFor } from '../actions.js';
import { COMPOSE, ago, bytes, name, portUrl, ports, shortId } from '../format.js';
import { useRowStats } from '../rowstats.js';

const ROW = 40;
const OVERSCAN = 8;

function rowsOf(list, query, stateFilter) {
  const q = query.trim().toLowerCase();
  const match = (c) =>
    (!stateFilter || c.State === stateFilter) &&
    (!q || name(c).toLowerCase().includes(q) || (c.Image || '').toLowerCase().includes(q) || c.Id.startsWith(q));
  const groups = new Map();
  const loose = [];
  for (const c of list) {
    if (!match(c)) continue;
    const p = c.Labels && c.Labels[COMPOSE];
    if (p) {
      if (!groups.has(p)) groups.set(p, []);
      groups.get(p).push(c);
    } else loose.push(c);
  }
  const byName = (a, b) => name(a).localeCompare(name(b));
  const rows = [];
  for (const p of [...groups.keys()].sort()) {
    const cs = groups.get(p).sort(byName);
    rows.push({ group: p, count: cs.length, running: cs.filter((c) => c.State === 'running').length, members: cs });
    for (const c of cs) rows.push({ c, inGroup: true });
  }
  for (const c of loose.sort(byName)) rows.push({ c });
  return rows;
}

export function Containers() {
  const s = useStore();
  const [query, setQuery] = useState('');
  const [stateFilter, setStateFilter] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const box = useRef();
  const list = s.containers || [];
  const rows = useMemo(() => rowsOf(list, query, stateFilter), [list, query, stateFilter]);

  // For the bench (bench/dashboard.py): when the first list is on screen.
  useEffect(() => {
    if (s.containers && !window.berthRendered) {
      window.berthRendered = true;
      performance.mark('berth:containers-rendered');
    }
  }, [s.containers]);
  // The list's height changes with the window and with the banner.
  useEffect(() => {
    const measure = () => box.current && setHeight(box.current.clientHeight);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(box.current);
    return () => ro.disconnect();
  }, []);
  // Forget selections of containers that are gone.
  const live = new Set(list.map((c) => c.Id));
  const chosen = list.filter((c) => selected.has(c.Id));
  const toggle = (ids, on) => {
    const n = new Set([...selected].filter((id) => live.has(id)));
    for (const id of ids) on ? n.add(id) : n.delete(id);
    setSelected(n);
  };

  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + OVERSCAN);
  const visible = rows.slice(first, last);
  // Arrow keys move between rows (the next row is always rendered: overscan).
  const onKey = (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const row = e.target.closest('[data-index]');
    if (!row) return;
    const i = Number(row.dataset.index) + (e.key === 'ArrowDown' ? 1 : -1);
    if (i < 0 || i >= rows.length) return;
    e.preventDefault();
    const el = box.current;
    if (i * ROW < el.scrollTop) el.scrollTop = i * ROW;
    else if ((i + 1) * ROW > el.scrollTop + el.clientHeight) el.scrollTop = (i + 1) * ROW - el.clientHeight;
    const next = el.querySelector(`[data-index="${i}"]`);
    const target = next && (next.querySelector('a') || next.querySelector('input'));
    if (target) target.focus();
  };
  const usage = useRowStats(visible.filter((r) => r.c && r.c.State === 'running').map((r) => r.c.Id));
  const bulk = ['start', 'stop', 'restart', 'pause', 'unpause', 'kill', 'remove'];

  return (
    <section class="containers">
      <div class="toolbar">
        <h1>Containers</h1>
        <input type="search" id="container-search" placeholder="Search name, image, ID" aria-label="search containers" value={query} onInput={(e) => setQuery(e.target.value)} />
        <select aria-label="state" value={stateFilter} onChange={(e) => setStateFilter(e.target.value)}>
          <option value="">all states</option>
          {['running', 'paused', 'exited', 'created', 'restarting', 'dead'].map((st) => (
            <option value={st}>{st}</option>
          ))}
        </select>
        <span class="count" id="container-count">
          {s.containers ? `${rows.filter((r) => r.c).length} of ${list.length}` : 'loading…'}
        </span>
        {chosen.length > 0 && (
          <span class="bulk" aria-label="selected containers">
            {chosen.length} selected:
            {bulk.map((a) => (
              <button onClick={() => act(a, chosen).then(() => setSelected(new Set()))}>{a}</button>
            ))}
          </span>
        )}
      </div>
      {s.error && <p class="error" role="alert">{s.error}</p>}
      <div class="thead row" role="row">
        <span><input type="checkbox" aria-label="select all shown" checked={chosen.length > 0 && chosen.length === rows.filter((r) => r.c).length} onChange={(e) => toggle(rows.filter((r) => r.c).map((r) => r.c.Id), e.target.checked)} /></span>
        <span>Name</span>
        <span class="image">Image</span>
        <span>Status</span>
        <span class="wide">Ports</span>
        <span class="wide">Created</span>
        <span class="wide">CPU</span>
        <span class="wide">Memory</span>
        <span>Actions</span>
      </div>
      <div class="vlist" ref={box} onScroll={(e) => setTop(e.currentTarget.scrollTop)} onKeyDown={onKey} role="table" aria-rowcount={rows.length} id="container-list">
        <div style={{ height: `${rows.length * ROW}px`, position: 'relative' }}>
          {visible.map((r, i) => (
            <div class={r.group ? 'row group' : 'row'} data-index={first + i} style={{ transform: `translateY(${(first + i) * ROW}px)` }} role="row" key={r.group ? `g:${r.group}` : r.c.Id}>
              {r.group ? <GroupRow r={r} selected={selected} toggle={toggle} /> : <ContainerRow c={r.c} inGroup={r.inGroup} checked={selected.has(r.c.Id)} toggle={toggle} usage={usage[r.c.Id]} />}
            </div>
          ))}
        </div>
        {s.containers && rows.length === 0 && <p class="empty">No containers{query || stateFilter ? ' match' : ''}.</p>}
      </div>
    </section>
  );
}

function GroupRow({ r, selected, toggle }) {
  const all = r.members.every((c) => selected.has(c.Id));
  return (
    <>
      <span><input type="checkbox" aria-label={`select project ${r.group}`} checked={all} onChange={(e) => toggle(r.members.map((c) => c.Id), e.target.checked)} /></span>
      <span class="project">
        {r.group} <small>compose project · {r.running}/{r.count} running</small>
      </span>
    </>
  );
}

function ContainerRow({ c, inGroup, checked, toggle, usage }) {
  const n = name(c);
  return (
    <>
      <span><input type="checkbox" aria-label={`select ${n}`} checked={checked} onChange={(e) => toggle([c.Id], e.target.checked)} /></span>
      <span class={inGroup ? 'name indent' : 'name'}>
        <a href={`#/containers/${encodeURIComponent(c.Id)}`} data-name={n} class="cname" title={shortId(c.Id)}>{n}</a>
      </span>
      <span class="image" title={c.Image}>{c.Image}</span>
      <span class={`status ${c.State}`} data-state={c.State}>{c.Status || c.State}</span>
      <span class="wide ports">
        {ports(c).map((p) => (
          <a href={portUrl(p)} target="_blank" rel="noopener noreferrer">{`${p.PublicPort}:${p.PrivatePort}/${p.Type}`}</a>
        ))}
      </span>
      <span class="wide">{ago(c.Created)}</span>
      <span class="wide num">{c.State === 'running' && usage && usage.cpuPct != null ? `${usage.cpuPct.toFixed(1)} %` : ''}</span>
      <span class="wide num">{c.State === 'running' && usage && usage.mem != null ? bytes(usage.mem) : ''}</span>
      <span class="actions">
        {actionsFor(c).map((a) => (
          <button class={a === 'remove' || a === 'kill' ? 'danger small' : 'small'} data-action={a} aria-label={`${a} ${n}`} onClick={() => act(a, [c])}>
            {a}
          </button>
        ))}
      </span>
    </>
  );
}
