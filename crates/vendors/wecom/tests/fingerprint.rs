//! The trap "no record id": the fingerprint gives the same record the same id and two
//! different records different ids — as properties, and over everything the fake serves.

mod common;

use common::*;
use huadan_wecom::normalize::{fingerprint, normalize};
use huadan_wecom::wire::{Callee, Caller, DialRecord, Phone};
use jiff::SignedDuration;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

fn arb_callee() -> impl Strategy<Value = Callee> {
    prop_oneof![
        ("[a-z]{1,6}", 0i64..30).prop_map(|(u, d)| Callee { userid: Some(u), phone: None, duration: d }),
        (13_000_000_000u64..13_000_000_020, 0i64..30).prop_map(|(p, d)| Callee {
            userid: None,
            phone: Some(Phone::Number(p)),
            duration: d
        }),
        ("0[0-9]{2,3}[0-9]{3}", 0i64..30).prop_map(|(p, d)| Callee {
            userid: None,
            phone: Some(Phone::Text(p)),
            duration: d
        }),
    ]
}

prop_compose! {
    fn arb_record()(
        call_time in 1_700_000_000i64..1_700_000_005,
        caller in "[a-z]{1,3}",
        caller_duration in 0i64..30,
        callee in proptest::collection::vec(arb_callee(), 0..4),
    ) -> DialRecord {
        let call_type = if callee.len() > 1 { 2 } else { 1 };
        let total = if call_type == 2 { caller_duration + callee.iter().map(|c| c.duration).sum::<i64>() } else { caller_duration };
        DialRecord { call_time, total_duration: total, call_type, caller: Caller { userid: caller, duration: caller_duration }, callee }
    }
}

/// One callee as identity: (userid, phone digits, duration).
type CalleeKey = (Option<String>, Option<String>, i64);

/// What identifies a call: (call time, caller, the multiset of callees with durations).
fn identity(r: &DialRecord) -> (i64, String, Vec<CalleeKey>) {
    let mut c: Vec<_> =
        r.callee.iter().map(|c| (c.userid.clone(), c.phone.as_ref().map(Phone::digits), c.duration)).collect();
    c.sort();
    (r.call_time, r.caller.userid.clone(), c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Same record, however it is sent (callee order, phone as number or string, key
    /// order, numbers as strings): same id.
    #[test]
    fn wecom_fingerprint_same_record_same_id(r in arb_record(), rot in 0usize..4) {
        let mut shuffled = r.clone();
        let n = shuffled.callee.len();
        if n > 0 {
            shuffled.callee.rotate_left(rot % n);
        }
        for c in &mut shuffled.callee {
            if let Some(Phone::Number(p)) = c.phone {
                c.phone = Some(Phone::Text(p.to_string()));
            }
        }
        prop_assert_eq!(fingerprint(&r), fingerprint(&shuffled));
        // Through JSON with a different key order and numbers as strings.
        let raw = serde_json::json!({
            "callee": serde_json::to_value(&shuffled.callee).unwrap(),
            "caller": {"duration": r.caller.duration.to_string(), "userid": r.caller.userid},
            "call_type": r.call_type, "total_duration": r.total_duration, "call_time": r.call_time.to_string(),
        });
        let a = normalize("s", None, &serde_json::to_value(&r).unwrap()).unwrap();
        let b = normalize("s", None, &raw).unwrap();
        prop_assert_eq!(a.id, b.id);
    }

    /// Different calls never share an id (small value ranges, so near-identical
    /// records are generated often).
    #[test]
    fn wecom_fingerprint_different_records_never_share_an_id(
        records in proptest::collection::vec(arb_record(), 2..40)
    ) {
        let mut seen: HashMap<String, _> = HashMap::new();
        for r in &records {
            let id = fingerprint(r);
            if let Some(other) = seen.get(&id) {
                prop_assert_eq!(other, &identity(r), "one id for two different calls");
            }
            seen.insert(id, identity(r));
        }
    }
}

#[test]
fn wecom_fingerprint_length_prefix_keeps_fields_apart() {
    // Concatenation would make these equal ("ab" + "c" vs "a" + "bc").
    let mk = |caller: &str, callee: &str| DialRecord {
        call_time: 1,
        total_duration: 1,
        call_type: 1,
        caller: Caller { userid: caller.into(), duration: 1 },
        callee: vec![Callee { userid: Some(callee.into()), phone: None, duration: 1 }],
    };
    assert_ne!(fingerprint(&mk("ab", "c")), fingerprint(&mk("a", "bc")));
    // A colleague `138` and the phone 138 are different callees.
    let mut phone = mk("a", "x");
    phone.callee[0] = Callee { userid: None, phone: Some(Phone::Text("138".into())), duration: 1 };
    assert_ne!(fingerprint(&mk("a", "138")), fingerprint(&phone));
}

/// Over a busy week of the fake, every served record has its own id — and the fake
/// really has same-second calls, so an id from `call_time` alone would merge calls.
#[tokio::test]
async fn wecom_fingerprint_unique_over_everything_the_fake_serves() {
    let s = serve(Opts { days: 8, calls_per_day: 5000, ..Opts::default() }).await;
    let range = last(s.now(), SignedDuration::from_hours(24 * 7));
    let got = sync(&s.client(), range, s.now(), 0).await.unwrap();
    let n = assert_unique(&got.records);
    assert_eq!(n as u64, s.expected(range));
    let seconds: HashSet<_> = got.records.iter().map(|r| r.started_at).collect();
    assert!(seconds.len() + 50 < n, "the fake must serve same-second calls: {} seconds for {n} calls", seconds.len());
    // … and no caller places two calls in one second (what keeps real records apart).
    let pairs: HashSet<_> = got.records.iter().map(|r| (r.started_at, r.agent_id().map(str::to_string))).collect();
    assert_eq!(pairs.len(), n);
}
