//! 北京市第三代社会保障卡申领受理单: the one page the resident (or the agent) takes home to
//! sign and keep. What it says comes from the application and who printed it
//! (`Receipt::for_application`); the page is set here with krilla, in a CJK font found on
//! the PC (`font`), with the number as text, as a QR code and as a Code 128 barcode
//! (`codes`). Personal numbers are masked as in lists; the card photo is shown small.

pub mod codes;
pub mod font;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use crate::domain::dates::beijing;
use crate::domain::display::mask_mobile;
use crate::domain::{Application, PickupMethod, mask_id};
pub use font::{CjkFont, FontError};

/// The paper a 受理单 is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    A4,
    A5,
}

impl Paper {
    /// Width and height in points.
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::A5 => (419.53, 595.28),
        }
    }

    pub fn from_key(key: &str) -> Option<Paper> {
        match key.trim().to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "a5" => Some(Paper::A5),
            _ => None,
        }
    }
}

/// The number the resident quotes: the 申领编号 once delivered, else this counter's own
/// reference (the start of the application's id, as `sbk drafts show` takes it), marked
/// 待同步 and printed again later with the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Number {
    Delivered(String),
    Local(String),
}

impl Number {
    pub fn of(app: &Application) -> Number {
        match &app.application_number {
            Some(n) => Number::Delivered(n.clone()),
            None => Number::Local(app.id.to_string()[..8].to_owned()),
        }
    }

    /// What the QR code and the barcode hold.
    pub fn code(&self) -> &str {
        match self {
            Number::Delivered(n) | Number::Local(n) => n,
        }
    }
}

/// Everything a 受理单 says, worked out from the application; the page is only drawn.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub centre: String,
    pub window: String,
    /// 经办人: name and 工号.
    pub operator: String,
    pub printed_at: DateTime<Utc>,
    pub number: Number,
    pub applicant_name: String,
    pub applicant_id: String,
    /// 代办人, relation, masked ID and phone (代办 only).
    pub agent: Option<String>,
    pub pickup: String,
    pub bank: String,
    /// The card photo's JPEG bytes, shown small.
    pub card_photo: Option<Vec<u8>>,
}

/// What happens next, as the resident reads it at home.
pub const NEXT_STEPS: [&str; 4] = [
    "社保卡自受理之日起 30 日内制成（邮寄时间不计在内）。",
    "办理进度可拨打 96102 查询，也可在京通“我的办事”中或到本窗口查询。",
    "收到新卡后，社保功能可在网上或到社保服务大厅启用；金融功能须持卡人本人携带身份证到发卡银行网点激活。",
    "新卡启用前旧卡照常使用；新卡启用后旧卡失效，无需交回。",
];

impl Receipt {
    /// The 受理单 of `app`, printed by `operator` at `window` of `centre`.
    pub fn for_application(
        app: &Application,
        centre: &str,
        window: &str,
        operator: &str,
        now: DateTime<Utc>,
        card_photo: Option<Vec<u8>>,
    ) -> Receipt {
        let text = |f| crate::domain::form::text(app, f);
        use crate::domain::Field;
        let agent = app.by_agent().then(|| {
            format!(
                "{}（{}）  证件号码 {}  联系电话 {}",
                app.agent.name.trim(),
                text(Field::AgentRelation),
                mask_id(app.agent.id_number.trim()),
                mask_mobile(&app.agent.mobile)
            )
        });
        let m = &app.pickup.mail;
        let pickup = match app.pickup.method {
            Some(PickupMethod::BankMail) => format!(
                "银行邮寄：{} 收，电话 {}，{}{}，邮编 {}",
                m.recipient_name.trim(),
                mask_mobile(&m.recipient_mobile),
                text(Field::RecipientDistrict),
                m.address.trim(),
                m.postcode.trim()
            ),
            Some(PickupMethod::BranchPickup) => {
                format!("个人网点领卡：{}", text(Field::CardIssuer))
            }
            None => "（未选）".into(),
        };
        Receipt {
            centre: centre.to_owned(),
            window: window.to_owned(),
            operator: operator.to_owned(),
            printed_at: now,
            number: Number::of(app),
            applicant_name: app.applicant.name.trim().to_owned(),
            applicant_id: mask_id(app.applicant.id_number.trim()),
            agent,
            pickup,
            bank: text(Field::CardIssuer),
            card_photo,
        }
    }

