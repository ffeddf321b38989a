// The frame: navigation, the daemon banner, and the routed view.
import { useEffect, useState } from 'preact/hooks';
import { useStore } from './store.js';
import { Containers } from './views/containers.jsx';
import { ContainerPage } from './views/container.jsx';
import { Images } from './views/images.jsx';
import { Volumes } from './views/volumes.jsx';
import { Networks } from './views/networks.jsx';
import { Events } from './views/events.jsx';
import { System } from './views/system.jsx';
import { Dialog } from './dialog.jsx';

const NAV = [
  ['containers', 'Containers'],
  ['images', 'Images'],
  ['volumes', 'Volumes'],
  ['networks', 'Networks'],
  ['events', 'Events'],
  ['system', 'System'],
];

function useRoute() {
  const get = () => (location.hash.replace(/^#\/?/, '') || 'containers').split('/').map(decodeURIComponent);
  const [route, set] = useState(get);
  useEffect(() => {
    const on = () => set(get());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App({ daemon }) {
  const s = useStore();
  const [section, id] = useRoute();
  let view;
  if (section === 'containers' && id) view = <ContainerPage id={id} />;
  else if (section === 'images') view = <Images />;
  else if (section === 'volumes') view = <Volumes />;
  else if (section === 'networks') view = <Networks />;
  else if (section === 'events') view = <Events />;
  else if (section === 'system') view = <System />;
  else view = <Containers />;
  return (
    <div class="frame">
      <header>
        <a class="brand" href="#/containers">berth</a>
        <nav aria-label="sections">
          {NAV.map(([k, label]) => (
            <a href={`#/${k}`} aria-current={section === k ? 'page' : undefined} id={`nav-${k}`}>
              {label}
            </a>
          ))}
        </nav>
        <span class="daemon" title="the daemon this dashboard talks to">{daemon}</span>
      </header>
      {s.daemonDown && (
        <div class="banner" role="alert" id="daemon-banner">
          Daemon unreachable ({s.daemonDown}). Reconnecting…
        </div>
      )}
      <main>{view}</main>
      <Dialog />
    </div>
  );
}
