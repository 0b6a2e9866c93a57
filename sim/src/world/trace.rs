//! The trace hash: FNV-1a (64-bit) over every delivered event, so two runs of one seed can be
//! compared with one number.

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a 64 hash.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(OFFSET_BASIS)
    }
}

impl TraceHash {
    /// Mixes in raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// Mixes in a number (little-endian bytes).
    pub fn number(&mut self, n: u64) {
        self.bytes(&n.to_le_bytes());
    }

    /// Mixes in one delivered event.
    pub fn event(&mut self, time: u64, node: u64, kind: u8, bytes: &[u8]) {
        self.number(time);
        self.number(node);
        self.bytes(&[kind]);
        self.number(bytes.len() as u64);
        self.bytes(bytes);
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        let mut h = TraceHash::default();
        assert_eq!(h.value(), 0xcbf2_9ce4_8422_2325);
        h.bytes(b"a");
        assert_eq!(h.value(), 0xaf63_dc4c_8601_ec8c);
        let mut h = TraceHash::default();
        h.bytes(b"foobar");
        assert_eq!(h.value(), 0x8594_4171_f739_67e8);
    }
}
