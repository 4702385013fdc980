//! Where each field stands on a flattened card, found from the printed text itself rather
//! than from one printer's geometry: the rows of ink (their order on the card says which
//! field each is), the column where the values start (right of the labels, found as the
//! gap every row shares), and each value's extent. Cards differ by millimetres between
//! printers and templates; the order of the rows does not.
//!
//! Ink is what is dark in every channel: the values are printed black, the labels blue, so
//! on a colour photo the labels drop out; on a grey scan they stay and the shared gap
//! separates them. Pure image work, tested without an engine.

use image::RgbImage;

use super::find::PX_PER_MM;
use super::layout::{CARD_W, regions_read, value_region};
use super::{CardField, Side};

/// A rectangle of the flattened card, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The crops a side's fields are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    /// Each field's crop; the address may span several (one per printed line), and the
    /// gender and ethnicity share a row (`Gender` holds the row, `Ethnicity` is absent).
    pub fields: Vec<(CardField, Vec<Rect>)>,
}

impl Lines {
    pub fn get(&self, field: CardField) -> &[Rect] {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&[], |(_, r)| r.as_slice())
    }
}

fn mm(v: f32) -> u32 {
    (v * PX_PER_MM).round() as u32
}

/// The ink map: true where a pixel is dark in all three channels, its brightest channel
/// below the middle of the card's ground (the median) and its darkest text (the 0.3th
/// percentile). Not Otsu's threshold: the portrait's mid-tones would pull it into the
/// pale guilloche.
pub fn ink(card: &RgbImage) -> Vec<bool> {
    let mut hist = [0u64; 256];
    let max: Vec<u8> = card
        .pixels()
        .map(|p| p.0.iter().copied().max().unwrap_or(0))
        .collect();
    for v in &max {
        hist[*v as usize] += 1;
    }
    let t = ink_threshold(&hist);
    max.iter().map(|v| *v < t).collect()
}

/// Halfway between the median and the 0.3th percentile of a histogram.
pub fn ink_threshold(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    let at = |fraction: f64| {
        let want = (total as f64 * fraction) as u64;
        let mut seen = 0;
        for (v, n) in hist.iter().enumerate() {
            seen += n;
            if seen > want {
                return v as u32;
            }
        }
        255
    };
    ((at(0.5) + at(0.003)) / 2) as u8
}

/// A row of text: its top and bottom (exclusive) in pixels.
type Band = (u32, u32);

/// The rows of text within columns `x0..x1` and rows `y0..y1`: runs of rows holding ink,
/// close runs joined (a character's parts), kept if as tall as a line of text.
fn bands(ink: &[bool], width: u32, x0: u32, x1: u32, y0: u32, y1: u32) -> Vec<Band> {
    let need = ((x1 - x0) / 150).max(2);
    let full: Vec<bool> = (y0..y1)
        .map(|y| {
            let row = &ink[(y * width) as usize..((y + 1) * width) as usize];
            row[x0 as usize..x1 as usize].iter().filter(|b| **b).count() as u32 >= need
        })
        .collect();
    let mut runs: Vec<Band> = Vec::new();
    let mut start = None;
    for (i, f) in full.iter().chain(std::iter::once(&false)).enumerate() {
        let y = y0 + i as u32;
        match (f, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                runs.push((s, y));
                start = None;
            }
            _ => {}
        }
    }
    let mut joined: Vec<Band> = Vec::new();
    for r in runs {
        match joined.last_mut() {
            Some(last) if r.0 - last.1 < mm(0.7) => last.1 = r.1,
            _ => joined.push(r),
        }
    }
    joined
        .into_iter()
        .filter(|(a, b)| (mm(1.2)..=mm(7.5)).contains(&(b - a)))
        .collect()
}

