//! Which address this server advertises to its peers.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

/// `advertise` if given; else `bind`, unless that is the unspecified address, in which case
/// the address of the interface that routes outwards (as Consul picks its private IP), or
/// loopback when there is none.
pub(crate) fn advertise_ip(bind: IpAddr, advertise: Option<IpAddr>) -> IpAddr {
    if let Some(ip) = advertise {
        return ip;
    }
    if !bind.is_unspecified() {
        return bind;
    }
    outbound_ipv4().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Connecting a UDP socket sends nothing; it only asks the kernel which source address it would
/// route from.
fn outbound_ipv4() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(10, 255, 255, 255), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_and_specific_addresses_are_kept() {
        let ten: IpAddr = "10.1.2.3".parse().expect("ip");
        assert_eq!(advertise_ip(ten, None), ten);
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            advertise_ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED), Some(lo)),
            lo
        );
        assert!(!advertise_ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED), None).is_unspecified());
    }
}
