//! Encoding a [`Plan`] with simple-dns, trimmed to what the transport carries.

use std::io::Cursor;

use simple_dns::rdata::{A, AAAA, NS, OPT, PTR, RData, SOA, SRV, TXT};
use simple_dns::{
    CLASS, CharacterString, Label, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE,
    ResourceRecord, TYPE,
};

use super::Transport;
use super::config::DnsConfig;
use super::query::{HEADER_LEN, Header, Query};
use super::records::{Data, Owner, Plan, Record};

/// What every resolver accepts over UDP (RFC 1035 §4.2.1).
const UDP_MIN: usize = 512;
/// Largest message a TCP length prefix can frame.
const TCP_MAX: usize = 65535;
/// A record's size with a compressed owner and no data: no record is smaller, so no more than
/// (room / this) records can fit, which bounds the trimming search.
const MIN_RECORD_LEN: usize = 12;
/// The TC bit within the third header byte.
const TC_BIT: u8 = 0x02;

/// How much a reply may carry.
struct Limits {
    bytes: usize,
    answers: usize,
    /// The UDP payload size we advertise in our OPT record.
    advertise: u16,
}

fn limits(query: &Query<'_>, config: &DnsConfig, transport: Transport) -> Limits {
    let requested = query.edns.map(|e| usize::from(e.udp_size).max(UDP_MIN));
    match transport {
        Transport::Tcp => Limits {
            bytes: TCP_MAX,
            answers: usize::MAX,
            advertise: to_u16(requested.unwrap_or(UDP_MIN)),
        },
        Transport::Udp { max_size } => {
            let ceiling = usize::from(max_size).max(UDP_MIN);
            let answers = match (requested, config.udp_answer_limit) {
                (None, Some(limit)) => usize::from(limit),
                _ => usize::MAX,
            };
            Limits {
                bytes: requested.map_or(UDP_MIN, |r| r.min(ceiling)),
                answers,
                advertise: to_u16(ceiling),
            }
        }
    }
}

fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The most answers a reply to `query` could carry: the configured cap, and no more records
/// than the smallest possible record size allows.
pub(crate) fn answer_budget(query: &Query<'_>, config: &DnsConfig, transport: Transport) -> usize {
    let limits = limits(query, config, transport);
    let fixed = HEADER_LEN + query.question.name.wire_len() + 4;
    let fit = limits.bytes.saturating_sub(fixed) / MIN_RECORD_LEN;
    limits.answers.min(fit)
}

