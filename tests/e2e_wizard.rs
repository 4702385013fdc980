//! The real `sbk` binary in a pseudo-terminal: keys in, the screen read back through a
//! VT100 parser, the store checked afterwards.

mod common;
mod pty;

use std::path::{Path, PathBuf};
use std::time::Duration;

use pty::{CTRL_Q, ENTER, PAGE_DOWN, SPACE, Session, TAB};
use sbk_counter::domain::Status;

/// The wizard in a pseudo-terminal, with its data in `dir`.
fn start_sized(dir: &Path, rows: u16, cols: u16) -> Session {
    pty::wizard(dir, rows, cols)
}

fn start(dir: &Path) -> Session {
    start_sized(dir, 24, 80)
}

/// A PNG of `w`×`h`: the card photo a portrait (a real face, so that it can be fixed),
/// the ID card sides a pattern.
fn png(path: &PathBuf, w: u32, h: u32) {
    if path.ends_with("card.png") {
        sbk_counter::photo::synthetic::portrait(w, h)
    } else {
        image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 180])
        })
    }
    .save(path)
    .unwrap();
}

fn photo_folder(dir: &Path) {
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    // Oldest first, so the newest (listed first) is the one a clerk just took.
    for (i, (name, w, h)) in [
        ("card.png", 358, 441),
        ("id-back.png", 856, 540),
        ("id-front.png", 856, 540),
    ]
    .into_iter()
    .enumerate()
    {
        let p = photos.join(name);
        png(&p, w, h);
        let t = std::time::SystemTime::now() - Duration::from_secs(300 - 60 * i as u64);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
}

/// From the home screen, a new application: the disclaimer agreed, on step 2 (申领方式).
fn new_application(s: &mut Session) {
    s.wait_for("工作台");
    s.send("n");
    s.wait_for("免责声明");
    s.keys(&[SPACE, PAGE_DOWN]);
    s.wait_for("申领方式与代办人");
}

/// Steps 4 to 6 for 赵淑珍 (110105 19520314 004x): both ID photos from the folder, the basic
/// information typed (满族, 海淀区), the card photo made in the crop editor.
fn steps_4_to_6(s: &mut Session) {
    // ID photos: the newest is the front, the next the back.
    s.keys(&[PAGE_DOWN, ENTER]);
    s.wait_for("id-front.png");
    s.send(ENTER);
    s.wait_for("已导入身份证正面照片");
    s.keys(&[TAB, ENTER]);
    s.wait_for("导入身份证背面照片");
    s.send("id-back");
    s.send(ENTER);
    s.wait_for("已导入身份证背面照片");
    // Basic information; gender and birth date came from the ID number.
    s.send(PAGE_DOWN);
    s.wait_for("第 5 步");
    s.send("2012/3/15");
    s.send(TAB);
    s.send("长期");
    s.keys(&[TAB, TAB, TAB, TAB, ENTER]);
    s.wait_for("选择民族");
    s.send("man");
    s.wait_for("满族");
    s.keys(&[ENTER, TAB, ENTER]);
    s.wait_for("选择常住地所在区");
    s.send("hd");
    s.keys(&[ENTER, TAB]);
    s.send("海淀区学院路30号院5号楼1单元202");
    s.send(TAB);
    s.send("13912345678");
    s.send(TAB);
    s.wait_for("本步已填完整");
    assert!(
        s.contents().contains("1952-03-14"),
        "birth date from the ID:\n{}",
        s.contents()
    );
    // Card photo.
    s.keys(&[PAGE_DOWN, ENTER]);
    s.wait_for("导入制卡照片");
    s.send("card");
    s.send(ENTER);
    // A PNG is not a card photo yet: the crop editor opens; Enter makes one that passes.
    s.wait_for("调整制卡照片");
    s.send(ENTER);
    s.wait_for("已生成合格的制卡照片");
}

#[test]
fn a_whole_application_typed_in_chinese_is_submitted_and_stored() {
    let dir = tempfile::TempDir::new().unwrap();
    photo_folder(dir.path());
    let mut s = start(dir.path());
    new_application(&mut s);
    // 本人申领 is already chosen: the resident is here.
    s.send(PAGE_DOWN);
    s.wait_for("申领人与资格校验");
    // A synthetic resident: 110105 19520314 004 → check character computed below.
    let first17 = "11010519520314004";
    let id = format!(
        "{first17}{}",
        sbk_counter::domain::id_number::check_character(first17)
    );
    s.send("赵淑珍");
    s.keys(&[TAB, TAB]);
    s.send(&id);
    s.keys(&[TAB, SPACE, TAB, SPACE, TAB, ENTER]);
    s.wait_for("待校验");
    steps_4_to_6(&mut s);
    // Pickup: recipient same as applicant.
    s.keys(&[PAGE_DOWN, TAB, ENTER]);
    s.wait_for("请向申领人问清邮政编码");
    // The cursor is on the postcode, which the shortcut never guesses: the resident's.
    s.send("100089");
    // Review, tick, submit, confirm.
    s.send(PAGE_DOWN);
    s.wait_for("确认提交");
    s.keys(&[SPACE, TAB, ENTER]);
    s.wait_for("是否确认提交个人申领");
    s.send(ENTER);
    s.wait_for("您已完成个人申领业务办理");
    s.wait_for("待同步");
    s.send(CTRL_Q);
    let status = s.child.wait().unwrap();
    assert!(status.success(), "sbk exited with {status:?}");

    let store = common::signin::open_store(&dir.path().join("data")).unwrap();
    let queued = store.list(Some(Status::Queued), 10, 0).unwrap();
    assert_eq!(queued.len(), 1);
    let app = store.get(queued[0].id).unwrap();
    assert_eq!(app.applicant.name, "赵淑珍");
    assert_eq!(app.applicant.id_number, id);
    assert_eq!(app.applicant.birth_date, "1952-03-14");
    assert_eq!(
        app.applicant.gender,
        Some(sbk_counter::domain::Gender::Female)
    );
    assert_eq!(app.applicant.id_valid_from, "2012-03-15");
    assert_eq!(app.applicant.ethnicity, "11", "满族");
    assert_eq!(app.residence.district, "110108", "海淀区");
    assert_eq!(app.pickup.mail.recipient_name, "赵淑珍");
    assert_eq!(app.pickup.mail.postcode, "100089", "as typed");
    let front = store
        .photo(&app.photos.id_front.unwrap().sha256)
        .unwrap()
        .unwrap();
    assert_eq!((front.width, front.height), (856, 540));
    assert!(app.consents.declaration_agreed_at.is_some());
    let card = store
        .photo(&app.photos.card_photo.unwrap().sha256)
        .unwrap()
        .unwrap();
    assert!(
        sbk_counter::photo::check(&card.bytes, sbk_counter::domain::PhotoSlot::CardPhoto)
            .unwrap()
            .passes()
    );
    assert!(store.integrity_ok().unwrap());
    drop(store);

    // Read raw, as someone with the disk: the store, its WAL, the key slots and the log
    // hold nothing of the resident's, and none of the photos (their headers and a stretch
    // of each one's image data: long enough not to occur in encrypted bytes by chance).
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            raw.extend(std::fs::read(&path).unwrap());
        }
    }
    let mid = |b: &[u8]| b[b.len() / 2..b.len() / 2 + 32].to_vec();
    let needles: Vec<Vec<u8>> = vec![
        id.as_bytes().to_vec(),
        id.as_bytes()[..14].to_vec(),
        "赵淑珍".as_bytes().to_vec(),
        "13912345678".as_bytes().to_vec(),
        "学院路30号院".as_bytes().to_vec(),
        card.bytes[..12].to_vec(),
        mid(&card.bytes),
        mid(&front.bytes),
        b"\x89PNG\r\n".to_vec(),
    ];
    for needle in &needles {
        assert!(
            !raw.windows(needle.len()).any(|w| w == &needle[..]),
            "{:?} is readable in the data folder",
            String::from_utf8_lossy(needle)
        );
    }
}

