//! huadan's unified call record and the small helpers every layer shares.
//!
//! Every vendor's record is normalised into one [`CallRecord`] (CONTRACT.md §3). Field
//! names and JSON shapes here are a public contract: `huadan calls --format jsonl` and
//! the REST API print exactly what `serde_json` makes of these types.
//!
//! ```
//! use huadan_model::{CallRecord, Provider};
//! let rec = CallRecord::new("wecom-hq", Provider::Wecom, "abc", "2024-01-01T00:00:00Z".parse().unwrap());
//! assert_eq!(rec.id, "wecom-hq:abc");
//! ```

mod enums;
mod phone;
mod raw;
mod record;
pub mod time;

pub use enums::{Direction, Disposition, DurationPrecision, HangupSide, ParseEnumError, Provider, TranscriptStatus};
pub use phone::mask_number;
pub use raw::RawJson;
pub use record::{Agent, CallRecord, Participant, Party, Recording, Sentence, Transcript};

/// The instant type used everywhere: a UTC timestamp (`jiff::Timestamp`), printed as
/// RFC 3339 with a `Z`.
pub type Instant = jiff::Timestamp;
