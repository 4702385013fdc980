//! Reading each field of a card photo: the card found and flattened (`find`), the rows of
//! text located on it (`lines`; the fixed layout only where the rows cannot be told apart),
//! each row read as a single line with per-character confidences, and the text made into
//! checked values (`interpret`), withheld where unsure. Two engines: Tesseract (Debian's
//! chi_sim and eng data) for the dates and the number and as a second opinion, and
//! PP-OCRv5 (`line_model`) for names, ethnicities and what Tesseract is unsure of.

use image::{GrayImage, Luma, RgbImage};
use tesseract::{PageSegMode, Tesseract};

use super::find::{PX_PER_MM, flatten, otsu_of};
use super::interpret::{Text, cross_check, interpret_text, validity_text};
use super::line_model::LineModel;
use super::lines::{self, Lines, Rect};
use super::{CardField, Reading, Recognised, Side};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("无法读取图片：{0}")]
    Image(String),
    #[error("无法启动识别引擎（需要 Debian 的 tesseract-ocr-chi-sim 语言包）：{0}")]
    Engine(String),
    #[error("无法载入姓名识别模型（随程序提供，可能已损坏：请重新安装）：{0}")]
    Model(String),
    #[error("识别失败：{0}")]
    Recognise(String),
}

/// A loaded engine; loading the language data takes a while, so keep one for many cards.
pub struct Reader {
    /// Simplified Chinese, for everything but the number.
    tess: Option<Tesseract>,
    /// English, for the number's digits: it reads OCR-B digits far better (chi_sim doubled
    /// one in two numbers of the second test printer; eng none).
    digits: Option<Tesseract>,
    /// PP-OCRv5, for names, ethnicities, addresses and authorities: it knows the rare
    /// characters names have.
    model: LineModel,
}

/// Below this probability (0–100) from the PP-OCRv5 model, a character counts as unsure
/// unless Tesseract read it the same.
const MODEL_SURE: u8 = 90;

/// The height, in pixels, a row of text is scaled to before it is read: Tesseract's LSTM
/// reads Chinese best with characters ~30 px high.
const TEXT_PX: f32 = 34.0;

impl Reader {
    pub fn new() -> Result<Reader, ReadError> {
        Ok(Reader {
            tess: Some(engine("chi_sim")?),
            digits: Some(engine("eng")?),
            model: LineModel::load().map_err(|e| ReadError::Model(e.to_string()))?,
        })
    }

    /// Read one side of a card from a photo's bytes (JPEG, PNG or WebP).
    pub fn read(&mut self, bytes: &[u8], side: Side) -> Result<Recognised, ReadError> {
        let decoded = crate::photo::decode(bytes).map_err(|e| ReadError::Image(e.to_string()))?;
        let (card, _) = flatten(&decoded.image.to_rgb8());
        self.read_card(&card, side)
    }

    /// Read a flattened card (`find::card_size()`), the right way up or, where that gives
    /// no number (the front) or no validity (the back), upside down: a card photographed
    /// upside down, or turned upright either way, is flattened lying but not righted.
    pub fn read_card(&mut self, card: &RgbImage, side: Side) -> Result<Recognised, ReadError> {
        let upright = self.read_card_as_is(card, side)?;
        if key_fields_read(&upright) {
            return Ok(upright);
        }
        let turned = self.read_card_as_is(&image::imageops::rotate180(card), side)?;
        let usable = |r: &Recognised| r.readings.iter().filter(|r| r.usable().is_some()).count();
        Ok(
            if key_fields_read(&turned) || usable(&turned) > usable(&upright) {
                turned
            } else {
                upright
            },
        )
    }

    fn read_card_as_is(&mut self, card: &RgbImage, side: Side) -> Result<Recognised, ReadError> {
        let found = lines::find(card, side);
        let rows_found = found.is_some();
        let rows = found.unwrap_or_else(|| lines::fixed(card, side));
        let mut readings = self.read_lines(card, side, &rows)?;
        if !rows_found {
            // The rows were not found where a card has them: what the fixed boxes gave is
            // shown, never filled in (but a number its check character vouches for).
            for r in &mut readings {
                if r.problem.is_none() && r.value.is_some() && r.field != CardField::IdNumber {
                    r.problem = Some("未能在照片中找到证件的文字行：请核对或手工填写".into());
                }
            }
        }
        if side == Side::Front {
            cross_check(&mut readings);
        }
        Ok(Recognised { side, readings })
    }

