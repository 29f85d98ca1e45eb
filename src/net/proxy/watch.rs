//! Feeding the proxy from the API: watches on Services and EndpointSlices, and after every
//! burst of events one sync. Nothing is written until both watches have listed everything,
//! so a restarted agent never programs a partial view; a failed sync is retried with back-off.

use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use tokio::time::Instant;

use super::announce::Announcer;
use super::proxier::Proxy;
use super::ProxyConfig;

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// What a watch event means for the proxy's copy of the objects.
enum Update<K> {
    Set(K),
    Delete(K),
    /// A relist finished: these are all the objects.
    Replace(Vec<K>),
}

/// Runs the proxy until the process ends.
pub async fn run(client: kube::Client, config: ProxyConfig) -> anyhow::Result<()> {
    let mut proxy = Proxy::new(&config)?;
    let mut announcer = Announcer::new(&config).await?;
    let mut services =
        watcher::watcher(Api::<Service>::all(client.clone()), watcher::Config::default()).default_backoff().boxed();
    let mut slices =
        watcher::watcher(Api::<EndpointSlice>::all(client), watcher::Config::default()).default_backoff().boxed();
    let (mut listing_services, mut listing_slices) = (None, None);
    let (mut services_listed, mut slices_listed) = (false, false);
    let mut retry_at: Option<Instant> = None;
    let mut retry_delay = FIRST_RETRY;
    loop {
        let wake = [retry_at, proxy.next_deadline().map(Instant::from_std)].into_iter().flatten().min();
        tokio::select! {
            Some(event) = services.next() => {
                services_listed |= apply(&mut proxy, fold(event, &mut listing_services), service_update);
            }
            Some(event) = slices.next() => {
                slices_listed |= apply(&mut proxy, fold(event, &mut listing_slices), slice_update);
            }
            () = sleep_until(wake) => {}
        }
        // Take in whatever else already arrived, so a burst costs one transaction.
        while let Some(Some(event)) = services.next().now_or_never() {
            services_listed |= apply(&mut proxy, fold(event, &mut listing_services), service_update);
        }
        while let Some(Some(event)) = slices.next().now_or_never() {
            slices_listed |= apply(&mut proxy, fold(event, &mut listing_slices), slice_update);
        }
        let now = Instant::now();
        if !(services_listed && slices_listed) || retry_at.is_some_and(|at| now < at) {
            continue;
        }
        if proxy.has_pending_changes(now.into_std()) {
            let started = std::time::Instant::now();
            match proxy.sync().await {
                Ok(report) => {
                    tracing::debug!(?report, elapsed = ?started.elapsed(), "service proxy rules synced");
                    retry_at = None;
                    retry_delay = FIRST_RETRY;
                }
                Err(error) => {
                    tracing::warn!(?retry_delay, "service proxy sync failed: {error:#}");
                    retry_at = Some(now + retry_delay);
                    retry_delay = (retry_delay * 2).min(LAST_RETRY);
                    continue;
                }
            }
        }
        if let Err(error) = announcer.reconcile(proxy.services()).await {
            tracing::warn!("announcing load-balancer addresses failed: {error:#}");
        }
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Turns a watch event into an update, collecting a relist until it is complete.
fn fold<K>(event: Result<Event<K>, watcher::Error>, listing: &mut Option<Vec<K>>) -> Option<Update<K>> {
    match event {
        Ok(Event::Init) => {
            *listing = Some(Vec::new());
            None
        }
        Ok(Event::InitApply(object)) => {
            listing.get_or_insert_with(Vec::new).push(object);
            None
        }
        Ok(Event::InitDone) => Some(Update::Replace(listing.take().unwrap_or_default())),
        Ok(Event::Apply(object)) => Some(Update::Set(object)),
        Ok(Event::Delete(object)) => Some(Update::Delete(object)),
        Err(error) => {
            tracing::warn!(%error, "service proxy watch failed; retrying");
            None
        }
    }
}

/// Applies `update` with `handle`; true when it completed a listing.
fn apply<K>(proxy: &mut Proxy, update: Option<Update<K>>, handle: fn(&mut Proxy, Update<K>)) -> bool {
    let Some(update) = update else { return false };
    let listed = matches!(update, Update::Replace(_));
    handle(proxy, update);
    listed
}

fn service_update(proxy: &mut Proxy, update: Update<Service>) {
    match update {
        Update::Set(service) => proxy.set_service(service),
        Update::Delete(service) => proxy.delete_service(
            service.metadata.namespace.as_deref().unwrap_or_default(),
            service.metadata.name.as_deref().unwrap_or_default(),
        ),
        Update::Replace(services) => proxy.replace_services(services),
    }
}

fn slice_update(proxy: &mut Proxy, update: Update<EndpointSlice>) {
    match update {
        Update::Set(slice) => proxy.set_slice(slice),
        Update::Delete(slice) => proxy.delete_slice(
            slice.metadata.namespace.as_deref().unwrap_or_default(),
            slice.metadata.name.as_deref().unwrap_or_default(),
        ),
        Update::Replace(slices) => proxy.replace_slices(slices),
    }
}
