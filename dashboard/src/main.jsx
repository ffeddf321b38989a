// The dashboard's entry: checks the session, then renders the app.
import { render } from 'preact';
import { session } from './api.js';
import { App } from './app.jsx';
import { start } from './store.js';
import { setDaemon } from './format.js';
import './app.css';

const root = document.getElementById('app');
session().then(
  (s) => {
    setDaemon(s.daemon);
    start();
    render(<App daemon={s.daemon} />, root);
  },
  (e) => {
    render(
      <main class="login">
        <h1>berth dashboard</h1>
        <p role="alert">{e.status === 401 ? 'Not logged in. Open the login URL that `berth dashboard` printed (it works once).' : e.message}</p>
      </main>,
      root,
    );
  },
);
