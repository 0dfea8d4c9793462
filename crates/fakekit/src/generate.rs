//! Realistic pieces for generated calls: agents with Chinese names in skill groups and
//! departments, mainland numbers, talk and ring times, Chinese transcripts.

use crate::mix;
use rand::Rng;
use rand::seq::SliceRandom;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高",
    "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "晨", "思远", "雨萱", "浩然", "子涵", "欣怡",
];
const SKILL_GROUPS: &[&str] = &["售前咨询", "售后服务", "大客户", "催收回访", "投诉处理"];
const DEPARTMENTS: &[&str] = &["华东销售部", "华南销售部", "客户服务中心", "电话营销一组", "电话营销二组", "质检部"];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "170", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "198", "199",
];
const AREA_CODES: &[&str] = &["010", "021", "020", "0755", "0571", "025", "028", "027", "023", "029", "0512", "0532"];
/// Provinces and cities for caller location.
pub const LOCATIONS: &[(&str, &str)] = &[
    ("北京", "北京"),
    ("上海", "上海"),
    ("广东", "广州"),
    ("广东", "深圳"),
    ("浙江", "杭州"),
    ("江苏", "南京"),
    ("四川", "成都"),
    ("湖北", "武汉"),
    ("重庆", "重庆"),
    ("陕西", "西安"),
    ("江苏", "苏州"),
    ("山东", "青岛"),
];

/// A company-side person.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentProfile {
    /// Stable id (`agent001`…, vendors may reformat).
    pub id: String,
    /// Chinese name.
    pub name: String,
    /// Work mobile.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Staff number.
    pub staff_number: String,
    /// Skill group.
    pub skill_group: String,
    /// Department.
    pub department: String,
}

/// The roster of one company: the same people appear across vendors (the same seed
/// gives the same roster everywhere), which is what cross-vendor agent stats need.
pub fn roster(seed: u64, size: usize) -> Vec<AgentProfile> {
    (0..size)
        .map(|i| {
            let h = mix(&[seed, 0xA6E47, i as u64]);
            let surname = SURNAMES[(h % SURNAMES.len() as u64) as usize];
            let given = GIVEN[((h >> 16) % GIVEN.len() as u64) as usize];
            let prefix = MOBILE_PREFIXES[((h >> 24) % MOBILE_PREFIXES.len() as u64) as usize];
            AgentProfile {
                id: format!("agent{:03}", i + 1),
                name: format!("{surname}{given}"),
                phone: format!("{prefix}{:08}", (h >> 32) % 100_000_000),
                email: format!("agent{:03}@example.com", i + 1),
                staff_number: format!("{:05}", 10000 + i),
                skill_group: SKILL_GROUPS[i % SKILL_GROUPS.len()].to_string(),
                department: DEPARTMENTS[i % DEPARTMENTS.len()].to_string(),
            }
        })
        .collect()
}

/// A Chinese personal name.
pub fn person_name(rng: &mut impl Rng) -> String {
    format!("{}{}", SURNAMES.choose(rng).copied().unwrap_or("王"), GIVEN.choose(rng).copied().unwrap_or("伟"))
}

/// A mainland mobile number (11 digits).
pub fn mobile(rng: &mut impl Rng) -> String {
    format!("{}{:08}", MOBILE_PREFIXES.choose(rng).copied().unwrap_or("138"), rng.gen_range(0..100_000_000u32))
}

/// A mainland landline with area code (`021` + 8 digits, `0755` + 8 digits…).
pub fn landline(rng: &mut impl Rng) -> String {
    format!("{}{:08}", AREA_CODES.choose(rng).copied().unwrap_or("010"), rng.gen_range(20_000_000..90_000_000u32))
}

/// A customer number: mostly mobiles, some landlines.
pub fn customer_number(rng: &mut impl Rng) -> String {
    if rng.gen_bool(0.8) { mobile(rng) } else { landline(rng) }
}

