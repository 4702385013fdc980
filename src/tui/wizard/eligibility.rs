//! 开始资格校验: online, the central API answers on a thread and the registry's data are
//! offered to the form (empty fields filled, differences shown side by side); offline, the
//! application is marked 待校验 and checked before delivery.

use super::Wizard;
use crate::api::EligibilityRequest;
use crate::domain::prefill::{self, Offer, Source};
use crate::domain::{Eligibility, Field, Step};
use crate::tui::ctx::Ctx;
use crate::tui::events::EligibilityReply;
use crate::tui::outcome::Outcome;
use crate::tui::popups::{ComparePopup, Popup};

impl Wizard {
    /// The button: check what must be there first, then ask (or mark it 待校验).
    pub(super) fn check_eligibility(&mut self, ctx: &mut Ctx) {
        self.touched.insert(Field::Name);
        self.touched.insert(Field::IdNumber);
        let blocking: Vec<String> = self
            .report
            .for_step(Step::Applicant)
            .filter(|p| p.blocks_submission() && p.field != Field::Eligibility)
            .map(|p| format!("{}：{}", p.field.label(), p.message))
            .collect();
        if let Some(first) = blocking.first() {
            ctx.fail(format!("还不能校验：{first}"));
            return;
        }
        self.touched.insert(Field::Eligibility);
        match &ctx.background {
            Some(bg) => {
                bg.check_eligibility(
                    self.app.id,
                    EligibilityRequest::for_application(&self.app, ctx.now()),
                );
                ctx.notify("正在进行资格校验……");
            }
            None => {
                // No central API is configured: the check waits (待校验) and runs
                // automatically before delivery.
                self.mark_pending(ctx);
                ctx.notify("当前离线：已标记为待校验，联网后提交前会自动进行资格校验");
            }
        }
    }

    /// An online answer for this application: record it, fill what is empty from the
    /// registry, and show side by side where the registry differs from what was typed.
    pub(super) fn apply_eligibility(&mut self, reply: EligibilityReply, ctx: &mut Ctx) -> Outcome {
        if !self.app.status.is_editable() {
            return Outcome::Done;
        }
        let answer = match reply.result {
            Ok(answer) => answer,
            Err(e) => {
                self.mark_pending(ctx);
                ctx.fail(format!(
                    "资格校验未能完成（{e}）：已标记为待校验，提交后会在发送前自动校验"
                ));
                return Outcome::Done;
            }
        };
        if !answer.eligible {
            let reason = answer.reason.unwrap_or_else(|| "不符合申领条件".into());
            self.app.eligibility = Eligibility::Ineligible {
                checked_at: answer.checked_at,
                reason: reason.clone(),
            };
            self.save(ctx);
            ctx.fail(format!("资格校验未通过：{reason}"));
            return Outcome::Done;
        }
        self.app.eligibility = Eligibility::Eligible {
            checked_at: answer.checked_at,
            allowed_pickup: answer.allowed_pickup.clone(),
        };
        self.app.card_issuer = answer.card_issuer.clone();
        if let Some(method) = self.app.pickup.method
            && !answer.allowed_pickup.contains(&method)
        {
            self.app.pickup.method = answer.allowed_pickup.first().copied();
        }
        let offered = match &answer.person {
            Some(p) => {
                let offer = |field, value: String, shown: String| Offer {
                    field,
                    value,
                    shown,
                };
                let offers = [
                    offer(
                        Field::Gender,
                        p.gender.key().into(),
                        p.gender.label().into(),
                    ),
                    offer(
                        Field::BirthDate,
                        p.birth_date.to_string(),
                        p.birth_date.to_string(),
                    ),
                    offer(
                        Field::Nationality,
                        p.nationality.clone(),
                        crate::domain::refdata::refdata()
                            .nationality(&p.nationality)
                            .map_or(p.nationality.clone(), |n| n.name.to_owned()),
                    ),
                    offer(
                        Field::Address,
                        p.residence_address.clone(),
                        p.residence_address.clone(),
                    ),
                    offer(
                        Field::IdValidFrom,
                        p.id_valid_from.to_string(),
                        p.id_valid_from.to_string(),
                    ),
                    offer(
                        Field::Mobile,
                        p.reserved_mobile.clone(),
                        p.reserved_mobile.clone(),
                    ),
                ];
                prefill::offer(&mut self.app, &offers, Source::Registry)
            }
            None => Default::default(),
        };
        self.save(ctx);
        if offered.differences.is_empty() {
            ctx.notify("资格校验通过：已带出登记信息和发卡银行，请在第 4、5 步核对");
            Outcome::Done
        } else {
            Outcome::Open(Popup::Compare(ComparePopup::new(
                Source::Registry,
                offered.differences,
            )))
        }
    }

    /// What the clerk picked in a comparison: take those values, keep the rest.
    pub(super) fn take(&mut self, source: Source, values: Vec<(Field, String)>, ctx: &mut Ctx) {
        let labels: Vec<&str> = values.iter().map(|(f, _)| f.label()).collect();
        for (field, value) in &values {
            prefill::take(&mut self.app, *field, value, source);
            self.touched.insert(*field);
        }
        self.save(ctx);
        match (source, values.is_empty()) {
            (Source::Registry, true) => {
                ctx.notify("已保留填写的信息（提交时以所填为准，请确认无误）")
            }
            (Source::Registry, false) => {
                ctx.notify(format!("已采用登记信息：{}", labels.join("、")))
            }
            (Source::Card, true) => ctx.notify("已保留所填的信息"),
            (Source::Card, false) => ctx.notify(format!(
                "已采用证件上的{}（标“识别”，请确认）",
                labels.join("、")
            )),
        }
    }
}
