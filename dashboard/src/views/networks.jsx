// Networks: driver, subnets, connected containers; create, remove.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useApi } from '../fetch.js';
import { useStore } from '../store.js';
import { confirmAction, reportError } from '../dialog.jsx';
import { name, shortId } from '../format.js';

export function Networks() {
  const s = useStore();
  const [nets, err, reload] = useApi('/networks');
  const [form, setForm] = useState({ name: '', subnet: '' });
  const connected = (n) => (s.containers || []).filter((c) => Object.values((c.NetworkSettings && c.NetworkSettings.Networks) || {}).some((e) => e.NetworkID === n.Id));
  const create = async (e) => {
    e.preventDefault();
    const body = { Name: form.name.trim(), Driver: 'bridge' };
    if (form.subnet.trim()) body.IPAM = { Config: [{ Subnet: form.subnet.trim() }] };
    try {
      await api.post('/networks/create', body);
      setForm({ name: '', subnet: '' });
    } catch (x) {
      await reportError(`Cannot create network: ${x.message}`);
    }
    reload();
  };
  const remove = async (n) => {
    if (!(await confirmAction(`Remove network ${n.Name}?`))) return;
    try {
      await api.del(`/networks/${encodeURIComponent(n.Id)}`);
    } catch (x) {
      await reportError(`Cannot remove ${n.Name}: ${x.message}`);
    }
    reload();
  };
  return (
    <section>
      <div class="toolbar">
        <h1>Networks</h1>
        <form class="inline" onSubmit={create}>
          <input placeholder="name" aria-label="new network name" required value={form.name} onInput={(e) => setForm({ ...form, name: e.target.value })} />
          <input placeholder="subnet (optional)" aria-label="new network subnet" value={form.subnet} onInput={(e) => setForm({ ...form, subnet: e.target.value })} />
          <button type="submit">Create bridge network</button>
        </form>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      {nets && (
        <table class="grid" id="networks-table">
          <thead><tr><th>Name</th><th>ID</th><th>Driver</th><th>Subnets</th><th>Containers</th><th>Actions</th></tr></thead>
          <tbody>
            {nets.map((n) => (
              <tr data-network={n.Name}>
                <td>{n.Name}</td>
                <td><code>{shortId(n.Id)}</code></td>
                <td>{n.Driver}</td>
                <td>{((n.IPAM && n.IPAM.Config) || []).map((c) => c.Subnet).filter(Boolean).join(', ')}</td>
                <td>{connected(n).map((c) => <a href={`#/containers/${c.Id}`}>{name(c)} </a>)}</td>
                <td>{!['bridge', 'host', 'none'].includes(n.Name) && <button class="small danger" aria-label={`remove ${n.Name}`} onClick={() => remove(n)}>remove</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
