//! Runs one [`CheckKind`] probe with its deadline and turns the result into an [`Outcome`].

use std::time::Instant as StdInstant;

use futures_lite::future;
use synod_core::health::CheckKind;
use synod_core::health::scheduler::Outcome;
use synod_core::state::catalog::types::HealthStatus;
use synod_core::time::Instant;

use super::{probe_http, probe_script, probe_tcp};
use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;

/// Runs `spec`, giving up (critical) at `deadline`.
pub(super) async fn run(env: SmolEnv, spec: CheckKind, deadline: Instant) -> Outcome {
    let timeout = deadline.saturating_since(env.now());
    let started = StdInstant::now();
    let probe = async {
        match &spec {
            CheckKind::Http(http) => probe_http::probe(http).await,
            CheckKind::Tcp { address } => probe_tcp::probe(address).await,
            CheckKind::Script { args } => probe_script::probe(args, timeout).await,
            // TTL checks are passive: the scheduler never asks to run one.
            CheckKind::Ttl { .. } => Outcome {
                status: HealthStatus::Critical,
                output: "TTL checks are not probed".to_owned(),
            },
        }
    };
    let expired = async {
        env.sleep_until(deadline).await;
        Outcome {
            status: HealthStatus::Critical,
            output: timed_out(&spec, started.elapsed()),
        }
    };
    future::or(probe, expired).await
}

fn timed_out(spec: &CheckKind, after: std::time::Duration) -> String {
    let after = synod_core::go_duration::format_go_duration(after);
    match spec {
        CheckKind::Http(http) => {
            format!("HTTP {} {}: timed out after {after}", http.method, http.url)
        }
        CheckKind::Tcp { address } => format!("dial tcp {address}: i/o timeout"),
        CheckKind::Script { .. } => format!("Timed out ({after}) running check"),
        CheckKind::Ttl { .. } => String::new(),
    }
}