/// A valid resident ID number: `first17` and its check character.
fn with_check(first17: &str) -> String {
    format!(
        "{first17}{}",
        sbk_counter::domain::id_number::check_character(first17)
    )
}

#[test]
fn a_whole_application_by_an_agent_is_typed_submitted_and_stored() {
    const BACK_TAB: &str = "\x1b[Z";
    let dir = tempfile::TempDir::new().unwrap();
    photo_folder(dir.path());
    let mut s = start(dir.path());
    new_application(&mut s);
    // 代办申领, chosen from the list.
    s.send(ENTER);
    s.wait_for("选择申领方式");
    s.send("db");
    s.wait_for("代办申领");
    s.send(ENTER);
    s.wait_for("代办人姓名");
    // The agent: a son, with his own ID card, checked by the clerk.
    let agent_id = with_check("11010819780606123");
    s.send(TAB);
    s.send("赵建军");
    s.keys(&[TAB, TAB]);
    s.send(&agent_id);
    s.keys(&[TAB, ENTER]);
    s.wait_for("选择与申领人关系");
    s.send("zn");
    s.wait_for("子女");
    s.send(ENTER);
    s.send(TAB);
    s.send("13612345678");
    s.keys(&[TAB, SPACE]);
    s.wait_for("本步已填完整");
    // The applicant, whose card the agent brought.
    s.send(PAGE_DOWN);
    s.wait_for("申领人与资格校验");
    s.wait_for("已核验申领人身份证原件");
    let id = with_check("11010519520314004");
    s.send("赵淑珍");
    s.keys(&[TAB, TAB]);
    s.send(&id);
    s.keys(&[TAB, SPACE, TAB, SPACE, TAB, ENTER]);
    s.wait_for("待校验");
    steps_4_to_6(&mut s);
    // The card is mailed to the agent, at the applicant's address.
    s.keys(&[PAGE_DOWN, TAB, ENTER]);
    s.wait_for("请向申领人问清邮政编码");
    s.send("100020");
    s.keys(&[BACK_TAB, BACK_TAB, BACK_TAB, BACK_TAB, ENTER]);
    s.wait_for("收件人已填为代办人");
    s.send(PAGE_DOWN);
    s.wait_for("确认提交");
    s.keys(&[SPACE, TAB, ENTER]);
    s.wait_for("是否确认提交代办申领");
    s.send(ENTER);
    s.wait_for("您已完成代办申领业务办理");
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());

    let store = common::signin::open_store(&dir.path().join("data")).unwrap();
    let queued = store.list(Some(Status::Queued), 10, 0).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].agent_name, "赵建军");
    let app = store.get(queued[0].id).unwrap();
    assert_eq!(app.applied_by, sbk_counter::domain::AppliedBy::Agent);
    assert_eq!(app.agent.name, "赵建军");
    assert_eq!(app.agent.id_number, agent_id);
    assert_eq!(app.agent.relation, "child");
    assert_eq!(app.agent.mobile, "13612345678");
    assert!(app.consents.agent_id_card_checked_at.is_some());
    assert!(app.consents.applicant_id_card_checked_at.is_some());
    assert_eq!(app.consents.identity_verified_in_person_at, None);
    assert_eq!(app.applicant.name, "赵淑珍");
    assert_eq!(app.pickup.mail.recipient_name, "赵建军");
    assert_eq!(app.pickup.mail.recipient_mobile, "13612345678");
    assert_eq!(app.pickup.mail.postcode, "100020");
    // A relative who calls is found by their phone.
    assert_eq!(store.search("5678", 10).unwrap()[0].id, app.id);
}

