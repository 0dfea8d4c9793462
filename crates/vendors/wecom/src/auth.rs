//! WeCom's token scheme: `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET` gives an
//! `access_token` valid for `expires_in` seconds (7200), passed as `?access_token=` on
//! every call. `gettoken` is itself rate limited, so the token is cached for its
//! lifetime and refreshed **single-flight**: however many fetches run at once, one
//! `gettoken` goes out and the others wait for its answer.
//!
//! Invalidation is by generation: a fetch whose token was refused (42001 / 40014 /
//! 40001) drops exactly that token ([`TokenCache::invalidate`]) — never a newer one
//! another task already fetched — so N concurrent failures cost one refresh, not N.

use huadan_config::Secret;
use huadan_vendor::FetchError;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A monotonic clock for token lifetimes (injectable so tests can age a token).
pub type TokenClock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// How long before its stated expiry a token is considered expired: a minute, or half
/// its lifetime for very short-lived tokens.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(60).min(lifetime / 2)
}

/// A token on loan to one request.
#[derive(Clone)]
pub struct Lease {
    /// The access token (never logged).
    pub token: Secret,
    /// Which fetch of the cache produced it (for [`TokenCache::invalidate`]).
    pub generation: u64,
    /// Whether it was fetched for this very request.
    pub fresh: bool,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("generation", &self.generation).field("fresh", &self.fresh).finish()
    }
}

struct Cached {
    token: Secret,
    generation: u64,
    refresh_at: Instant,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    generation: u64,
    failed_generation: Option<u64>,
}

/// The cached token of one source.
pub struct TokenCache {
    state: tokio::sync::Mutex<State>,
    clock: TokenClock,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache(..)")
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(Arc::new(Instant::now))
    }
}

impl TokenCache {
    /// An empty cache reading time from `clock`.
    pub fn new(clock: TokenClock) -> Self {
        TokenCache { state: tokio::sync::Mutex::new(State::default()), clock }
    }

    /// The cached token if still valid, else the result of `fetch` (which returns the
    /// token and its `expires_in` seconds). The lock is held across `fetch`, so
    /// concurrent callers wait for one refresh instead of starting their own.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<Lease, FetchError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, i64), FetchError>>,
    {
        let mut s = self.state.lock().await;
        let now = (self.clock)();
        if let Some(c) = &s.current
            && now < c.refresh_at
        {
            return Ok(Lease { token: c.token.clone(), generation: c.generation, fresh: false });
        }
        s.current = None;
        let (token, expires_in) = fetch().await?;
        let lifetime = Duration::from_secs(expires_in.max(1) as u64);
        // Age the token from the moment the request was sent (`now`), not received.
        let refresh_at = now + lifetime - refresh_margin(lifetime);
        s.generation += 1;
        let generation = s.generation;
        s.current = Some(Cached { token: token.clone(), generation, refresh_at });
        Ok(Lease { token, generation, fresh: true })
    }

    /// The token of `generation` was refused: drop it if it is still the cached one,
    /// and remember the failure (so that [`TokenCache::reset`] spares newer tokens).
    pub async fn invalidate(&self, generation: u64) {
        let mut s = self.state.lock().await;
        s.failed_generation = Some(s.failed_generation.map_or(generation, |f| f.max(generation)));
        if s.current.as_ref().is_some_and(|c| c.generation == generation) {
            s.current = None;
        }
    }

    /// Drop the cached token — unless it was fetched after the last refused one (a
    /// concurrent task already refreshed it: dropping it would only cost another
    /// `gettoken`).
    pub async fn reset(&self) {
        let mut s = self.state.lock().await;
        let spare = match (&s.current, s.failed_generation) {
            (Some(c), Some(failed)) => c.generation > failed,
            _ => false,
        };
        if !spare {
            s.current = None;
        }
    }

    /// How many tokens this cache has fetched so far.
    pub async fn fetched(&self) -> u64 {
        self.state.lock().await.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn clock() -> (TokenClock, Arc<AtomicU64>) {
        let base = Instant::now();
        let offset = Arc::new(AtomicU64::new(0));
        let o = offset.clone();
        (Arc::new(move || base + Duration::from_secs(o.load(Ordering::SeqCst))), offset)
    }

    #[tokio::test]
    async fn cached_for_expires_in_minus_margin() {
        let (clk, offset) = clock();
        let cache = TokenCache::new(clk);
        let calls = AtomicU64::new(0);
        let fetch = || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok((Secret::new(format!("t{n}")), 7200))
        };
        let a = cache.get(fetch).await.unwrap();
        assert!(a.fresh);
        offset.store(7139, Ordering::SeqCst);
        let b = cache.get(fetch).await.unwrap();
        assert!(!b.fresh);
        assert_eq!(b.token.expose(), "t0");
        offset.store(7140, Ordering::SeqCst);
        let c = cache.get(fetch).await.unwrap();
        assert_eq!(c.token.expose(), "t1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn single_flight_under_concurrency() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok((Secret::new("tok"), 7200))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().token.expose(), "tok");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invalidate_spares_a_newer_token_and_reset_too() {
        let cache = TokenCache::default();
        let n = AtomicU64::new(0);
        let fetch = || async { Ok((Secret::new(format!("t{}", n.fetch_add(1, Ordering::SeqCst))), 7200)) };
        let old = cache.get(fetch).await.unwrap();
        // Two tasks saw `old` refused; the first invalidates and refreshes…
        cache.invalidate(old.generation).await;
        let new = cache.get(fetch).await.unwrap();
        assert!(new.fresh);
        // …the second's invalidate and the engine's reset_auth must not drop the new one.
        cache.invalidate(old.generation).await;
        cache.reset().await;
        let again = cache.get(fetch).await.unwrap();
        assert_eq!(again.generation, new.generation);
        assert_eq!(cache.fetched().await, 2);
    }

    #[tokio::test]
    async fn reset_without_a_failure_drops_the_token() {
        let cache = TokenCache::default();
        let n = AtomicU64::new(0);
        let fetch = || async { Ok((Secret::new(format!("t{}", n.fetch_add(1, Ordering::SeqCst))), 7200)) };
        assert!(cache.get(fetch).await.unwrap().fresh);
        assert!(!cache.get(fetch).await.unwrap().fresh);
        cache.reset().await;
        let t = cache.get(fetch).await.unwrap();
        assert!(t.fresh);
        assert_eq!(t.token.expose(), "t1");
    }

    #[tokio::test]
    async fn failed_fetch_caches_nothing() {
        let cache = TokenCache::default();
        let r = cache.get(|| async { Err(FetchError::Transport("down".into())) }).await;
        assert!(r.is_err());
        assert!(cache.get(|| async { Ok((Secret::new("x"), 7200)) }).await.unwrap().fresh);
    }
}
