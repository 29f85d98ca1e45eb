//! The routing table compiled from the Ingresses this controller handles: virtual hosts,
//! their paths in match order, rewrites and redirects, in the way users of ingress-nginx
//! expect (exact paths first, then the longest path; regex paths when `rewrite-target` or
//! `use-regex` is set; `rewrite-target` replaces the whole URI, `$n` taking capture groups).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{HTTPIngressPath, Ingress, IngressBackend};
use regex::Regex;

const ANNOTATION_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// Where a request goes: a port of a Service in the Ingress's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Backend {
    pub namespace: String,
    pub service: String,
    pub port: ServicePort,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServicePort {
    Number(i32),
    Name(String),
}

#[derive(Debug)]
enum PathMatch {
    Exact(String),
    /// Element-wise prefix (`/a` matches `/a` and `/a/b`, not `/ab`).
    Prefix(String),
    /// Plain string prefix, as nginx matches implementation-specific paths.
    StringPrefix(String),
    /// Anchored, case-insensitive, as nginx `location ~*`.
    Regex(Regex),
}

#[derive(Debug)]
struct Route {
    path: PathMatch,
    /// Length of the path as written, for longest-first order.
    length: usize,
    backend: Backend,
    rewrite: Option<String>,
    app_root: Option<String>,
    ssl_redirect: bool,
}

/// The routes of one host (or of the catch-all server when the host is empty).
#[derive(Debug, Default)]
struct VirtualHost {
    routes: Vec<Route>,
    default_backend: Option<Backend>,
    /// TLS is configured for this host (by any Ingress).
    tls: bool,
}

/// What to do with one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Forward to `backend` with this path and query.
    Forward {
        backend: Backend,
        path_and_query: String,
    },
    /// Answer with a redirect to `location`.
    Redirect {
        status: u16,
        location: String,
    },
    NotFound,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    hosts: BTreeMap<String, VirtualHost>,
    wildcards: Vec<(String, VirtualHost)>,
    catch_all: VirtualHost,
    /// Host → the TLS secret (`namespace/name`) that serves it.
    pub tls_secrets: BTreeMap<String, String>,
}

impl RouteTable {
    /// Compiles the handled Ingresses, oldest first (an older Ingress wins a tie, as upstream).
    pub fn build(ingresses: &[Ingress]) -> Self {
        let mut table = RouteTable::default();
        for ingress in ingresses {
            table.add(ingress);
        }
        for host in table.hosts.values_mut().chain(table.wildcards.iter_mut().map(|(_, h)| h)) {
            sort_routes(&mut host.routes);
        }
        sort_routes(&mut table.catch_all.routes);
        table
    }

    fn add(&mut self, ingress: &Ingress) {
        let namespace = ingress.metadata.namespace.clone().unwrap_or_default();
        let annotations = ingress.metadata.annotations.clone().unwrap_or_default();
        let annotation = |name: &str| annotations.get(&format!("{ANNOTATION_PREFIX}{name}")).map(|v| v.trim());
        let rewrite = annotation("rewrite-target").filter(|v| !v.is_empty()).map(String::from);
        let regex_paths = rewrite.is_some() || annotation("use-regex") == Some("true");
        let app_root = annotation("app-root").filter(|v| v.starts_with('/')).map(String::from);
        let ssl_redirect = annotation("ssl-redirect") != Some("false");
        let Some(spec) = &ingress.spec else { return };
        let default_backend = spec.default_backend.as_ref().and_then(|b| backend(&namespace, b));

        for tls in spec.tls.iter().flatten() {
            for host in tls.hosts.iter().flatten() {
                let host = host.to_ascii_lowercase();
                if let Some(secret) = &tls.secret_name {
                    self.tls_secrets.entry(host.clone()).or_insert_with(|| format!("{namespace}/{secret}"));
                }
                self.host_mut(&host).tls = true;
            }
        }
        for rule in spec.rules.iter().flatten() {
            let host = rule.host.as_deref().unwrap_or("").to_ascii_lowercase();
            let vhost = self.host_mut(&host);
            if vhost.default_backend.is_none() {
                vhost.default_backend.clone_from(&default_backend);
            }
            for path in rule.http.iter().flat_map(|http| &http.paths) {
                let Some(backend) = backend(&namespace, &path.backend) else { continue };
                let Some(matcher) = path_match(path, regex_paths) else { continue };
                vhost.routes.push(Route {
                    length: path.path.as_deref().unwrap_or("/").len(),
                    path: matcher,
                    backend,
                    rewrite: rewrite.clone(),
                    app_root: app_root.clone(),
                    ssl_redirect,
                });
            }
        }
        if self.catch_all.default_backend.is_none() {
            self.catch_all.default_backend = default_backend;
        }
    }

