//! The closed vocabularies of the unified record: provider, direction, disposition,
//! duration precision, hang-up side and transcript status.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A string did not name a member of one of the record's enums.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}; expected one of: {expected}")]
pub struct ParseEnumError {
    /// Which vocabulary was being parsed (`provider`, `direction`, …).
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: String,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable lower-case spelling used in JSON, SQL and the CLI.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError {
                        what: $what,
                        value: s.to_string(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

string_enum!(
    /// The five platforms huadan pulls from (`kind` in the config, `provider` in a record).
    Provider, "provider", {
        /// WeCom public phone (企业微信公费电话).
        Wecom => "wecom",
        /// Tencent Cloud Contact Center (腾讯云联络中心).
        TencentCcc => "tencent_ccc",
        /// Alibaba Cloud Contact Center (阿里云云呼叫中心).
        AliyunCcc => "aliyun_ccc",
        /// Tencent Ads lead call records (腾讯广告).
        TencentAds => "tencent_ads",
        /// Tanma SCRM work phones with speech-to-text (探马).
        Tanma => "tanma",
    }
);

string_enum!(
    /// Which way the call went, seen from the company.
    Direction, "direction", {
        /// A customer called in.
        Inbound => "inbound",
        /// The company called out.
        Outbound => "outbound",
        /// Colleague to colleague.
        Internal => "internal",
        /// The vendor did not say.
        Unknown => "unknown",
    }
);

string_enum!(
    /// How the call ended, unified across vendors (VENDORS.md has each vendor's table).
    Disposition, "disposition", {
        /// Connected and talked.
        Answered => "answered",
        /// Rang out without an answer.
        NoAnswer => "no_answer",
        /// The callee was busy.
        Busy => "busy",
        /// The callee rejected the call.
        Rejected => "rejected",
        /// The caller gave up in IVR, queue or while ringing.
        Abandoned => "abandoned",
        /// The caller cancelled before an answer.
        Canceled => "canceled",
        /// Powered off, out of service, no credit.
        Unreachable => "unreachable",
        /// The number does not exist.
        InvalidNumber => "invalid_number",
        /// Blocked by a blacklist, restriction or carrier.
        Blocked => "blocked",
        /// No agent was available (none online, outside hours).
        NoAgent => "no_agent",
        /// A system or operator error.
        Failed => "failed",
        /// The vendor's status has no mapping (see `disposition_detail`).
        Unknown => "unknown",
    }
);

string_enum!(
    /// The unit the vendor reported durations in.
    DurationPrecision, "duration precision", {
        /// Whole seconds.
        Second => "second",
        /// Whole minutes, converted to seconds (WeCom).
        Minute => "minute",
    }
);

string_enum!(
    /// Who hung up.
    HangupSide, "hang-up side", {
        /// The agent / seat.
        Agent => "agent",
        /// The customer.
        Customer => "customer",
        /// The platform (IVR end, timeout, error).
        System => "system",
    }
);

string_enum!(
    /// Where a transcript stands; `pending` records may still change.
    TranscriptStatus, "transcript status", {
        /// Speech-to-text has not finished yet.
        Pending => "pending",
        /// Finished with sentences.
        Done => "done",
        /// Speech-to-text failed.
        Failed => "failed",
    }
);

// The enum is declared through `string_enum!`, which cannot carry `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for DurationPrecision {
    fn default() -> Self {
        DurationPrecision::Second
    }
}

impl Disposition {
    /// Whether this outcome counts as answered in stats.
    pub fn is_answered(self) -> bool {
        self == Disposition::Answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_member() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), *p);
            assert_eq!(serde_json::to_string(p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        for d in Disposition::ALL {
            assert_eq!(d.as_str().parse::<Disposition>().unwrap(), *d);
        }
    }

    #[test]
    fn unknown_spelling_lists_the_choices() {
        let err = "tencent".parse::<Provider>().unwrap_err();
        assert!(err.to_string().contains("tencent_ccc"), "{err}");
        assert_eq!(err.value, "tencent");
    }
}
