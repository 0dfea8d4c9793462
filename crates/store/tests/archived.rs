//! `recordings[n].archived_path` survives a vendor re-sending the record (both backends).

#[macro_use]
mod common;

use common::*;
use huadan_model::{CallRecord, Provider, Recording};

fn with_recordings(mut r: CallRecord, urls: &[&str]) -> CallRecord {
    r.recordings = urls
        .iter()
        .map(|u| Recording { url: (*u).to_string(), expires_at: Some(at(7 * 86_400)), archived_path: None })
        .collect();
    r
}

/// What the archiver does once an object is written: set the path and commit.
async fn archive(s: &huadan_store::DynStore, id: &str, n: usize, key: &str) {
    let mut r = s.call(id).await.unwrap().unwrap();
    r.recordings[n].archived_path = Some(key.to_string());
    let w = put(s, "src", vec![r]).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 1, 0), "setting a path is a change");
}

async fn a_resent_record_keeps_its_archived_paths() {
    let (_d, s) = store().await;
    let id = "src:c000001";
    let vendor = with_recordings(rec("src", Provider::TencentCcc, 1, 0), &["https://a/1.mp3?sig=1", "https://a/2.mp3"]);
    put(&s, "src", vec![vendor.clone()]).await;
    archive(&s, id, 0, "src/2024/03/01/src:c000001-0.mp3").await;
    let archived = s.call(id).await.unwrap().unwrap();

    // The same record again, as the vendor sends it (no paths): unchanged, path kept.
    let w = put(&s, "src", vec![vendor.clone()]).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 0, 1));
    let after = s.call(id).await.unwrap().unwrap();
    assert_eq!(after, archived, "an identical re-send changes nothing, not even synced_at");

    // A real change (a remark) with a rotated signed link at index 0: updated, the
    // archived path carried over by index; index 1 (not archived) stays without one.
    let mut changed = with_recordings(vendor.clone(), &["https://a/1.mp3?sig=2", "https://a/2.mp3"]);
    changed.remark = Some("回访".into());
    let w = put(&s, "src", vec![changed.clone()]).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 1, 0));
    let after = s.call(id).await.unwrap().unwrap();
    assert_eq!(after.remark.as_deref(), Some("回访"));
    assert_eq!(after.recordings[0].url, "https://a/1.mp3?sig=2", "the new link is stored");
    assert_eq!(after.recordings[0].archived_path.as_deref(), Some("src/2024/03/01/src:c000001-0.mp3"));
    assert_eq!(after.recordings[1].archived_path, None);

    // The second recording archived too; then the vendor re-sends the changed record
    // twice in one batch: both paths kept, nothing rewritten.
    archive(&s, id, 1, "src/2024/03/01/src:c000001-1.mp3").await;
    let before = s.call(id).await.unwrap().unwrap();
    let w = put(&s, "src", vec![changed.clone(), changed.clone()]).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 0, 2));
    assert_eq!(s.call(id).await.unwrap().unwrap(), before);

    // A path the writer sends itself wins over the stored one.
    archive(&s, id, 1, "elsewhere/1.mp3").await;
    let after = s.call(id).await.unwrap().unwrap();
    assert_eq!(after.recordings[1].archived_path.as_deref(), Some("elsewhere/1.mp3"));

    // A record whose recording list shrank keeps what still has an index.
    let mut fewer = with_recordings(vendor, &["https://a/1.mp3?sig=3"]);
    fewer.remark = Some("回访".into());
    put(&s, "src", vec![fewer]).await;
    let after = s.call(id).await.unwrap().unwrap();
    assert_eq!(after.recordings.len(), 1);
    assert_eq!(after.recordings[0].archived_path.as_deref(), Some("src/2024/03/01/src:c000001-0.mp3"));
}

async fn records_without_archived_paths_are_written_as_before() {
    let (_d, s) = store().await;
    let recs: Vec<CallRecord> =
        (0..50).map(|n| with_recordings(rec("src", Provider::Tanma, n, i64::from(n)), &["https://x/a.mp3"])).collect();
    let w = put(&s, "src", recs.clone()).await;
    assert_eq!(w.inserted, 50);
    let mut changed = recs.clone();
    for r in changed.iter_mut().take(10) {
        r.remark = Some("new".into());
    }
    let w = put(&s, "src", changed).await;
    assert_eq!((w.inserted, w.updated, w.unchanged), (0, 10, 40));
    let r = s.call("src:c000003").await.unwrap().unwrap();
    assert_eq!((r.remark.as_deref(), r.recordings[0].archived_path.as_deref()), (Some("new"), None));
}

both_backends!(a_resent_record_keeps_its_archived_paths, records_without_archived_paths_are_written_as_before);
