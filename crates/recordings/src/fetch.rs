//! One download: the vendor's link streamed into the archive, hashed on the way.
//!
//! The object is written through the store's multipart upload (a staging file renamed
//! into place for a local directory; an S3 multipart upload completed at the end), so
//! nothing appears under the final key until every byte has arrived and been checked.

use futures::StreamExt;
use object_store::WriteMultipart;
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::audio::{looks_like_text_answer, sniff_extension};
use crate::key::{extension_from_url, object_key};
use crate::queue::Job;
use crate::storage::Archive;

/// A fully written object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The archive key.
    pub key: String,
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(200)]).replace(['\n', '\r'], " ");
    s.trim().to_string()
}

/// How many leading bytes are gathered before the format is decided.
const HEAD_BYTES: usize = 16;

/// Download `job` into `archive`. The error is a human-readable reason for the queue.
pub async fn fetch_one(
    client: &reqwest::Client,
    archive: &Archive,
    job: &Job,
    stall: Duration,
) -> Result<Fetched, String> {
    let j = &job.job;
    let resp = tokio::time::timeout(stall, client.get(&j.url).send())
        .await
        .map_err(|_| format!("no answer within {:?}", stall))?
        .map_err(|e| format!("request failed: {}", without_url(&e)))?;
    let status = resp.status();
    let expected_len = resp.content_length();
    let content_type =
        resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut body = resp.bytes_stream();
    if !status.is_success() {
        let first = tokio::time::timeout(stall, body.next()).await.ok().flatten().and_then(|r| r.ok());
        return Err(format!("HTTP {}: {}", status.as_u16(), snippet(first.as_deref().unwrap_or(b""))));
    }

    // Gather the first bytes to tell audio from a vendor's 200-with-an-error-document.
    let mut head: Vec<u8> = Vec::new();
    let mut pending: Vec<bytes::Bytes> = Vec::new();
    let mut ended = false;
    while head.len() < HEAD_BYTES {
        match next_chunk(&mut body, stall).await? {
            Some(c) => {
                head.extend_from_slice(&c[..c.len().min(HEAD_BYTES - head.len())]);
                pending.push(c);
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    if head.is_empty() {
        return Err("empty body".into());
    }
    if looks_like_text_answer(&head)
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/")
    {
        let all: Vec<u8> = pending.iter().flat_map(|c| c.iter().copied()).collect();
        return Err(format!(
            "not audio ({}): {}",
            if content_type.is_empty() { "no content-type" } else { &content_type },
            snippet(&all)
        ));
    }
    let ext = extension_from_url(&j.url).or_else(|| sniff_extension(&head)).unwrap_or("bin");
    let key = object_key(&j.source, &j.record_id, j.index, j.started_at, ext);
    let path = archive.path(&key).map_err(|e| e.to_string())?;

    let upload =
        archive.store().put_multipart(&path).await.map_err(|e| format!("archive: cannot start upload: {e}"))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, archive.chunk_size());
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let result: Result<(), String> = async {
        for c in pending.drain(..) {
            hasher.update(&c);
            size += c.len() as u64;
            writer.put(c);
        }
        while !ended {
            match next_chunk(&mut body, stall).await? {
                Some(c) => {
                    hasher.update(&c);
                    size += c.len() as u64;
                    writer.wait_for_capacity(2).await.map_err(|e| format!("archive: {e}"))?;
                    writer.put(c);
                }
                None => ended = true,
            }
        }
        if let Some(want) = expected_len
            && want != size
        {
            return Err(format!("truncated: got {size} of {want} bytes"));
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            writer.finish().await.map_err(|e| format!("archive: cannot finish upload: {e}"))?;
            Ok(Fetched { key, size, sha256: hex::encode(hasher.finalize()) })
        }
        Err(reason) => {
            // Best effort: the staging file / multipart upload is dropped.
            let _ = writer.abort().await;
            Err(reason)
        }
    }
}

async fn next_chunk<S>(body: &mut S, stall: Duration) -> Result<Option<bytes::Bytes>, String>
where
    S: futures::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Unpin,
{
    match tokio::time::timeout(stall, body.next()).await {
        Err(_) => Err(format!("stalled: no data for {:?}", stall)),
        Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(format!("body broken off: {}", without_url(&e))),
        Ok(Some(Ok(c))) => Ok(Some(c)),
    }
}

/// A reqwest error without its URL (signed links carry credentials in the query).
fn without_url(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut parts = vec![];
    let mut cur: Option<&dyn Error> = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    if parts.is_empty() { kind.to_string() } else { format!("{kind}: {}", parts.join(": ")) }
}
