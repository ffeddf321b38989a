// Disk usage, version and info.
import { useApi } from '../fetch.js';
import { bytes } from '../format.js';

export function System() {
  const [df, dfErr] = useApi('/system/df');
  const [version] = useApi('/version');
  const [info] = useApi('/info');
  const sum = (list, f) => (list || []).reduce((a, x) => a + (f(x) || 0), 0);
  return (
    <section class="system">
      <h1>System</h1>
      {dfErr && <p class="error">{dfErr}</p>}
      {df && (
        <table class="grid" id="df-table">
          <thead><tr><th>Type</th><th>Total</th><th>Active</th><th>Size</th></tr></thead>
          <tbody>
            <tr><td>Images</td><td>{(df.Images || []).length}</td><td>{(df.Images || []).filter((i) => i.Containers > 0).length}</td><td>{bytes(df.LayersSize)}</td></tr>
            <tr><td>Containers</td><td>{(df.Containers || []).length}</td><td>{(df.Containers || []).filter((c) => c.State === 'running').length}</td><td>{bytes(sum(df.Containers, (c) => c.SizeRw))}</td></tr>
            <tr><td>Local volumes</td><td>{(df.Volumes || []).length}</td><td>{(df.Volumes || []).filter((v) => v.UsageData && v.UsageData.RefCount > 0).length}</td><td>{bytes(sum(df.Volumes, (v) => v.UsageData && v.UsageData.Size > 0 ? v.UsageData.Size : 0))}</td></tr>
          </tbody>
        </table>
      )}
      <div class="cols">
        {version && (
          <dl id="version">
            <dt>Server</dt><dd>{version.Version}</dd>
            <dt>API version</dt><dd>{version.ApiVersion} (minimum {version.MinAPIVersion})</dd>
            <dt>OS/Arch</dt><dd>{version.Os}/{version.Arch}</dd>
            <dt>Kernel</dt><dd>{version.KernelVersion}</dd>
          </dl>
        )}
        {info && (
          <dl id="info">
            <dt>Name</dt><dd>{info.Name}</dd>
            <dt>Containers</dt><dd>{info.Containers} ({info.ContainersRunning} running, {info.ContainersPaused} paused, {info.ContainersStopped} stopped)</dd>
            <dt>Images</dt><dd>{info.Images}</dd>
            <dt>Storage driver</dt><dd>{info.Driver}</dd>
            <dt>Cgroup</dt><dd>{info.CgroupDriver} v{info.CgroupVersion}</dd>
            <dt>Runtimes</dt><dd>{Object.keys(info.Runtimes || {}).join(', ')} (default {info.DefaultRuntime})</dd>
            <dt>CPUs / memory</dt><dd>{info.NCPU} / {bytes(info.MemTotal)}</dd>
            <dt>Root dir</dt><dd>{info.DockerRootDir}</dd>
          </dl>
        )}
      </div>
    </section>
  );
}
