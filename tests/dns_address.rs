//! The cluster DNS address on a node's loopback, in a network namespace of the test's own:
//! putting it there twice is harmless, taking it off leaves loopback's own addresses, and
//! taking off an absent address is not an error (teardown after a node that never served).

#[path = "net/mod.rs"]
mod net;

use std::net::Ipv4Addr;

use onebin::net::dns::{address, cleanup};
use onebin::net::netns::NetNs;

const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 43, 0, 10);

fn loopback_addresses(netns: &net::Netns) -> String {
    netns.ok(&["ip", "-4", "-o", "addr", "show", "dev", "lo"])
}

#[test]
fn the_address_goes_on_loopback_and_comes_off() {
    let netns = net::Netns::new("dnsaddr");
    netns.run(|| async {
        let handle = NetNs::current().unwrap().route_handle().await.unwrap();
        address::ensure(&handle, ADDRESS).await.unwrap();
        address::ensure(&handle, ADDRESS).await.unwrap();
    });
    let held = loopback_addresses(&netns);
    assert!(held.contains("inet 127.0.0.1/8") && held.matches("inet 10.43.0.10/32").count() == 1, "{held}");
    // Pods reach the address through their default route, so it must answer as a local address.
    let route = netns.exec(&["ip", "route", "get", "10.43.0.10"]);
    assert!(String::from_utf8_lossy(&route.stdout).starts_with("local 10.43.0.10"));

    netns.run(|| async {
        cleanup(ADDRESS).await.unwrap();
        cleanup(ADDRESS).await.unwrap();
    });
    let left = loopback_addresses(&netns);
    assert!(left.contains("inet 127.0.0.1/8") && !left.contains("10.43.0.10"), "{left}");
}
