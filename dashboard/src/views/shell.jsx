// An interactive shell: an exec with a tty, started on the dashboard's
// hijacked connection, shown in xterm.js.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { api, raw, stream } from '../api.js';

export function Shell({ id }) {
  const [cmd, setCmd] = useState('/bin/sh');
  const [run, setRun] = useState(0);
  const [status, setStatus] = useState('');
  const el = useRef();
  useEffect(() => {
    if (!run) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 13, convertEol: false, scrollback: 2000 });
    const fitter = new FitAddon();
    term.loadAddon(fitter);
    term.open(el.current);
    const abort = new AbortController();
    let exec = null;
    let queue = '';
    let sending = false;
    // One input request in flight at a time keeps keystrokes in order.
    const send = async () => {
      if (sending || !queue || !exec) return;
      sending = true;
      const data = queue;
      queue = '';
      try {
        await raw('POST', `/shell/${exec}/input`, data);
      } catch (e) {
        setStatus(`input failed: ${e.message}`);
      }
      sending = false;
      send();
    };
    term.onData((d) => {
      queue += d;
      send();
    });
    // The terminal fills its box; a resize reaches the exec below.
    const fit = () => fitter.fit();
    term.onResize(({ cols, rows }) => exec && api.post(`/exec/${exec}/resize?h=${rows}&w=${cols}`).catch(() => {}));
    (async () => {
      try {
        fit();
        const argv = cmd.trim().split(/\s+/);
        const created = await api.post(`/containers/${encodeURIComponent(id)}/exec`, {
          AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: argv,
          Env: ['TERM=xterm-256color'], ConsoleSize: [term.rows, term.cols],
        });
        exec = created.Id;
        setStatus(`connected: ${argv.join(' ')}`);
        term.focus();
        const resized = api.post(`/exec/${exec}/resize?h=${term.rows}&w=${term.cols}`).catch(() => {});
        await stream('POST', `/shell/${exec}`, (chunk) => term.write(chunk), abort.signal);
        await resized;
        const res = await api.get(`/exec/${exec}/json`).catch(() => null);
        setStatus(`exited${res && res.ExitCode != null ? ` with code ${res.ExitCode}` : ''}`);
      } catch (e) {
        if (!abort.signal.aborted) setStatus(`the shell failed: ${e.message}`);
      }
    })();
    addEventListener('resize', fit);
    return () => {
      removeEventListener('resize', fit);
      abort.abort();
      term.dispose();
    };
  }, [id, run]);
  return (
    <div class="shell">
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); setRun(run + 1); }}>
        <label>Command <input id="shell-cmd" value={cmd} onInput={(e) => setCmd(e.target.value)} /></label>
        <button type="submit" id="shell-connect">{run ? 'Reconnect' : 'Connect'}</button>
        <span class="muted" id="shell-status" role="status">{status}</span>
      </form>
      <div class="term" ref={el} id="terminal" />
    </div>
  );
}
