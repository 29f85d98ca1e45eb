//! The kubelet: runs the pods bound to this node and reports their status. One worker task
//! per pod drives it (see `pod_worker`); this module feeds the workers from a watch on the
//! node's pods and cleans up what no pod owns any more.

pub mod atomic_dir;
pub mod backoff;
pub mod container_config;
pub mod env;
pub mod exec;
pub mod pod_worker;
pub mod probes;
pub mod service_env;
pub mod status;
pub mod volumes;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{reflector, WatchStreamExt};
use tokio::sync::watch;

use crate::agent::events::EventRecorder;
use crate::agent::NodeConfig;
use crate::net::pod_etc::{hosts_file, ResolvConf};
use crate::net::PodNetwork;
use crate::runtime::image::service::ImageService;
use crate::runtime::service::RuntimeService;
use crate::runtime::types::{DnsConfig, Sandbox};
use pod_worker::{Next, PodWorker, RESYNC};
use volumes::VolumeManager;

pub struct Kubelet {
    pub client: kube::Client,
    pub node: NodeConfig,
    pub runtime: RuntimeService,
    pub images: ImageService,
    pub network: Arc<PodNetwork>,
    pub volumes: VolumeManager,
    pub events: EventRecorder,
    pub cluster_dns: IpAddr,
    pub cluster_domain: String,
    /// Where container logs go: `<logs>/<namespace>_<name>_<uid>/<container>/<attempt>.log`.
    pub logs_dir: PathBuf,
    /// The run dir of the runtime (sandboxes' shared files live under it).
    pub run_dir: PathBuf,
    services: reflector::Store<Service>,
    workers: Mutex<HashMap<String, watch::Sender<Option<Arc<Pod>>>>>,
}

impl Kubelet {
    #[allow(clippy::too_many_arguments, reason = "the kubelet's collaborators, each built by the agent")]
    pub fn new(
        client: kube::Client,
        node: NodeConfig,
        runtime: RuntimeService,
        images: ImageService,
        network: Arc<PodNetwork>,
        cluster_dns: IpAddr,
        cluster_domain: String,
        run_dir: PathBuf,
    ) -> Arc<Self> {
        let agent_dir = crate::agent::agent_dir(&node.data_dir);
        let (services, writer) = reflector::store();
        let watch_services = reflector::reflector(
            writer,
            watcher::watcher(Api::<Service>::all(client.clone()), watcher::Config::default()),
        );
        tokio::spawn(watch_services.default_backoff().for_each(|_| async {}));
        Arc::new(Self {
            volumes: VolumeManager::new(client.clone(), &agent_dir),
            events: EventRecorder::new(client.clone(), &node.name),
            logs_dir: agent_dir.join("logs"),
            client,
            node,
            runtime,
            images,
            network,
            cluster_dns,
            cluster_domain,
            run_dir,
            services,
            workers: Mutex::default(),
        })
    }

