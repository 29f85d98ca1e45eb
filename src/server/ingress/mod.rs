//! The built-in ingress controller (k3s ships Traefik; onebin serves Ingresses itself). It
//! runs in the server process, reads Ingresses, IngressClasses, Services, EndpointSlices and
//! TLS Secrets from the shared informers, and serves HTTP and HTTPS on the server's node,
//! forwarding to pods directly. Each served Ingress gets the addresses it is reachable on in
//! `status.loadBalancer.ingress`, so `kubectl get ingress` shows an ADDRESS.
//!
//! The nginx annotations the seeds use (`rewrite-target` with capture groups, `use-regex`,
//! `app-root`, `ssl-redirect`) keep their ingress-nginx meaning, and the class `nginx` is
//! served by default, so manifests written for ingress-nginx work unchanged.

mod backends;
mod certificates;
pub mod class;
pub mod exposure;
mod proxy;
mod routes;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::networking::v1::Ingress;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::server::controllers::informer::{Informer, Informers};
use crate::server::controllers::status_update::write_status;
use crate::server::fanout::{RecvError, TryRecvError};
use crate::server::registry::object;
use proxy::Proxy;
use routes::RouteTable;

/// The IngressClass onebin creates for itself.
pub const CLASS_NAME: &str = "onebin";
/// Changes arriving this close together are compiled into one table.
const SETTLE: Duration = Duration::from_millis(50);
/// How often a listener whose port is taken tries again.
const BIND_RETRY: Duration = Duration::from_secs(5);

/// Flags of the built-in ingress controller.
#[derive(clap::Args, Debug, Clone)]
pub struct IngressArgs {
    /// Do not run the built-in ingress controller (to install another one).
    #[arg(long, env = "ONEBIN_DISABLE_INGRESS")]
    pub disable_ingress: bool,
    /// Ingress class names the built-in controller serves (besides Ingresses naming no class
    /// and IngressClasses whose controller is onebin's).
    #[arg(long = "ingress-class", env = "ONEBIN_INGRESS_CLASS", value_delimiter = ',', default_value = "onebin,nginx")]
    pub ingress_class: Vec<String>,
    /// Port the ingress controller serves HTTP on.
    #[arg(long, env = "ONEBIN_INGRESS_HTTP_PORT", default_value_t = 80)]
    pub ingress_http_port: u16,
    /// Port the ingress controller serves HTTPS on.
    #[arg(long, env = "ONEBIN_INGRESS_HTTPS_PORT", default_value_t = 443)]
    pub ingress_https_port: u16,
}

pub struct Settings {
    /// Class names served besides IngressClasses whose controller is onebin's.
    pub classes: Vec<String>,
    pub http: SocketAddr,
    pub https: SocketAddr,
    /// The server's address: where the listeners are, and what Ingresses show until
    /// ServiceLB has given the controller's Service the nodes' addresses.
    pub server: IpAddr,
}

/// Starts the controller: listeners, the table compiler and the status writer.
pub async fn spawn(informers: &Arc<Informers>, settings: Settings) -> Result<()> {
    let registry = informers.registry().clone();
    let ingress_classes = crate::server::registry::catalog::find("networking.k8s.io", "v1", "ingressclasses")
        .expect("ingressclasses are served");
    let class = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                       "metadata": {"name": CLASS_NAME}, "spec": {"controller": class::CONTROLLER}});
    crate::server::bootstrap::create_if_missing(&registry, ingress_classes, None, class)
        .await
        .map_err(|e| anyhow::anyhow!("creating the {CLASS_NAME} IngressClass: {e}"))?;
    exposure::ensure(&registry, settings.server, settings.http.port(), settings.https.port())
        .await
        .map_err(|e| anyhow::anyhow!("exposing the ingress controller: {e}"))?;

    let certificates = Arc::new(certificates::Certificates::new()?);
    let proxy = Arc::new(Proxy {
        table: RwLock::default(),
        backends: backends::Backends::new(
            informers.of("", "services"),
            informers.of("discovery.k8s.io", "endpointslices"),
        ),
        https_port: settings.https.port(),
    });
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certificates.clone());
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    {
        let proxy = proxy.clone();
        tokio::spawn(async move { proxy.serve_http(bind(settings.http).await).await });
    }
    {
        let proxy = proxy.clone();
        tokio::spawn(async move { proxy.serve_https(bind(settings.https).await, acceptor).await });
    }
    let compiler = Compiler {
        ingresses: informers.of("networking.k8s.io", "ingresses"),
        classes: informers.of("networking.k8s.io", "ingressclasses"),
        secrets: informers.of("", "secrets"),
        services: informers.of("", "services"),
        registry,
        settings,
        proxy,
        certificates,
    };
    tokio::spawn(compiler.run());
    Ok(())
}

