// Loads an API document and loads it again when the event stream says
// something changed (no polling).
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { useStore } from './store.js';

export function useApi(path) {
  const s = useStore();
  const [data, setData] = useState(null);
  const [err, setErr] = useState(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    api.get(path).then(
      (d) => live && (setData(d), setErr(null)),
      (e) => live && setErr(e.message),
    );
    return () => (live = false);
  }, [path, s.changed, n]);
  return [data, err, () => setN(n + 1)];
}
