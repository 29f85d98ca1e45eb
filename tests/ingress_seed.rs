//! The seeds' Ingress chapter on the built-in ingress controller: host and path routing to
//! the three pods of hostname-deployment, 404 for other hosts, `rewrite-target` with capture
//! groups, a default backend, TLS termination with a secret made by `openssl`, and ingress
//! classes (a controller started for another class leaves `nginx` Ingresses alone).

mod harness;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use harness::{eventually, text, Server};

const HOST: &str = "alicek106.example.com";
const WAIT: Duration = Duration::from_secs(60);

/// Three busybox web servers that answer `/` with their hostname and `/color/red` with "red"
/// (the seeds' alicek106/rr-test:echo-hostname, built from the test image).
const HOSTNAME_APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hostname-deployment
spec:
  replicas: 3
  selector:
    matchLabels:
      app: webserver
  template:
    metadata:
      name: my-webserver
      labels:
        app: webserver
    spec:
      containers:
      - name: my-webserver
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "mkdir -p /www/color && hostname > /www/index.html && echo red > /www/color/red && exec httpd -f -p 80 -h /www"]
        ports:
        - containerPort: 80
        readinessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: hostname-service
spec:
  ports:
    - name: web-port
      port: 80
      targetPort: 80
  selector:
    app: webserver
  type: ClusterIP
"#;

const INGRESS_EXAMPLE2: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-example2
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
    kubernetes.io/ingress.class: "nginx"
spec:
  rules:
  - host: alicek106.example.com
    http:
      paths:
      - path: /echo-hostname
        pathType: Prefix
        backend:
          service:
            name: hostname-service
            port:
              number: 80
"#;

const REWRITE: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-example2
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    kubernetes.io/ingress.class: "nginx"
spec:
  rules:
  - host: alicek106.example.com
    http:
      paths:
      - path: /echo-hostname(/|$)(.*)
        pathType: Prefix
        backend:
          service:
            name: hostname-service
            port:
              number: 80
"#;

const MINIMAL: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: minimal-ingress
spec:
  defaultBackend:
    service:
      name: hostname-service
      port:
        number: 80
"#;

const TLS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-tls
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
    kubernetes.io/ingress.class: "nginx"
spec:
  tls:
  - hosts:
    - alicek106.example.com
    secretName: tls-secret
  rules:
  - host: alicek106.example.com
    http:
      paths:
      - path: /echo-hostname
        pathType: Prefix
        backend:
          service:
            name: hostname-service
            port:
              number: 80
"#;

fn apply(server: &Server, manifest: &str) -> String {
    let out = server.kubectl_stdin(&["apply", "-f", "-"], manifest);
    assert!(out.status.success(), "apply failed: {}\n{manifest}", text(&out.stderr));
    text(&out.stdout)
}

/// `curl` against the ingress: (status, body, verbose log).
fn curl(args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-s", "-v", "-m", "5", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let stdout = text(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string(), text(&out.stderr))
}

/// A request for `HOST` at `path` through the HTTP port, the seeds' `curl --resolve` way.
fn get(server: &Server, path: &str) -> (u16, String) {
    let port = server.ingress_ports.0;
    let (code, body, _) =
        curl(&["--resolve", &format!("{HOST}:{port}:127.0.0.1"), &format!("http://{HOST}:{port}{path}")]);
    (code, body)
}

fn pod_names(server: &Server) -> BTreeSet<String> {
    let out = server.kubectl_ok(&["get", "pods", "-l", "app=webserver", "-o", "jsonpath={.items[*].metadata.name}"]);
    out.split_whitespace().map(String::from).collect()
}

fn wait_three_ready(server: &Server) -> BTreeSet<String> {
    let deadline = std::time::Instant::now() + WAIT;
    let pods = || server.kubectl_ok(&["describe", "pods", "-l", "app=webserver"]);
    eventually(WAIT, "three ready endpoints", || {
        assert!(std::time::Instant::now() + Duration::from_secs(1) < deadline, "pods never became ready:\n{}", pods());
        let out = server.kubectl_ok(&[
            "get",
            "endpoints",
            "hostname-service",
            "-o",
            "jsonpath={.subsets[*].addresses[*].ip}",
        ]);
        (out.split_whitespace().count() == 3).then_some(())
    });
    pod_names(server)
}

