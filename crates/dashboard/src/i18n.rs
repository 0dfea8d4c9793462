//! The two languages: Simplified Chinese (default) and English, and the names of the
//! record's vocabularies in each.

use huadan_model::{Direction, Disposition, HangupSide, Provider};

/// The language labels are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `en` → English; anything else → Chinese.
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The `lang` attribute value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Pick the label for this language.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// A provider's product name.
    pub fn provider(self, p: Provider) -> &'static str {
        match p {
            Provider::Wecom => self.pick("企业微信", "WeCom"),
            Provider::TencentCcc => self.pick("腾讯云联络中心", "Tencent CCC"),
            Provider::AliyunCcc => self.pick("阿里云呼叫中心", "Aliyun CCC"),
            Provider::TencentAds => self.pick("腾讯广告", "Tencent Ads"),
            Provider::Tanma => self.pick("探马", "Tanma"),
        }
    }

    /// A direction's name.
    pub fn direction(self, d: Direction) -> &'static str {
        match d {
            Direction::Inbound => self.pick("呼入", "Inbound"),
            Direction::Outbound => self.pick("呼出", "Outbound"),
            Direction::Internal => self.pick("内部", "Internal"),
            Direction::Unknown => self.pick("未知", "Unknown"),
        }
    }

    /// A disposition's name.
    pub fn disposition(self, d: Disposition) -> &'static str {
        match d {
            Disposition::Answered => self.pick("已接通", "Answered"),
            Disposition::NoAnswer => self.pick("无人接听", "No answer"),
            Disposition::Busy => self.pick("占线", "Busy"),
            Disposition::Rejected => self.pick("拒接", "Rejected"),
            Disposition::Abandoned => self.pick("放弃", "Abandoned"),
            Disposition::Canceled => self.pick("主叫取消", "Canceled"),
            Disposition::Unreachable => self.pick("无法接通", "Unreachable"),
            Disposition::InvalidNumber => self.pick("空号", "Invalid number"),
            Disposition::Blocked => self.pick("被拦截", "Blocked"),
            Disposition::NoAgent => self.pick("无坐席", "No agent"),
            Disposition::Failed => self.pick("系统失败", "Failed"),
            Disposition::Unknown => self.pick("未知", "Unknown"),
        }
    }

    /// Who hung up.
    pub fn hangup(self, h: HangupSide) -> &'static str {
        match h {
            HangupSide::Agent => self.pick("坐席挂断", "Agent"),
            HangupSide::Customer => self.pick("客户挂断", "Customer"),
            HangupSide::System => self.pick("系统挂断", "System"),
        }
    }

    /// Weekday 1 (Monday) .. 7.
    pub fn weekday(self, n: usize) -> &'static str {
        const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
        const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let i = n.clamp(1, 7) - 1;
        match self {
            Lang::Zh => ZH[i],
            Lang::En => EN[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_unless_en() {
        assert_eq!(Lang::parse(None), Lang::Zh);
        assert_eq!(Lang::parse(Some("fr")), Lang::Zh);
        assert_eq!(Lang::parse(Some("en")).provider(Provider::Tanma), "Tanma");
        assert_eq!(Lang::Zh.disposition(Disposition::NoAnswer), "无人接听");
        assert_eq!(Lang::Zh.weekday(7), "周日");
    }
}
