// CPU and memory for the containers table: a one-shot stats sample of
// each *visible* running container every few seconds (slower than the
// API's own one-second stream), CPU from the difference of two samples.
// Streams per row would exhaust the browser's six connections per host.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

const EVERY_MS = 5000;
const MAX_ROWS = 30;
const prev = new Map(); // id -> { total, system }

function cpuMem(s, id) {
  const cpu = s.cpu_stats || {};
  const total = (cpu.cpu_usage || {}).total_usage || 0;
  const system = cpu.system_cpu_usage || 0;
  const ncpu = cpu.online_cpus || 1;
  const p = prev.get(id);
  prev.set(id, { total, system });
  const cpuPct = p && system > p.system ? ((total - p.total) / (system - p.system)) * ncpu * 100 : null;
  const mem = s.memory_stats || {};
  const cache = (mem.stats && (mem.stats.inactive_file ?? mem.stats.total_inactive_file)) || 0;
  return { cpuPct, mem: mem.usage != null ? Math.max(0, mem.usage - cache) : null };
}

export function useRowStats(ids) {
  const [stats, setStats] = useState({});
  const key = ids.slice(0, MAX_ROWS).join(',');
  useEffect(() => {
    if (!key) return;
    const list = key.split(',');
    let live = true;
    let timer;
    const round = async () => {
      const got = {};
      // Two at a time: leave connections for events, logs and actions.
      for (let i = 0; i < list.length && live; i += 2) {
        await Promise.all(list.slice(i, i + 2).map(async (id) => {
          try {
            got[id] = cpuMem(await api.get(`/containers/${id}/stats?stream=0&one-shot=1`), id);
          } catch {
            // Stopped meanwhile: the next list drops it.
          }
        }));
      }
      if (!live) return;
      setStats((old) => ({ ...old, ...got }));
      timer = setTimeout(round, EVERY_MS);
    };
    round();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  return stats;
}
