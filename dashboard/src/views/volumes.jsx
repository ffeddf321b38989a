// Volumes: driver, size (from system df), which containers use them;
// remove, prune.
import { api } from '../api.js';
import { useApi } from '../fetch.js';
import { useStore } from '../store.js';
import { confirmAction, inform, reportError } from '../dialog.jsx';
import { bytes, name } from '../format.js';

export function Volumes() {
  const s = useStore();
  const [vols, err, reload] = useApi('/volumes');
  const [df] = useApi('/system/df?type=volume');
  const size = (v) => {
    const d = df && (df.Volumes || []).find((x) => x.Name === v.Name);
    return d && d.UsageData ? d.UsageData.Size : -1;
  };
  const users = (v) => (s.containers || []).filter((c) => (c.Mounts || []).some((m) => m.Name === v.Name));
  const remove = async (v) => {
    if (!(await confirmAction(`Remove volume ${v.Name}? Its data is deleted.`))) return;
    try {
      await api.del(`/volumes/${encodeURIComponent(v.Name)}`);
    } catch (e) {
      await reportError(`Cannot remove ${v.Name}: ${e.message}`);
    }
    reload();
  };
  const prune = async () => {
    if (!(await confirmAction('Remove all unused anonymous volumes?', 'Prune'))) return;
    try {
      const r = await api.post('/volumes/prune');
      await inform(`Reclaimed ${bytes(r.SpaceReclaimed)} (${(r.VolumesDeleted || []).length} deleted).`);
    } catch (e) {
      await reportError(e.message);
    }
    reload();
  };
  const list = (vols && vols.Volumes) || [];
  return (
    <section>
      <div class="toolbar">
        <h1>Volumes</h1>
        <button id="volumes-prune" onClick={prune}>Prune unused</button>
      </div>
      {err && <p class="error" role="alert">{err}</p>}
      {vols && (
        <table class="grid" id="volumes-table">
          <thead><tr><th>Name</th><th>Driver</th><th>Size</th><th>Used by</th><th>Actions</th></tr></thead>
          <tbody>
            {list.map((v) => {
              const u = users(v);
              return (
                <tr data-volume={v.Name}>
                  <td><code>{v.Name}</code></td>
                  <td>{v.Driver}</td>
                  <td>{bytes(size(v))}</td>
                  <td>{u.length ? u.map((c) => <a href={`#/containers/${c.Id}`}>{name(c)} </a>) : <span class="muted">unused</span>}</td>
                  <td><button class="small danger" data-action="remove" aria-label={`remove ${v.Name}`} onClick={() => remove(v)}>remove</button></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {vols && list.length === 0 && <p class="empty">No volumes.</p>}
    </section>
  );
}
