// Pulling an image: the form, and one panel per pull with a row per layer
// (its phase and a progress bar), the daemon's status lines and its error.
import { useState } from 'preact/hooks';
import { dismiss, startPull, usePulls } from '../pulls.js';
import { bytes } from '../format.js';

export function PullForm() {
  const [ref, setRef] = useState('');
  const submit = (e) => {
    e.preventDefault();
    if (!ref.trim()) return;
    startPull(ref);
    setRef('');
  };
  return (
    <form class="inline" id="pull-form" onSubmit={submit}>
      <input placeholder="image to pull, e.g. alpine:3.20" aria-label="image to pull" required size="32" value={ref} onInput={(e) => setRef(e.target.value)} />
      <button type="submit" id="pull-submit">Pull</button>
    </form>
  );
}

const HEADING = { pulling: 'Pulling', done: 'Pulled', failed: 'Pull failed:' };

export function Pulls() {
  const pulls = usePulls();
  if (!pulls.length) return null;
  return (
    <div class="pulls">
      {pulls.map((p) => (
        <div class="pull" data-ref={p.ref} data-state={p.state} key={p.key} aria-live="polite">
          <h2>
            {HEADING[p.state]} <code>{p.ref}</code>
            {p.state !== 'pulling' && <button class="small" aria-label={`dismiss pull of ${p.ref}`} onClick={() => dismiss(p)}>dismiss</button>}
          </h2>
          {p.layers.length > 0 && (
            <table class="grid layers">
              <tbody>
                {p.layers.map((l) => (
                  <tr data-layer={l.id} data-status={l.status}>
                    <td><code>{l.id}</code></td>
                    <td class="phase">{l.status}</td>
                    <td class="bar">{l.total > 0 && <progress max={l.total} value={l.current} aria-label={`layer ${l.id}`} />}</td>
                    <td class="num">{l.total > 0 ? `${bytes(l.current)} / ${bytes(l.total)}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {p.lines.map((t) => <div class="pull-line">{t}</div>)}
          {p.error && <p class="error pull-error" role="alert">{p.error}</p>}
        </div>
      ))}
    </div>
  );
}