    /// Every line of text the page holds, for the font check (and the tests).
    pub fn texts(&self) -> Vec<String> {
        let mut out = vec![
            TITLE.to_owned(),
            format!("服务网点：{}", self.centre),
            format!("窗口：{}  经办人：{}", self.window, self.operator),
            format!(
                "受理时间：{}",
                self.printed_at
                    .with_timezone(&beijing())
                    .format("%Y-%m-%d %H:%M")
            ),
        ];
        out.extend(self.number_lines());
        out.push(format!("申领人：{}", self.applicant_name));
        out.push(format!("证件号码：{}", self.applicant_id));
        if let Some(a) = &self.agent {
            out.push(format!("代办人：{a}"));
        }
        out.push(format!("领卡方式：{}", self.pickup));
        out.push(format!("发卡银行：{}", self.bank));
        out.push("后续办理".into());
        out.extend(NEXT_STEPS.iter().map(|s| (*s).to_owned()));
        out.push(self.signer_line());
        out.push(FOOTER.to_owned());
        out
    }

    fn number_lines(&self) -> Vec<String> {
        match &self.number {
            Number::Delivered(n) => vec![format!("申领编号：{n}")],
            Number::Local(r) => vec![
                format!("本机受理号：{r}（待同步）"),
                "申请送达社保卡系统后生成申领编号，可凭本单到本窗口补打。".into(),
            ],
        }
    }

    fn signer_line(&self) -> String {
        if self.agent.is_some() {
            "代办人签字：".into()
        } else {
            "申领人签字：".into()
        }
    }
}

const TITLE: &str = "北京市第三代社会保障卡申领受理单";
const FOOTER: &str = "本单含个人信息，请妥善保管。";

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Font(#[from] FontError),
    #[error("生成受理单 PDF 失败：{0}")]
    Pdf(String),
}

