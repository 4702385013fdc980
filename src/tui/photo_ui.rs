//! Photos in the wizard: importing with checks, the crop editor for a card photo that does
//! not pass, and previews. A preview is made when a photo or the crop changes, never per
//! frame; the crop editor works on a small copy so moving the crop stays instant.

use crossterm::event::{KeyCode, KeyEvent};
use image::DynamicImage;
use ratatui::layout::Size;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use ratatui_image::{FilterType, Resize};

use crate::domain::PhotoRef;
use crate::domain::PhotoSlot;
use crate::photo::check::{CARD_MAX_BYTES, CARD_MIN_BYTES, CARD_WIDTH};
use crate::photo::fix::{check_fill, crop_fits, crop_to_card};
use crate::photo::{Crop, Decoded, fix_card, geometry};
use crate::store::Store;

/// Preview size in terminal cells.
pub const PREVIEW_CELLS: Size = Size {
    width: 24,
    height: 14,
};

/// What importing a file came to.
pub enum Imported {
    /// Stored; the warnings are advice for the clerk.
    Stored(PhotoRef, Vec<String>),
    /// A card photo that does not pass as it is: open the crop editor.
    NeedsFix(Box<CropEditor>),
}

/// Read, check and store a photo file: `intake` does it as every import does. A card
/// photo that does not pass opens the crop editor.
pub fn import(store: &Store, path: &std::path::Path, kind: PhotoSlot) -> Result<Imported, String> {
    let checked = crate::intake::read(path, kind)?;
    let original = checked.original();
    match checked.store(store, false)? {
        crate::intake::Stored::Done(photo, warnings) => {
            original.imported(store);
            Ok(Imported::Stored(photo, warnings))
        }
        crate::intake::Stored::NeedsFix(checked) => {
            let reasons = checked.reasons();
            let checked = *checked;
            let mut editor = CropEditor::new(checked.decoded, checked.name, reasons);
            editor.original = Some(original);
            Ok(Imported::NeedsFix(Box::new(editor)))
        }
    }
}

/// The review page's small previews, in cells: the card photo upright, the ID card's
/// sides in its proportions (a cell is about twice as tall as it is wide).
pub fn thumbnail_cells(field: crate::domain::Field) -> Size {
    match field {
        crate::domain::Field::CardPhoto => Size {
            width: 10,
            height: 6,
        },
        _ => Size {
            width: 16,
            height: 5,
        },
    }
}

/// A small preview of `image` for the review page.
pub fn thumbnail(
    picker: &Picker,
    image: DynamicImage,
    field: crate::domain::Field,
) -> Option<Protocol> {
    picker
        .new_protocol(
            image,
            thumbnail_cells(field),
            Resize::Fit(Some(FilterType::Triangle)),
        )
        .ok()
}

/// A preview of `image` for the terminal (half-blocks or the terminal's graphics protocol).
pub fn preview(picker: &Picker, image: DynamicImage) -> Option<Protocol> {
    picker
        .new_protocol(
            image,
            PREVIEW_CELLS,
            Resize::Fit(Some(FilterType::Triangle)),
        )
        .ok()
}

/// Moving, zooming and turning the crop of a card photo, seeing the result (with the
/// rules' guides drawn over it) before accepting it. It starts where the face puts it.
pub struct CropEditor {
    pub source: Decoded,
    /// A copy no larger than 1000 px, for fast previews.
    work: DynamicImage,
    pub crop: Crop,
    /// Where the face puts the crop, or why it cannot (empty: the reasons say it).
    pub auto: Result<Crop, String>,
    pub source_name: Option<String>,
    /// Why the photo did not pass as it was.
    pub reasons: Vec<String>,
    /// The result with the guides, fitted to whatever room the popup has when it is drawn
    /// (a wide terminal shows it large); encoded again only when that room changes.
    pub preview: Option<std::cell::RefCell<ratatui_image::protocol::StatefulProtocol>>,
    /// The terminal's cell size in pixels, for laying the preview out in the card's shape.
    pub font_size: (u16, u16),
    /// What the crop would give: size and whether it fits.
    pub status: String,
    /// The crop's result measured against the rules: the measures, then each problem.
    pub measures: Vec<String>,
    /// The file it came from, recorded once the fixed photo is stored.
    pub original: Option<crate::intake::Original>,
}

impl CropEditor {
    pub fn new(source: Decoded, source_name: Option<String>, reasons: Vec<String>) -> CropEditor {
        let work = if source.image.width().max(source.image.height()) > 1000 {
            source.image.thumbnail(1000, 1000)
        } else {
            source.image.clone()
        };
        // Why the face cannot place the crop; empty when the check's reasons already say
        // it (no face, several faces).
        let auto = crate::photo::placement::place(&work, source.image.width())
            .map(|p| p.crop)
            .map_err(|e| match e {
                crate::photo::FixError::NoFace | crate::photo::FixError::ManyFaces(_) => {
                    String::new()
                }
                other => other.to_string(),
            });
        CropEditor {
            source,
            work,
            crop: auto.clone().unwrap_or_default(),
            auto,
            source_name,
            reasons,
            preview: None,
            font_size: (10, 20),
            status: String::new(),
            measures: Vec::new(),
            original: None,
        }
    }

