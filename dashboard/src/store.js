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

// A broken event stream is not always the daemon's absence: Firefox
// closes connections that stay silent for 5 s after the host's network
// changes (a container's veth pair coming or going). So ask the daemon
// before raising the banner, and resume from the last event seen so that
// nothing that happened in the gap is missed.
async function followEvents() {
  let pause = 500;
  for (;;) {
    const opened = Date.now();
    try {
      const last = state.events[state.events.length - 1];
      const since = last && last.time ? `?since=${last.time}` : '';
      await stream('GET', `/api/events${since}`, jsonLines(onEvent));
      throw new Error('the event stream ended');
    } catch (e) {
      try {
        await api.text('/_ping');
        // The daemon is there: reopen the stream, backing off if it keeps
        // breaking at once (never a tight loop).
        pause = Date.now() - opened > 10000 ? 500 : Math.min(pause * 2, 10000);
        await new Promise((r) => setTimeout(r, pause));
        state.changed++;
        refreshContainers();
        emit();
        continue;
      } catch {
        state.daemonDown = e.message;
        emit();
      }
    }
    await waitForDaemon();
  }
}

const key = (ev) => `${ev.timeNano} ${ev.Type} ${ev.Action} ${ev.Actor && ev.Actor.ID}`;

function onEvent(ev) {
  // `since` is whole seconds: the replay repeats what was already seen.
  if (ev.time && state.events.length && ev.time <= state.events[state.events.length - 1].time) {
    const k = key(ev);
    if (state.events.some((e) => e.time === ev.time && key(e) === k)) return;
  }
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
