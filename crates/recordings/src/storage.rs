//! The archive itself: an `object_store` (local directory or S3-compatible bucket).

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::path::PathBuf;
use std::sync::Arc;

use crate::RecordingsError;
use crate::config::{RecordingsConfig, StoreLocation};

/// An opened archive.
#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Archive({})", self.store)
    }
}

fn os(e: object_store::Error) -> RecordingsError {
    RecordingsError::Storage(e.to_string())
}

impl Archive {
    /// Open the archive named by `[recordings] store`. A local directory is created if
    /// missing.
    pub fn open(cfg: &RecordingsConfig) -> Result<Archive, RecordingsError> {
        match cfg.location()? {
            StoreLocation::File(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| RecordingsError::Storage(format!("cannot create {}: {e}", dir.display())))?;
                let fs = LocalFileSystem::new_with_prefix(&dir).map_err(os)?;
                Ok(Archive { store: Arc::new(fs), prefix: String::new(), local_root: Some(dir) })
            }
            StoreLocation::S3 { bucket, prefix } => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(cfg.region.clone().unwrap_or_else(|| "us-east-1".into()));
                if let Some(ep) = &cfg.endpoint {
                    b = b.with_endpoint(ep).with_allow_http(cfg.allow_http.unwrap_or(ep.starts_with("http://")));
                }
                if let (Some(k), Some(s)) = (&cfg.access_key_id, &cfg.secret_access_key) {
                    b = b.with_access_key_id(k.expose()).with_secret_access_key(s.expose());
                }
                let s3 = b.build().map_err(os)?;
                Ok(Archive { store: Arc::new(s3), prefix, local_root: None })
            }
        }
    }

    /// An archive over any object store (tests, embedding).
    pub fn from_store(store: Arc<dyn ObjectStore>, prefix: &str) -> Archive {
        Archive { store, prefix: prefix.trim_matches('/').to_string(), local_root: None }
    }

    /// The store's path for an archive key.
    pub fn path(&self, key: &str) -> Result<ObjectPath, RecordingsError> {
        let full = if self.prefix.is_empty() { key.to_string() } else { format!("{}/{key}", self.prefix) };
        ObjectPath::parse(&full).map_err(|e| RecordingsError::Storage(format!("bad key {key:?}: {e}")))
    }

    /// The underlying object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Size of an archived object (for serving with Range), `None` if absent.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, RecordingsError> {
        match self.store.head(&self.path(key)?).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(os(e)),
        }
    }

    /// A byte range of an archived object, as a stream of chunks (never the whole file).
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<futures::stream::BoxStream<'static, Result<bytes::Bytes, RecordingsError>>, RecordingsError> {
        use futures::StreamExt;
        let opts = object_store::GetOptions { range: Some(range.into()), ..Default::default() };
        let r = self.store.get_opts(&self.path(key)?, opts).await.map_err(os)?;
        Ok(r.into_stream().map(|c| c.map_err(os)).boxed())
    }

    /// Write a small object in one go (tests and tools; downloads stream instead).
    pub async fn put_small(&self, key: &str, body: Vec<u8>) -> Result<(), RecordingsError> {
        self.store.put(&self.path(key)?, PutPayload::from(body)).await.map_err(os)?;
        Ok(())
    }

    /// Remove the staging files (`{key}#{n}`) a killed process left in a local archive
    /// (one archiver per archive at a time). Returns how many were removed.
    pub fn clean_local_staging(&self) -> Result<usize, RecordingsError> {
        let Some(root) = &self.local_root else { return Ok(0) };
        let mut removed = 0;
        let mut stack = vec![root.clone()];
        let mut seen = 0usize;
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for entry in rd.flatten() {
                seen += 1;
                if seen > 10_000_000 {
                    return Ok(removed);
                }
                let p = entry.path();
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push(p),
                    Ok(t) if t.is_file() && is_staging_name(&entry.file_name().to_string_lossy()) => {
                        std::fs::remove_file(&p)
                            .map_err(|e| RecordingsError::Storage(format!("cannot remove {}: {e}", p.display())))?;
                        removed += 1;
                    }
                    _ => {}
                }
            }
        }
        Ok(removed)
    }

    pub(crate) fn chunk_size(&self) -> usize {
        // S3 parts must be at least 5 MiB (but the last); a local file takes any size.
        if self.local_root.is_some() { 256 * 1024 } else { 5 * 1024 * 1024 }
    }
}

/// Whether a file name is an `object_store` local staging file (`name#digits`).
pub fn is_staging_name(name: &str) -> bool {
    matches!(name.rsplit_once('#'), Some((_, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
