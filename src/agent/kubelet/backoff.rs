//! Back-off between restarts of a crashing container and between failed image pulls:
//! 10 s doubling to 5 minutes, forgotten once a container has run for 10 minutes.

use std::time::{Duration, Instant};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);
/// A container that ran this long starts its back-off from the beginning again.
const RESET_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Default)]
pub struct Backoff {
    delay: Option<Duration>,
    until: Option<Instant>,
}

impl Backoff {
    /// Records a failure at `now` and returns how long to wait.
    pub fn fail(&mut self, now: Instant) -> Duration {
        let delay = match self.delay {
            None => INITIAL,
            Some(d) => (d * 2).min(MAX),
        };
        self.delay = Some(delay);
        self.until = Some(now + delay);
        delay
    }

    /// Forgets past failures when the thing ran long enough.
    pub fn ran_for(&mut self, duration: Duration) {
        if duration >= RESET_AFTER {
            *self = Self::default();
        }
    }

    /// Whether we are still waiting, and the current delay.
    pub fn waiting(&self, now: Instant) -> Option<Duration> {
        match (self.until, self.delay) {
            (Some(until), Some(delay)) if now < until => Some(delay),
            _ => None,
        }
    }

    pub fn current(&self) -> Option<Duration> {
        self.delay
    }
}

/// `10s`, `1m20s`, `5m0s` as Go prints durations in back-off messages.
pub fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_five_minutes_and_resets() {
        let mut b = Backoff::default();
        let now = Instant::now();
        let delays: Vec<u64> = (0..7).map(|_| b.fail(now).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300]);
        assert!(b.waiting(now).is_some());
        assert!(b.waiting(now + MAX).is_none());
        b.ran_for(Duration::from_secs(601));
        assert_eq!(b.fail(now).as_secs(), 10);
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
    }
}
