// Pulling an image: the form, and one panel per pull with a row per layer
// (its phase and a progress bar), the daemon's status lines and its error.
import { useRef } from 'preact/hooks';
import { dismiss, startPull, usePulls } from '../pulls.js';
import { bytes } from '../format.js';

// The input is read when the form is sent, not kept in state: a fast
// typist (or a WebDriver) can press Enter before the last keystroke's
// render.
export function PullForm() {
  const input = useRef();
  const submit = (e) => {
    e.preventDefault();
    const ref = input.current.value.trim();
    if (!ref) return;
    startPull(ref);
    input.current.value = '';
  };
  return (
    <form class="inline" id="pull-form" onSubmit={submit}>
      <input ref={input} placeholder="image to pull, e.g. alpine:3.20" aria-label="image to pull" required size="32" />
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
