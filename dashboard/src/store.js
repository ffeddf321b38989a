// The live state every view shares: the container list, kept current by
// the daemon's event stream (refetched when a container event arrives,
// never polled), the recent events, and whether the daemon answers.

import { useEffect, useState } from 'preact/hooks';
import { api, stream, jsonLines } from './api.js';

const state = {
  containers: null, // null until the first list arrives
  events: [], // newest last, at most MAX_EVENTS
  daemonDown: null, // null or the error message
  error: null,
  changed: 0, // bumped by every event (views refetch what they show)
};
const listeners = new Set();
const MAX_EVENTS = 500;

function emit() {
  for (const l of listeners) l(state);
}

export function useStore() {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return state;
}

let refetchTimer = null;
let listing = false;
export function refreshContainers() {
  // Coalesce bursts of events (a compose up, a prune) into one list.
  if (refetchTimer) return;
  refetchTimer = setTimeout(async () => {
    refetchTimer = null;
    if (listing) return refreshContainers();
    listing = true;
    try {
      state.containers = await api.get('/containers/json?all=1');
      state.error = null;
    } catch (e) {
      state.error = e.message;
    } finally {
      listing = false;
    }
    emit();
  }, state.containers ? 50 : 0);
}

async function followEvents() {
  for (;;) {
    try {
      await stream('GET', '/api/events', jsonLines(onEvent));
      throw new Error('the event stream ended');
    } catch (e) {
      state.daemonDown = e.message;
      emit();
    }
    await waitForDaemon();
  }
}

function onEvent(ev) {
  state.events.push(ev);
  if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
  state.changed++;
  if (ev.Type === 'container') refreshContainers();
  emit();
}

// Back off while the daemon is away; a ping answers when it returns.
async function waitForDaemon() {
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    try {
      await api.text('/_ping');
      state.daemonDown = null;
      state.changed++;
      refreshContainers();
      emit();
      return;
    } catch (e) {
      state.daemonDown = e.message;
      emit();
    }
  }
}

// Something changed that no event announced (a pull's end): views refetch.
export function touch() {
  state.changed++;
  emit();
}

export function start() {
  refreshContainers();
  followEvents();
}
