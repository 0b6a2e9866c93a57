//! The agent's disk: in memory for `-dev`, the write-ahead log under `<data-dir>/raft` otherwise.

use async_channel::Receiver;
use synod_core::ids::IoToken;
use synod_core::raft::{LogWrite, Recovered};

use super::{AgentConfig, AgentError, peers_json};
use crate::shell::log::Log;
use crate::shell::{Disk, MemoryDisk, MemoryImage};
use crate::storage::{GroupCommitter, Storage, StorageOptions, raft_dir};

/// The disk the agent's node writes to.
#[derive(Debug)]
pub(crate) enum AgentDisk {
    /// `-dev`: nothing survives the process.
    Memory(MemoryDisk),
    /// The WAL, written by its group-commit thread (one fdatasync per batch).
    Wal { committer: GroupCommitter, log: Log },
}

impl AgentDisk {
    /// Opens the disk `config` asks for: the disk, its completion channel and what it held.
    pub(crate) fn open(
        config: &AgentConfig,
        log: &Log,
    ) -> Result<(AgentDisk, Receiver<IoToken>, Recovered), AgentError> {
        let data_dir = match (&config.data_dir, config.dev) {
            (Some(dir), false) => dir,
            _ => {
                let (disk, durable) = MemoryDisk::new(MemoryImage::new());
                return Ok((AgentDisk::Memory(disk), durable, Recovered::default()));
            }
        };
        let (mut storage, mut recovered) = Storage::open(data_dir, StorageOptions::default())
            .map_err(|e| AgentError(format!("failed to open the raft log: {e}")))?;
        if let Some(torn) = storage.torn_tail() {
            log.warn(
                "agent.server.wal",
                format_args!(
                    "dropped a torn write at the end of the log: file={} offset={} bytes={}",
                    torn.path.display(),
                    torn.offset,
                    torn.dropped_bytes
                ),
            );
        }
        recover_from_peers_json(data_dir, &mut storage, &mut recovered, log)?;
        let (done, durable) = async_channel::unbounded();
        let committer = GroupCommitter::spawn_with_channel(storage, done)
            .map_err(|e| AgentError(format!("failed to start the log writer: {e}")))?;
        let disk = AgentDisk::Wal {
            committer,
            log: log.clone(),
        };
        Ok((disk, durable, recovered))
    }
}

/// Applies `raft/peers.json` if the operator left one (see [`peers_json`]); a bad file refuses
/// to start and stays in place for the operator to fix.
fn recover_from_peers_json(
    data_dir: &std::path::Path,
    storage: &mut Storage,
    recovered: &mut Recovered,
    log: &Log,
) -> Result<(), AgentError> {
    let dir = raft_dir(data_dir);
    let Some(membership) = peers_json::read(&dir, recovered)
        .map_err(|e| AgentError(format!("failed to recover from peers.json: {e}")))?
    else {
        return Ok(());
    };
    log.info(
        "agent.server.raft",
        format_args!("found peers.json file, recovering Raft configuration..."),
    );
    let write = recovered
        .recover_membership(membership)
        .map_err(|e| AgentError(format!("failed to recover from peers.json: {e}")))?;
    storage
        .write(&[write])
        .map_err(|e| AgentError(format!("failed to write the recovered configuration: {e}")))?;
    peers_json::remove(&dir).map_err(|e| {
        AgentError(format!(
            "recovered the configuration but failed to delete {}: {e}",
            peers_json::path(&dir).display()
        ))
    })?;
    log.info(
        "agent.server.raft",
        format_args!("deleted peers.json file after successful recovery"),
    );
    Ok(())
}

impl Disk for AgentDisk {
    fn submit(&mut self, token: IoToken, write: LogWrite) {
        match self {
            AgentDisk::Memory(disk) => disk.submit(token, write),
            AgentDisk::Wal { committer, log } => {
                // On failure the writer thread has stopped and closed the completion channel,
                // which stops the loop; say why here, where the error is known.
                if let Err(e) = committer.submit(token, write) {
                    log.error("agent.server.wal", format_args!("write failed: {e}"));
                }
            }
        }
    }
}
