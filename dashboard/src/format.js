// Small display helpers shared by the views.

export function shortId(id) {
  return (id || '').replace(/^sha256:/, '').slice(0, 12);
}

export function name(c) {
  return ((c.Names && c.Names[0]) || shortId(c.Id)).replace(/^\//, '');
}

export function bytes(n) {
  if (n == null || n < 0) return '—';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n < 10 && i ? n.toFixed(2) : n < 100 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}

export function ago(unixSeconds) {
  if (!unixSeconds) return '—';
  const s = Math.max(0, Date.now() / 1000 - unixSeconds);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function ports(c) {
  const seen = new Set();
  return (c.Ports || [])
    .filter((p) => p.PublicPort)
    .filter((p) => {
      const k = `${p.PublicPort}/${p.Type}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

export const COMPOSE = 'com.docker.compose.project';

// Where published ports are reached: the daemon's host for a TCP daemon,
// else the machine the dashboard runs on.
let daemonHost = '';
export function setDaemon(url) {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:]+)/.exec(url || '');
  daemonHost = m ? m[1] : '';
}

export function portUrl(p) {
  const specific = p.IP && p.IP !== '0.0.0.0' && p.IP !== '::';
  const host = specific ? (p.IP.includes(':') ? `[${p.IP}]` : p.IP) : daemonHost || location.hostname;
  return `http://${host}:${p.PublicPort}/`;
}
