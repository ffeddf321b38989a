//! Running a batch of independent engine calls at once (the creates or
//! starts of one dependency level, as Compose does) inside the current
//! task: the futures borrow the session, so they cannot be spawned, and
//! berth-cli has no futures crate for a `join_all`.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

pub type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Polls every future until all are done; results in the order given.
pub async fn join_all<'a, T>(tasks: Vec<Task<'a, T>>) -> Vec<T> {
    let mut tasks: Vec<Option<Task<'a, T>>> = tasks.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = tasks.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in tasks.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// All results, or the first error after every task has finished (so no
/// call is abandoned half-way).
pub async fn try_join_all<'a, T>(tasks: Vec<Task<'a, anyhow::Result<T>>>) -> anyhow::Result<Vec<T>> {
    join_all(tasks).await.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_keep_their_order() {
        let tasks: Vec<Task<'_, u32>> = vec![
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                1
            }),
            Box::pin(async { 2 }),
        ];
        assert_eq!(join_all(tasks).await, vec![1, 2]);
    }
}
