//! Rules for single values: names, addresses, mobile numbers, postcodes.
//!
//! Each check returns the normalised value or a Chinese message saying what is wrong and
//! what is expected; `Verdict::warnings` carries advice that does not block submission.

use std::sync::LazyLock;

use regex::Regex;

/// The outcome of checking one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The value as it should be stored (spaces trimmed, separators removed, …).
    pub normalised: String,
    pub warnings: Vec<String>,
}

impl Verdict {
    fn ok(normalised: impl Into<String>) -> Verdict {
        Verdict {
            normalised: normalised.into(),
            warnings: Vec::new(),
        }
    }
}

pub const NAME_MAX_CHARS: usize = 30;
pub const ADDRESS_MIN_CHARS: usize = 5;
pub const ADDRESS_MAX_CHARS: usize = 100;

/// Middle dots people type for minority names; all become U+00B7 ·.
const DOTS: [char; 5] = ['·', '•', '・', '‧', '．'];

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'   // Extension A
        | '\u{4E00}'..='\u{9FFF}' // Unified Ideographs
        | '\u{F900}'..='\u{FAFF}' // Compatibility Ideographs
        | '\u{20000}'..='\u{3134F}' // Extensions B–G (rare characters in names)
        | '〇')
}

fn control_char_problem(value: &str, what: &str) -> Option<String> {
    value.chars().find(|c| c.is_control()).map(|c| {
        format!(
            "{what}中含有不可见的控制字符（U+{:04X}）：请删除后重新输入",
            c as u32
        )
    })
}

/// A person's name. Chinese names are Han characters, with · between the parts of a
/// minority name (阿依古丽·买买提); `allow_latin` admits Latin letters and spaces for
/// foreign and Hong Kong/Macao/Taiwan documents.
pub fn check_name(input: &str, allow_latin: bool) -> Result<Verdict, String> {
    if let Some(p) = control_char_problem(input, "姓名") {
        return Err(p);
    }
    let name: String = input
        .trim()
        .chars()
        .map(|c| if DOTS.contains(&c) { '·' } else { c })
        .collect();
    if name.is_empty() {
        return Err("请填写姓名（与身份证上一致）".into());
    }
    let count = name.chars().count();
    if count < 2 {
        return Err("姓名至少 2 个字：请填写完整姓名".into());
    }
    if count > NAME_MAX_CHARS {
        return Err(format!(
            "姓名有 {count} 个字符，超过 {NAME_MAX_CHARS} 个：请核对是否多输入了内容"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(is_han(c) || c == '·' || allow_latin && (c.is_ascii_alphabetic() || c == ' ')))
    {
        let expected = if allow_latin {
            "只能包含汉字、英文字母、空格和间隔号“·”"
        } else {
            "只能包含汉字和少数民族姓名的间隔号“·”"
        };
        return Err(format!("姓名中有“{c}”：{expected}"));
    }
    if name.starts_with('·') || name.ends_with('·') || name.contains("··") {
        return Err("间隔号“·”只能用在姓名的两部分之间，如 阿依古丽·买买提".into());
    }
    Ok(Verdict::ok(name))
}

/// A street address (residence or mailing).
pub fn check_address(input: &str) -> Result<Verdict, String> {
    if let Some(p) = control_char_problem(input, "地址") {
        return Err(p);
    }
    let address = input.trim();
    let count = address.chars().count();
    if count == 0 {
        return Err("请填写详细地址（街道、小区、楼号、门牌号）".into());
    }
    if count < ADDRESS_MIN_CHARS {
        return Err(format!(
            "地址只有 {count} 个字，过于简略：请写到街道、楼号和门牌号（至少 {ADDRESS_MIN_CHARS} 个字）"
        ));
    }
    if count > ADDRESS_MAX_CHARS {
        return Err(format!(
            "地址有 {count} 个字，超过 {ADDRESS_MAX_CHARS} 个字：请删去多余内容"
        ));
    }
    Ok(Verdict::ok(address))
}

/// China's mobile ranges as libphonenumber's metadata gives them. New ranges open every few
/// years, so a number outside them gets a warning, not a refusal.
static KNOWN_MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8})$",
    )
    .expect("valid regex")
});

/// A Chinese mobile number: 11 digits beginning 13–19. Spaces, hyphens and a +86 / 0086
/// prefix are removed.
pub fn check_mobile(input: &str) -> Result<Verdict, String> {
    let digits: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '　'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            other => other,
        })
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits)
        .to_owned();
    if digits.is_empty() {
        return Err("请填写 11 位手机号码".into());
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("手机号码中有“{c}”：只能是 11 位数字"));
    }
    if digits.len() != 11 {
        return Err(format!("手机号码是 {} 位：应为 11 位", digits.len()));
    }
    if !matches!(&digits[..2], "13" | "14" | "15" | "16" | "17" | "18" | "19") {
        return Err(format!(
            "手机号码以 {} 开头：中国大陆手机号以 13–19 开头，请核对（座机号码不能作为卡预留手机号）",
            &digits[..2]
        ));
    }
    let mut verdict = Verdict::ok(digits.clone());
    if !KNOWN_MOBILE.is_match(&digits) {
        verdict.warnings.push(format!(
            "号段 {} 不在已知的手机号段中：请与申领人再核对一次（新号段也可能是对的）",
            &digits[..3]
        ));
    }
    Ok(verdict)
}

