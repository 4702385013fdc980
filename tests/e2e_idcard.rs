//! Recognition as a clerk meets it, the real binary in a pseudo-terminal (`ocr` feature):
//! a name typed in step 2, both sides of a synthetic card imported in step 3, the empty
//! fields filled and marked 识别, the typed name offered beside the card's, one field
//! confirmed with Enter and one corrected; the store then holds exactly that.
#![cfg(feature = "ocr")]

mod common;
mod pty;

use std::time::Duration;

use common::id_card::{CLEAN, card, font, photo};
use pty::{ENTER, PAGE_DOWN, SPACE};
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::domain::{Field, Gender};
use sbk_counter::idcard::Side;

const DOWN: &str = "\x1b[B";
const PAGE_UP: &str = "\x1b[5~";
const CTRL_U: &str = "\x15";
const CTRL_Q: &str = "\x11";

#[test]
fn both_sides_fill_the_form_for_the_clerk_to_confirm_or_correct() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut rng = Rng::new(3);
    let c = card(&mut rng);
    let f = font();
    for (side, name) in [(Side::Front, "front.png"), (Side::Back, "back.png")] {
        photo(&c, side, CLEAN, &f, &mut rng)
            .save(photos.join(name))
            .unwrap();
    }
    let typed_name = "张三丰";
    assert_ne!(typed_name, c.name);

    let mut s = pty::wizard(dir.path(), 40, 110);
    s.wait_for("q 退出");
    s.send("n");
    s.wait_for("第 1 步");
    s.send(SPACE);
    s.send(PAGE_DOWN);
    s.wait_for("第 2 步");
    s.send(PAGE_DOWN);
    s.wait_for("第 3 步");
    s.send(typed_name);
    s.send(PAGE_DOWN);
    s.wait_for("第 4 步");
    for name in ["front", "back"] {
        s.send(ENTER);
        s.wait_for("照片文件夹");
        s.send(name);
        s.send(ENTER);
        if name == "front" {
            // The typed name is kept unless the clerk picks the card's.
            s.wait_for_up_to("证件识别结果与所填不一致", Duration::from_secs(60));
            assert!(s.contents().contains(&c.name), "{}", s.contents());
            s.send(SPACE);
            s.send(ENTER);
            s.wait_for("已采用证件上的姓名");
            s.send(DOWN);
        }
    }
    s.wait_for_up_to("已填入证件有效期限开始日期", Duration::from_secs(60));
    // Step 5: the first field (valid from) confirmed with Enter; the address corrected.
    s.send(PAGE_DOWN);
    s.wait_for("第 5 步");
    s.send(ENTER);
    s.wait_for("已确认证件有效期限开始日期");
    for _ in 0..6 {
        s.send(DOWN);
    }
    std::thread::sleep(Duration::from_millis(300));
    s.send(CTRL_U);
    s.send("北京市东城区某街1号");
    std::thread::sleep(Duration::from_millis(300));
    s.send(PAGE_UP);
    s.send(CTRL_Q);
    s.child.wait().unwrap();

    let store = common::signin::open_store(&dir.path().join("data")).unwrap();
    let app = store.list(None, 1, 0).unwrap()[0].clone();
    let app = store.get(app.id).unwrap();
    let a = &app.applicant;
    assert_eq!(a.name, c.name, "the card's name, picked by the clerk");
    assert_eq!(a.id_number, c.id_number);
    assert_eq!(a.birth_date, c.birth.to_string());
    let gender = if c.gender == "男" {
        Gender::Male
    } else {
        Gender::Female
    };
    assert_eq!(a.gender, Some(gender));
    assert_eq!(a.id_valid_from, c.valid_from.to_string());
    assert_eq!(app.residence.address, "北京市东城区某街1号");
    // Confirmed and corrected fields are no longer awaiting a check; the rest still are.
    assert!(!app.recognised.contains(&Field::IdValidFrom));
    assert!(!app.recognised.contains(&Field::Address));
    assert!(app.recognised.contains(&Field::IdNumber));
    assert!(app.recognised.contains(&Field::Name));
}