    fn read_lines(
        &mut self,
        card: &RgbImage,
        side: Side,
        lines: &Lines,
    ) -> Result<Vec<Reading>, ReadError> {
        let mut readings = Vec::new();
        match side {
            Side::Front => {
                let name = self.read_both(card, lines.get(CardField::Name))?;
                readings.push(interpret_text(CardField::Name, &name));
                let gender = self.read_rects(card, lines.get(CardField::Gender), Kind::Text)?;
                readings.push(interpret_text(CardField::Gender, &gender));
                let ethnicity = self.read_both(card, lines.get(CardField::Ethnicity))?;
                readings.push(interpret_text(CardField::Ethnicity, &ethnicity));
                let birth = self.read_rects(card, lines.get(CardField::BirthDate), Kind::Birth)?;
                readings.push(interpret_text(CardField::BirthDate, &birth));
                let address = lines.get(CardField::Address);
                readings.push(self.read_tesseract_first(card, address, CardField::Address)?);
                let rects = lines.get(CardField::IdNumber);
                let mut number = interpret_text(
                    CardField::IdNumber,
                    &self.read_rects(card, rects, Kind::Number)?,
                );
                // The check character decides: read once more, a little larger, if it failed.
                if number.usable().is_none() {
                    let again = self.read_rects(card, rects, Kind::NumberLarge)?;
                    let second = interpret_text(CardField::IdNumber, &again);
                    if second.usable().is_some() {
                        number = second;
                    }
                }
                readings.push(number);
            }
            Side::Back => {
                let authority = lines.get(CardField::Authority);
                readings.push(self.read_tesseract_first(card, authority, CardField::Authority)?);
                let rects = lines.get(CardField::ValidFrom);
                let mut pair = validity_text(&self.read_rects(card, rects, Kind::Validity)?);
                if pair.0.usable().is_none() || pair.1.usable().is_none() {
                    let again =
                        validity_text(&self.read_rects(card, rects, Kind::ValidityLarge)?);
                    if again.0.usable().is_some() && again.1.usable().is_some() {
                        pair = again;
                    }
                }
                readings.push(pair.0);
                readings.push(pair.1);
            }
        }
        Ok(readings)
    }

    /// Read text twice, at two sizes, and keep only what both readings agree on: a
    /// character the engine does not know (a rare one in a name: 堃, 彧) comes out as a
    /// different common one at each size, often with high confidence, while characters it
    /// knows come out the same. Where they differ the characters count as unsure (0).
    fn read_agreed(&mut self, card: &RgbImage, rects: &[Rect]) -> Result<Text, ReadError> {
        let first = self.read_rects(card, rects, Kind::Text)?;
        let second = self.read_rects(card, rects, Kind::TextLarge)?;
        let agreed = first.agreed_with(&second);
        if agreed.fully_agreed() {
            return Ok(agreed);
        }
        // A third reading, smaller, settles it where two of the three agree.
        let third = self.read_rects(card, rects, Kind::TextSmall)?;
        for (a, b) in [(&first, &third), (&second, &third)] {
            let settled = a.agreed_with(b);
            if settled.fully_agreed() {
                return Ok(settled);
            }
        }
        Ok(agreed)
    }

    /// Read text by the PP-OCRv5 model and, only where it is unsure of a character, by
    /// Tesseract too (`read_agreed`): a character is sure where the model is (`MODEL_SURE`)
    /// or where both engines read it the same; otherwise it scores 0. Where the model is
    /// sure of a character Tesseract reads differently, the model's stands: it knows the
    /// rare characters Tesseract can only misread (彧 as 或).
    fn read_both(&mut self, card: &RgbImage, rects: &[Rect]) -> Result<Text, ReadError> {
        let model = self.read_by_model(card, rects)?;
        if model.chars().iter().all(|(_, p)| *p >= MODEL_SURE) {
            return Ok(model.floored(MODEL_SURE));
        }
        let tesseract = self.read_agreed(card, rects)?;
        Ok(model.confirmed_by(&tesseract, MODEL_SURE))
    }

