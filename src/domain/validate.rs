//! Validation: a pure function of an `Application` and today's date, returning every
//! problem with the field it belongs to and a Chinese message saying what is wrong and
//! what is expected. The wizard shows them per field and per step; the review page and
//! the outbox use `Report::is_ready_to_submit`.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::application::{Application, Eligibility, IdType, PickupMethod, Status, ValidUntil};
use super::dates::parse_date;
use super::field::{Field, Step};
use super::id_number::{IdNumber, age_on};
use super::refdata::refdata;
use super::rules::{Verdict, check_address, check_mobile, check_name, check_postcode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Required and not filled in yet.
    Missing,
    /// Filled in, but wrong.
    Invalid,
    /// Worth a second look; does not block submission.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: Field,
    pub kind: ProblemKind,
    pub message: String,
}

impl Problem {
    pub fn blocks_submission(&self) -> bool {
        self.kind != ProblemKind::Warning
    }
}

/// How a step stands, for the step bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Complete,
    Incomplete,
    HasErrors,
}

/// Every problem of an application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn for_field(&self, field: Field) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.field == field)
    }

    pub fn for_step(&self, step: Step) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.field.step() == step)
    }

    pub fn step_state(&self, step: Step) -> StepState {
        let mut state = StepState::Complete;
        for p in self.for_step(step) {
            match p.kind {
                ProblemKind::Invalid => return StepState::HasErrors,
                ProblemKind::Missing => state = StepState::Incomplete,
                ProblemKind::Warning => {}
            }
        }
        state
    }

    /// Every field valid, every required field filled, every consent given.
    pub fn is_ready_to_submit(&self) -> bool {
        !self.problems.iter().any(Problem::blocks_submission)
    }
}

/// Which of the agent's papers a centre requires with a 代办 application (`[agent]` in the
/// config); by default neither: kept when given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentPapers {
    /// 代办人身份证照片.
    pub id_card: bool,
    /// 委托书或关系证明照片.
    pub authorisation: bool,
}

static CENTRE_AGENT_PAPERS: std::sync::RwLock<AgentPapers> = std::sync::RwLock::new(AgentPapers {
    id_card: false,
    authorisation: false,
});

/// Set the centre's requirement for the agent's papers, once the config is read; every
/// validation in this process follows it.
pub fn set_centre_agent_papers(papers: AgentPapers) {
    *CENTRE_AGENT_PAPERS
        .write()
        .unwrap_or_else(|e| e.into_inner()) = papers;
}

fn centre_agent_papers() -> AgentPapers {
    *CENTRE_AGENT_PAPERS
        .read()
        .unwrap_or_else(|e| e.into_inner())
}

/// Validate the whole application on `today`, by this centre's settings.
pub fn validate(app: &Application, today: NaiveDate) -> Report {
    validate_with(app, today, centre_agent_papers())
}

/// Validate the whole application on `today`, requiring `papers` of an agent.
pub fn validate_with(app: &Application, today: NaiveDate, papers: AgentPapers) -> Report {
    let mut problems = Vec::new();
    for step in Step::ALL {
        problems.extend(validate_step_with(app, step, today, papers));
    }
    Report { problems }
}

/// Validate one step (section) of the application, by this centre's settings.
pub fn validate_step(app: &Application, step: Step, today: NaiveDate) -> Vec<Problem> {
    validate_step_with(app, step, today, centre_agent_papers())
}

