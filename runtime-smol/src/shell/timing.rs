//! Timer helpers shared by the loop and its connection tasks.

use std::future::Future;

use futures_lite::future;
use synod_core::time::Instant;

use super::env::Env;

/// Sleeps until `deadline`, or forever when there is none.
pub(crate) async fn sleep_until_opt<E: Env>(env: &E, deadline: Option<Instant>) {
    match deadline {
        Some(at) => env.sleep_until(at).await,
        None => future::pending().await,
    }
}

/// Runs `task` until `deadline`: `None` if the deadline came first.
pub(crate) async fn with_deadline<E: Env, T>(
    env: &E,
    deadline: Instant,
    task: impl Future<Output = T>,
) -> Option<T> {
    future::or(async { Some(task.await) }, async {
        env.sleep_until(deadline).await;
        None
    })
    .await
}
