//! The `/etc/hosts` and `/etc/resolv.conf` the kubelet bind-mounts into a pod's containers.
//! Pure functions: the kubelet decides where the files go.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{HostAlias, PodDNSConfig};

pub const DEFAULT_CLUSTER_DNS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 43, 0, 10));
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";
/// Resolvers read at most this many search domains and characters of them (glibc ≥ 2.26 and
/// musl); the kubelet cuts the list to the same limits.
const MAX_SEARCHES: usize = 32;
const MAX_SEARCH_CHARS: usize = 2048;
/// Resolvers use at most three nameservers.
const MAX_NAMESERVERS: usize = 3;

/// The hosts file of a pod: loopback and IPv6 names, the pod's own name on each of its
/// addresses (`fqdn` first when the pod has a subdomain), then the pod's `hostAliases`.
pub fn hosts_file(pod_ips: &[IpAddr], hostname: &str, fqdn: Option<&str>, host_aliases: &[HostAlias]) -> String {
    let mut hosts = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    for ip in pod_ips {
        match fqdn {
            Some(fqdn) => hosts.push_str(&format!("{ip}\t{fqdn}\t{hostname}\n")),
            None => hosts.push_str(&format!("{ip}\t{hostname}\n")),
        }
    }
    let aliases: Vec<&HostAlias> =
        host_aliases.iter().filter(|alias| alias.hostnames.as_ref().is_some_and(|names| !names.is_empty())).collect();
    if !aliases.is_empty() {
        hosts.push_str("\n# Entries added by HostAliases.\n");
        for alias in aliases {
            let names = alias.hostnames.as_deref().unwrap_or_default().join("\t");
            hosts.push_str(&format!("{}\t{names}\n", alias.ip));
        }
    }
    hosts
}

/// The content of a resolv.conf: what pods get, or what the host has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<String>,
}