/// A reply carrying only a header, written over `out`: for queries too malformed to echo.
pub(crate) fn header_only(
    header: Header,
    rcode: RCODE,
    recursion_available: bool,
    out: &mut Vec<u8>,
) {
    let opcode_and_rd = header.flags & 0x7900;
    let ra = if recursion_available { 0x0080 } else { 0 };
    let flags = 0x8000 | opcode_and_rd | ra | (rcode as u16 & 0xf);
    out.clear();
    out.extend_from_slice(&header.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
}

/// The reply to `query` carrying `plan`, trimmed (and flagged TC when configured) to fit,
/// written over `out` (whose allocation is reused).
pub(crate) fn reply(
    query: &Query<'_>,
    plan: &Plan,
    config: &DnsConfig,
    transport: Transport,
    out: &mut Vec<u8>,
) {
    let limits = limits(query, config, transport);
    let question = &query.question;
    let labels: Vec<Label<'_>> = question.name.labels().map(Label::new_unchecked).collect();
    let qname = Name::new_with_labels(&labels);
    // Types and classes simple-dns does not know are written as NULL/IN and patched below.
    let qtype = QTYPE::try_from(question.qtype).unwrap_or(QTYPE::TYPE(TYPE::NULL));
    let qclass = QCLASS::try_from(question.qclass).unwrap_or(QCLASS::CLASS(CLASS::IN));

    let mut packet = Packet::new_reply(query.header.id);
    if plan.authoritative {
        packet.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    }
    if query.header.recursion_desired() {
        packet.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    if config.recursors_configured {
        packet.set_flags(PacketFlag::RECURSION_AVAILABLE);
    }
    *packet.rcode_mut() = plan.rcode;
    if query.edns.is_some() {
        *packet.opt_mut() = Some(OPT {
            opt_codes: Vec::new(),
            udp_packet_size: limits.advertise,
            version: 0,
        });
    }
    packet
        .questions
        .push(Question::new(qname.clone(), qtype, qclass, false));
    packet.name_servers = plan.authority.iter().map(|r| record(r, &qname)).collect();

    let needs: Vec<usize> = plan.additional.iter().map(|(n, _)| *n).collect();
    let cap = plan
        .answers
        .len()
        .min(answer_budget(query, config, transport));
    let mut trimmed = plan.omitted || cap < plan.answers.len();
    let kept_additional = needs.partition_point(|&n| n <= cap);
    packet.answers = plan.answers[..cap]
        .iter()
        .map(|r| record(r, &qname))
        .collect();
    packet.additional_records = plan.additional[..kept_additional]
        .iter()
        .map(|(_, r)| record(r, &qname))
        .collect();

    let mut buf = Cursor::new(std::mem::take(out));
    buf.get_mut().reserve(limits.bytes.min(4096));
    let mut trimmer = Trimmer::default();
    let Some(mut len) = write(&packet, &mut buf) else {
        *out = buf.into_inner();
        return header_only(
            query.header,
            RCODE::ServerFailure,
            config.recursors_configured,
            out,
        );
    };
    if len > limits.bytes {
        trimmed = true;
        // Largest answer count that fits: 0 is assumed to fit, `cap` is known not to. Sizes
        // grow about linearly with the count, so interpolate first; bisect after a few probes
        // so the worst case stays logarithmic.
        let mut fits = (0, HEADER_LEN + question.name.wire_len() + 4);
        let mut too_many = (cap, len);
        let mut probes = 0;
        while too_many.0 - fits.0 > 1 {
            let mid = if probes < 3 {
                interpolate(fits, too_many, limits.bytes)
            } else {
                fits.0 + (too_many.0 - fits.0) / 2
            };
            probes += 1;
            trimmer.keep(&mut packet, mid, &needs);
            match write(&packet, &mut buf) {
                Some(n) if n <= limits.bytes => fits = (mid, n),
                Some(n) => too_many = (mid, n),
                None => too_many = (mid, usize::MAX),
            }
        }
        trimmer.keep(&mut packet, fits.0, &needs);
        len = write(&packet, &mut buf).unwrap_or(0);
    }
    *out = buf.into_inner();
    if len < HEADER_LEN {
        return header_only(
            query.header,
            RCODE::ServerFailure,
            config.recursors_configured,
            out,
        );
    }
    if trimmed && config.enable_truncate {
        out[2] |= TC_BIT;
    }
    let at = HEADER_LEN + question.name.wire_len();
    if let Some(type_and_class) = out.get_mut(at..at + 4) {
        type_and_class[..2].copy_from_slice(&question.qtype.to_be_bytes());
        type_and_class[2..].copy_from_slice(&question.qclass.to_be_bytes());
    }
}

/// The answer count at which the size should reach `limit`, given (count, size) at a count
/// that fits and one that does not; strictly between the two.
fn interpolate(fits: (usize, usize), too_many: (usize, usize), limit: usize) -> usize {
    let room = limit.saturating_sub(fits.1);
    let growth = too_many.1.saturating_sub(fits.1).max(1);
    let guess = fits.0 + (too_many.0 - fits.0) * room / growth;
    guess.clamp(fits.0 + 1, too_many.0 - 1)
}

fn write(packet: &Packet<'_>, buf: &mut Cursor<Vec<u8>>) -> Option<usize> {
    buf.get_mut().clear();
    buf.set_position(0);
    packet.write_compressed_to(buf).ok()?;
    Some(buf.get_ref().len())
}

/// Holds the records trimmed off the ends of the answer and additional sections (in reverse),
/// so the search can shrink and regrow them without re-building records.
#[derive(Default)]
struct Trimmer<'a> {
    answers: Vec<ResourceRecord<'a>>,
    additional: Vec<ResourceRecord<'a>>,
}

impl<'a> Trimmer<'a> {
    /// Keeps the first `answers` answers and the additional records they brought.
    fn keep(&mut self, packet: &mut Packet<'a>, answers: usize, needs: &[usize]) {
        resize(&mut packet.answers, &mut self.answers, answers);
        let additional = needs.partition_point(|&n| n <= answers);
        resize(
            &mut packet.additional_records,
            &mut self.additional,
            additional,
        );
    }
}

fn resize<T>(section: &mut Vec<T>, spare: &mut Vec<T>, len: usize) {
    while section.len() > len {
        spare.extend(section.pop());
    }
    while section.len() < len {
        let Some(record) = spare.pop() else { break };
        section.push(record);
    }
}

/// `record` as simple-dns sees it; its names were checked when the plan was made.
fn record<'p>(record: &'p Record, question: &Name<'p>) -> ResourceRecord<'p> {
    let owner = match &record.owner {
        Owner::Question => question.clone(),
        Owner::Name(name) => Name::new_unchecked(name),
    };
    let rdata = match &record.data {
        Data::A(v4) => RData::A(A::from(*v4)),
        Data::Aaaa(v6) => RData::AAAA(AAAA::from(*v6)),
        Data::Srv {
            weight,
            port,
            target,
        } => RData::SRV(SRV {
            priority: 1,
            weight: *weight,
            port: *port,
            target: Name::new_unchecked(target),
        }),
        Data::Txt(text) => RData::TXT(txt(text.as_bytes())),
        Data::Ptr(name) => RData::PTR(PTR(Name::new_unchecked(name))),
        Data::Ns(name) => RData::NS(NS(Name::new_unchecked(name))),
        Data::Soa(soa) => RData::SOA(SOA {
            mname: Name::new_unchecked(&soa.mname),
            rname: Name::new_unchecked(&soa.rname),
            serial: soa.serial,
            refresh: to_i32(soa.refresh),
            retry: to_i32(soa.retry),
            expire: to_i32(soa.expire),
            minimum: soa.minimum,
        }),
    };
    ResourceRecord::new(owner, CLASS::IN, record.ttl, rdata)
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// TXT data: the text cut into character-strings of at most 255 bytes (at least one).
fn txt(text: &[u8]) -> TXT<'_> {
    let mut txt = TXT::new();
    let empty: &[u8] = &[];
    let chunks = text.chunks(255);
    let chunks = chunks.chain(text.is_empty().then_some(empty));
    for chunk in chunks {
        if let Ok(string) = CharacterString::new(chunk) {
            txt.add_char_string(string);
        }
    }
    txt
}
