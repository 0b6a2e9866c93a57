//! Gossip keys: `synod keygen` and the keyring file `<data-dir>/serf/local.keyring`, a JSON list
//! of base64 keys with the primary first, as Consul writes it.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use synod_core::gossip::{KEY_LEN, Keyring, KeyringError};

/// Reads `buf.len()` bytes of OS randomness. Runtime code may; core never does.
pub(crate) fn os_random(buf: &mut [u8]) -> io::Result<()> {
    fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// A fresh gossip encryption key: base64 of 32 random bytes from the OS.
pub fn keygen() -> io::Result<String> {
    let mut key = [0u8; KEY_LEN];
    os_random(&mut key)?;
    Ok(BASE64.encode(key))
}

/// Where the LAN keyring lives inside `data_dir`.
pub fn keyring_path(data_dir: &Path) -> PathBuf {
    data_dir.join("serf").join("local.keyring")
}

/// Where the WAN keyring lives inside `data_dir` (Consul's `serf/remote.keyring`).
pub fn wan_keyring_path(data_dir: &Path) -> PathBuf {
    data_dir.join("serf").join("remote.keyring")
}

/// Why a keyring file could not be used.
#[derive(Debug)]
pub enum KeyringFileError {
    /// Reading or writing the file failed.
    Io(io::Error),
    /// The file is not a JSON list of strings.
    Format(String),
    /// The file holds no key.
    Empty,
    /// A key is not a base64 32-byte key.
    BadKey(KeyringError),
}

impl std::fmt::Display for KeyringFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyringFileError::Io(e) => write!(f, "keyring file: {e}"),
            KeyringFileError::Format(e) => {
                write!(f, "keyring file is not a JSON list of keys: {e}")
            }
            KeyringFileError::Empty => f.write_str("keyring file holds no key"),
            KeyringFileError::BadKey(e) => write!(f, "keyring file holds an invalid key: {e:?}"),
        }
    }
}

impl std::error::Error for KeyringFileError {}

/// The keys in a keyring file, primary first; `Ok(None)` when the file does not exist.
pub fn load_keys(path: &Path) -> Result<Option<Vec<String>>, KeyringFileError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(KeyringFileError::Io(e)),
    };
    let keys: Vec<String> =
        serde_json::from_str(&text).map_err(|e| KeyringFileError::Format(e.to_string()))?;
    keyring_from_keys(&keys)?;
    Ok(Some(keys))
}

/// The keyring a list of base64 keys describes, the first one primary.
pub fn keyring_from_keys(keys: &[String]) -> Result<Keyring, KeyringFileError> {
    let (primary, rest) = keys.split_first().ok_or(KeyringFileError::Empty)?;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    Keyring::from_base64(primary, &rest).map_err(KeyringFileError::BadKey)
}

/// Writes `keys` (validated first) to `path`, readable by the owner only, replacing any old
/// file atomically so a crash never leaves half a keyring.
pub fn save_keys(path: &Path, keys: &[String]) -> Result<(), KeyringFileError> {
    keyring_from_keys(keys)?;
    let json = serde_json::to_vec(keys).map_err(|e| KeyringFileError::Format(e.to_string()))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(KeyringFileError::Io)?;
    }
    let tmp = path.with_extension("keyring.tmp");
    let write = || -> io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(KeyringFileError::Io)
}

/// Consul's start-up rule: an existing keyring file wins (it may hold rotated keys); otherwise
/// an `encrypt` key given on the command line or in config is written to a new file. `None`
/// means gossip runs unencrypted.
pub fn load_or_init_keyring(
    data_dir: &Path,
    encrypt: Option<&str>,
) -> Result<Option<Keyring>, KeyringFileError> {
    load_or_init_keyring_at(&keyring_path(data_dir), encrypt)
}

/// [`load_or_init_keyring`] for the keyring file at `path` (the WAN pool keeps its own).
pub fn load_or_init_keyring_at(
    path: &Path,
    encrypt: Option<&str>,
) -> Result<Option<Keyring>, KeyringFileError> {
    if let Some(keys) = load_keys(path)? {
        return keyring_from_keys(&keys).map(Some);
    }
    match encrypt {
        Some(key) => {
            let keys = vec![key.trim().to_owned()];
            save_keys(path, &keys)?;
            keyring_from_keys(&keys).map(Some)
        }
        None => Ok(None),
    }
}