    /// Read long rows (an address, an authority) by Tesseract at two sizes, and only where
    /// they do not agree on every character or make no value, by the model too, as
    /// `read_both`: the model takes ~0.4 s a line on this machine, Tesseract ~0.05 s.
    fn read_tesseract_first(
        &mut self,
        card: &RgbImage,
        rects: &[Rect],
        field: CardField,
    ) -> Result<Reading, ReadError> {
        let tesseract = self.read_agreed(card, rects)?;
        let reading = interpret_text(field, &tesseract);
        if tesseract.all_sure() && reading.usable().is_some() {
            return Ok(reading);
        }
        let model = self.read_by_model(card, rects)?;
        Ok(interpret_text(
            field,
            &model.confirmed_by(&tesseract, MODEL_SURE),
        ))
    }

    /// Read each rectangle in colour by the PP-OCRv5 model, its lines' texts joined.
    fn read_by_model(&mut self, card: &RgbImage, rects: &[Rect]) -> Result<Text, ReadError> {
        let mut all = Text::default();
        for r in rects {
            // A millimetre more each side: the row found is the ink's own extent.
            // (Measured: 2 mm across and 1 mm up and down left one character unsure.)
            let pad = PX_PER_MM as u32;
            let x = r.x.saturating_sub(pad);
            let w = (r.w + 2 * pad).min(card.width().saturating_sub(x));
            let h = r.h.min(card.height().saturating_sub(r.y));
            let crop = image::imageops::crop_imm(card, x, r.y, w, h).to_image();
            let text = self
                .model
                .read(&crop)
                .map_err(|e| ReadError::Recognise(e.to_string()))?;
            all.append(text);
        }
        Ok(all)
    }

    /// Read each rectangle as one line; the lines' texts joined (an address's lines).
    fn read_rects(
        &mut self,
        card: &RgbImage,
        rects: &[Rect],
        kind: Kind,
    ) -> Result<Text, ReadError> {
        let mut all = Text::default();
        for r in rects {
            let line = prepare(card, *r, kind.scale());
            let text = self.recognise(&line, kind)?;
            all.append(text);
        }
        Ok(all)
    }

    /// The engine a kind of row is read by (taken out while it reads: the binding's calls
    /// consume it).
    fn slot(&mut self, kind: Kind) -> &mut Option<Tesseract> {
        match kind.language() {
            "eng" => &mut self.digits,
            _ => &mut self.tess,
        }
    }

    fn recognise(&mut self, line: &GrayImage, kind: Kind) -> Result<Text, ReadError> {
        let err = |e: &dyn std::fmt::Display| ReadError::Recognise(e.to_string());
        let mut tess = match self.slot(kind).take() {
            Some(t) => t,
            None => engine(kind.language())?,
        };
        // A raw line: the rows are found already, and the engine's own layout analysis
        // drops short ones (a two- or three-character name read as nothing).
        tess.set_page_seg_mode(PageSegMode::PsmRawLine);
        let outcome = (|| {
            let mut t = tess
                .set_variable("tessedit_char_whitelist", kind.whitelist())
                .map_err(|e| err(&e))?
                .set_frame(
                    line.as_raw(),
                    line.width() as i32,
                    line.height() as i32,
                    1,
                    line.width() as i32,
                )
                .map_err(|e| err(&e))?
                .set_source_resolution(300)
                .recognize()
                .map_err(|e| err(&e))?;
            let hocr = t.get_hocr_text(0).map_err(|e| err(&e))?;
            Ok::<_, ReadError>((t, Text::from_hocr(&hocr)))
        })();
        match outcome {
            Ok((t, text)) => {
                *self.slot(kind) = Some(t);
                Ok(text)
            }
            // A failed call consumed the engine: the next read loads a fresh one.
            Err(e) => Err(e),
        }
    }
}

/// Whether the fields that vouch for themselves were read: the number (its check
/// character) on the front, both validity dates on the back.
fn key_fields_read(r: &Recognised) -> bool {
    let keys: &[CardField] = match r.side {
        Side::Front => &[CardField::IdNumber],
        Side::Back => &[CardField::ValidFrom, CardField::ValidUntil],
    };
    keys.iter()
        .all(|k| r.get(*k).is_some_and(|x| x.usable().is_some()))
}

