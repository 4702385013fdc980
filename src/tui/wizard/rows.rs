//! What each wizard step shows: its rows, in the guide's order, and how each is edited.
//! Reading and writing the fields themselves is `domain::form`'s.

use crate::domain::PhotoSlot;
use crate::domain::{Application, Field, Step};

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Free text (names, numbers, addresses).
    Text,
    /// A date typed as 19491231, 1949-12-31 or 1949/12/31 (the validity end also takes 长期).
    Date,
    /// One of a list, chosen in a filterable popup.
    Choice,
    /// A consent box, ticked with Space.
    Check,
    /// A photo, imported from the photo folder.
    Photo(PhotoSlot),
    /// Shown, never edited (the issuing bank and branch).
    Locked,
    /// An action.
    Button(Button),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// 开始资格校验.
    CheckEligibility,
    /// 同申领人: fill the recipient from the applicant.
    SameAsApplicant,
    /// 同代办人: the card goes to the agent (代办 only).
    SameAsAgent,
    /// 提交.
    Submit,
}

impl Button {
    pub fn label(self) -> &'static str {
        match self {
            Button::CheckEligibility => "开始资格校验",
            Button::SameAsApplicant => "收件人同申领人",
            Button::SameAsAgent => "收件人同代办人",
            Button::Submit => "提交",
        }
    }
}

/// One row of a step: the field it edits (for buttons, the field its result shows on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub field: Field,
    pub input: Input,
}

const fn row(field: Field, input: Input) -> Row {
    Row { field, input }
}

/// The rows of a step, in the guide's order. The agent's rows show for 代办 only, and
/// Pickup shows the mailing fields only for mail.
pub fn rows(step: Step, app: &Application) -> Vec<Row> {
    use Field::*;
    match step {
        Step::Disclaimer => vec![row(DisclaimerConsent, Input::Check)],
        Step::AppliedBy => {
            let mut v = vec![row(AppliedBy, Input::Choice)];
            if app.by_agent() {
                v.extend([
                    row(AgentName, Input::Text),
                    row(AgentIdType, Input::Choice),
                    row(AgentIdNumber, Input::Text),
                    row(AgentRelation, Input::Choice),
                    row(AgentMobile, Input::Text),
                    row(AgentIdCheck, Input::Check),
                    row(AgentIdPhoto, Input::Photo(PhotoSlot::AgentIdCard)),
                    row(AuthorisationPhoto, Input::Photo(PhotoSlot::Authorisation)),
                ]);
            }
            v
        }
        Step::Applicant => vec![
            row(Name, Input::Text),
            row(IdType, Input::Choice),
            row(IdNumber, Input::Text),
            row(AccessAuthorisation, Input::Check),
            if app.by_agent() {
                row(ApplicantIdCheck, Input::Check)
            } else {
                row(InPersonCheck, Input::Check)
            },
            row(Eligibility, Input::Button(Button::CheckEligibility)),
        ],
        Step::IdentityPhotos => vec![
            row(IdFrontPhoto, Input::Photo(PhotoSlot::IdFront)),
            row(IdBackPhoto, Input::Photo(PhotoSlot::IdBack)),
        ],
        Step::BasicInfo => vec![
            row(IdValidFrom, Input::Date),
            row(IdValidUntil, Input::Date),
            row(Gender, Input::Choice),
            row(BirthDate, Input::Date),
            row(Nationality, Input::Choice),
            row(Ethnicity, Input::Choice),
            row(District, Input::Choice),
            row(Address, Input::Text),
            row(Mobile, Input::Text),
            row(Occupation, Input::Choice),
        ],
        Step::CardInfo => vec![
            row(CardPhoto, Input::Photo(PhotoSlot::CardPhoto)),
            row(CardIssuer, Input::Locked),
        ],
        Step::Pickup => {
            let mut v = vec![row(PickupMethod, Input::Choice)];
            if app.pickup.method == Some(crate::domain::PickupMethod::BankMail) {
                v.push(row(RecipientName, Input::Button(Button::SameAsApplicant)));
                if app.by_agent() {
                    v.push(row(RecipientName, Input::Button(Button::SameAsAgent)));
                }
                v.extend([
                    row(RecipientName, Input::Text),
                    row(RecipientMobile, Input::Text),
                    row(RecipientDistrict, Input::Choice),
                    row(Postcode, Input::Text),
                    row(MailAddress, Input::Text),
                ]);
            }
            v
        }
        Step::Review => vec![
            row(Declaration, Input::Check),
            row(Declaration, Input::Button(Button::Submit)),
        ],
    }
}
