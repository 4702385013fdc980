//! The domain: the application model, its rules, and the reference data they use.
//! Everything here is pure (no I/O but the embedded tables) and takes "today" as an
//! argument, so the rules are testable for any date. One centre setting reaches in: which
//! of a 代办 agent's papers are required (`validate::set_centre_agent_papers`, set once
//! from the config; `validate_with` takes it explicitly).

pub mod application;
pub mod dates;
pub mod display;
pub mod field;
pub mod form;
pub mod id_number;
pub mod interchange;
pub mod lifecycle;
pub mod mask;
pub mod photo_slot;
pub mod pinyin;
pub mod prefill;
pub mod refdata;
pub mod rules;
pub mod synthetic;
pub mod validate;

pub use application::{
    Agent, AgentPhotos, Applicant, Application, AppliedBy, CardIssuer, Consents, Eligibility,
    IdType, MailAddress, PhotoRef, Photos, Pickup, PickupMethod, Residence, ReturnNote,
    ReturnedField, Status, ValidUntil,
};
pub use field::{Field, Step};
pub use id_number::{Gender, IdError, IdNumber};
pub use mask::mask_id;
pub use photo_slot::PhotoSlot;
pub use validate::{
    AgentPapers, Problem, ProblemKind, Report, StepState, set_centre_agent_papers, validate,
    validate_step, validate_with,
};