    fn host_mut(&mut self, host: &str) -> &mut VirtualHost {
        if host.is_empty() {
            return &mut self.catch_all;
        }
        if let Some(suffix) = host.strip_prefix("*.") {
            let at = match self.wildcards.iter().position(|(s, _)| s == suffix) {
                Some(at) => at,
                None => {
                    self.wildcards.push((suffix.to_string(), VirtualHost::default()));
                    self.wildcards.len() - 1
                }
            };
            return &mut self.wildcards[at].1;
        }
        self.hosts.entry(host.to_string()).or_default()
    }

    /// The virtual host a `Host` header selects: an exact name, then a wildcard covering one
    /// label, then the catch-all server.
    fn select(&self, host: &str) -> &VirtualHost {
        if let Some(vhost) = self.hosts.get(host) {
            return vhost;
        }
        let parent = host.split_once('.').map(|(_, rest)| rest);
        parent
            .and_then(|parent| self.wildcards.iter().find(|(suffix, _)| suffix == parent))
            .map_or(&self.catch_all, |(_, vhost)| vhost)
    }

    /// Decides the fate of a request for `host` (without port) and `path_and_query`.
    /// `https` says whether it arrived over TLS; `https_port` is where TLS is served.
    pub fn decide(&self, host: &str, path_and_query: &str, https: bool, https_port: u16) -> Decision {
        let host = host.to_ascii_lowercase();
        let vhost = self.select(&host);
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        let Some((route, captures)) = vhost.routes.iter().find_map(|r| r.matches(path).map(|c| (r, c))) else {
            return match &vhost.default_backend {
                Some(backend) => Decision::Forward { backend: backend.clone(), path_and_query: path_and_query.into() },
                None => Decision::NotFound,
            };
        };
        if vhost.tls && route.ssl_redirect && !https && !host.is_empty() {
            let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
            return Decision::Redirect { status: 308, location: format!("https://{host}{port}{path_and_query}") };
        }
        if let Some(root) = route.app_root.as_ref().filter(|_| path == "/") {
            return Decision::Redirect { status: 302, location: root.clone() };
        }
        let path = match &route.rewrite {
            Some(target) => expand(target, &captures),
            None => path.to_string(),
        };
        let path_and_query = match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        Decision::Forward { backend: route.backend.clone(), path_and_query }
    }
}

impl Route {
    /// The capture groups when the route matches `path` (group 0 is the match itself).
    fn matches(&self, path: &str) -> Option<Vec<String>> {
        let whole = || Some(vec![path.to_string()]);
        match &self.path {
            PathMatch::Exact(p) => (p == path).then(whole).flatten(),
            PathMatch::Prefix(p) => element_prefix(p, path).then(whole).flatten(),
            PathMatch::StringPrefix(p) => path.starts_with(p.as_str()).then(whole).flatten(),
            PathMatch::Regex(re) => re.captures(path).map(|caps| {
                caps.iter().map(|group| group.map(|m| m.as_str().to_string()).unwrap_or_default()).collect()
            }),
        }
    }
}

/// Exact paths first, then longer paths before shorter ones.
fn sort_routes(routes: &mut [Route]) {
    routes.sort_by_key(|r| (!matches!(r.path, PathMatch::Exact(_)), std::cmp::Reverse(r.length)));
}