/// Binds `addr`, waiting while another process holds the port.
async fn bind(addr: SocketAddr) -> TcpListener {
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                tracing::info!(%addr, "ingress controller listening");
                return listener;
            }
            Err(err) => {
                tracing::warn!(%addr, %err, "ingress controller cannot listen yet; retrying");
                tokio::time::sleep(BIND_RETRY).await;
            }
        }
    }
}

struct Compiler {
    ingresses: Arc<Informer>,
    classes: Arc<Informer>,
    secrets: Arc<Informer>,
    services: Arc<Informer>,
    registry: Arc<crate::server::registry::Registry>,
    settings: Settings,
    proxy: Arc<Proxy>,
    certificates: Arc<certificates::Certificates>,
}

impl Compiler {
    async fn run(self) {
        let mut changes =
            [self.ingresses.subscribe(), self.classes.subscribe(), self.secrets.subscribe(), self.services.subscribe()];
        for informer in [&self.ingresses, &self.classes, &self.secrets, &self.services] {
            informer.wait_synced().await;
        }
        self.compile().await;
        loop {
            let [ingresses, classes, secrets, services] = &mut changes;
            let relevant = tokio::select! {
                change = ingresses.recv() => change,
                change = classes.recv() => change,
                change = secrets.recv() => match change {
                    Ok(change) if !is_tls_secret(&change.object) => continue,
                    other => other,
                },
                change = services.recv() => match change {
                    Ok(change) if key(&change.object) != format!("{}/{}", exposure::NAMESPACE, exposure::SERVICE) => continue,
                    other => other,
                },
            };
            if matches!(relevant, Err(RecvError::Closed)) {
                return;
            }
            tokio::time::sleep(SETTLE).await;
            for receiver in &mut changes {
                while matches!(receiver.try_recv(), Ok(_) | Err(TryRecvError::Lagged(_))) {}
            }
            self.compile().await;
        }
    }

    /// Rebuilds the routing table and certificates, and publishes status.
    async fn compile(&self) {
        let class_controller = |name: &str| {
            self.classes.get(None, name).and_then(|c| c.pointer("/spec/controller")?.as_str().map(String::from))
        };
        let (mut served, unserved): (Vec<Arc<Value>>, Vec<Arc<Value>>) = self
            .ingresses
            .list(None)
            .into_iter()
            .filter(|i| !object::is_deleting(i))
            .partition(|i| class::served(i, &self.settings.classes, class_controller));
        served.sort_by(|a, b| creation(a).cmp(creation(b)).then_with(|| key(a).cmp(&key(b))));
        let typed: Vec<Ingress> = served
            .iter()
            .filter_map(|i| match serde_json::from_value::<Ingress>((**i).clone()) {
                Ok(ingress) => Some(ingress),
                Err(err) => {
                    tracing::warn!(ingress = %key(i), %err, "ingress skipped");
                    None
                }
            })
            .collect();
        let table = RouteTable::build(&typed);
        self.certificates.update(&table.tls_secrets, |key| self.secrets.get_key(key));
        *self.proxy.table.write().expect("ingress table") = Arc::new(table);
        self.publish_status(&served, &unserved).await;
    }

    async fn publish_status(&self, served: &[Arc<Value>], unserved: &[Arc<Value>]) {
        let ingress_rt = self.ingresses.rt;
        let service = self.services.get(Some(exposure::NAMESPACE), exposure::SERVICE);
        let addresses = exposure::addresses(service.as_deref(), self.settings.server);
        let ours = json!({"loadBalancer": {"ingress":
            addresses.iter().map(|ip| json!({"ip": ip.to_string()})).collect::<Vec<_>>()}});
        let ours_written = |i: &Value| i.get("status") == Some(&ours);
        for ingress in served {
            if let Err(err) = write_status(&self.registry, ingress_rt, ingress, ours.clone()).await {
                tracing::warn!(ingress = %key(ingress), %err, "writing ingress status");
            }
        }
        // An Ingress moved to another class no longer carries onebin's addresses.
        for ingress in unserved.iter().filter(|i| ours_written(i)) {
            let empty = json!({"loadBalancer": {}});
            if let Err(err) = write_status(&self.registry, ingress_rt, ingress, empty).await {
                tracing::warn!(ingress = %key(ingress), %err, "clearing ingress status");
            }
        }
    }
}

fn is_tls_secret(secret: &Value) -> bool {
    secret.get("type").and_then(Value::as_str) == Some("kubernetes.io/tls")
}

fn creation(ingress: &Value) -> &str {
    ingress.pointer("/metadata/creationTimestamp").and_then(Value::as_str).unwrap_or_default()
}

fn key(ingress: &Value) -> String {
    format!("{}/{}", object::namespace(ingress), object::name(ingress))
}