fn validate_step_with(
    app: &Application,
    step: Step,
    today: NaiveDate,
    papers: AgentPapers,
) -> Vec<Problem> {
    let mut out = Problems(Vec::new());
    match step {
        Step::Disclaimer => {
            if app.consents.disclaimer_agreed_at.is_none() {
                out.missing(Field::DisclaimerConsent, "请阅读免责声明后勾选“我同意”");
            }
        }
        Step::AppliedBy => {
            if app.by_agent() {
                agent(app, today, papers, &mut out);
            }
        }
        Step::Applicant => applicant(app, today, &mut out),
        Step::IdentityPhotos => {
            if app.photos.id_front.is_none() {
                out.missing(Field::IdFrontPhoto, "请上传身份证正面（人像面）原件照片");
            }
            if app.photos.id_back.is_none() {
                out.missing(Field::IdBackPhoto, "请上传身份证背面（国徽面）原件照片");
            }
            // The number the front photo shows, beside the number in the form.
            let typed = app.applicant.id_number.trim().to_ascii_uppercase();
            if let Some(on_card) = &app.id_number_on_card
                && !typed.is_empty()
                && on_card.trim().to_ascii_uppercase() != typed
            {
                out.warning(
                    Field::IdFrontPhoto,
                    format!(
                        "照片上的身份证号码（识别）为 {on_card}，与填写的 {typed} 不一致：请对照证件原件核对，或换成本人身份证的照片"
                    ),
                );
            }
        }
        Step::BasicInfo => basic_info(app, today, &mut out),
        Step::CardInfo => {
            if app.photos.card_photo.is_none() {
                out.missing(
                    Field::CardPhoto,
                    "请上传制卡照片：近期彩色免冠照片，358×441 像素，20KB–8.75MB",
                );
            }
            if matches!(app.eligibility, Eligibility::Eligible { .. }) && app.card_issuer.is_none()
            {
                out.missing(
                    Field::CardIssuer,
                    "资格校验结果中没有发卡银行和办卡网点：请重新进行资格校验",
                );
            }
        }
        Step::Pickup => pickup(app, &mut out),
        Step::Review => {
            if app.consents.declaration_agreed_at.is_none() {
                out.missing(Field::Declaration, "请核对全部信息后勾选“我已阅读并同意”");
            }
        }
    }
    // Read from the card's photos and not yet checked against the card by the clerk.
    for field in app.recognised.iter().filter(|f| f.step() == step) {
        if !out
            .0
            .iter()
            .any(|p| p.field == *field && p.blocks_submission())
        {
            out.missing(*field, "请对照证件核对：无误按 Enter 确认，有误直接修改");
        }
    }
    // Named by the reason it came back for, and not changed since.
    if let Some(note) = app.returned.as_ref().filter(|_| app.status.is_editable()) {
        for (field, named) in note.open_fields().filter(|(f, _)| f.step() == step) {
            out.invalid(field, format!("退回原因：{}", named.message));
        }
    }
    out.0
}

struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, field: Field, kind: ProblemKind, message: impl Into<String>) {
        self.0.push(Problem {
            field,
            kind,
            message: message.into(),
        });
    }
    fn missing(&mut self, field: Field, message: impl Into<String>) {
        self.push(field, ProblemKind::Missing, message);
    }
    fn invalid(&mut self, field: Field, message: impl Into<String>) {
        self.push(field, ProblemKind::Invalid, message);
    }
    fn warning(&mut self, field: Field, message: impl Into<String>) {
        self.push(field, ProblemKind::Warning, message);
    }
    /// Record the outcome of a single-value rule: an empty value is `Missing`.
    fn rule(&mut self, field: Field, value: &str, result: Result<Verdict, String>) {
        match result {
            Ok(v) => {
                for w in v.warnings {
                    self.warning(field, w);
                }
            }
            Err(message) if value.trim().is_empty() => self.missing(field, message),
            Err(message) => self.invalid(field, message),
        }
    }
}

fn applicant(app: &Application, today: NaiveDate, out: &mut Problems) {
    let a = &app.applicant;
    let latin = !a.id_type.is_gb11643();
    out.rule(Field::Name, &a.name, check_name(&a.name, latin));

    match parse_id(a.id_type, &a.id_number, today) {
        Some(Ok(id)) => {
            let age = id.age_on(today);
            if app.occupation == super::refdata::DEFAULT_OCCUPATION && age < 50 {
                out.warning(
                    Field::IdNumber,
                    format!(
                        "申领人 {age} 岁，一般未到退休年龄：本流程面向离退休人员，是否可以申领以资格校验结果为准"
                    ),
                );
            }
        }
        Some(Err(e)) if a.id_number.trim().is_empty() => out.missing(Field::IdNumber, e.message()),
        Some(Err(e)) => out.invalid(Field::IdNumber, e.message()),
        None => other_document_number(Field::IdNumber, &a.id_number, out),
    }

    if app.consents.access_authorised_at.is_none() {
        out.missing(Field::AccessAuthorisation, "请向申领人说明后勾选“访问授权”");
    }
    if app.by_agent() {
        if app.consents.applicant_id_card_checked_at.is_none() {
            out.missing(
                Field::ApplicantIdCheck,
                "请核验代办人带来的申领人身份证原件，与所填信息一致后勾选",
            );
        }
    } else if app.consents.identity_verified_in_person_at.is_none() {
        out.missing(
            Field::InPersonCheck,
            "请当面核验申领人的身份证原件，确认是本人后勾选",
        );
    }
    match &app.eligibility {
        Eligibility::NotChecked => out.missing(Field::Eligibility, "请点击“开始资格校验”"),
        Eligibility::Pending { .. } => out.warning(
            Field::Eligibility,
            "待校验：当前离线，联网后在提交前自动进行资格校验",
        ),
        Eligibility::Ineligible { reason, .. } => {
            out.invalid(Field::Eligibility, format!("资格校验未通过：{reason}"))
        }
        Eligibility::Eligible { .. } => {}
    }
}