/// Talk seconds of an answered call: log-normal-ish, median about 75 s, long tail to
/// about half an hour.
pub fn talk_seconds(rng: &mut impl Rng) -> i64 {
    let u: f64 = rng.gen_range(0.0001..1.0);
    let z = (-2.0 * u.ln()).sqrt() * (rng.gen_range(0.0..std::f64::consts::TAU)).cos();
    (75.0 * (0.9 * z).exp()).clamp(3.0, 2400.0).round() as i64
}

/// Ring seconds before answer or give-up.
pub fn ring_seconds(rng: &mut impl Rng) -> i64 {
    rng.gen_range(2..=35)
}

/// Pick from weighted choices.
pub fn weighted<'a, T>(rng: &mut impl Rng, choices: &'a [(T, u32)]) -> &'a T {
    let total: u32 = choices.iter().map(|(_, w)| *w).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (c, w) in choices {
        if x < *w {
            return c;
        }
        x -= w;
    }
    &choices[choices.len() - 1].0
}

const AGENT_LINES: &[&str] = &[
    "您好，这里是客服中心，请问有什么可以帮您？",
    "请问您贵姓？方便留一个联系方式吗？",
    "好的，我这边帮您查询一下订单状态。",
    "这款产品目前有优惠活动，首年八折。",
    "您反映的问题我已经记录，二十四小时内会有专人回访。",
    "请问您对我们的服务还满意吗？",
    "合同我稍后通过微信发给您确认。",
    "感谢您的耐心等待，祝您生活愉快，再见。",
    "我们的报价是按年付费，包含售后维护。",
    "您看下周二上午方便安排上门演示吗？",
];
const CUSTOMER_LINES: &[&str] = &[
    "喂，你好，我想咨询一下你们的产品价格。",
    "我上周下的订单到现在还没有发货。",
    "价格能不能再便宜一点？",
    "我姓李，电话就是这个号码。",
    "好的，那我等你们的消息。",
    "我需要和领导商量一下再决定。",
    "退款什么时候能到账？",
    "可以，下周二上午可以。",
    "你们的售后电话一直打不通。",
    "行，没问题，谢谢。",
];

/// A dialogue of `n` sentences alternating agent (channel 0) and customer (channel 1),
/// as `(begin_ms, end_ms, channel, text)`, fitting in `talk_seconds`.
pub fn transcript(rng: &mut impl Rng, talk_seconds: i64, n: usize) -> Vec<(i64, i64, u8, String)> {
    let total_ms = (talk_seconds.max(1) * 1000).max(n as i64 * 1500);
    let slot = total_ms / n.max(1) as i64;
    (0..n)
        .map(|i| {
            let channel = (i % 2) as u8;
            let lines = if channel == 0 { AGENT_LINES } else { CUSTOMER_LINES };
            let text = lines.choose(rng).copied().unwrap_or("好的。").to_string();
            let begin = i as i64 * slot + rng.gen_range(0..(slot / 4).max(1));
            let end = (begin + slot * 3 / 4).min(total_ms);
            (begin, end, channel, text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn roster_is_stable_and_chinese() {
        let a = roster(5, 20);
        assert_eq!(a, roster(5, 20));
        assert!(a.iter().all(|p| p.name.chars().all(|c| !c.is_ascii())));
        assert!(a.iter().all(|p| p.phone.len() == 11));
    }

    #[test]
    fn numbers_look_mainland() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let m = mobile(&mut rng);
            assert!(m.len() == 11 && m.starts_with('1'), "{m}");
            let l = landline(&mut rng);
            assert!(l.starts_with('0') && (11..=12).contains(&l.len()), "{l}");
            let t = talk_seconds(&mut rng);
            assert!((3..=2400).contains(&t));
        }
        let tr = transcript(&mut rng, 60, 6);
        assert_eq!(tr.len(), 6);
        assert!(tr.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
