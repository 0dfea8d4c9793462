//! Keeping `recordings[n].archived_path` when a vendor re-sends a record.
//!
//! Vendors re-send records (lookback, a transcript that settled, a recording that
//! appeared) and they never know where huadan archived the audio: the re-sent record
//! has `archived_path = None` everywhere. Written as is, it would wipe the paths the
//! archiver set. So when a stored record is about to be replaced, the stored paths are
//! carried over into the incoming record first, and "unchanged" is decided on the
//! result: a re-sent record that differs only by the missing paths stays unchanged.
//!
//! A recording's identity is its **index** `n` in `recordings`, not its URL: the
//! archiver's queue row is keyed by (record id, n) and the object by `{id}-{n}`, and
//! vendors hand out signed links that rotate, so an archived recording whose link
//! changed is still archived. An incoming `archived_path` (the archiver itself writing
//! it) always wins over the stored one.

use crate::StoreError;
use crate::content::{Encoded, decode, encode_all};

/// `incoming` with the archived paths of `stored_body` (the stored record's body)
/// filled in wherever the incoming recording at the same index has none, re-encoded;
/// `None` when there is nothing to carry over (the incoming record is written as is).
pub(crate) fn carry_over(incoming: &Encoded, stored_body: &[u8]) -> Result<Option<Encoded>, StoreError> {
    let stored = decode(&incoming.id, stored_body, 0)?;
    if stored.recordings.iter().all(|r| r.archived_path.is_none()) {
        return Ok(None);
    }
    let mut record = decode(&incoming.id, &incoming.body, 0)?;
    let mut changed = false;
    for (new, old) in record.recordings.iter_mut().zip(&stored.recordings) {
        if new.archived_path.is_none() && old.archived_path.is_some() {
            new.archived_path.clone_from(&old.archived_path);
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    // Compressed as the incoming body was (with its dictionary, if it had one).
    let mut book = crate::packing::Codebook::new();
    if let Some(d) = crate::packing::needs_dict(&incoming.body).and_then(crate::packing::lookup) {
        book.insert(incoming.provider, d);
    }
    Ok(encode_all(vec![record], &book)?.pop())
}

/// PostgreSQL: the batch with the stored archived paths carried over, inside the
/// batch's transaction (`None`: nothing to carry, write `records` as they are). Every
/// stored row of the batch is locked (`FOR UPDATE`, in the writer's global id order) so
/// that an archiver committing a path concurrently cannot slip in between this read and
/// the upsert; bodies are fetched only for rows whose hash differs.
pub(crate) async fn carry_over_pg(
    tx: &tokio_postgres::Transaction<'_>,
    records: &[Encoded],
) -> Result<Option<Vec<Encoded>>, StoreError> {
    if records.is_empty() {
        return Ok(None);
    }
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let hashes: Vec<&[u8]> = records.iter().map(|r| &r.hash[..]).collect();
    let rows = tx
        .query(
            "SELECT c.id, CASE WHEN c.content_hash <> t.h THEN c.record END
             FROM calls c JOIN unnest($1::text[], $2::bytea[]) AS t(id, h) ON c.id = t.id
             ORDER BY c.id COLLATE \"C\" FOR UPDATE OF c",
            &[&ids, &hashes],
        )
        .await
        .map_err(crate::postgres::db)?;
    // A stored body another worker compressed with a dictionary trained since.
    crate::postgres::dicts::ensure(tx, rows.iter().filter_map(|row| row.get::<_, Option<&[u8]>>(1))).await?;
    let mut changed: std::collections::HashMap<String, Vec<u8>> = std::collections::HashMap::new();
    for row in rows {
        if let Some(body) = row.get::<_, Option<Vec<u8>>>(1) {
            changed.insert(row.get(0), body);
        }
    }
    let mut out: Option<Vec<Encoded>> = None;
    for (i, r) in records.iter().enumerate() {
        if let Some(stored) = changed.get(&r.id)
            && let Some(merged) = carry_over(r, stored)?
        {
            out.get_or_insert_with(|| records.to_vec())[i] = merged;
        }
    }
    Ok(out)
}
