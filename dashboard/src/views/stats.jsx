// Live CPU, memory, network and block IO from the stats stream, computed
// as `docker stats` does, drawn as small SVG charts.
import { useEffect, useState } from 'preact/hooks';
import { jsonLines, stream } from '../api.js';
import { bytes } from '../format.js';

const KEEP = 60;

export function sample(s, prev) {
  const cpu = s.cpu_stats || {};
  const pre = s.precpu_stats || {};
  const cpuDelta = ((cpu.cpu_usage || {}).total_usage || 0) - ((pre.cpu_usage || {}).total_usage || 0);
  const sysDelta = (cpu.system_cpu_usage || 0) - (pre.system_cpu_usage || 0);
  const ncpu = cpu.online_cpus || ((cpu.cpu_usage || {}).percpu_usage || []).length || 1;
  const cpuPct = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * ncpu * 100 : 0;
  const mem = s.memory_stats || {};
  const cache = (mem.stats && (mem.stats.inactive_file ?? mem.stats.total_inactive_file)) || 0;
  const memUsed = Math.max(0, (mem.usage || 0) - cache);
  let rx = 0, tx = 0;
  for (const n of Object.values(s.networks || {})) {
    rx += n.rx_bytes || 0;
    tx += n.tx_bytes || 0;
  }
  let rd = 0, wr = 0;
  for (const e of (s.blkio_stats && s.blkio_stats.io_service_bytes_recursive) || []) {
    const op = (e.op || '').toLowerCase();
    if (op === 'read') rd += e.value;
    if (op === 'write') wr += e.value;
  }
  const t = Date.parse(s.read) / 1000;
  const rate = (now, before) => (prev && t > prev.t ? Math.max(0, (now - before) / (t - prev.t)) : 0);
  return {
    t, cpuPct, memUsed, memLimit: mem.limit || 0, rx, tx, rd, wr,
    net: prev ? rate(rx + tx, prev.rx + prev.tx) : 0,
    io: prev ? rate(rd + wr, prev.rd + prev.wr) : 0,
  };
}

export function Stats({ id }) {
  const [samples, setSamples] = useState([]);
  const [err, setErr] = useState(null);
  useEffect(() => {
    const abort = new AbortController();
    let list = [];
    stream('GET', `/api/containers/${encodeURIComponent(id)}/stats?stream=1`, jsonLines((s) => {
      list = [...list.slice(-(KEEP - 1)), sample(s, list[list.length - 1])];
      setSamples(list);
    }), abort.signal).catch((e) => abort.signal.aborted || setErr(e.message));
    return () => abort.abort();
  }, [id]);
  const last = samples[samples.length - 1];
  if (err) return <p class="error">{err}</p>;
  if (!last) return <p>Waiting for the first sample…</p>;
  return (
    <div class="charts" id="stats-charts" data-samples={samples.length}>
      <Chart title="CPU" value={`${last.cpuPct.toFixed(1)} %`} points={samples.map((s) => s.cpuPct)} />
      <Chart title="Memory" value={`${bytes(last.memUsed)}${last.memLimit ? ` / ${bytes(last.memLimit)}` : ''}`} points={samples.map((s) => s.memUsed)} />
      <Chart title="Network" value={`${bytes(last.net)}/s · rx ${bytes(last.rx)} tx ${bytes(last.tx)}`} points={samples.map((s) => s.net)} />
      <Chart title="Block IO" value={`${bytes(last.io)}/s · read ${bytes(last.rd)} write ${bytes(last.wr)}`} points={samples.map((s) => s.io)} />
    </div>
  );
}

function Chart({ title, value, points }) {
  const W = 300, H = 80;
  const max = Math.max(1e-9, ...points);
  const step = W / (KEEP - 1);
  const off = KEEP - points.length;
  const d = points.map((p, i) => `${((off + i) * step).toFixed(1)},${(H - (p / max) * (H - 4) - 2).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <figcaption>{title} <strong>{value}</strong></figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} over the last minute`}>
        <polyline points={d} fill="none" stroke="currentColor" stroke-width="2" />
      </svg>
    </figure>
  );
}