#[test]
fn the_seed_ingress_routes_by_host_and_path_and_spreads_over_the_pods() {
    let mut server = Server::start_node();
    apply(&server, HOSTNAME_APP);
    let pods = wait_three_ready(&server);
    let created = apply(&server, INGRESS_EXAMPLE2);
    assert!(created.contains("ingress.networking.k8s.io/ingress-example2 created"), "{created}");

    // The controller publishes the node's address; CLASS stays <none> with only the annotation.
    let listing = eventually(WAIT, "the ingress address", || {
        let out = server.kubectl_ok(&["get", "ingress"]);
        out.contains("127.0.0.1").then_some(out)
    });
    let header: Vec<&str> = listing.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    let row: Vec<&str> = listing.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..5], ["ingress-example2", "<none>", HOST, "127.0.0.1", "80"], "{listing}");

    // Requests spread over all three pods; the backend sees `/` (rewrite-target: /).
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        let (code, body) = get(&server, "/echo-hostname");
        assert_eq!(code, 200, "{body}");
        seen.insert(body.trim().to_string());
    }
    assert_eq!(seen, pods, "every pod answers in turn");
    assert_eq!(get(&server, "/echo-hostname/alice/bob").0, 200);
    assert!(pods.contains(get(&server, "/echo-hostname/alice/bob").1.trim()));

    // Another host (the bare node IP) or another path: nginx's 404.
    let port = server.ingress_ports.0;
    let (code, body, _) = curl(&[&format!("http://127.0.0.1:{port}/echo-hostname")]);
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("404 Not Found"), "{body}");
    assert_eq!(get(&server, "/elsewhere").0, 404);

    // Capture groups: /echo-hostname/<rest> reaches the pods as /<rest>.
    apply(&server, REWRITE);
    eventually(WAIT, "the rewrite rule", || {
        (get(&server, "/echo-hostname/color/red") == (200, "red\n".into())).then_some(())
    });
    let (code, body) = get(&server, "/echo-hostname/");
    assert_eq!(code, 200);
    assert!(pods.contains(body.trim()), "{body}");
    assert!(pods.contains(get(&server, "/echo-hostname").1.trim()));

    // A default backend takes any host and path no rule claims.
    apply(&server, MINIMAL);
    let catch_all = eventually(WAIT, "the default backend", || {
        let (code, body, _) = curl(&[&format!("http://127.0.0.1:{port}/")]);
        (code == 200).then_some(body)
    });
    assert!(pods.contains(catch_all.trim()), "{catch_all}");
    // A pod that goes away is no longer chosen: requests keep succeeding.
    server.kubectl_ok(&["delete", "pod", pods.iter().next().unwrap(), "--wait=false"]);
    for _ in 0..10 {
        assert_eq!(get(&server, "/echo-hostname/color/red").0, 200);
    }

    // A controller for another class leaves the `nginx` Ingresses alone (seed 8.5).
    server.extra_args.extend(["--ingress-class".to_string(), "alicek106-nginx".to_string()]);
    server.restart();
    eventually(WAIT, "nginx-class ingresses to be ignored", || {
        (get(&server, "/echo-hostname/color/red").0 == 404).then_some(())
    });
    let custom = REWRITE.replace("\"nginx\"", "\"alicek106-nginx\"");
    apply(&server, &custom);
    eventually(WAIT, "the custom-class ingress", || (get(&server, "/echo-hostname/color/red").0 == 200).then_some(()));
}

#[test]
fn tls_is_terminated_with_the_secret_from_openssl() {
    let server = Server::start_node();
    apply(&server, HOSTNAME_APP);
    let pods = wait_three_ready(&server);
    let dir = server.dir.path();
    let (key, cert) = (dir.join("tls.key"), dir.join("tls.crt"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "365", "-newkey", "rsa:2048", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-subj", &format!("/CN={HOST}/O=alicek106")])
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", text(&made.stderr));
    server.kubectl_ok(&[
        "create",
        "secret",
        "tls",
        "tls-secret",
        "--key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
    ]);
    apply(&server, TLS);
    let listing = eventually(WAIT, "the TLS ingress address", || {
        let out = server.kubectl_ok(&["get", "ingress", "ingress-tls"]);
        out.contains("127.0.0.1").then_some(out)
    });
    assert!(listing.contains("80, 443"), "{listing}");

    let https = server.ingress_ports.1;
    let resolve = format!("{HOST}:{https}:127.0.0.1");
    let url = format!("https://{HOST}:{https}/echo-hostname");
    let (code, body, log) = eventually(WAIT, "the secret's certificate", || {
        let answer = curl(&["-k", "--resolve", &resolve, &url]);
        answer.2.contains("O=alicek106").then_some(answer)
    });
    assert_eq!(code, 200, "{log}");
    assert!(pods.contains(body.trim()), "{body}");
    assert!(log.contains(&format!("CN={HOST}")), "{log}");

    // Verified against the certificate itself, not just accepted with -k.
    let (code, _, log) = curl(&["--cacert", cert.to_str().unwrap(), "--resolve", &resolve, &url]);
    assert_eq!(code, 200, "{log}");

    // Plain HTTP for a TLS host is redirected to HTTPS.
    let http = server.ingress_ports.0;
    let (code, _, log) =
        curl(&["--resolve", &format!("{HOST}:{http}:127.0.0.1"), &format!("http://{HOST}:{http}/echo-hostname")]);
    assert_eq!(code, 308, "{log}");
    assert!(log.contains(&format!("location: https://{HOST}:{https}/echo-hostname")), "{log}");

    // Names without a certificate get the default one, and still their routes.
    let (code, _, log) = curl(&["-k", &format!("https://127.0.0.1:{https}/echo-hostname")]);
    assert_eq!(code, 404, "{log}");
    assert!(log.contains("onebin ingress default certificate"), "{log}");
}