#[test]
fn killed_mid_application_it_reopens_with_everything_typed() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut s = start(dir.path());
    new_application(&mut s);
    s.send(PAGE_DOWN);
    s.wait_for("申领人与资格校验");
    s.send("欧阳秀");
    s.keys(&[TAB, TAB]);
    s.send("1101051950");
    s.wait_for("1101051950");
    // Kill it as a power cut would: no chance to save anything more.
    s.child.kill().unwrap();
    let _ = s.child.wait();
    drop(s);

    let s = start(dir.path());
    s.wait_for("已恢复上次未完成的申请");
    let screen = s.contents();
    assert!(screen.contains("申领人与资格校验"), "same step:\n{screen}");
    assert!(screen.contains("欧阳秀"), "name:\n{screen}");
    assert!(screen.contains("1101051950"), "half-typed ID:\n{screen}");
}

#[test]
fn a_terminal_below_80x24_is_told_and_restored_on_quit() {
    let dir = tempfile::TempDir::new().unwrap();
    // Before signing in as after: the sign-in screen says so too.
    let mut s = pty::wizard_signed_out(dir.path(), 20, 60, &[]);
    s.wait_for("终端窗口太小");
    s.wait_for("60×20");
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(100));
    let bytes = s.raw.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    // The alternate screen was left, raw-mode features turned off and the cursor shown.
    assert!(text.contains("\x1b[?1049l"), "alternate screen not left");
    assert!(
        text.contains("\x1b[?2004l"),
        "bracketed paste not turned off"
    );
    assert!(text.contains("\x1b[?25h"), "cursor not shown");
}