impl ResolvConf {
    /// Reads a resolv.conf (the host's, for its search domains or for `dnsPolicy: Default`).
    /// Unknown lines and comments are ignored; the last `search`/`domain` line wins, as in libc.
    pub fn parse(text: &str) -> Self {
        let mut conf = Self::default();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => conf.nameservers.extend(fields.next().map(str::to_string)),
                Some("search" | "domain") => {
                    conf.searches = fields
                        .filter(|domain| *domain != ".")
                        .map(|domain| domain.trim_end_matches('.').to_string())
                        .collect();
                }
                Some("options") => conf.options.extend(fields.map(str::to_string)),
                _ => {}
            }
        }
        conf
    }

    /// `dnsPolicy: ClusterFirst`: the cluster DNS service, the namespace's service domains
    /// before the host's search domains, and `ndots:5` so that short service names resolve
    /// through the search list first.
    pub fn cluster_first(namespace: &str, cluster_domain: &str, cluster_dns: IpAddr, host: &ResolvConf) -> Self {
        let mut searches = vec![
            format!("{namespace}.svc.{cluster_domain}"),
            format!("svc.{cluster_domain}"),
            cluster_domain.to_string(),
        ];
        searches.extend(host.searches.iter().cloned());
        Self { nameservers: vec![cluster_dns.to_string()], searches, options: vec!["ndots:5".to_string()] }
    }

    /// Adds a pod's `dnsConfig`: nameservers and search domains are appended without duplicates;
    /// an option replaces a base option of the same name.
    pub fn merge_pod_dns_config(mut self, config: &PodDNSConfig) -> Self {
        for nameserver in config.nameservers.iter().flatten() {
            if !self.nameservers.contains(nameserver) {
                self.nameservers.push(nameserver.clone());
            }
        }
        for search in config.searches.iter().flatten() {
            if !self.searches.contains(search) {
                self.searches.push(search.clone());
            }
        }
        for option in config.options.iter().flatten() {
            let Some(name) = option.name.as_deref() else { continue };
            let rendered = match &option.value {
                Some(value) => format!("{name}:{value}"),
                None => name.to_string(),
            };
            self.options.retain(|existing| existing.split(':').next() != Some(name));
            self.options.push(rendered);
        }
        self
    }

    /// The file's text, within the limits resolvers honour: three nameservers, and search
    /// domains cut at the first one that would exceed 32 entries or 2048 characters.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for nameserver in self.nameservers.iter().take(MAX_NAMESERVERS) {
            text.push_str(&format!("nameserver {nameserver}\n"));
        }
        let mut searches: Vec<&str> = Vec::new();
        let mut chars = 0;
        for search in &self.searches {
            let added = search.len() + usize::from(!searches.is_empty());
            if searches.len() == MAX_SEARCHES || chars + added > MAX_SEARCH_CHARS {
                break;
            }
            chars += added;
            searches.push(search);
        }
        if !searches.is_empty() {
            text.push_str(&format!("search {}\n", searches.join(" ")));
        }
        if !self.options.is_empty() {
            text.push_str(&format!("options {}\n", self.options.join(" ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodDNSConfigOption;

    use super::*;

    #[test]
    fn hosts_file_names_the_pod_and_its_aliases() {
        let ip: IpAddr = "10.42.0.7".parse().unwrap();
        let plain = hosts_file(&[ip], "web-0", None, &[]);
        assert!(plain.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(plain.ends_with("fe00::2\tip6-allrouters\n10.42.0.7\tweb-0\n"));

        let aliases = [
            HostAlias { ip: "192.0.2.9".into(), hostnames: Some(vec!["foo.local".into(), "bar.local".into()]) },
            HostAlias { ip: "192.0.2.10".into(), hostnames: None },
        ];
        let full = hosts_file(&[ip], "web-0", Some("web-0.web.default.svc.cluster.local"), &aliases);
        assert!(full.contains("10.42.0.7\tweb-0.web.default.svc.cluster.local\tweb-0\n"));
        assert!(full.ends_with("\n# Entries added by HostAliases.\n192.0.2.9\tfoo.local\tbar.local\n"));
    }

    #[test]
    fn cluster_first_puts_service_domains_before_the_hosts() {
        let host = ResolvConf::parse(
            "# generated\nnameserver 192.0.2.53\nsearch corp.example. lab.example .\noptions edns0\n",
        );
        assert_eq!(host.searches, ["corp.example", "lab.example"]);
        assert_eq!(host.nameservers, ["192.0.2.53"]);
        let pod = ResolvConf::cluster_first("shop", DEFAULT_CLUSTER_DOMAIN, DEFAULT_CLUSTER_DNS, &host);
        assert_eq!(
            pod.render(),
            "nameserver 10.43.0.10\n\
             search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n\
             options ndots:5\n"
        );
    }

    #[test]
    fn pod_dns_config_is_merged_without_duplicates() {
        let base = ResolvConf::cluster_first("a", "cluster.local", DEFAULT_CLUSTER_DNS, &ResolvConf::default());
        let config = PodDNSConfig {
            nameservers: Some(vec!["10.43.0.10".into(), "192.0.2.1".into()]),
            searches: Some(vec!["cluster.local".into(), "extra.example".into()]),
            options: Some(vec![
                PodDNSConfigOption { name: Some("ndots".into()), value: Some("2".into()) },
                PodDNSConfigOption { name: Some("edns0".into()), value: None },
            ]),
        };
        let merged = base.merge_pod_dns_config(&config);
        assert_eq!(merged.nameservers, ["10.43.0.10", "192.0.2.1"]);
        assert_eq!(merged.searches.last().unwrap(), "extra.example");
        assert_eq!(merged.searches.len(), 4);
        assert_eq!(merged.options, ["ndots:2", "edns0"]);
    }

    #[test]
    fn render_respects_resolver_limits() {
        let conf = ResolvConf {
            nameservers: (1..=5).map(|n| format!("192.0.2.{n}")).collect(),
            searches: (0..40).map(|n| format!("d{n}.example")).collect(),
            options: vec![],
        };
        let text = conf.render();
        assert_eq!(text.matches("nameserver").count(), 3);
        let search_line = text.lines().find(|line| line.starts_with("search ")).unwrap();
        assert_eq!(search_line.split(' ').count() - 1, 32);

        let long = ResolvConf { searches: (0..10).map(|n| format!("{n}{}", "x".repeat(300))).collect(), ..conf };
        let search_line = long.render().lines().find(|line| line.starts_with("search ")).unwrap().to_string();
        assert!(search_line.len() - "search ".len() <= 2048);
        assert_eq!(search_line.split(' ').count() - 1, 6);
    }
}
