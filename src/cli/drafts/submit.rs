//! `sbk drafts submit ID… | --all-ready`: the wizard's 提交 outside the wizard, for a
//! helper's batch, a migration or a script. The same validation (consents included, 我已
//! 阅读并同意 too), the same single transaction that queues the outbox entry, audited;
//! what is refused says why, and the exit status is 1 if anything was.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;

use crate::cli::{EXIT_INVALID, Failure};
use crate::config::Settings;
use crate::domain::{Status, mask_id};
use crate::store::{Operator, Store, StoreError};

pub(super) fn submit(
    store: &mut Store,
    settings: &Settings,
    op: &Operator,
    ids: &[String],
    all_ready: bool,
    consents_given: bool,
) -> Result<ExitCode, Failure> {
    if consents_given && ids.len() != 1 {
        return Err(Failure::Message(
            "--consents-given 只能用于一份申请：申领人须在柜台当面确认，一人一次".into(),
        ));
    }
    if ids.is_empty() && !all_ready {
        return Err(Failure::Message(
            "请给出要提交的申请编号（sbk drafts list 可查），或用 --all-ready 提交所有已填写完整的申请"
                .into(),
        ));
    }
    let today = crate::domain::dates::beijing_date(Utc::now());
    let mut chosen = Vec::new();
    for id in ids {
        chosen.push(store.resolve(id)?);
    }
    if all_ready {
        for status in [Status::Draft, Status::Ready, Status::Returned] {
            let mut offset = 0;
            loop {
                let page = store.list(Some(status), 500, offset)?;
                offset += page.len();
                for s in &page {
                    let app = store.get(s.id)?;
                    if crate::domain::validate(&app, today).is_ready_to_submit()
                        && !chosen.contains(&s.id)
                    {
                        chosen.push(s.id);
                    }
                }
                if page.len() < 500 {
                    break;
                }
            }
        }
    }
    let (mut queued, mut refused) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    for id in chosen {
        let app = store.get(id)?;
        let who = format!(
            "{} {}（{}）",
            &id.to_string()[..8],
            crate::domain::display::printable(app.applicant.name.trim()),
            mask_id(app.applicant.id_number.trim())
        );
        // Given at the counter now, by this operator, on their word (audited): never
        // taken from an imported file.
        if consents_given
            && app.status.is_editable()
            && let Err(e) = store.give_consents(id, op, Utc::now())
        {
            refused += 1;
            writeln!(out, "✗ {who}：{e}")?;
            continue;
        }
        match store.submit(id, op, today) {
            Ok(_) => {
                queued += 1;
                writeln!(out, "✓ {who}：已提交，进入待同步队列")?;
            }
            Err(e) => {
                refused += 1;
                let why = match &e {
                    StoreError::IllegalTransition { from, .. } => {
                        format!("状态为“{}”，不能提交", from.label())
                    }
                    other => other.to_string(),
                };
                writeln!(out, "✗ {who}：{why}")?;
            }
        }
    }
    let next = if settings.central.is_some() {
        "打开向导或运行 sbk sync 即发送到社保卡系统"
    } else {
        "当前未配置中心接口：联网并配置后运行 sbk sync 发送"
    };
    writeln!(out, "提交 {queued} 件，未能提交 {refused} 件。{next}。")?;
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
