//! Gossip encryption: AES-256-GCM with a primary key and secondary keys for rotation.
//! Packet layout: `[version][nonce 12][ciphertext + 16-byte tag]`.

use crate::rand::Rng;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Version byte of an encrypted packet.
pub const ENCRYPTION_VERSION: u8 = 1;
/// Key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes encryption adds to a packet.
pub const ENCRYPTION_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Why a key or an encrypted packet was rejected. Never affects gossip state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyringError {
    /// A key was not 32 bytes.
    BadKeyLength(usize),
    /// A key was not valid base64.
    BadBase64,
    /// The packet is shorter than version + nonce + tag.
    Truncated,
    /// The packet's version byte is unknown.
    BadVersion(u8),
    /// No key in the ring authenticates the packet.
    NoKeyMatched,
}

/// The keys a node accepts; the first one encrypts.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<[u8; KEY_LEN]>,
}

impl core::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        write!(f, "Keyring({} keys)", self.keys.len())
    }
}

impl Keyring {
    /// A ring with `primary` encrypting and also `secondary` accepted for decryption.
    pub fn new(primary: &[u8], secondary: &[&[u8]]) -> Result<Keyring, KeyringError> {
        let mut keys = vec![to_key(primary)?];
        for k in secondary {
            keys.push(to_key(k)?);
        }
        Ok(Keyring { keys })
    }

    /// A ring from base64 keys (Consul's `encrypt` format), the first one primary.
    pub fn from_base64(primary: &str, secondary: &[&str]) -> Result<Keyring, KeyringError> {
        let decode = |s: &str| BASE64.decode(s.trim()).map_err(|_| KeyringError::BadBase64);
        let primary = decode(primary)?;
        let secondary: Vec<Vec<u8>> = secondary
            .iter()
            .map(|s| decode(s))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&[u8]> = secondary.iter().map(Vec::as_slice).collect();
        Keyring::new(&primary, &refs)
    }

    /// The primary key as base64 (for `keyring -list`).
    pub fn primary_base64(&self) -> String {
        BASE64.encode(self.keys[0])
    }

    /// Adds a key accepted for decryption (rotation step 1).
    pub fn add_key(&mut self, key: &[u8]) -> Result<(), KeyringError> {
        let key = to_key(key)?;
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
        Ok(())
    }

    /// Makes an installed key the primary (rotation step 2); false if it is not installed.
    pub fn use_key(&mut self, key: &[u8]) -> bool {
        match self.keys.iter().position(|k| k.as_slice() == key) {
            Some(i) => {
                self.keys.swap(0, i);
                true
            }
            None => false,
        }
    }

    /// Encrypts `plaintext` under the primary key with a nonce drawn from `rng`.
    pub fn encrypt(&self, plaintext: &[u8], rng: &mut Rng) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        nonce[8..].copy_from_slice(&rng.next_u64().to_le_bytes()[..4]);
        let cipher = Aes256Gcm::new(&self.keys[0].into());
        // AES-GCM encryption only fails for plaintexts near 64 GiB, far beyond any packet.
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(ENCRYPTION_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a packet, trying the primary key first, then the others.
    pub fn decrypt(&self, packet: &[u8]) -> Result<Vec<u8>, KeyringError> {
        if packet.len() < ENCRYPTION_OVERHEAD {
            return Err(KeyringError::Truncated);
        }
        let (version, rest) = (packet[0], &packet[1..]);
        if version != ENCRYPTION_VERSION {
            return Err(KeyringError::BadVersion(version));
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        self.keys
            .iter()
            .find_map(|k| {
                Aes256Gcm::new(&(*k).into())
                    .decrypt(Nonce::from_slice(nonce), sealed)
                    .ok()
            })
            .ok_or(KeyringError::NoKeyMatched)
    }
}

fn to_key(bytes: &[u8]) -> Result<[u8; KEY_LEN], KeyringError> {
    bytes
        .try_into()
        .map_err(|_| KeyringError::BadKeyLength(bytes.len()))
}

/// Fuzz body: decrypting arbitrary bytes never panics and never authenticates garbage.
pub fn fuzz_encrypted_packet(data: &[u8]) {
    let ring = Keyring {
        keys: vec![[7u8; KEY_LEN], [9u8; KEY_LEN]],
    };
    if let Ok(plain) = ring.decrypt(data) {
        super::codec::fuzz_packet(&plain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_decrypt_round_trips_with_layout_overhead() {
        let ring = Keyring::new(&[1u8; 32], &[]).unwrap();
        let mut rng = Rng::new(1);
        let packet = ring.encrypt(b"hello", &mut rng);
        assert_eq!(packet.len(), 5 + ENCRYPTION_OVERHEAD);
        assert_eq!(packet[0], ENCRYPTION_VERSION);
        assert_eq!(ring.decrypt(&packet), Ok(b"hello".to_vec()));
    }

    #[test]
    fn secondary_key_decrypts_during_rotation() {
        let old = Keyring::new(&[1u8; 32], &[]).unwrap();
        let rotated = Keyring::new(&[2u8; 32], &[&[1u8; 32]]).unwrap();
        let packet = old.encrypt(b"x", &mut Rng::new(2));
        assert_eq!(rotated.decrypt(&packet), Ok(b"x".to_vec()));
    }

    #[test]
    fn wrong_key_and_tampering_are_typed_errors() {
        let a = Keyring::new(&[1u8; 32], &[]).unwrap();
        let b = Keyring::new(&[2u8; 32], &[]).unwrap();
        let mut packet = a.encrypt(b"secret", &mut Rng::new(3));
        assert_eq!(b.decrypt(&packet), Err(KeyringError::NoKeyMatched));
        let last = packet.len() - 1;
        packet[last] ^= 1;
        assert_eq!(a.decrypt(&packet), Err(KeyringError::NoKeyMatched));
        assert_eq!(a.decrypt(&packet[..10]), Err(KeyringError::Truncated));
        packet[0] = 9;
        assert_eq!(a.decrypt(&packet), Err(KeyringError::BadVersion(9)));
    }

    #[test]
    fn base64_keys_and_bad_lengths() {
        let ring = Keyring::from_base64(&BASE64.encode([5u8; 32]), &[]).unwrap();
        assert_eq!(ring.primary_base64(), BASE64.encode([5u8; 32]));
        assert_eq!(
            Keyring::new(&[0u8; 16], &[]).err(),
            Some(KeyringError::BadKeyLength(16))
        );
        assert_eq!(
            Keyring::from_base64("***", &[]).err(),
            Some(KeyringError::BadBase64)
        );
    }

    #[test]
    fn fuzz_body_survives_arbitrary_bytes() {
        for len in 0..64 {
            fuzz_encrypted_packet(&vec![0xAB; len]);
        }
    }
}
