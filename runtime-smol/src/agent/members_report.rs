//! A gossip [`Member`] in the shape `/v1/agent/members` reports it.

use synod_core::gossip::{Member, MemberStatus};

use crate::http::agent_members::{MemberInfo, STATUS_ALIVE, STATUS_FAILED, STATUS_LEFT};

/// `member` with Consul's status numbers and memberlist/Consul protocol versions.
pub(crate) fn member_info(member: &Member) -> MemberInfo {
    let status = match member.status {
        // Serf only reports suspicion through the failure detector: a suspect is still alive.
        MemberStatus::Alive | MemberStatus::Suspect => STATUS_ALIVE,
        MemberStatus::Left => STATUS_LEFT,
        MemberStatus::Failed => STATUS_FAILED,
    };
    member_row(
        member.name.clone(),
        member.addr.ip().to_string(),
        member.addr.port(),
        member.tags.clone(),
        status,
    )
}

/// A member row with the memberlist/Consul protocol versions Consul reports.
pub(crate) fn member_row(
    name: String,
    addr: String,
    port: u16,
    tags: std::collections::BTreeMap<String, String>,
    status: u8,
) -> MemberInfo {
    MemberInfo {
        name,
        addr,
        port,
        tags,
        status,
        protocol_min: 1,
        protocol_max: 5,
        protocol_cur: 2,
        delegate_min: 2,
        delegate_max: 5,
        delegate_cur: 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::time::Instant;

    fn member(status: MemberStatus) -> Member {
        Member {
            name: "n1".into(),
            addr: "10.0.0.1:8301".parse().expect("addr"),
            tags: [("role".to_owned(), "consul".to_owned())].into(),
            incarnation: 3,
            status,
            status_since: Instant::ZERO,
        }
    }

    #[test]
    fn statuses_map_to_serfs_numbers_and_addr_splits_into_ip_and_port() {
        let alive = member_info(&member(MemberStatus::Alive));
        assert_eq!(
            (alive.addr.as_str(), alive.port, alive.status),
            ("10.0.0.1", 8301, 1)
        );
        assert_eq!(member_info(&member(MemberStatus::Suspect)).status, 1);
        assert_eq!(member_info(&member(MemberStatus::Left)).status, 3);
        assert_eq!(member_info(&member(MemberStatus::Failed)).status, 4);
    }
}