    /// Follows the pods bound to this node until the process ends.
    pub async fn run(self: Arc<Self>) {
        let api: Api<Pod> = Api::all(self.client.clone());
        let config = watcher::Config::default().fields(&format!("spec.nodeName={}", self.node.name));
        let mut events = watcher::watcher(api, config).default_backoff().boxed();
        let mut listed: HashSet<String> = HashSet::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(Event::Init) => listed.clear(),
                Ok(Event::InitApply(pod)) => {
                    listed.insert(pod.metadata.uid.clone().unwrap_or_default());
                    self.dispatch(pod);
                }
                Ok(Event::InitDone) => self.clone().collect_orphans(listed.clone()),
                Ok(Event::Apply(pod)) => self.dispatch(pod),
                Ok(Event::Delete(pod)) => self.gone(pod.metadata.uid.as_deref().unwrap_or_default()),
                Err(err) => tracing::warn!(%err, "watching this node's pods failed; retrying"),
            }
        }
    }

    /// Hands the newest version of a pod to its worker, starting one if needed.
    fn dispatch(self: &Arc<Self>, pod: Pod) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let pod = Arc::new(pod);
        let mut workers = self.workers.lock().expect("workers lock");
        if let Some(tx) = workers.get(&uid) {
            let _ = tx.send(Some(pod));
            return;
        }
        let (tx, rx) = watch::channel(Some(pod));
        workers.insert(uid.clone(), tx);
        tokio::spawn(self.clone().work(uid, rx));
    }

    fn gone(&self, uid: &str) {
        if let Some(tx) = self.workers.lock().expect("workers lock").get(uid) {
            let _ = tx.send(None);
        }
    }

    async fn work(self: Arc<Self>, uid: String, mut rx: watch::Receiver<Option<Arc<Pod>>>) {
        let mut worker = PodWorker::new(self.clone(), uid.clone());
        loop {
            let pod = rx.borrow_and_update().clone();
            match worker.sync(pod.as_deref()).await {
                Ok(Next::Done) => break,
                Ok(Next::Continue) => {}
                Err(err) => tracing::warn!(pod = %uid, "pod sync failed: {err:#}"),
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(RESYNC) => {}
            }
        }
        self.workers.lock().expect("workers lock").remove(&uid);
    }

    /// Removes sandboxes, addresses and volumes of pods no longer bound to this node
    /// (deleted while the agent was down).
    fn collect_orphans(self: Arc<Self>, live: HashSet<String>) {
        tokio::spawn(async move {
            let Ok(sandboxes) = self.runtime.list_sandboxes().await else { return };
            for sandbox in sandboxes.iter().filter(|s| !live.contains(&s.config.uid)) {
                tracing::info!(pod = %sandbox.config.name, "removing a sandbox no pod owns");
                let _ = self.network.teardown(&sandbox.id, Some(&sandbox.netns_path)).await;
                let _ = self.runtime.remove_sandbox(&sandbox.id).await;
                let _ = self.volumes.cleanup(&sandbox.config.uid);
            }
            let kept: HashSet<String> =
                sandboxes.iter().filter(|s| live.contains(&s.config.uid)).map(|s| s.id.clone()).collect();
            if let Err(err) = self.network.reconcile(&kept).await {
                tracing::warn!(%err, "reconciling pod addresses failed");
            }
        });
    }

    pub fn pod_log_dir(&self, pod: &Pod) -> PathBuf {
        let m = &pod.metadata;
        self.logs_dir.join(format!(
            "{}_{}_{}",
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
            m.uid.as_deref().unwrap_or_default()
        ))
    }

    /// The pod's resolv.conf, by its dnsPolicy.
    pub fn dns_config(&self, pod: &Pod) -> DnsConfig {
        let spec = pod.spec.as_ref();
        let host = ResolvConf::parse(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let mut conf = match spec.and_then(|s| s.dns_policy.as_deref()).unwrap_or("ClusterFirst") {
            "Default" => host,
            "None" => ResolvConf::default(),
            _ => ResolvConf::cluster_first(namespace, &self.cluster_domain, self.cluster_dns, &host),
        };
        if let Some(extra) = spec.and_then(|s| s.dns_config.as_ref()) {
            conf = conf.merge_pod_dns_config(extra);
        }
        DnsConfig { servers: conf.nameservers, searches: conf.searches, options: conf.options }
    }

    /// Rewrites the pod's /etc/hosts once its IP is known.
    fn write_hosts_file(&self, pod: &Pod, sandbox: &Sandbox, ip: IpAddr) -> anyhow::Result<()> {
        let spec = pod.spec.as_ref();
        let hostname =
            spec.and_then(|s| s.hostname.clone()).unwrap_or_else(|| pod.metadata.name.clone().unwrap_or_default());
        let fqdn = spec.and_then(|s| s.subdomain.as_ref()).map(|sub| {
            format!(
                "{hostname}.{sub}.{}.svc.{}",
                pod.metadata.namespace.as_deref().unwrap_or_default(),
                self.cluster_domain
            )
        });
        let aliases = spec.and_then(|s| s.host_aliases.clone()).unwrap_or_default();
        let text = hosts_file(&[ip], &hostname, fqdn.as_deref(), &aliases);
        // Written in place: containers see the file through a bind mount of this inode.
        std::fs::write(self.run_dir.join("sandboxes").join(&sandbox.id).join("hosts"), text)?;
        Ok(())
    }

    /// The container's environment, with the config maps and secrets it names fetched first.
    async fn container_env(&self, pod: &Pod, container: &Container) -> Result<Vec<(String, String)>, env::EnvError> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let mut config_maps = HashMap::new();
        let mut secrets = HashMap::new();
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), &namespace);
        let sec: Api<Secret> = Api::namespaced(self.client.clone(), &namespace);
        for source in container.env_from.iter().flatten() {
            if let Some(r) = &source.config_map_ref {
                config_maps.insert(r.name.clone(), cms.get_opt(&r.name).await.ok().flatten());
            }
            if let Some(r) = &source.secret_ref {
                secrets.insert(r.name.clone(), sec.get_opt(&r.name).await.ok().flatten());
            }
        }
        for var in container.env.iter().flatten() {
            if let Some(from) = &var.value_from {
                if let Some(r) = &from.config_map_key_ref {
                    config_maps.insert(r.name.clone(), cms.get_opt(&r.name).await.ok().flatten());
                }
                if let Some(r) = &from.secret_key_ref {
                    secrets.insert(r.name.clone(), sec.get_opt(&r.name).await.ok().flatten());
                }
            }
        }
        let services: Vec<Service> = self
            .services
            .state()
            .iter()
            .filter(|s| {
                let ns = s.metadata.namespace.as_deref();
                ns == Some(namespace.as_str())
                    || (ns == Some("default") && s.metadata.name.as_deref() == Some("kubernetes"))
            })
            .map(|s| (**s).clone())
            .collect();
        let service_env = service_env::service_env(&services);
        env::container_env(pod, container, &Fetched { config_maps, secrets }, &service_env)
    }
}

/// Config maps and secrets fetched for one container's environment.
struct Fetched {
    config_maps: HashMap<String, Option<ConfigMap>>,
    secrets: HashMap<String, Option<Secret>>,
}

impl env::EnvLookup for Fetched {
    fn config_map(&self, name: &str) -> Option<ConfigMap> {
        self.config_maps.get(name).cloned().flatten()
    }
    fn secret(&self, name: &str) -> Option<Secret> {
        self.secrets.get(name).cloned().flatten()
    }
}
