//! Per-host pacing: at least `interval` between the starts of two requests to one host.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The pacer.
#[derive(Debug)]
pub struct HostPacer {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
}

impl HostPacer {
    /// A pacer with this gap per host.
    pub fn new(interval: Duration) -> Self {
        HostPacer { interval, next: Mutex::new(HashMap::new()) }
    }

    /// Wait for this host's next slot (slots are handed out in call order).
    pub async fn wait(&self, host: &str) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut m = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let e = m.entry(host.to_string()).or_insert(now);
            let slot = (*e).max(now);
            *e = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_host_is_spaced_other_hosts_are_not() {
        let p = HostPacer::new(Duration::from_millis(50));
        let t0 = Instant::now();
        p.wait("a").await;
        p.wait("b").await;
        assert!(t0.elapsed() < Duration::from_millis(40));
        p.wait("a").await;
        p.wait("a").await;
        assert!(t0.elapsed() >= Duration::from_millis(100));
    }
}