fn element_prefix(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

fn path_match(path: &HTTPIngressPath, regex_paths: bool) -> Option<PathMatch> {
    let text = path.path.clone().unwrap_or_else(|| "/".to_string());
    if regex_paths && path.path_type != "Exact" {
        let re = Regex::new(&format!("(?i)^{text}")).ok()?;
        return Some(PathMatch::Regex(re));
    }
    Some(match path.path_type.as_str() {
        "Exact" => PathMatch::Exact(text),
        "Prefix" => PathMatch::Prefix(text),
        _ => PathMatch::StringPrefix(text),
    })
}

fn backend(namespace: &str, backend: &IngressBackend) -> Option<Backend> {
    let service = backend.service.as_ref()?;
    let port = service.port.as_ref()?;
    let port = match (port.number, &port.name) {
        (Some(n), _) => ServicePort::Number(n),
        (None, Some(name)) => ServicePort::Name(name.clone()),
        (None, None) => return None,
    };
    Some(Backend { namespace: namespace.to_string(), service: service.name.clone(), port })
}

/// Replaces `$n` in a rewrite target with capture group n (empty when absent).
fn expand(target: &str, captures: &[String]) -> String {
    let mut out = String::with_capacity(target.len());
    let mut chars = target.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek().and_then(|d| d.to_digit(10)) {
            Some(n) if c == '$' => {
                chars.next();
                out.push_str(captures.get(n as usize).map_or("", String::as_str));
            }
            _ => out.push(c),
        }
    }
    if out.starts_with('/') {
        out
    } else {
        format!("/{out}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ingress(name: &str, annotations: serde_json::Value, spec: serde_json::Value) -> Ingress {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "annotations": annotations},
            "spec": spec,
        }))
        .unwrap()
    }

    fn rule(host: Option<&str>, paths: serde_json::Value) -> serde_json::Value {
        let mut rule = json!({"http": {"paths": paths}});
        if let Some(host) = host {
            rule["host"] = json!(host);
        }
        rule
    }

    fn path(path: &str, path_type: &str, service: &str) -> serde_json::Value {
        json!({"path": path, "pathType": path_type,
               "backend": {"service": {"name": service, "port": {"number": 80}}}})
    }

    fn forwarded(decision: Decision) -> (String, String) {
        match decision {
            Decision::Forward { backend, path_and_query } => (backend.service, path_and_query),
            other => panic!("not forwarded: {other:?}"),
        }
    }

    const HOST: &str = "alicek106.example.com";

    #[test]
    fn the_seed_ingress_rewrites_its_prefix_to_root_and_refuses_other_hosts() {
        let table = RouteTable::build(&[ingress(
            "ingress-example",
            json!({"nginx.ingress.kubernetes.io/rewrite-target": "/", "kubernetes.io/ingress.class": "nginx"}),
            json!({"rules": [rule(Some(HOST), json!([path("/echo-hostname", "Prefix", "hostname-service")]))]}),
        )]);
        assert_eq!(
            forwarded(table.decide(HOST, "/echo-hostname", false, 443)),
            ("hostname-service".into(), "/".into())
        );
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname/alice/bob", false, 443)).1, "/");
        assert_eq!(forwarded(table.decide("ALICEK106.example.com", "/echo-hostname?x=1", false, 443)).1, "/?x=1");
        assert_eq!(table.decide("10.0.0.1", "/echo-hostname", false, 443), Decision::NotFound);
        assert_eq!(table.decide(HOST, "/other", false, 443), Decision::NotFound);
    }

    #[test]
    fn capture_groups_fill_the_rewrite_target() {
        let table = RouteTable::build(&[ingress(
            "rewrite",
            json!({"nginx.ingress.kubernetes.io/rewrite-target": "/$2"}),
            json!({"rules": [rule(Some(HOST), json!([path("/echo-hostname(/|$)(.*)", "Prefix", "svc")]))]}),
        )]);
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname/", false, 443)).1, "/");
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname", false, 443)).1, "/");
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname/color", false, 443)).1, "/color");
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname/color/red", false, 443)).1, "/color/red");
    }

    #[test]
    fn prefix_matches_whole_elements_and_the_longest_path_wins() {
        let table = RouteTable::build(&[ingress(
            "paths",
            json!({}),
            json!({"rules": [rule(None, json!([
                path("/", "Prefix", "root"),
                path("/apple", "Prefix", "apple"),
                path("/apple/red", "Prefix", "red"),
                path("/exact", "Exact", "exact"),
            ]))]}),
        )]);
        let service = |p: &str| forwarded(table.decide("any.host", p, false, 443)).0;
        assert_eq!(service("/apple"), "apple");
        assert_eq!(service("/apple/"), "apple");
        assert_eq!(service("/apple/red/1"), "red");
        assert_eq!(service("/applesauce"), "root");
        assert_eq!(service("/exact"), "exact");
        assert_eq!(service("/exact/more"), "root");
        assert_eq!(forwarded(table.decide("h", "/apple/x?q=1", false, 443)).1, "/apple/x?q=1");
    }

    #[test]
    fn default_backend_takes_what_no_rule_matches() {
        let table = RouteTable::build(&[ingress(
            "minimal",
            json!({}),
            json!({"defaultBackend": {"service": {"name": "hostname-service", "port": {"number": 80}}}}),
        )]);
        assert_eq!(
            forwarded(table.decide("whatever", "/anything", false, 443)),
            ("hostname-service".into(), "/anything".into())
        );
    }

    #[test]
    fn wildcard_hosts_cover_one_label() {
        let table = RouteTable::build(&[ingress(
            "wild",
            json!({}),
            json!({"rules": [rule(Some("*.example.com"), json!([path("/", "Prefix", "wild")]))]}),
        )]);
        assert_eq!(forwarded(table.decide("a.example.com", "/", false, 443)).0, "wild");
        assert_eq!(table.decide("a.b.example.com", "/", false, 443), Decision::NotFound);
        assert_eq!(table.decide("example.com", "/", false, 443), Decision::NotFound);
    }

    #[test]
    fn tls_hosts_redirect_plain_http_unless_told_not_to() {
        let tls = |annotations| {
            ingress(
                "tls",
                annotations,
                json!({"tls": [{"hosts": [HOST], "secretName": "tls-secret"}],
                       "rules": [rule(Some(HOST), json!([path("/echo-hostname", "Prefix", "svc")]))]}),
            )
        };
        let table = RouteTable::build(&[tls(json!({}))]);
        assert_eq!(table.tls_secrets.get(HOST).map(String::as_str), Some("default/tls-secret"));
        assert_eq!(
            table.decide(HOST, "/echo-hostname", false, 443),
            Decision::Redirect { status: 308, location: format!("https://{HOST}/echo-hostname") }
        );
        assert_eq!(
            table.decide(HOST, "/echo-hostname", false, 8443),
            Decision::Redirect { status: 308, location: format!("https://{HOST}:8443/echo-hostname") }
        );
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname", true, 443)).1, "/echo-hostname");
        let table = RouteTable::build(&[tls(json!({"nginx.ingress.kubernetes.io/ssl-redirect": "false"}))]);
        assert_eq!(forwarded(table.decide(HOST, "/echo-hostname", false, 443)).1, "/echo-hostname");
    }

    #[test]
    fn app_root_redirects_the_root_only() {
        let table = RouteTable::build(&[ingress(
            "root",
            json!({"nginx.ingress.kubernetes.io/app-root": "/app"}),
            json!({"rules": [rule(None, json!([path("/", "Prefix", "svc")]))]}),
        )]);
        assert_eq!(table.decide("h", "/", false, 443), Decision::Redirect { status: 302, location: "/app".into() });
        assert_eq!(forwarded(table.decide("h", "/app", false, 443)).1, "/app");
    }

    #[test]
    fn a_bad_regex_skips_only_that_path() {
        let table = RouteTable::build(&[ingress(
            "bad",
            json!({"nginx.ingress.kubernetes.io/use-regex": "true"}),
            json!({"rules": [rule(None, json!([path("/a(", "ImplementationSpecific", "bad"), path("/b", "Prefix", "good")]))]}),
        )]);
        assert_eq!(forwarded(table.decide("h", "/b", false, 443)).0, "good");
        assert_eq!(table.decide("h", "/a(", false, 443), Decision::NotFound);
    }
}
