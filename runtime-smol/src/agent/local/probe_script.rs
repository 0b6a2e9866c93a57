//! Script checks: run the program; exit 0 passing, 1 warning, anything else critical. The
//! output is what it wrote (stdout then stderr). Past the timeout the process is killed.

use std::process::Stdio;
use std::time::Duration;

use futures_lite::{AsyncReadExt, future};
use smol::process::Command;
use synod_core::health::scheduler::Outcome;
use synod_core::state::catalog::types::HealthStatus;

/// Most output read from a script; the scheduler caps what it stores further.
const MAX_READ: u64 = 64 * 1024;

/// Runs `args` with `timeout`.
pub(super) async fn probe(args: &[String], timeout: Duration) -> Outcome {
    let Some((program, rest)) = args.split_first() else {
        return critical("script check has no program to run".to_owned());
    };
    let mut child = match Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return critical(format!("Check failed to start: {e}")),
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let run = async {
        let mut output = Vec::new();
        if let Some(out) = stdout {
            let _ = out.take(MAX_READ).read_to_end(&mut output).await;
        }
        if let Some(err) = stderr {
            let _ = err.take(MAX_READ).read_to_end(&mut output).await;
        }
        let status = child.status().await;
        (status, output)
    };
    let expired = async {
        smol::Timer::after(timeout).await;
        None
    };
    match future::or(async { Some(run.await) }, expired).await {
        None => critical(format!(
            "Timed out ({}) running check",
            synod_core::go_duration::format_go_duration(timeout)
        )),
        Some((Err(e), _)) => critical(format!("Check failed: {e}")),
        Some((Ok(exit), output)) => Outcome {
            status: match exit.code() {
                Some(0) => HealthStatus::Passing,
                Some(1) => HealthStatus::Warning,
                _ => HealthStatus::Critical,
            },
            output: String::from_utf8_lossy(&output).into_owned(),
        },
    }
}

fn critical(output: String) -> Outcome {
    Outcome {
        status: HealthStatus::Critical,
        output,
    }
}
