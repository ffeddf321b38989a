//! Keeps the classic builder's linear output while stages run in parallel: the events of
//! the earliest unfinished stage pass straight through, later stages' events are held
//! and released, in stage order, as the stages before them finish.

use std::sync::Mutex;

use crate::host::BuildEvents;

enum Ev {
    Step(usize, usize, String),
    Cached,
    Output(Vec<u8>),
    Done(String),
    Warning(String),
}

fn replay(inner: &dyn BuildEvents, e: &Ev) {
    match e {
        Ev::Step(n, t, s) => inner.step(*n, *t, s),
        Ev::Cached => inner.cached(),
        Ev::Output(b) => inner.output(b),
        Ev::Done(id) => inner.step_done(id),
        Ev::Warning(w) => inner.warning(w),
    }
}

struct State {
    head: usize,
    held: Vec<Vec<Ev>>,
    finished: Vec<bool>,
}

pub struct Ordered<'a> {
    inner: &'a dyn BuildEvents,
    state: Mutex<State>,
}

impl<'a> Ordered<'a> {
    /// `n` positions (stages in build order).
    pub fn new(inner: &'a dyn BuildEvents, n: usize) -> Self {
        Ordered {
            inner,
            state: Mutex::new(State {
                head: 0,
                held: (0..n).map(|_| Vec::new()).collect(),
                finished: vec![false; n],
            }),
        }
    }

    pub fn at(&self, pos: usize) -> StageEvents<'_, 'a> {
        StageEvents { o: self, pos }
    }

    fn emit(&self, pos: usize, e: Ev) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if pos == st.head {
            replay(self.inner, &e);
        } else if let Some(h) = st.held.get_mut(pos) {
            h.push(e);
        }
    }

    /// Stage at `pos` is done (or failed): release what waits behind it.
    pub fn finish(&self, pos: usize) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = st.finished.get_mut(pos) {
            *f = true;
        }
        while st.head < st.finished.len() && st.finished[st.head] {
            st.head += 1;
            if st.head < st.held.len() {
                let head = st.head;
                let held = std::mem::take(&mut st.held[head]);
                for e in &held {
                    replay(self.inner, e);
                }
            }
        }
    }
}

/// The events of one stage.
pub struct StageEvents<'o, 'a> {
    o: &'o Ordered<'a>,
    pos: usize,
}

impl BuildEvents for StageEvents<'_, '_> {
    fn step(&self, n: usize, total: usize, text: &str) {
        self.o.emit(self.pos, Ev::Step(n, total, text.to_string()));
    }
    fn cached(&self) {
        self.o.emit(self.pos, Ev::Cached);
    }
    fn output(&self, bytes: &[u8]) {
        self.o.emit(self.pos, Ev::Output(bytes.to_vec()));
    }
    fn step_done(&self, image_id: &str) {
        self.o.emit(self.pos, Ev::Done(image_id.to_string()));
    }
    fn warning(&self, text: &str) {
        self.o.emit(self.pos, Ev::Warning(text.to_string()));
    }
}