/// A GB 11643 number parsed by the rules of its document type (`None`: another type).
fn parse_id(
    id_type: IdType,
    number: &str,
    today: NaiveDate,
) -> Option<Result<IdNumber, super::id_number::IdError>> {
    match id_type {
        IdType::ResidentId => Some(IdNumber::parse(number, today)),
        IdType::HmtResidencePermit => Some(IdNumber::parse_residence_permit(number, today)),
        _ => None,
    }
}

/// Numbers of documents other than the GB 11643 ones: 5–20 letters and digits.
fn other_document_number(field: Field, input: &str, out: &mut Problems) {
    let number: String = input.trim().chars().filter(|c| *c != ' ').collect();
    if number.is_empty() {
        out.missing(field, "请填写证件号码（与证件上一致）");
    } else if let Some(c) = number.chars().find(|c| !c.is_ascii_alphanumeric()) {
        out.invalid(field, format!("证件号码中有“{c}”：只能是英文字母和数字"));
    } else if !(5..=20).contains(&number.len()) {
        out.invalid(
            field,
            format!("证件号码是 {} 位：应为 5–20 位字母和数字", number.len()),
        );
    }
}

/// The youngest an agent may be, on the day of the application.
pub const AGENT_MIN_AGE: u32 = 18;

/// The agent of a 代办 application: the same rules as the applicant's identity, an adult,
/// not the applicant, a relation from the table, a phone, the clerk's check of their card.
fn agent(app: &Application, today: NaiveDate, papers: AgentPapers, out: &mut Problems) {
    let g = &app.agent;
    let latin = !g.id_type.is_gb11643();
    out.rule(
        Field::AgentName,
        &g.name,
        check_name(&g.name, latin).map_err(|e| e.replacen("姓名", "代办人姓名", 1)),
    );

    let same = |a: &str, b: &str| {
        let (a, b) = (
            super::id_number::normalise_id_input(a),
            super::id_number::normalise_id_input(b),
        );
        !a.is_empty() && a == b
    };
    let agent_birth = match parse_id(g.id_type, &g.id_number, today) {
        Some(Ok(id)) => Some(id.birth_date),
        Some(Err(_)) if g.id_number.trim().is_empty() => {
            out.missing(
                Field::AgentIdNumber,
                "请填写代办人的证件号码（与其证件上一致）",
            );
            None
        }
        Some(Err(e)) => {
            out.invalid(Field::AgentIdNumber, format!("代办人{}", e.message()));
            None
        }
        None => {
            other_document_number(Field::AgentIdNumber, &g.id_number, out);
            None
        }
    };
    if same(&g.id_number, &app.applicant.id_number) {
        out.invalid(
            Field::AgentIdNumber,
            format!(
                "代办人证件号码与申领人相同：代办人不能是申领人本人，本人办理请在第 {} 步选择“本人申领”",
                Step::AppliedBy.number()
            ),
        );
    } else if let Some(birth) = agent_birth {
        let age = age_on(birth, today);
        if age < AGENT_MIN_AGE {
            out.invalid(
                Field::AgentIdNumber,
                format!("代办人 {age} 岁，未满 {AGENT_MIN_AGE} 周岁：代办人须为成年人"),
            );
        } else if let Some(applicant_birth) = app.parsed_id(today).map(|id| id.birth_date) {
            // A parent younger than the child, or a child older than the parent.
            let odd = match g.relation.as_str() {
                "parent" => birth >= applicant_birth,
                "child" => birth <= applicant_birth,
                _ => false,
            };
            if odd {
                out.warning(
                    Field::AgentRelation,
                    "按两人的出生日期，这个关系不太可能：请核对与申领人关系",
                );
            }
        }
    }

    if g.relation.trim().is_empty() {
        out.missing(Field::AgentRelation, "请选择代办人与申领人的关系");
    } else if refdata().agent_relation(&g.relation).is_none() {
        out.invalid(
            Field::AgentRelation,
            "与申领人关系不在列表中：请从列表中选择",
        );
    }
    out.rule(
        Field::AgentMobile,
        &g.mobile,
        check_mobile(&g.mobile).map_err(|e| {
            e.replacen("手机号码", "代办人手机号码", 1).replace(
                "座机号码不能作为卡预留手机号",
                "请填写代办人能接听的手机号码",
            )
        }),
    );
    if app.consents.agent_id_card_checked_at.is_none() {
        out.missing(
            Field::AgentIdCheck,
            "请核验代办人本人的身份证原件，确认是本人后勾选",
        );
    }
    if papers.id_card && g.photos.id_card.is_none() {
        out.missing(
            Field::AgentIdPhoto,
            "本服务点要求留存代办人身份证照片：请拍摄或扫描后导入",
        );
    }
    if papers.authorisation && g.photos.authorisation.is_none() {
        out.missing(
            Field::AuthorisationPhoto,
            "本服务点要求留存委托书或关系证明：请拍摄或扫描后导入",
        );
    }
}

