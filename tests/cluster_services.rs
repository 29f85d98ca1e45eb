//! Services on a four-node cluster (`onebin cluster create`, each node in its own network
//! namespace): every node's service proxy makes a cluster IP reach the pods wherever they run,
//! spread over them, and the `kubernetes` service reach the API server; a NodePort answers on
//! every node's address, nodes without an endpoint included; a LoadBalancer gets the nodes'
//! addresses as EXTERNAL-IP and answers on them; an Ingress answers on port 80 of every node.

mod harness;

use std::collections::BTreeSet;
use std::time::Duration;

use harness::{eventually, text, Cluster, Manifests};

const TAINT: &str = "--server-arg=--node-taint=node-role.kubernetes.io/control-plane:NoSchedule";
const NODES: [&str; 4] = ["svc-server-0", "svc-agent-0", "svc-agent-1", "svc-agent-2"];
/// How many requests each client sends through the cluster IP.
const REQUESTS: usize = 30;

/// Three busybox httpd backends answering with their host name (their pod's name), a cluster IP,
/// a NodePort (port allocated by the API server) and a LoadBalancer service in front of them.
const BACKENDS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: who}
spec:
  replicas: 3
  selector: {matchLabels: {app: who}}
  template:
    metadata: {labels: {app: who}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: who
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 0.0.0.0:8080 -h /www']
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: who}
spec:
  selector: {app: who}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: who-np}
spec:
  type: NodePort
  selector: {app: who}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: who-lb}
spec:
  type: LoadBalancer
  selector: {app: who}
  ports: [{port: 18090, targetPort: 8080}]
"#;

/// A pod on `node` checking, as the seeds do, that `nslookup who` gives the service's cluster
/// IP and that `REQUESTS` fetches of `http://who/` (by name, through cluster DNS and the
/// cluster IP) reach every one of `backends`, and that the `kubernetes` service reaches the
/// API server. Its exit code says
/// which check failed.
fn client(node: &str, backends: &BTreeSet<String>) -> String {
    let backends = backends.iter().cloned().collect::<Vec<_>>().join(" ");
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: client-{node}}}
spec:
  nodeName: {node}
  restartPolicy: Never
  tolerations: [{{operator: Exists}}]
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command:
    - sh
    - -c
    - |
      nslookup who | grep -q "Address: $WHO_SERVICE_HOST" || exit 4
      seen=""
      for i in $(seq {REQUESTS}); do seen="$seen $(wget -q -T 3 -O - http://who/)" || exit 1; done
      for backend in {backends}; do echo "$seen" | grep -qw "$backend" || exit 2; done
      url=https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/version
      wget -q -T 3 -O - --no-check-certificate $url | grep -q gitVersion || exit 3
"#
    )
}

/// `curl` from the machine: the body when it answered.
fn get(url: &str) -> Option<String> {
    let output = std::process::Command::new("curl").args(["-s", "-m", "3", url]).output().unwrap();
    output.status.success().then(|| text(&output.stdout).trim().to_string())
}

