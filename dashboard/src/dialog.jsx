// Confirmation for destructive actions, and error reports: one modal at a
// time, answered with the keyboard or the mouse.
import { useEffect, useRef, useState } from 'preact/hooks';

let show = null;

// Resolves true when the user confirms.
export function confirmAction(message, verb = 'Remove') {
  return new Promise((resolve) => show({ message, verb, resolve }));
}

export function reportError(message) {
  return new Promise((resolve) => show({ message, resolve, error: true, notice: true }));
}

// A result to acknowledge (what a prune removed).
export function inform(message) {
  return new Promise((resolve) => show({ message, resolve, notice: true }));
}

export function Dialog() {
  const [d, setD] = useState(null);
  const ok = useRef();
  show = setD;
  useEffect(() => {
    if (d && ok.current) ok.current.focus();
  }, [d]);
  if (!d) return null;
  const close = (v) => {
    setD(null);
    d.resolve(v);
  };
  return (
    <div class="modal" onKeyDown={(e) => e.key === 'Escape' && close(false)}>
      <div class="dialog" role="dialog" aria-modal="true" id={d.error ? 'error-dialog' : d.notice ? 'info-dialog' : 'confirm-dialog'}>
        <p class={d.error ? 'error' : ''}>{d.message}</p>
        <div class="buttons">
          {d.notice ? (
            <button ref={ok} id="dialog-ok" onClick={() => close(true)}>OK</button>
          ) : (
            <>
              <button onClick={() => close(false)}>Cancel</button>
              <button ref={ok} class="danger" id="confirm-yes" onClick={() => close(true)}>
                {d.verb}
              </button>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
