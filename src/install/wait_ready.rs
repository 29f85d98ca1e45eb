//! `onebin wait-ready`: waits until the onebin on this machine is up, for the installer to run
//! right after it started (or restarted) the service.
//!
//! On a server that is the API server answering `/readyz`; on any node it is the node being
//! Ready with a Lease renewed after the wait began, so that the status a stopped process left
//! behind (it stays Ready until the grace period runs out) does not count after an upgrade. The
//! node's name and credentials come from the kubeconfig the node uses, `<data-dir>/agent/
//! kubelet.kubeconfig`, which joining writes.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use clap::Args;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::Api;

use crate::cli::CommonArgs;

const POLL: Duration = Duration::from_millis(500);

#[derive(Args, Debug, Clone)]
pub struct WaitReadyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Seconds to wait before giving up.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// This machine runs the server: wait for its API to be ready too.
    #[arg(long)]
    pub server: bool,
    /// The server runs without a node of its own: wait for the API only.
    #[arg(long, requires = "server")]
    pub disable_agent: bool,
}

pub fn run(args: WaitReadyArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(wait(args))
}

async fn wait(args: WaitReadyArgs) -> Result<()> {
    let data_dir = &args.common.data_dir;
    let since = jiff::Timestamp::now();
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut last = String::from("nothing checked yet");
    if args.server {
        let admin = crate::server::auth::kubeconfig::admin_copy_path(data_dir);
        poll(deadline, &mut last, || api_ready(&admin)).await.context("the API server is not ready")?;
        println!("the API server is ready");
    }
    if !args.disable_agent {
        let kubeconfig = crate::agent::agent_dir(data_dir).join("kubelet.kubeconfig");
        let name =
            poll(deadline, &mut last, || node_ready(&kubeconfig, since)).await.context("the node is not Ready")?;
        println!("node {name} is Ready");
    }
    Ok(())
}

/// Runs `check` until it succeeds; on timeout the error is the last reason it gave.
async fn poll<T, F, Fut>(deadline: Instant, last: &mut String, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(err) => *last = format!("{err:#}"),
        }
        if Instant::now() >= deadline {
            bail!("timed out; last seen: {last}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn api_ready(admin_kubeconfig: &Path) -> Result<()> {
    if !admin_kubeconfig.exists() {
        bail!("{} is not written yet (the server has not started)", admin_kubeconfig.display());
    }
    let client = crate::agent::client(admin_kubeconfig).await?;
    let request = hyper::Request::get("/readyz").body(Vec::new())?;
    let body = client.request_text(request).await.context("GET /readyz")?;
    if body.trim() != "ok" {
        bail!("/readyz says {body:?}");
    }
    Ok(())
}

/// The node's name once it is Ready with a Lease renewed after `since`.
async fn node_ready(kubeconfig: &Path, since: jiff::Timestamp) -> Result<String> {
    let text = std::fs::read_to_string(kubeconfig)
        .map_err(|e| anyhow!("{} cannot be read ({e}): the node has not joined yet", kubeconfig.display()))?;
    let name = node_name(&text)?;
    let client = crate::agent::client(kubeconfig).await?;
    let node = Api::<Node>::all(client.clone()).get(&name).await.with_context(|| format!("reading node {name}"))?;
    let ready = node
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .ok_or_else(|| anyhow!("node {name} has no Ready condition yet"))?;
    if ready.status != "True" {
        bail!("node {name} is not Ready: {}", ready.message.unwrap_or_default());
    }
    let lease = Api::<Lease>::namespaced(client, "kube-node-lease")
        .get(&name)
        .await
        .with_context(|| format!("reading the Lease of node {name}"))?;
    let renewed = lease.spec.and_then(|s| s.renew_time).map(|t| t.0);
    match renewed {
        Some(time) if time > since => Ok(name),
        _ => bail!("node {name} has not renewed its Lease since the wait began (is its agent running?)"),
    }
}

/// The node name from the `system:node:<name>` client certificate of a node kubeconfig.
fn node_name(kubeconfig: &str) -> Result<String> {
    let config = kube::config::Kubeconfig::from_yaml(kubeconfig).context("parsing the node kubeconfig")?;
    let data = config
        .auth_infos
        .iter()
        .find_map(|a| a.auth_info.as_ref()?.client_certificate_data.clone())
        .context("the node kubeconfig has no client certificate")?;
    let pem = base64::engine::general_purpose::STANDARD.decode(data.trim()).context("client-certificate-data")?;
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).map_err(|e| anyhow!("the client certificate: {e}"))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&block.contents).map_err(|e| anyhow!("the client certificate: {e}"))?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .context("the client certificate has no common name")?;
    common_name
        .strip_prefix(crate::server::auth::node_authorizer::NODE_USER_PREFIX)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the client certificate is for {common_name:?}, not a node"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::pki::{ClientIdentity, Pki};

    #[test]
    fn the_node_name_comes_from_the_client_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path()).unwrap();
        let user = format!("{}edge-7", crate::server::auth::node_authorizer::NODE_USER_PREFIX);
        let cert = pki.client_cert("client-kubelet-edge-7", ClientIdentity { user: &user, groups: &[] }).unwrap();
        let text = crate::server::auth::kubeconfig::render("https://127.0.0.1:6443", &pki.server_ca.cert_pem, &cert);
        assert_eq!(node_name(&text).unwrap(), "edge-7");

        let admin = pki.client_cert("client-admin", ClientIdentity { user: "system:admin", groups: &[] }).unwrap();
        let text = crate::server::auth::kubeconfig::render("https://127.0.0.1:6443", &pki.server_ca.cert_pem, &admin);
        assert!(node_name(&text).unwrap_err().to_string().contains("not a node"));
        assert!(node_name("not: [a kubeconfig").is_err());
    }
}