/// Columns within `x0..x1` holding ink in any of the bands.
fn columns(ink: &[bool], width: u32, bands: &[Band], x0: u32, x1: u32) -> Vec<bool> {
    (x0..x1)
        .map(|x| {
            bands.iter().any(|(a, b)| {
                (*a..*b)
                    .filter(|y| ink[(y * width + x) as usize])
                    .nth(1)
                    .is_some()
            })
        })
        .collect()
}

/// Where the values start: the end of the last gap (of at least `min_gap` pixels) that all
/// the rows share within `from..to`; on a colour photo the labels are gone and the gap runs
/// from the card's edge to the values.
fn value_column(ink: &[bool], width: u32, bands: &[Band], from: u32, to: u32) -> Option<u32> {
    let cols = columns(ink, width, bands, from, to);
    let mut best = None;
    let mut run = 0u32;
    for (i, c) in cols.iter().enumerate() {
        if *c {
            if run >= mm(1.0) {
                best = Some(from + i as u32);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    best
}

/// The extent of the ink of `band` from `x0` rightwards, up to `limit`: it ends at the
/// first gap wider than `max_gap` (what lies beyond is something else: the portrait).
fn extent(
    ink: &[bool],
    width: u32,
    band: Band,
    x0: u32,
    limit: u32,
    max_gap: u32,
) -> Option<(u32, u32)> {
    let cols = columns(ink, width, &[band], x0, limit);
    let first = cols.iter().position(|c| *c)?;
    let mut last = first;
    let mut gap = 0;
    for (i, c) in cols.iter().enumerate().skip(first) {
        if *c {
            last = i;
            gap = 0;
        } else {
            gap += 1;
            if gap > max_gap {
                break;
            }
        }
    }
    Some((x0 + first as u32, x0 + last as u32 + 1))
}

fn rect(band: Band, x: (u32, u32), width: u32, height: u32) -> Rect {
    let pad = mm(0.6);
    let x0 = x.0.saturating_sub(pad);
    let y0 = band.0.saturating_sub(pad);
    Rect {
        x: x0,
        y: y0,
        w: (x.1 + pad).min(width) - x0,
        h: (band.1 + pad).min(height) - y0,
    }
}

/// The fields' crops of a side, or `None` when the rows do not make that side's layout
/// (too few rows of text: not a card, or the wrong side, or unreadable).
pub fn find(card: &RgbImage, side: Side) -> Option<Lines> {
    let ink = ink(card);
    match side {
        Side::Front => front(card, &ink),
        Side::Back => back(card, &ink),
    }
}

/// The fixed layout's boxes (`layout`, one printer's geometry), for a card whose rows were
/// not found: read, shown, never filled in.
pub fn fixed(card: &RgbImage, side: Side) -> Lines {
    let s = card.width() as f32 / CARD_W as f32;
    let rect = |f: CardField| {
        let r = value_region(f);
        Rect {
            x: (r.x as f32 * s) as u32,
            y: (r.y as f32 * s) as u32,
            w: (r.w as f32 * s) as u32,
            h: (r.h as f32 * s) as u32,
        }
    };
    Lines {
        fields: regions_read(side)
            .iter()
            .map(|f| (*f, vec![rect(*f)]))
            .collect(),
    }
}

fn front(card: &RgbImage, ink: &[bool]) -> Option<Lines> {
    let (w, h) = card.dimensions();
    // Left of the portrait (which begins ~55 mm in); all rows, the number's included.
    let rows = bands(ink, w, mm(1.0), mm(50.0), mm(1.0), h - mm(0.5));
    // The number is the lowest row, in the card's bottom quarter, reaching under the portrait.
    let (&number, upper) = rows.split_last()?;
    if number.0 < mm(34.0) {
        return None;
    }
    let upper: Vec<Band> = upper
        .iter()
        .copied()
        .filter(|b| b.1 + mm(2.0) <= number.0)
        .collect();
    if upper.len() < 4 {
        return None;
    }
    let split = value_column(ink, w, &upper, mm(0.5), mm(32.0)).unwrap_or(mm(15.0));
    let start = split.saturating_sub(mm(0.3));
    let line = |band: Band, limit_mm: f32, gap_mm: f32| {
        extent(ink, w, band, start, mm(limit_mm).min(w), mm(gap_mm)).map(|x| rect(band, x, w, h))
    };
    let mut fields = Vec::new();
    fields.push((
        CardField::Name,
        line(upper[0], 54.0, 6.0).into_iter().collect(),
    ));
    // Gender, the 民族 label and the ethnicity share a row: the gender is its first group
    // of ink, the ethnicity what stands after the next wide gap (the label, if grey, is
    // read with it and dropped).
    if let Some(row) = extent(ink, w, upper[1], start, mm(54.0).min(w), mm(24.0)) {
        let groups = groups(ink, w, upper[1], row, mm(3.5));
        if let Some(first) = groups.first() {
            fields.push((CardField::Gender, vec![rect(upper[1], *first, w, h)]));
        }
        if let (Some(second), Some(last)) = (groups.get(1), groups.last()) {
            let rest = (second.0, last.1);
            fields.push((CardField::Ethnicity, vec![rect(upper[1], rest, w, h)]));
        }
    }
    fields.push((
        CardField::BirthDate,
        line(upper[2], 54.0, 8.0).into_iter().collect(),
    ));
    let address: Vec<Rect> = upper[3..]
        .iter()
        .take(3)
        .filter_map(|b| line(*b, 54.0, 6.0))
        .collect();
    fields.push((CardField::Address, address));
    // The number: digits from about a third of the way in to the right edge; its label,
    // if grey, is left of a wide gap.
    let digits = number_extent(ink, w, number)?;
    fields.push((CardField::IdNumber, vec![rect(number, digits, w, h)]));
    Some(Lines { fields })
}

/// The groups of ink within `span` of a row, split at gaps wider than `gap`.
fn groups(ink: &[bool], width: u32, band: Band, span: (u32, u32), gap: u32) -> Vec<(u32, u32)> {
    let cols = columns(ink, width, &[band], span.0, span.1);
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        if !*c {
            continue;
        }
        let x = span.0 + i as u32;
        match out.last_mut() {
            Some(last) if x - last.1 <= gap => last.1 = x + 1,
            _ => out.push((x, x + 1)),
        }
    }
    out
}

/// The number's digits in its row: the widest run of ink (gaps under 2.5 mm joined).
fn number_extent(ink: &[bool], width: u32, band: Band) -> Option<(u32, u32)> {
    let cols = columns(ink, width, &[band], 0, width);
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        if !*c {
            continue;
        }
        let i = i as u32;
        match runs.last_mut() {
            Some(last) if i - last.1 < mm(2.5) => last.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs.into_iter()
        .max_by_key(|(a, b)| b - a)
        .filter(|(a, b)| b - a >= mm(20.0))
}

fn back(card: &RgbImage, ink: &[bool]) -> Option<Lines> {
    let (w, h) = card.dimensions();
    // The lower half, right of the emblem: 签发机关 and 有效期限, the last two rows.
    let rows = bands(ink, w, mm(12.0), w - mm(1.0), mm(24.0), h - mm(0.5));
    let [.., authority, validity] = rows.as_slice() else {
        return None;
    };
    let pair = [*authority, *validity];
    let split = value_column(ink, w, &pair, mm(10.0), mm(50.0)).unwrap_or(mm(32.0));
    let start = split.saturating_sub(mm(0.3));
    let line =
        |band: Band| extent(ink, w, band, start, w - mm(0.5), mm(6.0)).map(|x| rect(band, x, w, h));
    Some(Lines {
        fields: vec![
            (CardField::Authority, line(*authority).into_iter().collect()),
            (CardField::ValidFrom, line(*validity).into_iter().collect()),
        ],
    })
}
