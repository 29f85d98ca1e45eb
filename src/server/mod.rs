//! The control plane: store, API server, registry, authentication, controllers, scheduler.

pub mod api_error;
pub mod apiserver;
pub mod auth;
mod bootstrap;
pub mod controllers;
pub mod fanout;
pub mod ingress;
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
    let advertise = args.advertise_address.unwrap_or_else(crate::host::default_route_ip);
    let registry_config = RegistryConfig {
        service_cidr: args.service_cidr.clone(),
        node_port_range: args.service_node_port_range.clone(),
    };
    registry::kinds::set_default_toleration_seconds(args.default_toleration_seconds);
    let pki = Arc::new(Pki::load_or_create(data_dir)?);
    let store =
        store::SledStore::open(&data_dir.join("server").join("db"), args.watch_history).context("opening the store")?;
    let registry = Arc::new(Registry::new(Arc::new(store), &registry_config).await?);
    let names = serving_names(&args, advertise, &registry.service_allocator().api_service_ip().into());
    let serving = pki.serving_cert(&names)?;
    let admin = pki.client_cert("client-admin", ClientIdentity { user: "system:admin", groups: &[MASTERS] })?;
    let node_client = pki.client_cert(
        "client-kube-apiserver-kubelet",
        ClientIdentity { user: crate::agent::nodeapi::API_SERVER_CLIENT_USER, groups: &[MASTERS] },
    )?;
    auth::token::load_or_create(data_dir, args.token.as_deref(), pki.server_ca.cert_pem.as_bytes())?;

    let informers = controllers::informer::Informers::new(registry.clone());
    let signer = Arc::new(auth::service_account_token::TokenSigner::load_or_create(
        &data_dir.join("server").join("tls").join("service-account.key"),
    )?);
    let authenticator = Authenticator::default().with_token_authenticator(Arc::new(
        auth::service_account_token::ServiceAccountAuthenticator {
            signer: signer.clone(),
            service_accounts: informers.of("", "serviceaccounts"),
            pods: informers.of("", "pods"),
        },
    ));

    let addr = SocketAddr::new(args.bind_address, args.https_listen_port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    let api = Arc::new(apiserver::ApiServer {
        registry: registry.clone(),
        authenticator,
        token_signer: signer,
        join: apiserver::join::JoinService {
            pki: pki.clone(),
            data_dir: data_dir.clone(),
            cluster: apiserver::join::ClusterFacts {
                cluster_cidr: args.cluster_cidr.clone(),
                service_cidr: args.service_cidr.clone(),
                cluster_dns: args.cluster_dns.to_string(),
                cluster_domain: args.cluster_domain.clone(),
            },
        },
        authorizer: Box::new(auth::node_authorizer::AnyOf(vec![
            Box::new(auth::authz::MastersAndDiscovery),
            Box::new(auth::node_authorizer::NodeAuthorizer { pods: informers.of("", "pods") }),
        ])),
        server_address: SocketAddr::new(advertise, args.https_listen_port).to_string(),
        ready: Default::default(),
        nodes: apiserver::node_proxy::NodeClient::new(&pki.server_ca.cert_pem, &node_client)?,
    });
    let acceptor = apiserver::tls::acceptor(&serving, &pki.client_ca.cert_pem)?;
    let server = tokio::spawn(apiserver::tls::serve(listener, acceptor, apiserver::router(api.clone())));

    write_kubeconfigs(&args, &pki, &admin)?;
    bootstrap::ensure(&registry, advertise, args.https_listen_port)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrapping the cluster: {e}"))?;
    controllers::start(
        &informers,
        &controllers::Settings {
            ca_pem: pki.server_ca.cert_pem.clone(),
            cluster_cidr: args.cluster_cidr.clone(),
            node_cidr_prefix: args.node_cidr_mask_size,
            node_monitor_grace_period: std::time::Duration::from_secs(args.node_monitor_grace_period),
            lb_pool: args.lb_pool.clone(),
        },
    )?;
    scheduler::spawn(&informers);
    if !args.ingress.disable_ingress {
        let settings = ingress::Settings {
            classes: args.ingress.ingress_class.clone(),
            http: SocketAddr::new(args.bind_address, args.ingress.ingress_http_port),
            https: SocketAddr::new(args.bind_address, args.ingress.ingress_https_port),
            server: advertise,
        };
        ingress::spawn(&informers, settings).await?;
    }
    api.ready.store(true, Ordering::Release);
    if !args.disable_agent {
        let agent = embedded_agent(&args, &pki, advertise)?;
        tokio::spawn(async move {
            if let Err(err) = crate::agent::run(agent).await {
                tracing::error!("the embedded agent stopped: {err:#}");
            }
        });
    }
    tracing::info!(address = %addr, elapsed = ?started.elapsed(), kubeconfig = %args.write_kubeconfig.display(), "onebin server is ready");
    crate::sd_notify::ready();

    tokio::select! {
        result = server => result.context("API server task")?.context("API server"),
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}

/// The configuration of the agent this server runs for its own machine, with a node
/// identity issued directly by the server's client CA.
fn embedded_agent(args: &ServerArgs, pki: &Pki, advertise: IpAddr) -> Result<crate::agent::AgentConfig> {
    let data_dir = &args.common.data_dir;
    let name = args.agent.node_name.clone().unwrap_or_else(crate::host::hostname);
    registry::validation::dns1123_subdomain(&name).map_err(|why| anyhow::anyhow!("node name {name:?}: {why}"))?;
    let user = format!("{}{name}", auth::node_authorizer::NODE_USER_PREFIX);
    let cert = pki.client_cert(
        &format!("client-kubelet-{name}"),
        ClientIdentity { user: &user, groups: &[auth::node_authorizer::NODES_GROUP] },
    )?;
    let host = if args.bind_address.is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { args.bind_address };
    let url = format!("https://{}", SocketAddr::new(host, args.https_listen_port));
    let kubeconfig = crate::agent::agent_dir(data_dir).join("kubelet.kubeconfig");
    auth::files::write_private(&kubeconfig, auth::kubeconfig::render(&url, &pki.server_ca.cert_pem, &cert).as_bytes())?;
    let ip = match (args.agent.node_ip, &args.agent.flannel_iface) {
        (None, None) => advertise,
        _ => args.agent.node_ip()?,
    };
    let node_api = pki.node_serving_cert(&name, Some(ip))?;
    Ok(crate::agent::AgentConfig {
        node: crate::agent::NodeConfig {
            name,
            ip,
            labels: args.agent.labels()?,
            taints: args.agent.node_taint.clone(),
            control_plane: true,
            kubelet_port: args.agent.kubelet_port,
            data_dir: data_dir.clone(),
            agent_id: crate::agent::agent_id(data_dir)?,
            max_pods: args.agent.max_pods,
        },
        kubeconfig,
        run_dir: args.agent.run_dir.clone(),
        cluster_cidr: args.cluster_cidr.parse().with_context(|| format!("--cluster-cidr {:?}", args.cluster_cidr))?,
        cluster_dns: args.cluster_dns,
        cluster_domain: args.cluster_domain.clone(),
        cgroup_parent: args.agent.cgroup_parent.clone(),
        bridge: args.agent.bridge.clone(),
        proxy_table: args.agent.proxy_table.clone(),
        vxlan_device: args.agent.overlay_device(),
        node_api_tls: crate::agent::NodeApiTls {
            cert_pem: node_api.cert_pem,
            key_pem: node_api.key_pem,
            client_ca_pem: pki.client_ca.cert_pem.clone(),
        },
        resolv_conf: args.agent.resolv_conf.clone(),
    })
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
    names.insert(crate::host::hostname());
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

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
