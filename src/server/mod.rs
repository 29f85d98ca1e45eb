//! The control plane: store, API server, registry, authentication, controllers, scheduler.

pub mod api_error;
pub mod apiserver;
pub mod auth;
mod bootstrap;
pub mod controllers;
pub mod registry;
pub mod scheduler;
pub mod store;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cli::ServerArgs;
use auth::authn::{Authenticator, MASTERS};
use auth::pki::{ClientIdentity, Pki};
use registry::{Registry, RegistryConfig};

/// Runs `onebin server` until it is stopped.
pub fn run(args: ServerArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("onebin").build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServerArgs) -> Result<()> {
    let started = Instant::now();
    let data_dir = &args.common.data_dir;
    std::fs::create_dir_all(data_dir.join("server")).with_context(|| format!("creating {}", data_dir.display()))?;
    let advertise = args.advertise_address.unwrap_or_else(default_route_ip);
    let registry_config = RegistryConfig {
        service_cidr: args.service_cidr.clone(),
        node_port_range: args.service_node_port_range.clone(),
    };
    let pki = Pki::load_or_create(data_dir)?;
    let store =
        store::SledStore::open(&data_dir.join("server").join("db"), args.watch_history).context("opening the store")?;
    let registry = Arc::new(Registry::new(Arc::new(store), &registry_config).await?);
    let names = serving_names(&args, advertise, &registry.service_allocator().api_service_ip().into());
    let serving = pki.serving_cert(&names)?;
    let admin = pki.client_cert("client-admin", ClientIdentity { user: "system:admin", groups: &[MASTERS] })?;
    auth::token::load_or_create(data_dir, args.token.as_deref(), pki.server_ca.cert_pem.as_bytes())?;

    let addr = SocketAddr::new(args.bind_address, args.https_listen_port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    let api = Arc::new(apiserver::ApiServer {
        registry: registry.clone(),
        authenticator: Authenticator::default(),
        authorizer: Box::new(auth::authz::MastersAndDiscovery),
        server_address: SocketAddr::new(advertise, args.https_listen_port).to_string(),
        ready: Default::default(),
    });
    let acceptor = apiserver::tls::acceptor(&serving, &pki.client_ca.cert_pem)?;
    let server = tokio::spawn(apiserver::tls::serve(listener, acceptor, apiserver::router(api.clone())));

    write_kubeconfigs(&args, &pki, &admin)?;
    bootstrap::ensure(&registry, advertise, args.https_listen_port)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrapping the cluster: {e}"))?;
    let informers = controllers::informer::Informers::new(registry.clone());
    controllers::start(&informers);
    scheduler::spawn(&informers);
    api.ready.store(true, Ordering::Release);
    tracing::info!(address = %addr, elapsed = ?started.elapsed(), kubeconfig = %args.write_kubeconfig.display(), "onebin server is ready");

    tokio::select! {
        result = server => result.context("API server task")?.context("API server"),
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

/// Names and addresses the serving certificate must cover.
fn serving_names(args: &ServerArgs, advertise: IpAddr, service_ip: &IpAddr) -> BTreeSet<String> {
    let mut names: BTreeSet<String> =
        ["localhost", "127.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
            .into_iter()
            .map(String::from)
            .collect();
    names.insert(format!("kubernetes.default.svc.{}", args.cluster_domain));
    names.insert(advertise.to_string());
    names.insert(service_ip.to_string());
    if let Ok(host) = nix::unistd::gethostname() {
        if let Some(host) = host.to_str().filter(|h| !h.is_empty()) {
            names.insert(host.to_lowercase());
        }
    }
    if !args.bind_address.is_unspecified() {
        names.insert(args.bind_address.to_string());
    }
    names.extend(args.tls_san.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    names
}

fn write_kubeconfigs(args: &ServerArgs, pki: &Pki, admin: &auth::pki::CertKey) -> Result<()> {
    let host = if args.bind_address.is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { args.bind_address };
    let url = format!("https://{}", SocketAddr::new(host, args.https_listen_port));
    let text = auth::kubeconfig::render(&url, &pki.server_ca.cert_pem, admin);
    let mode = auth::kubeconfig::parse_mode(&args.write_kubeconfig_mode)?;
    auth::files::write_with_mode(&args.write_kubeconfig, text.as_bytes(), mode)
        .with_context(|| format!("writing the kubeconfig to {}", args.write_kubeconfig.display()))?;
    auth::files::write_private(&auth::kubeconfig::admin_copy_path(&args.common.data_dir), text.as_bytes())
}

/// The address of the interface the default route leaves through (no packet is sent).
fn default_route_ip() -> IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
