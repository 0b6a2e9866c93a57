//! Reads what the answerer acts on from a query: the header, the one question and the EDNS OPT
//! record. Written by hand rather than with `simple_dns::Packet::parse` because that rejects
//! questions of types it does not know, which must get NODATA rather than FORMERR, and because
//! it allocates; this reader borrows the packet and allocates nothing.

/// Length of the fixed DNS header.
pub(crate) const HEADER_LEN: usize = 12;
/// The most labels a 255-byte name can have.
const MAX_LABELS: usize = 128;
/// Longest name on the wire, terminating zero included (RFC 1035 §3.1).
const MAX_NAME_WIRE: usize = 255;
const TYPE_OPT: u16 = 41;

/// The fixed header of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) id: u16,
    pub(crate) flags: u16,
    pub(crate) qdcount: u16,
    pub(crate) ancount: u16,
    pub(crate) nscount: u16,
    pub(crate) arcount: u16,
}

impl Header {
    pub(crate) fn read(bytes: &[u8]) -> Option<Header> {
        let word = |i: usize| Some(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
        Some(Header {
            id: word(0)?,
            flags: word(2)?,
            qdcount: word(4)?,
            ancount: word(6)?,
            nscount: word(8)?,
            arcount: word(10)?,
        })
    }

    pub(crate) fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    pub(crate) fn opcode(&self) -> u16 {
        (self.flags >> 11) & 0xf
    }

    pub(crate) fn recursion_desired(&self) -> bool {
        self.flags & 0x0100 != 0
    }
}

/// The question's name, borrowed from the packet: label `i` is `wire[starts[i]+1..][..len]`.
#[derive(Clone, Debug)]
pub(crate) struct QName<'q> {
    wire: &'q [u8],
    starts: [u8; MAX_LABELS],
    count: usize,
}

impl<'q> QName<'q> {
    /// Number of labels (the root has none).
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Bytes the name takes on the wire.
    pub(crate) fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// Label `i`, left to right, as sent (case preserved).
    pub(crate) fn label(&self, i: usize) -> &'q [u8] {
        let start = usize::from(self.starts[i]);
        let len = usize::from(self.wire[start]);
        &self.wire[start + 1..start + 1 + len]
    }

    /// Every label, left to right.
    pub(crate) fn labels(&self) -> impl DoubleEndedIterator<Item = &'q [u8]> + '_ {
        (0..self.count).map(|i| self.label(i))
    }
}

/// The one question of a query.
#[derive(Clone, Debug)]
pub(crate) struct Question<'q> {
    pub(crate) name: QName<'q>,
    pub(crate) qtype: u16,
    pub(crate) qclass: u16,
}

/// The EDNS(0) parameters of a query (RFC 6891).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edns {
    pub(crate) udp_size: u16,
    pub(crate) version: u8,
}

/// A query we can answer.
#[derive(Clone, Debug)]
pub(crate) struct Query<'q> {
    pub(crate) header: Header,
    pub(crate) question: Question<'q>,
    pub(crate) edns: Option<Edns>,
}

/// Why a query cannot be answered normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Not even a header: nothing to reply to.
    Drop,
    /// A header but a malformed body (FORMERR).
    Malformed(Header),
    /// An opcode other than QUERY (NOTIMP).
    NotImplemented(Header),
}

/// Decodes `bytes` as a query.
pub(crate) fn decode(bytes: &[u8]) -> Result<Query<'_>, Reject> {
    let header = Header::read(bytes).ok_or(Reject::Drop)?;
    if header.is_response() {
        // Answering responses invites loops between servers.
        return Err(Reject::Drop);
    }
    if header.opcode() != 0 {
        return Err(Reject::NotImplemented(header));
    }
    let malformed = Reject::Malformed(header);
    if header.qdcount != 1 {
        return Err(malformed);
    }
    let mut reader = Reader {
        bytes,
        at: HEADER_LEN,
    };
    let name = reader.question_name().ok_or(malformed)?;
    let qtype = reader.u16().ok_or(malformed)?;
    let qclass = reader.u16().ok_or(malformed)?;
    let records = usize::from(header.ancount) + usize::from(header.nscount);
    for _ in 0..records {
        reader.record().ok_or(malformed)?;
    }
    let mut edns = None;
    for _ in 0..header.arcount {
        let record = reader.record().ok_or(malformed)?;
        if record.rtype == TYPE_OPT {
            // RFC 6891 §6.1.1: one OPT, owned by the root.
            if edns.is_some() || !record.root_owner {
                return Err(malformed);
            }
            edns = Some(Edns {
                udp_size: record.class,
                version: (record.ttl >> 16) as u8,
            });
        }
    }
    Ok(Query {
        header,
        question: Question {
            name,
            qtype,
            qclass,
        },
        edns,
    })
}

/// What the reader keeps of a skipped resource record.
struct RecordHead {
    root_owner: bool,
    rtype: u16,
    class: u16,
    ttl: u32,
}

struct Reader<'q> {
    bytes: &'q [u8],
    at: usize,
}

impl<'q> Reader<'q> {
    fn u8(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        self.at = end;
        Some(())
    }

    /// The question name: plain labels only. A compression pointer could only point into the
    /// header here, and extended label types are obsolete.
    fn question_name(&mut self) -> Option<QName<'q>> {
        let start = self.at;
        let mut starts = [0u8; MAX_LABELS];
        let mut count = 0;
        loop {
            let offset = self.at - start;
            let len = self.u8()?;
            if len == 0 {
                break;
            }
            if len & 0xc0 != 0 || count == MAX_LABELS {
                return None;
            }
            self.skip(usize::from(len))?;
            if self.at - start >= MAX_NAME_WIRE {
                return None;
            }
            starts[count] = u8::try_from(offset).ok()?;
            count += 1;
        }
        Some(QName {
            wire: &self.bytes[start..self.at],
            starts,
            count,
        })
    }

    /// Skips an owner name in another section (compression allowed, not followed).
    fn skip_name(&mut self) -> Option<bool> {
        let mut root = true;
        loop {
            let len = self.u8()?;
            match len & 0xc0 {
                0 if len == 0 => return Some(root),
                0 => self.skip(usize::from(len))?,
                0xc0 => {
                    self.u8()?;
                    return Some(false);
                }
                _ => return None,
            }
            root = false;
        }
    }

    fn record(&mut self) -> Option<RecordHead> {
        let root_owner = self.skip_name()?;
        let rtype = self.u16()?;
        let class = self.u16()?;
        let ttl = self.u32()?;
        let rdlen = self.u16()?;
        self.skip(usize::from(rdlen))?;
        Some(RecordHead {
            root_owner,
            rtype,
            class,
            ttl,
        })
    }
}