    /// Recompute the preview, status and measures for the current crop (tens of
    /// milliseconds: the face is found again on the small result).
    pub fn refresh(&mut self, picker: &Picker) {
        let (w, h) = (self.source.image.width(), self.source.image.height());
        let (_, _, cw, ch) = self.crop.rect(w, h);
        let card = crop_to_card(&self.work, self.crop);
        // What the original's pixels become: enlarged, reduced or as they are.
        let k = CARD_WIDTH as f32 / cw;
        let scale = if k > 1.01 {
            format!("放大 {k:.1} 倍")
        } else if k < 0.99 {
            format!("缩小为原来的 {k:.2}")
        } else {
            "原大".into()
        };
        self.status =
            match crop_fits(self.crop, w, h).and_then(|()| check_fill(&self.work, self.crop)) {
                Ok(()) => format!(
                    "裁剪原图 {:.0}×{:.0} 像素 → 358×441，{scale}{}",
                    cw,
                    ch,
                    if self.crop.angle == 0.0 {
                        String::new()
                    } else {
                        format!("，旋转 {:.1}°", self.crop.angle)
                    }
                ),
                Err(e) => e.to_string(),
            };
        let faces = crate::photo::face::detect(
            &DynamicImage::ImageRgb8(card.clone()),
            crate::photo::face::LEAST_IN_CARD,
        );
        self.measures = match faces.as_slice() {
            [] => vec!["✗ 框里没有找到人脸".into()],
            [face] => {
                let m = geometry::measure(&card, face);
                let mut lines = vec![geometry::summary(&m)];
                lines.extend(
                    geometry::problems(&m)
                        .into_iter()
                        .map(|(_, p)| format!("✗ {p}")),
                );
                lines
            }
            more => vec![format!("✗ 框里有 {} 张人脸", more.len())],
        };
        let mut guided = card;
        draw_guides(&mut guided);
        let f = picker.font_size();
        self.font_size = (f.width, f.height);
        self.preview = Some(std::cell::RefCell::new(
            picker.new_resize_protocol(DynamicImage::ImageRgb8(guided)),
        ));
    }

    /// The keys `on_key` handles, for the footer.
    pub const HINTS: &'static str =
        " ←→↑↓ 移动  +/- 缩放  [ ] 旋转  a 按人脸  r 复位  Enter 生成  Esc 取消";

    /// Handle a key: `Some(true)` to accept, `Some(false)` to cancel, `None` to go on.
    pub fn on_key(&mut self, key: KeyEvent, picker: &Picker) -> Option<bool> {
        self.crop = match key.code {
            KeyCode::Enter => return Some(true),
            KeyCode::Esc => return Some(false),
            KeyCode::Left => self.crop.moved(-1.0, 0.0),
            KeyCode::Right => self.crop.moved(1.0, 0.0),
            KeyCode::Up => self.crop.moved(0.0, -1.0),
            KeyCode::Down => self.crop.moved(0.0, 1.0),
            KeyCode::Char('+') | KeyCode::Char('=') => self.crop.zoomed(1.1),
            KeyCode::Char('-') => self.crop.zoomed(1.0 / 1.1),
            KeyCode::Char('[') => self.crop.turned(-0.5),
            KeyCode::Char(']') => self.crop.turned(0.5),
            KeyCode::Char('a') => self.auto.clone().unwrap_or(self.crop),
            KeyCode::Char('r') => Crop::default(),
            _ => return None,
        };
        self.refresh(picker);
        None
    }

    /// Make the card photo from the full image and store it.
    pub fn accept(&self, store: &Store) -> Result<PhotoRef, String> {
        let bytes = fix_card(&self.source, self.crop).map_err(|e| e.to_string())?;
        debug_assert!((CARD_MIN_BYTES..=CARD_MAX_BYTES).contains(&(bytes.len() as u64)));
        let stored = crate::intake::put(
            store,
            &bytes,
            PhotoSlot::CardPhoto,
            self.source_name.clone(),
        )?;
        if let Some(original) = &self.original {
            original.imported(store);
        }
        Ok(stored)
    }
}

/// The rules' guides over a 358×441 preview: the band for the top of the hair (7–21 px),
/// the lowest eye line (207 px above the bottom), the band for the eyes' midpoint (162–196
/// px) and the face-width bounds (179 and 255 px, centred), blended in so the photo shows.
pub fn draw_guides(card: &mut image::RgbImage) {
    let (w, h) = card.dimensions();
    let mut mark = |x: u32, y: u32, c: [u8; 3]| {
        if x < w && y < h {
            let p = card.get_pixel_mut(x, y);
            for (v, c) in p.0.iter_mut().zip(c) {
                *v = ((*v as u16 + 2 * c as u16) / 3) as u8;
            }
        }
    };
    let (hair, eye, mid, width) = ([0, 160, 255], [255, 160, 0], [0, 200, 80], [230, 0, 180]);
    for x in 0..w {
        mark(x, *geometry::HAIR_TOP.start() as u32, hair);
        mark(x, *geometry::HAIR_TOP.end() as u32, hair);
        let eye_y = h - geometry::EYE_LINE_ABOVE_BOTTOM as u32;
        mark(x, eye_y, eye);
        mark(x, eye_y + 1, eye);
    }
    let centre = (geometry::EYE_MID_X.start() + geometry::EYE_MID_X.end()) / 2.0;
    for y in 0..h {
        if y % 6 < 3 {
            mark(*geometry::EYE_MID_X.start() as u32, y, mid);
            mark(*geometry::EYE_MID_X.end() as u32, y, mid);
        }
    }
    // Face-width bounds, as ticks around the eye line's height.
    for y in 150..300u32 {
        for half in [
            geometry::FACE_WIDTH.start() / 2.0,
            geometry::FACE_WIDTH.end() / 2.0,
        ] {
            mark((centre - half) as u32, y, width);
            mark((centre + half) as u32, y, width);
        }
    }
}
