// One container: its actions, and tabs for logs, shell, stats, top,
// inspect and details (mounts, networks, environment).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { useStore } from '../store.js';
import { act, actionsFor } from '../actions.js';
import { shortId } from '../format.js';
import { Logs } from './logs.jsx';
import { Shell } from './shell.jsx';
import { Stats } from './stats.jsx';
import { Json } from './json.jsx';

const TABS = ['logs', 'shell', 'stats', 'top', 'inspect', 'details'];

export function ContainerPage({ id }) {
  const s = useStore();
  const [info, setInfo] = useState(null);
  const [gone, setGone] = useState(null);
  const [tab, setTab] = useState('logs');
  // Inspect again on every event: state, health and removal show at once.
  useEffect(() => {
    let live = true;
    api.get(`/containers/${encodeURIComponent(id)}/json`).then(
      (i) => {
        if (!live) return;
        setInfo(i);
        setGone(null);
      },
      (e) => live && setGone(e.status === 404 ? 'This container no longer exists: it was removed.' : e.message),
    );
    return () => (live = false);
  }, [id, s.changed, s.daemonDown]);
  // Another container: show nothing of the last one meanwhile.
  useEffect(() => {
    setInfo(null);
    setGone(null);
  }, [id]);
  if (gone && s.daemonDown && !gone.startsWith('This container')) return <p class="muted">Waiting for the daemon…</p>;
  if (gone) return <p class="error" role="alert" id="container-gone">{gone} <a href="#/containers">Back to containers</a></p>;
  if (!info) return <p>Loading…</p>;
  const n = info.Name.replace(/^\//, '');
  const summary = { Id: info.Id, Names: [info.Name], State: info.State.Paused ? 'paused' : info.State.Status };
  const running = info.State.Running && !info.State.Paused;
  return (
    <section class="container-page">
      <div class="toolbar">
        <h1>
          <a href="#/containers">Containers</a> / <span id="container-name">{n}</span>
        </h1>
        <span class={`status ${summary.State}`} id="container-state">
          {summary.State}
          {info.State.Health ? ` (${info.State.Health.Status})` : ''}
        </span>
        <span class="muted">{info.Config.Image} · {shortId(info.Id)}</span>
        <span class="actions">
          {actionsFor(summary).map((a) => (
            <button class={a === 'remove' || a === 'kill' ? 'danger' : ''} data-action={a} onClick={() => act(a, [summary]).then((ok) => ok && a === 'remove' && (location.hash = '#/containers'))}>
              {a}
            </button>
          ))}
        </span>
      </div>
      <div role="tablist" class="tabs">
        {TABS.map((t) => (
          <button role="tab" id={`tab-${t}`} aria-selected={tab === t} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" class="panel">
        {tab === 'logs' && <Logs id={info.Id} tty={info.Config.Tty} />}
        {tab === 'shell' && (running ? <Shell id={info.Id} /> : <p>The container is not running: start it to open a shell.</p>)}
        {tab === 'stats' && (running ? <Stats id={info.Id} /> : <p>The container is not running.</p>)}
        {tab === 'top' && <Top id={info.Id} running={running} changed={s.changed} />}
        {tab === 'inspect' && <Json value={info} />}
        {tab === 'details' && <Details info={info} />}
      </div>
    </section>
  );
}

function Top({ id, running, changed }) {
  const [top, setTop] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    if (!running) return;
    api.get(`/containers/${encodeURIComponent(id)}/top`).then(setTop, (e) => setErr(e.message));
  }, [id, running, changed]);
  if (!running) return <p>The container is not running.</p>;
  if (err) return <p class="error">{err}</p>;
  if (!top) return <p>Loading…</p>;
  return (
    <table class="grid" id="top-table">
      <thead>
        <tr>{top.Titles.map((t) => <th>{t}</th>)}</tr>
      </thead>
      <tbody>
        {top.Processes.map((p) => (
          <tr>{p.map((v) => <td>{v}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

function Secret({ value }) {
  const [shown, setShown] = useState(false);
  return shown ? <code>{value}</code> : <button class="small" onClick={() => setShown(true)} aria-label="show value">show</button>;
}

function Details({ info }) {
  const nets = Object.entries((info.NetworkSettings && info.NetworkSettings.Networks) || {});
  return (
    <div class="details">
      <h2>Mounts</h2>
      {(info.Mounts || []).length === 0 ? <p class="muted">None.</p> : (
        <table class="grid">
          <thead><tr><th>Type</th><th>Source</th><th>Destination</th><th>Mode</th></tr></thead>
          <tbody>{info.Mounts.map((m) => <tr><td>{m.Type}</td><td>{m.Name || m.Source}</td><td>{m.Destination}</td><td>{m.RW ? 'rw' : 'ro'}</td></tr>)}</tbody>
        </table>
      )}
      <h2>Networks</h2>
      {nets.length === 0 ? <p class="muted">None.</p> : (
        <table class="grid">
          <thead><tr><th>Network</th><th>IP address</th><th>Gateway</th><th>MAC</th></tr></thead>
          <tbody>{nets.map(([k, n]) => <tr><td>{k}</td><td>{n.IPAddress}{n.IPPrefixLen ? `/${n.IPPrefixLen}` : ''}</td><td>{n.Gateway}</td><td>{n.MacAddress}</td></tr>)}</tbody>
        </table>
      )}
      <h2>Environment</h2>
      <table class="grid env">
        <tbody>
          {(info.Config.Env || []).map((e) => {
            const i = e.indexOf('=');
            return <tr><td>{i < 0 ? e : e.slice(0, i)}</td><td>{i < 0 ? '' : <Secret value={e.slice(i + 1)} />}</td></tr>;
          })}
        </tbody>
      </table>
    </div>
  );
}