#[test]
fn services_work_from_every_node() {
    let cluster = Cluster::create("svc", 4, &[TAINT]);
    cluster.apply_file("who.yaml", BACKENDS);
    eventually(Duration::from_secs(60), "three ready backends", || {
        (cluster.jsonpath(&["deployment", "who"], "{.status.readyReplicas}") == "3").then_some(())
    });
    let backends: BTreeSet<String> = cluster
        .jsonpath(&["pods", "-l", "app=who"], "{.items[*].metadata.name}")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let hosting: BTreeSet<String> = cluster
        .jsonpath(&["pods", "-l", "app=who"], "{.items[*].spec.nodeName}")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    // Spread over the agents (a node that turned Ready a moment before the burst may be
    // missed by the first placements, as upstream's scheduler would); none on the tainted server.
    assert!(hosting.len() >= 2 && !hosting.contains(NODES[0]), "backends on {hosting:?}");

    // A pod on every node reaches both backends through the cluster IP, and the API server
    // through the `kubernetes` service.
    for node in NODES {
        cluster.apply_file(&format!("client-{node}.yaml"), &client(node, &backends));
    }
    for node in NODES {
        let pod = format!("client-{node}");
        eventually(Duration::from_secs(60), &format!("{pod} to finish"), || {
            let phase = cluster.jsonpath(&["pod", &pod], "{.status.phase}");
            let code = cluster.jsonpath(&["pod", &pod], "{.status.containerStatuses[0].state.terminated.exitCode}");
            // 1: the cluster IP failed, 2: a backend never answered, 3: no API server,
            // 4: the name did not resolve to the cluster IP.
            assert_ne!(phase, "Failed", "{pod} failed with exit code {code}");
            (phase == "Succeeded").then_some(())
        });
    }

    // The NodePort answers on every node's address, on nodes without a backend too.
    let node_port = cluster.jsonpath(&["service", "who-np"], "{.spec.ports[0].nodePort}");
    let port: u16 = node_port.parse().unwrap_or_else(|_| panic!("no node port allocated: {node_port:?}"));
    assert!((30000..=32767).contains(&port), "{port}");
    let internal_ip = "{.status.addresses[?(@.type==\"InternalIP\")].address}";
    let mut addresses = Vec::new();
    for node in NODES {
        let address = cluster.jsonpath(&["node", node], internal_ip);
        let answer = eventually(Duration::from_secs(20), &format!("the NodePort on {node} ({address})"), || {
            get(&format!("http://{address}:{port}/"))
        });
        assert!(backends.contains(&answer), "{node}: {answer}");
        addresses.push(address);
    }
    assert!(NODES.iter().any(|node| !hosting.contains(*node)));

    // The LoadBalancer gets the nodes' addresses and answers on each.
    let ingress = eventually(Duration::from_secs(20), "the load balancer's EXTERNAL-IP", || {
        let ips = cluster.jsonpath(&["service", "who-lb"], "{.status.loadBalancer.ingress[*].ip}");
        (!ips.is_empty()).then_some(ips)
    });
    let listing = cluster.kubectl_ok(&["get", "service", "who-lb"]);
    assert!(!listing.contains("<pending>"), "{listing}");
    for ip in ingress.split_whitespace() {
        assert!(addresses.iter().any(|address| address == ip), "{ip} is no node address: {addresses:?}");
        let answer = eventually(Duration::from_secs(20), &format!("the load balancer on {ip}"), || {
            get(&format!("http://{ip}:18090/"))
        });
        assert!(backends.contains(&answer), "{ip}: {answer}");
    }

    // The built-in ingress controller runs on the server, and its LoadBalancer Service makes
    // port 80 of every node lead to it: the seed's Ingress answers on each node's address.
    cluster.apply_file("ingress.yaml", INGRESS);
    let published = eventually(Duration::from_secs(30), "the ingress ADDRESS", || {
        let ips = cluster.jsonpath(&["ingress", "who"], "{.status.loadBalancer.ingress[*].ip}");
        (ips.split_whitespace().count() == NODES.len()).then_some(ips)
    });
    for address in &addresses {
        assert!(published.split_whitespace().any(|ip| ip == address), "{address} not in {published}");
        let resolve = format!("alicek106.example.com:80:{address}");
        let answer = eventually(Duration::from_secs(20), &format!("the ingress on {address}"), || {
            let output = std::process::Command::new("curl")
                .args(["-s", "-m", "3", "--resolve", &resolve, "http://alicek106.example.com/echo-hostname"])
                .output()
                .unwrap();
            output.status.success().then(|| text(&output.stdout).trim().to_string()).filter(|a| !a.is_empty())
        });
        assert!(backends.contains(&answer), "{address}: {answer}");
    }
}

const INGRESS: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: who
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  rules:
  - host: alicek106.example.com
    http:
      paths:
      - path: /echo-hostname
        pathType: Prefix
        backend:
          service:
            name: who
            port:
              number: 80
"#;
