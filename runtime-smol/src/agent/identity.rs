//! The node's identity: a UUID (Consul's `node_id`), generated once and kept in
//! `<data-dir>/node-id`, and the numeric Raft id derived from it.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use synod_core::ids::NodeId;

/// Whether `s` is a UUID in the canonical 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The Raft id for a node UUID: its first 64 bits.
pub(crate) fn raft_id(uuid: &str) -> NodeId {
    let hex: String = uuid.chars().filter(|c| *c != '-').take(16).collect();
    NodeId(u64::from_str_radix(&hex, 16).unwrap_or(0))
}

/// A random (version 4) UUID.
pub(crate) fn random_uuid() -> io::Result<String> {
    let mut b = [0u8; 16];
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// A seed for the node's random generator.
pub(crate) fn random_seed() -> io::Result<u64> {
    let mut b = [0u8; 8];
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The node's UUID: `imposed` if given (and it must match a persisted one), else the persisted
/// one, else a new one written to `<data_dir>/node-id`. Without a data dir, a fresh one.
pub(crate) fn node_uuid(data_dir: Option<&Path>, imposed: Option<&str>) -> Result<String, String> {
    let Some(dir) = data_dir else {
        return match imposed {
            Some(id) => Ok(id.to_ascii_lowercase()),
            None => random_uuid().map_err(|e| format!("failed to generate node ID: {e}")),
        };
    };
    let path = dir.join("node-id");
    let persisted = match fs::read_to_string(&path) {
        Ok(text) => Some(text.trim().to_ascii_lowercase()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("failed to read {}: {e}", path.display())),
    };
    match (persisted, imposed) {
        (Some(old), Some(new)) if old != new.to_ascii_lowercase() => Err(format!(
            "node ID {new:?} does not match the ID {old:?} persisted in {}",
            path.display()
        )),
        (Some(old), _) if is_uuid(&old) => Ok(old),
        (Some(old), _) => Err(format!(
            "node ID {old:?} in {} is not a valid UUID",
            path.display()
        )),
        (None, imposed) => {
            let id = match imposed {
                Some(id) => id.to_ascii_lowercase(),
                None => random_uuid().map_err(|e| format!("failed to generate node ID: {e}"))?,
            };
            fs::create_dir_all(dir)
                .and_then(|()| fs::write(&path, &id))
                .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
            Ok(id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uuid_is_canonical_and_maps_to_its_first_64_bits() {
        let id = random_uuid().expect("urandom");
        assert!(is_uuid(&id), "{id}");
        assert_eq!(
            raft_id("0f9a3c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"),
            NodeId(0x0f9a_3c4e_1b2d_4e5f)
        );
        assert!(!is_uuid("0f9a3c4e1b2d4e5f8a9b0c1d2e3f4a5b"));
    }

    #[test]
    fn uuid_is_persisted_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("synod-identity-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = node_uuid(Some(&dir), None).expect("generated");
        let second = node_uuid(Some(&dir), None).expect("reloaded");
        assert_eq!(first, second);
        assert!(node_uuid(Some(&dir), Some("00000000-0000-4000-8000-000000000000")).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
