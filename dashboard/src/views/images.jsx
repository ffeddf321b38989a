// Images: size, tags, created, which containers use them; pull, remove,
// prune, history.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useApi } from '../fetch.js';
import { useStore } from '../store.js';
import { confirmAction, inform, reportError } from '../dialog.jsx';
import { ago, bytes, name, shortId } from '../format.js';
import { PullForm, Pulls } from './pull.jsx';

export function Images() {
  const s = useStore();
  const [images, err, reload] = useApi('/images/json');
  const [history, setHistory] = useState(null);
  const users = (img) => (s.containers || []).filter((c) => c.ImageID === img.Id);
  // One row per tag, as `docker images`: removing a tag untags, and the
  // image goes with its last tag.
  const remove = async (img, tag) => {
    const label = tag || shortId(img.Id);
    const last = !tag || (img.RepoTags || []).length <= 1;
    if (!(await confirmAction(`Remove image ${label}?${last ? '' : ' (untags it; the image keeps its other tags)'}`))) return;
    try {
      await api.del(`/images/${encodeURIComponent(tag || img.Id)}`);
    } catch (e) {
      await reportError(`Cannot remove ${label}: ${e.message}`);
    }
    reload();
  };
  const prune = async () => {
    if (!(await confirmAction('Remove all dangling images?', 'Prune'))) return;
    try {
      const r = await api.post('/images/prune');
      await inform(`Reclaimed ${bytes(r.SpaceReclaimed)} (${(r.ImagesDeleted || []).length} deleted).`);
    } catch (e) {
      await reportError(e.message);
    }
    reload();
  };
  const showHistory = async (img) => {
    try {
      setHistory({ img, rows: await api.get(`/images/${encodeURIComponent(img.Id)}/history`) });
    } catch (e) {
      reportError(e.message);
    }
  };
  return (
    <section>
      <div class="toolbar">
        <h1>Images</h1>
        <PullForm />
        <button id="images-prune" onClick={prune}>Prune dangling</button>
      </div>
      <Pulls />
      {err && <p class="error" role="alert">{err}</p>}
      {images && (
        <table class="grid" id="images-table">
          <thead><tr><th>Tag</th><th>ID</th><th>Size</th><th>Created</th><th>Used by</th><th>Actions</th></tr></thead>
          <tbody>
            {images.flatMap((img) => (img.RepoTags && img.RepoTags.length ? img.RepoTags : [null]).map((tag) => [img, tag])).map(([img, tag]) => {
              const u = users(img);
              const label = tag || '<none>';
              return (
                <tr data-image={label}>
                  <td>{label}</td>
                  <td><code>{shortId(img.Id)}</code></td>
                  <td>{bytes(img.Size)}</td>
                  <td>{ago(img.Created)}</td>
                  <td>{u.length ? u.map((c) => <a href={`#/containers/${c.Id}`}>{name(c)} </a>) : <span class="muted">unused</span>}</td>
                  <td>
                    <button class="small" onClick={() => showHistory(img)}>history</button>
                    <button class="small danger" data-action="remove" aria-label={`remove ${label}`} onClick={() => remove(img, tag)}>remove</button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {history && (
        <div class="history">
          <h2>History of {(history.img.RepoTags || [])[0] || shortId(history.img.Id)} <button class="small" onClick={() => setHistory(null)}>close</button></h2>
          <table class="grid">
            <thead><tr><th>Created</th><th>Created by</th><th>Size</th></tr></thead>
            <tbody>{history.rows.map((h) => <tr><td>{ago(h.Created)}</td><td><code>{h.CreatedBy}</code></td><td>{bytes(h.Size)}</td></tr>)}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