/// A postcode: 6 digits. `beijing` says whether the address is in Beijing, where every
/// postcode is 100000–102999 (a warning otherwise: the clerk may have typed the wrong one).
pub fn check_postcode(input: &str, beijing: bool) -> Result<Verdict, String> {
    let code: String = input.trim().chars().filter(|c| *c != ' ').collect();
    if code.is_empty() {
        return Err("请填写 6 位邮政编码".into());
    }
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("邮政编码“{code}”不对：应为 6 位数字，如 100020"));
    }
    let mut verdict = Verdict::ok(code.clone());
    if beijing && !(code.starts_with("10") && matches!(code.as_bytes()[2], b'0'..=b'2')) {
        verdict.warnings.push(format!(
            "邮政编码 {code} 不是北京的邮编（北京的邮编在 100000–102999 之间）：请与收件人核对"
        ));
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_and_minority_names_pass() {
        assert_eq!(check_name(" 张三 ", false).unwrap().normalised, "张三");
        assert_eq!(
            check_name("阿依古丽•买买提", false).unwrap().normalised,
            "阿依古丽·买买提"
        );
        assert!(check_name("𠀀明", false).is_ok(), "extension B characters");
    }

    #[test]
    fn bad_names_say_what_is_expected() {
        assert!(check_name("", false).unwrap_err().contains("请填写姓名"));
        assert!(check_name("张", false).unwrap_err().contains("至少 2 个字"));
        assert!(
            check_name("张3", false)
                .unwrap_err()
                .contains("只能包含汉字")
        );
        assert!(check_name("·张三", false).unwrap_err().contains("间隔号"));
        assert!(
            check_name("张\u{7}三", false)
                .unwrap_err()
                .contains("控制字符")
        );
        assert!(
            check_name(&"张".repeat(31), false)
                .unwrap_err()
                .contains("超过 30")
        );
        assert!(check_name("Chan Tai Man", true).is_ok());
        assert!(check_name("Chan Tai Man", false).is_err());
    }

    #[test]
    fn addresses_have_length_limits() {
        assert!(check_address("朝阳区建国路 88 号").is_ok());
        assert!(check_address("北京").unwrap_err().contains("过于简略"));
        assert!(
            check_address(&"路".repeat(101))
                .unwrap_err()
                .contains("超过 100")
        );
        assert!(
            check_address("建国路\u{1b}[31m88号")
                .unwrap_err()
                .contains("控制字符")
        );
    }

    #[test]
    fn mobiles() {
        assert_eq!(
            check_mobile("138 0013 8000").unwrap().normalised,
            "13800138000"
        );
        assert_eq!(
            check_mobile("+86 13800138000").unwrap().normalised,
            "13800138000"
        );
        assert!(check_mobile("13800138000").unwrap().warnings.is_empty());
        assert!(
            check_mobile("1380013800")
                .unwrap_err()
                .contains("应为 11 位")
        );
        assert!(
            check_mobile("12800138000")
                .unwrap_err()
                .contains("13–19 开头")
        );
        assert!(
            check_mobile("1380013800a")
                .unwrap_err()
                .contains("只能是 11 位数字")
        );
        // 140 is not a range in use: a warning, not a refusal.
        let v = check_mobile("14012345678").unwrap();
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0].contains("140"));
    }

    #[test]
    fn postcodes() {
        assert!(check_postcode("100020", true).unwrap().warnings.is_empty());
        assert_eq!(check_postcode("200000", true).unwrap().warnings.len(), 1);
        assert_eq!(check_postcode("103000", true).unwrap().warnings.len(), 1);
        assert!(check_postcode("102600", true).unwrap().warnings.is_empty());
        assert!(check_postcode("200000", false).unwrap().warnings.is_empty());
        assert!(
            check_postcode("10002", true)
                .unwrap_err()
                .contains("6 位数字")
        );
        assert!(check_postcode("", true).unwrap_err().contains("请填写"));
    }

    proptest! {
        #[test]
        fn every_eleven_digit_number_in_13_to_19_is_accepted(
            prefix in 3u8..=9, rest in "[0-9]{9}"
        ) {
            let number = format!("1{prefix}{rest}");
            prop_assert_eq!(check_mobile(&number).unwrap().normalised, number);
        }

        #[test]
        fn rules_never_panic_on_any_text(s in "\\PC{0,40}") {
            let _ = check_name(&s, true);
            let _ = check_address(&s);
            let _ = check_mobile(&s);
            let _ = check_postcode(&s, true);
        }
    }
}