fn date_field(field: Field, value: &str, out: &mut Problems) -> Option<NaiveDate> {
    match parse_date(value) {
        Ok(d) => Some(d),
        Err(m) if value.trim().is_empty() => {
            out.missing(field, m);
            None
        }
        Err(m) => {
            out.invalid(field, m);
            None
        }
    }
}

fn basic_info(app: &Application, today: NaiveDate, out: &mut Problems) {
    let a = &app.applicant;
    let id = app.parsed_id(today);
    let refs = refdata();

    // Birth date and gender: follow from a GB 11643 number and must agree with it.
    let birth = date_field(Field::BirthDate, &a.birth_date, out);
    if let Some(b) = birth {
        if b > today {
            out.invalid(Field::BirthDate, "出生日期晚于今天：请核对");
        } else if let Some(id) = &id
            && id.birth_date != b
        {
            out.invalid(
                Field::BirthDate,
                format!(
                    "出生日期 {b} 与证件号码不符：号码第 7–14 位表示 {}",
                    id.birth_date
                ),
            );
        }
    }
    match (a.gender, &id) {
        (None, _) => out.missing(Field::Gender, "请选择性别"),
        (Some(g), Some(id)) if g != id.gender => out.invalid(
            Field::Gender,
            format!(
                "性别“{}”与证件号码不符：号码第 17 位表示{}",
                g.label(),
                id.gender.label()
            ),
        ),
        _ => {}
    }

    // Validity of the document.
    let from = date_field(Field::IdValidFrom, &a.id_valid_from, out);
    if let Some(f) = from {
        if f > today {
            out.invalid(
                Field::IdValidFrom,
                "有效期限开始日期晚于今天：请按证件背面核对",
            );
        } else if birth.is_some_and(|b| f < b) {
            out.invalid(
                Field::IdValidFrom,
                "有效期限开始日期早于出生日期：请按证件背面核对",
            );
        }
    }
    match &a.id_valid_until {
        ValidUntil::LongTerm => {
            if let (Some(f), Some(b), true) = (from, birth, a.id_type == IdType::ResidentId)
                && age_on(b, f) < 46
            {
                out.warning(
                    Field::IdValidUntil,
                    "长期有效的身份证只签发给 46 岁及以上的人：请按证件背面核对有效期限",
                );
            }
        }
        ValidUntil::Date(text) => {
            if let Some(until) = date_field(Field::IdValidUntil, text, out) {
                if from.is_some_and(|f| until <= f) {
                    out.invalid(Field::IdValidUntil, "结束日期应晚于开始日期");
                } else if until < today {
                    out.invalid(
                        Field::IdValidUntil,
                        format!("证件已于 {until} 过期：请申领人先换领有效证件"),
                    );
                } else if let Some(f) = from
                    && a.id_type == IdType::ResidentId
                    && ![5, 10, 20]
                        .iter()
                        .any(|y| f.checked_add_months(Months::new(12 * y)) == Some(until))
                {
                    out.warning(
                        Field::IdValidUntil,
                        "身份证有效期通常为 5、10 或 20 年，结束日期与开始日期同月同日：请按证件背面核对",
                    );
                }
            }
        }
    }

    // Nationality, ethnicity, occupation: codes from the reference tables.
    if a.nationality.trim().is_empty() {
        out.missing(Field::Nationality, "请选择国籍");
    } else if refs.nationality(&a.nationality).is_none() {
        out.invalid(Field::Nationality, "国籍不在列表中：请从列表中选择");
    } else if a.id_type == IdType::ResidentId && a.nationality != "CHN" {
        out.invalid(Field::Nationality, "持居民身份证的申领人国籍应为“中国”");
    }
    if a.ethnicity.trim().is_empty() {
        if a.id_type == IdType::ResidentId {
            out.missing(Field::Ethnicity, "请选择民族（与身份证上一致）");
        }
    } else if refs.ethnic_group(&a.ethnicity).is_none() {
        out.invalid(
            Field::Ethnicity,
            "民族不在 56 个民族的列表中：请从列表中选择",
        );
    }
    if app.occupation.trim().is_empty() {
        out.missing(Field::Occupation, "请选择职业（离退休人员选“离退休人员”）");
    } else if refs.occupation(&app.occupation).is_none() {
        out.invalid(Field::Occupation, "职业不在列表中：请从列表中选择");
    }

    district(Field::District, &app.residence.district, out);
    out.rule(
        Field::Address,
        &app.residence.address,
        check_address(&app.residence.address),
    );
    out.rule(Field::Mobile, &a.mobile, check_mobile(&a.mobile));
}

