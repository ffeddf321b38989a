// Container actions, one or many at once; destructive ones ask first and
// every failure shows the daemon's own message.
import { api } from './api.js';
import { confirmAction, reportError } from './dialog.jsx';
import { name } from './format.js';
import { refreshContainers } from './store.js';

const ACTIONS = {
  start: { path: (id) => `/containers/${id}/start` },
  stop: { path: (id) => `/containers/${id}/stop` },
  restart: { path: (id) => `/containers/${id}/restart` },
  pause: { path: (id) => `/containers/${id}/pause` },
  unpause: { path: (id) => `/containers/${id}/unpause` },
  kill: { path: (id) => `/containers/${id}/kill`, confirm: 'Kill' },
  remove: { path: (id) => `/containers/${id}?force=1`, method: 'del', confirm: 'Remove' },
};

// Which actions make sense in a container's state.
export function actionsFor(c) {
  switch (c.State) {
    case 'running':
      return ['stop', 'restart', 'pause', 'kill', 'remove'];
    case 'paused':
      return ['unpause', 'kill', 'remove'];
    case 'restarting':
      return ['stop', 'kill', 'remove'];
    default:
      return ['start', 'remove'];
  }
}

export async function act(action, containers) {
  const a = ACTIONS[action];
  if (!a || containers.length === 0) return false;
  if (a.confirm) {
    const names = containers.map(name).join(', ');
    const what = containers.length === 1 ? `container ${names}` : `${containers.length} containers (${names})`;
    const extra = action === 'remove' && containers.some((c) => c.State === 'running') ? ' Running containers are stopped first.' : '';
    if (!(await confirmAction(`${a.confirm} ${what}?${extra}`, a.confirm))) return false;
  }
  const failed = [];
  await Promise.all(
    containers.map(async (c) => {
      try {
        if (a.method === 'del') await api.del(a.path(encodeURIComponent(c.Id)));
        else await api.post(a.path(encodeURIComponent(c.Id)));
      } catch (e) {
        // No answer at all: the browser's connection was cut (Firefox
        // does so when the host's network changes). The dashboard lets
        // the request run to its end; the list follows the daemon.
        failed.push(e.status === 0 ? `${name(c)}: no answer (${e.message}); if the dashboard is still running, the daemon carries on and the list shows the outcome` : `${name(c)}: ${e.message}`);
      }
    }),
  );
  refreshContainers();
  if (failed.length) await reportError(`${action} failed: ${failed.join('; ')}`);
  return failed.length === 0;
}