/// The 受理单 as a one-page PDF.
pub fn render(receipt: &Receipt, font: &CjkFont, paper: Paper) -> Result<Vec<u8>, ReceiptError> {
    for line in receipt.texts() {
        font.check(&line)?;
    }
    let (w, h) = paper.size();
    // Laid out for A4 and scaled: the same page on A5.
    let k = w / Paper::A4.size().0;
    let pdf_font = Font::new(Arc::clone(&font.data).into(), font.index)
        .ok_or_else(|| ReceiptError::Pdf(format!("krilla 无法使用字体 {}", font.name)))?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(TITLE.into())
            .language("zh-CN".into())
            .creator("sbk-counter".into()),
    );
    let settings = PageSettings::from_wh(w, h).ok_or_else(|| ReceiptError::Pdf("纸张".into()))?;
    let mut page = document.start_page_with(settings);
    let mut s = page.surface();
    let left = 50.0 * k;
    let right = w - 50.0 * k;
    let black = Fill {
        paint: rgb::Color::new(0, 0, 0).into(),
        ..Default::default()
    };
    s.set_fill(Some(black.clone()));
    let mut y = 70.0 * k;
    let text = |s: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, t: &str| {
        s.draw_text(
            Point::from_xy(x, y),
            pdf_font.clone(),
            size * k,
            t,
            false,
            TextDirection::Auto,
        );
    };
    // Title, centred.
    let title_size = 20.0;
    let tw = font.width(TITLE, title_size * k);
    text(&mut s, (w - tw) / 2.0, y, title_size, TITLE);
    y += 34.0 * k;
    let lines = receipt.texts();
    let body = 11.0;
    let line = 18.0 * k;
    for t in &lines[1..4] {
        text(&mut s, left, y, body, t);
        y += line;
    }
    // The number: large, with its QR code and barcode on the right.
    y += 8.0 * k;
    let number_top = y;
    let number_lines = receipt.number_lines();
    text(&mut s, left, y + 14.0 * k, 16.0, &number_lines[0]);
    let mut ny = y + 36.0 * k;
    for t in &number_lines[1..] {
        for l in font.wrap(t, 10.0 * k, 300.0 * k) {
            text(&mut s, left, ny, 10.0, &l);
            ny += 15.0 * k;
        }
    }
    let qr_size = 86.0 * k;
    let qr = codes::qr(receipt.number.code()).map_err(ReceiptError::Pdf)?;
    draw_modules(&mut s, &qr, right - qr_size, number_top - 6.0 * k, qr_size);
    let bars = codes::code128(receipt.number.code()).map_err(ReceiptError::Pdf)?;
    draw_bars(&mut s, &bars, left, ny + 2.0 * k, 260.0 * k, 34.0 * k);
    text(&mut s, left, ny + 48.0 * k, 9.0, receipt.number.code());
    y = (ny + 62.0 * k).max(number_top + qr_size + 10.0 * k);
    rule(&mut s, left, right, y);
    y += 24.0 * k;
    // The applicant, the agent, the photo beside them.
    let photo_w = 72.0 * k;
    let photo_h = photo_w * 441.0 / 358.0;
    let photo_top = y - 12.0 * k;
    if let Some(bytes) = &receipt.card_photo
        && let Ok(image) = Image::from_jpeg(bytes.clone().into(), true)
    {
        s.push_transform(&krilla::geom::Transform::from_translate(
            right - photo_w,
            photo_top,
        ));
        if let Some(size) = Size::from_wh(photo_w, photo_h) {
            s.draw_image(image, size);
        }
        s.pop();
    }
    let text_width = right - left - photo_w - 16.0 * k;
    let start = 4;
    let end = lines
        .iter()
        .position(|l| l == "后续办理")
        .unwrap_or(lines.len());
    for t in &lines[start + receipt.number_lines().len()..end] {
        for l in font.wrap(t, body * k, text_width) {
            text(&mut s, left, y, body, &l);
            y += line;
        }
    }
    y = y.max(photo_top + photo_h + 12.0 * k) + 6.0 * k;
    rule(&mut s, left, right, y);
    y += 24.0 * k;
    text(&mut s, left, y, 12.0, "后续办理");
    y += line + 2.0 * k;
    for (i, t) in NEXT_STEPS.iter().enumerate() {
        let numbered = format!("{}. {t}", i + 1);
        for l in font.wrap(&numbered, 10.5 * k, right - left) {
            text(&mut s, left, y, 10.5, &l);
            y += 16.0 * k;
        }
    }
    // Signatures.
    y += 36.0 * k;
    let signer = receipt.signer_line();
    text(&mut s, left, y, body, &signer);
    let sw = font.width(&signer, body * k);
    rule(&mut s, left + sw, left + sw + 120.0 * k, y + 3.0 * k);
    let mid = left + (right - left) / 2.0 + 10.0 * k;
    text(&mut s, mid, y, body, "经办人签字：");
    let ow = font.width("经办人签字：", body * k);
    rule(&mut s, mid + ow, right, y + 3.0 * k);
    y += 30.0 * k;
    text(&mut s, left, y, body, "日期：");
    rule(
        &mut s,
        left + font.width("日期：", body * k),
        left + 160.0 * k,
        y + 3.0 * k,
    );
    // The footer at the foot of the page.
    text(&mut s, left, h - 40.0 * k, 9.0, FOOTER);
    s.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| ReceiptError::Pdf(format!("{e:?}")))
}

/// A thin horizontal line.
fn rule(s: &mut krilla::surface::Surface, x0: f32, x1: f32, y: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x0, y);
    pb.line_to(x1, y);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(0, 0, 0).into(),
            width: 0.6,
            ..Default::default()
        }));
        s.draw_path(&path);
        s.set_stroke(None);
        s.set_fill(Some(Fill {
            paint: rgb::Color::new(0, 0, 0).into(),
            ..Default::default()
        }));
    }
}

/// A QR code's dark modules as filled squares, `size` points wide.
fn draw_modules(s: &mut krilla::surface::Surface, qr: &codes::Modules, x: f32, y: f32, size: f32) {
    let cell = size / qr.width as f32;
    let mut pb = PathBuilder::new();
    for (i, dark) in qr.dark.iter().enumerate() {
        if *dark {
            let (cx, cy) = ((i % qr.width) as f32, (i / qr.width) as f32);
            if let Some(r) = Rect::from_xywh(x + cx * cell, y + cy * cell, cell, cell) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
}

/// A barcode's bars (1 = a dark module), `width` × `height` points.
fn draw_bars(
    s: &mut krilla::surface::Surface,
    bars: &[u8],
    x: f32,
    y: f32,
    width: f32,
    height: f32,
) {
    let module = width / bars.len() as f32;
    let mut pb = PathBuilder::new();
    for (i, b) in bars.iter().enumerate() {
        if *b == 1
            && let Some(r) = Rect::from_xywh(x + i as f32 * module, y, module, height)
        {
            pb.push_rect(r);
        }
    }
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
}