fn district(field: Field, code: &str, out: &mut Problems) {
    if code.trim().is_empty() {
        out.missing(field, "请选择所在区（北京市 16 个区之一）");
    } else if refdata().district(code).is_none() {
        out.invalid(field, "所在区不是北京市的区：请从北京市 16 个区中选择");
    }
}

fn pickup(app: &Application, out: &mut Problems) {
    let allowed = match &app.eligibility {
        Eligibility::Eligible { allowed_pickup, .. } => Some(allowed_pickup.as_slice()),
        _ => None,
    };
    let Some(method) = app.pickup.method else {
        out.missing(Field::PickupMethod, "请选择领卡方式");
        return;
    };
    match (method, allowed) {
        (m, Some(allowed)) if !allowed.contains(&m) => {
            let names: Vec<&str> = allowed.iter().map(|m| m.label()).collect();
            out.invalid(
                Field::PickupMethod,
                format!(
                    "资格校验结果不允许“{}”：该申领人可选 {}",
                    m.label(),
                    if names.is_empty() {
                        "（无）".into()
                    } else {
                        names.join("、")
                    }
                ),
            );
        }
        (PickupMethod::BranchPickup, None) => out.warning(
            Field::PickupMethod,
            "退休人员目前只支持银行邮寄；个人网点领卡要以资格校验结果允许为准",
        ),
        _ => {}
    }
    if method == PickupMethod::BankMail {
        let m = &app.pickup.mail;
        out.rule(
            Field::RecipientName,
            &m.recipient_name,
            check_name(&m.recipient_name, true).map_err(|e| e.replace("姓名", "收件人姓名")),
        );
        out.rule(
            Field::RecipientMobile,
            &m.recipient_mobile,
            check_mobile(&m.recipient_mobile),
        );
        district(Field::RecipientDistrict, &m.district, out);
        out.rule(
            Field::Postcode,
            &m.postcode,
            check_postcode(&m.postcode, true),
        );
        out.rule(Field::MailAddress, &m.address, check_address(&m.address));
    }
}

/// Whether the application's state and contents allow it to be submitted now.
pub fn can_submit(app: &Application, today: NaiveDate) -> bool {
    matches!(app.status, Status::Draft | Status::Ready | Status::Returned)
        && validate(app, today).is_ready_to_submit()
}
