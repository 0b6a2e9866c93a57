//! The gossip driver: runs a `synod_core::gossip::Gossip` state machine over real sockets —
//! UDP for probes and piggybacked gossip, TCP for push-pull — plus the gossip key helpers.
//!
//! ```text
//! let (serf, task) = serf::start(env.clone(), SerfConfig::new(bind, "node-1", Config::lan()))?;
//! env.spawn(task); // or keep `executor.spawn(task)` to be able to kill it

//! serf.join(&[seed]).await?;
//! ```

mod config;
mod driver;
mod handle;
mod keys;
mod stats;
mod transport;

pub use config::SerfConfig;
pub use handle::{SerfError, SerfHandle};
pub use keys::{
    KeyringFileError, keygen, keyring_from_keys, keyring_path, load_keys, load_or_init_keyring,
    load_or_init_keyring_at, save_keys, wan_keyring_path,
};
pub use stats::SerfStats;
pub use synod_core::gossip::{Config, Event, Keyring, Member, MemberStatus, Tags};

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};

use futures_lite::future;
use synod_core::gossip::{Gossip, LocalNode};
use synod_core::rand::Rng;

use crate::shell::Env;
use crate::shell::smol_env::SmolEnv;
use driver::Driver;
use handle::SharedMembers;
use stats::Counters;
use transport::{accept_streams, bind};

/// How many handle requests may queue before callers wait.
const COMMAND_QUEUE: usize = 256;
/// How many complete incoming streams may queue before their readers wait.
const STREAM_QUEUE: usize = 256;

/// Binds the sockets and builds the driver. Returns a handle and the task to spawn; `env`
/// gives the clock and runs the per-stream helper tasks. Dropping the task stops gossip at
/// once, without leaving, exactly as a crash would look to the pool.
pub fn start(
    env: SmolEnv,
    config: SerfConfig,
) -> io::Result<(SerfHandle, impl Future<Output = ()> + 'static)> {
    let (udp, tcp) = bind(config.bind)?;
    let bound = udp.get_ref().local_addr()?;
    let advertise = match config.advertise {
        Some(addr) => addr,
        None if bound.ip().is_unspecified() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "gossip bound to an unspecified address needs an advertise address",
            ));
        }
        None => bound,
    };
    let mut seed = [0u8; 8];
    keys::os_random(&mut seed)?;
    let local = LocalNode {
        name: config.node_name.clone(),
        addr: advertise,
        tags: config.tags,
    };
    let mut gossip = Gossip::new(
        env.now(),
        local,
        config.gossip,
        Rng::new(u64::from_le_bytes(seed)),
    );
    if let Some(keyring) = config.keyring {
        gossip = gossip.with_keyring(keyring);
    }
    let counters = Arc::new(Counters::default());
    let members: SharedMembers = Arc::new(Mutex::new(gossip.members().cloned().collect()));
    let (commands_in, commands) = async_channel::bounded(COMMAND_QUEUE);
    let (events_in, events) = async_channel::bounded(config.event_buffer.max(1));
    let (streams_in, streams) = async_channel::bounded(STREAM_QUEUE);
    let handle = SerfHandle {
        commands: commands_in,
        members: members.clone(),
        events,
        counters: counters.clone(),
        local_name: config.node_name,
        local_addr: advertise,
    };
    let accept = accept_streams(
        tcp,
        env.clone(),
        streams_in,
        config.stream_timeout,
        config.max_stream_frame,
        counters.clone(),
    );
    let driver = Driver {
        gossip,
        env,
        udp,
        streams,
        commands,
        events: events_in,
        members,
        counters,
        stream_timeout: config.stream_timeout,
        join_timeout: config.join_timeout,
        join_waiters: Vec::new(),
        leave_timeout: config.leave_timeout,
    };
    // The accept loop never ends on its own, so the driver decides when the task is done.
    let task = future::or(driver.run(), accept);
    Ok((handle, task))
}
