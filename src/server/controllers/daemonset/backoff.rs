//! Back-off for replacing failed daemon pods: a node that keeps failing its pod (a kubelet
//! rejecting it, say) sees replacements 1 s, 2 s, 4 s … up to 15 min apart instead of a hot
//! loop of creations.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const INITIAL: Duration = Duration::from_secs(1);
const MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct FailedPodBackoff {
    /// Per `<daemonset uid>/<node>`: when the last replacement was allowed, and the delay
    /// before the next one.
    entries: Mutex<HashMap<String, (Instant, Duration)>>,
}

impl FailedPodBackoff {
    /// `Ok` if a failed pod under `key` may be replaced now (starting the next, longer,
    /// back-off), else how long until it may.
    pub fn try_replace(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut entries = self.entries.lock().expect("backoff lock");
        // Entries idle for longer than the longest delay are forgotten.
        entries.retain(|_, (at, _)| now.saturating_duration_since(*at) <= 2 * MAX);
        match entries.get_mut(key) {
            Some((at, delay)) if now < *at + *delay => Err(*at + *delay - now),
            Some((at, delay)) => {
                *at = now;
                *delay = (*delay * 2).min(MAX);
                Ok(())
            }
            None => {
                entries.insert(key.to_string(), (now, INITIAL));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_limit() {
        let backoff = FailedPodBackoff::default();
        let start = Instant::now();
        assert!(backoff.try_replace("ds/n", start).is_ok());
        assert_eq!(backoff.try_replace("ds/n", start), Err(INITIAL));
        assert!(backoff.try_replace("ds/other", start).is_ok());
        let later = start + INITIAL;
        assert!(backoff.try_replace("ds/n", later).is_ok());
        assert_eq!(backoff.try_replace("ds/n", later + Duration::from_millis(500)), Err(Duration::from_millis(1500)));
        let mut at = later;
        for _ in 0..20 {
            at += MAX;
            assert!(backoff.try_replace("ds/n", at).is_ok());
        }
        assert_eq!(backoff.try_replace("ds/n", at), Err(MAX));
    }
}
