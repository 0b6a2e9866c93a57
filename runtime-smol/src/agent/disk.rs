//! The agent's disk: in memory for `-dev`, the write-ahead log under `<data-dir>/raft` otherwise.

use async_channel::Receiver;
use synod_core::ids::IoToken;
use synod_core::raft::{LogWrite, Recovered};

use super::{AgentConfig, AgentError};
use crate::shell::log::Log;
use crate::shell::{Disk, MemoryDisk, MemoryImage};

/// The disk the agent's node writes to.
#[derive(Debug)]
pub(crate) enum AgentDisk {
    /// `-dev`: nothing survives the process.
    Memory(MemoryDisk),
}

impl AgentDisk {
    /// Opens the disk `config` asks for: the disk, its completion channel and what it held.
    pub(crate) fn open(
        config: &AgentConfig,
        log: &Log,
    ) -> Result<(AgentDisk, Receiver<IoToken>, Recovered), AgentError> {
        if config.dev {
            let (disk, durable) = MemoryDisk::new(MemoryImage::new());
            return Ok((AgentDisk::Memory(disk), durable, Recovered::default()));
        }
        let _ = log;
        Err(AgentError(
            "durable storage is not available in this build yet: use -dev".to_string(),
        ))
    }
}

impl Disk for AgentDisk {
    fn submit(&mut self, token: IoToken, write: LogWrite) {
        match self {
            AgentDisk::Memory(disk) => disk.submit(token, write),
        }
    }
}