/// What a row holds, which decides the characters allowed and the size it is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    TextLarge,
    TextSmall,
    Birth,
    Number,
    NumberLarge,
    Validity,
    ValidityLarge,
}

impl Kind {
    fn language(self) -> &'static str {
        match self {
            Kind::Number | Kind::NumberLarge => "eng",
            _ => "chi_sim",
        }
    }

    fn whitelist(self) -> &'static str {
        match self {
            Kind::Text | Kind::TextLarge | Kind::TextSmall => "",
            Kind::Birth => "0123456789年月日",
            Kind::Number | Kind::NumberLarge => "0123456789X",
            Kind::Validity | Kind::ValidityLarge => "0123456789.-长期",
        }
    }

    fn scale(self) -> f32 {
        match self {
            Kind::NumberLarge | Kind::ValidityLarge => 1.3,
            Kind::TextLarge => 1.3,
            Kind::TextSmall => 0.8,
            _ => 1.0,
        }
    }
}

/// The rectangle cut from the card, grey by its brightest channel (blue labels go pale,
/// black values stay), scaled so its text is `TEXT_PX` high, binarised by Otsu's threshold
/// within it, with a white margin.
fn prepare(card: &RgbImage, r: Rect, scale: f32) -> GrayImage {
    let r = Rect {
        w: r.w.min(card.width().saturating_sub(r.x)).max(1),
        h: r.h.min(card.height().saturating_sub(r.y)).max(1),
        ..r
    };
    let crop = GrayImage::from_fn(r.w, r.h, |x, y| {
        let p = card.get_pixel(r.x + x, r.y + y);
        Luma([p.0.iter().copied().max().unwrap_or(0)])
    });
    // The rectangle has ~0.6 mm of margin above and below the text.
    let text_px = (r.h as f32 - 1.2 * PX_PER_MM).max(8.0);
    let s = TEXT_PX * scale / text_px;
    let scaled = image::imageops::resize(
        &crop,
        ((r.w as f32 * s) as u32).max(1),
        ((r.h as f32 * s) as u32).max(1),
        image::imageops::FilterType::Triangle,
    );
    let t = otsu_of(scaled.as_raw());
    let margin = 12;
    let mut out = GrayImage::from_pixel(
        scaled.width() + 2 * margin,
        scaled.height() + 2 * margin,
        Luma([255]),
    );
    for (x, y, p) in scaled.enumerate_pixels() {
        let v = if p.0[0] > t { 255 } else { 0 };
        out.put_pixel(x + margin, y + margin, Luma([v]));
    }
    out
}

/// Run this process with OpenMP (which Debian's Tesseract is built with) on one thread: its
/// worker threads spin while they wait, and on a counter PC shared with the wizard, the
/// delivery worker and the browser they made a side take 1.4 s instead of 0.2 s here.
/// libgomp reads `OMP_THREAD_LIMIT` once, when it is loaded, so the process re-executes
/// itself with it set (the same program, arguments and pid); called first thing in `main`.
/// A limit the user set is kept.
pub fn one_openmp_thread() {
    #[cfg(unix)]
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        use std::os::unix::process::CommandExt;
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        // exec only returns on failure; the program then runs as it is.
        let _ = std::process::Command::new(exe)
            .arg0(arg0)
            .args(args)
            .env("OMP_THREAD_LIMIT", "1")
            .exec();
    }
}

/// Tesseract with Debian's data for `language` (chi_sim, eng), quiet (its diagnostics
/// would go to stderr, which is the wizard's screen), giving per-character confidences in
/// its hOCR.
fn engine(language: &str) -> Result<Tesseract, ReadError> {
    let e = |e: &dyn std::fmt::Display| ReadError::Engine(e.to_string());
    Tesseract::new(None, Some(language))
        .map_err(|x| e(&x))?
        .set_variable("debug_file", "/dev/null")
        .map_err(|x| e(&x))?
        .set_variable("hocr_char_boxes", "1")
        .map_err(|x| e(&x))
}
