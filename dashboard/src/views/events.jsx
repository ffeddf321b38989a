// The daemon's events as they arrive (newest first).
import { useState } from 'preact/hooks';
import { useStore } from '../store.js';

export function Events() {
  const s = useStore();
  const [type, setType] = useState('');
  const list = s.events.filter((e) => !type || e.Type === type).slice().reverse();
  return (
    <section>
      <div class="toolbar">
        <h1>Events</h1>
        <select aria-label="event type" value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">all types</option>
          {['container', 'image', 'volume', 'network', 'daemon', 'plugin'].map((t) => <option value={t}>{t}</option>)}
        </select>
        <span class="muted">live since the page opened; the last {s.events.length}</span>
      </div>
      <table class="grid" id="events-table">
        <thead><tr><th>Time</th><th>Type</th><th>Action</th><th>Object</th></tr></thead>
        <tbody>
          {list.map((e) => (
            <tr>
              <td>{new Date((e.timeNano ? e.timeNano / 1e6 : e.time * 1000)).toLocaleTimeString()}</td>
              <td>{e.Type}</td>
              <td>{e.Action}</td>
              <td>{(e.Actor && e.Actor.Attributes && e.Actor.Attributes.name) || (e.Actor && e.Actor.ID || '').slice(0, 12)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.length === 0 && <p class="empty">No events yet.</p>}
    </section>
  );
}
