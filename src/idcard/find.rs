//! Finding the card in a photo or a scan and making it flat: the card told from what it lies
//! on (a dark table, a white page) by how far each pixel is from the
//! colour of the photo's border, its four edges fitted as lines, and the quadrilateral they
//! make (turned, slightly keystoned) mapped onto a card-sized rectangle. A photo that is
//! the card already (cropped by a scanner or by the clerk) is only scaled.
//!
//! Pure image work, no engine: tested without Tesseract.

use image::{Rgb, RgbImage};

/// Pixels per millimetre of the flattened card (1027 × 648): the value text, about 3.2 mm
/// high, is then ~38 px.
pub const PX_PER_MM: f32 = 12.0;
pub const CARD_W_MM: f32 = 85.6;
pub const CARD_H_MM: f32 = 54.0;

/// The flattened card's size in pixels.
pub fn card_size() -> (u32, u32) {
    (
        (CARD_W_MM * PX_PER_MM).round() as u32,
        (CARD_H_MM * PX_PER_MM).round() as u32,
    )
}

/// Where the card was found, in the photo's pixels: top-left, top-right, bottom-right,
/// bottom-left. `None` when the photo is taken to be the card itself.
pub type Corners = [(f32, f32); 4];

/// The card in `photo`, flattened to `card_size()`, and the corners it was found at.
pub fn flatten(photo: &RgbImage) -> (RgbImage, Option<Corners>) {
    let (w, h) = card_size();
    match locate(photo) {
        Some(corners) => (warp(photo, &corners, w, h), Some(corners)),
        None => (
            image::imageops::resize(photo, w, h, image::imageops::FilterType::Triangle),
            None,
        ),
    }
}

/// The longest side of the reduced copy the card is looked for in.
const SEARCH_SIDE: u32 = 480;

/// The card's corners in `photo`, or `None` if no card-shaped region stands out from the
/// photo's border (the photo is then the card, or unreadable anyway).
pub fn locate(photo: &RgbImage) -> Option<Corners> {
    let (pw, ph) = photo.dimensions();
    if pw < 16 || ph < 16 {
        return None;
    }
    let factor = (pw.max(ph) as f32 / SEARCH_SIDE as f32).max(1.0);
    let (sw, sh) = (
        ((pw as f32 / factor) as u32).max(8),
        ((ph as f32 / factor) as u32).max(8),
    );
    // Area-averaged: the reduction also smooths sensor noise and JPEG blocks.
    let small = image::imageops::resize(photo, sw, sh, image::imageops::FilterType::Triangle);
    let ground = border_colour(&small);
    let diff: Vec<u8> = small
        .pixels()
        .map(|p| {
            (0..3)
                .map(|i| p.0[i].abs_diff(ground.0[i]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let threshold = ground_spread(&diff, sw, sh);
    let mask: Vec<bool> = diff.iter().map(|d| *d > threshold).collect();
    let component = largest_component(&mask, sw, sh)?;
    let quad = fit_edges(&component, sw, sh)?;
    let corners = quad.map(|(x, y)| (x * pw as f32 / sw as f32, y * ph as f32 / sh as f32));
    let corners = long_side_on_top(corners);
    plausible(&corners, pw, ph).then_some(corners)
}

/// A card photographed upright (turned 90°) has its long sides left and right: the corners
/// taken one further round, so that it is flattened lying (the right way up or upside
/// down; the reader tries both).
fn long_side_on_top(c: Corners) -> Corners {
    let d = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
    let across = d(c[0], c[1]) + d(c[2], c[3]);
    let down = d(c[1], c[2]) + d(c[3], c[0]);
    if down > across {
        [c[3], c[0], c[1], c[2]]
    } else {
        c
    }
}

/// The median colour of the outermost ring of pixels: what the card lies on.
fn border_colour(img: &RgbImage) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let mut channels: [Vec<u8>; 3] = Default::default();
    let mut take = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        for (i, c) in channels.iter_mut().enumerate() {
            c.push(p.0[i]);
        }
    };
    for ring in 0..2.min(w / 4).min(h / 4) {
        for x in ring..w - ring {
            take(x, ring);
            take(x, h - 1 - ring);
        }
        for y in ring..h - ring {
            take(ring, y);
            take(w - 1 - ring, y);
        }
    }
    Rgb(channels.map(|mut c| {
        c.sort_unstable();
        c.get(c.len() / 2).copied().unwrap_or(0)
    }))
}

/// How far from the ground colour a pixel must be to count as card: beyond what the
/// ground itself varies along the border (wood grain, paper grain, noise). Not Otsu's
/// threshold: a card on a white page differs from it by only ~20 levels while its text
/// differs by ~200, and Otsu would split at the text.
fn ground_spread(diff: &[u8], w: u32, h: u32) -> u8 {
    let (w, h) = (w as usize, h as usize);
    let mut ring: Vec<u8> = (0..w)
        .flat_map(|x| [diff[x], diff[(h - 1) * w + x]])
        .chain((0..h).flat_map(|y| [diff[y * w], diff[y * w + w - 1]]))
        .collect();
    ring.sort_unstable();
    let p90 = ring[ring.len() * 9 / 10];
    (u32::from(p90) * 3 / 2 + 6).clamp(8, 120) as u8
}

/// Otsu's threshold of a set of grey values.
pub fn otsu_of(values: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for v in values {
        hist[*v as usize] += 1;
    }
    otsu_hist(&hist)
}

fn otsu_hist(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, n)| i as f64 * *n as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut best_t) = (0.0, 0u64, 0.0, 127u8);
    for (t, n) in hist.iter().enumerate() {
        w_b += n;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * *n as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// The largest 4-connected region of `mask`, as a mask of its own.
fn largest_component(mask: &[bool], w: u32, h: u32) -> Option<Vec<bool>> {
    let (w, h) = (w as usize, h as usize);
    let mut label = vec![0u32; w * h];
    let mut best = (0usize, 0u32);
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        let mut size = 0;
        label[start] = next;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if mask[j] && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if size > best.0 {
            best = (size, next);
        }
    }
    (best.0 > 0).then(|| label.iter().map(|l| *l == best.1).collect())
}

/// The four edges of the region, each a line fitted to where the region begins seen from
/// that side (over the middle of the side, clear of the rounded corners), and the corners
/// where they meet.
fn fit_edges(region: &[bool], w: u32, h: u32) -> Option<Corners> {
    let (w, h) = (w as usize, h as usize);
    let at = |x: usize, y: usize| region[y * w + x];
    let cols: Vec<usize> = (0..w).filter(|&x| (0..h).any(|y| at(x, y))).collect();
    let rows: Vec<usize> = (0..h).filter(|&y| (0..w).any(|x| at(x, y))).collect();
    let (x0, x1) = (*cols.first()?, *cols.last()?);
    let (y0, y1) = (*rows.first()?, *rows.last()?);
    if x1 - x0 < 12 || y1 - y0 < 8 {
        return None;
    }
    let middle = |a: usize, b: usize| {
        let span = b - a;
        (a + span / 6)..=(b - span / 6)
    };
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    for x in middle(x0, x1) {
        if let Some(y) = (0..h).find(|&y| at(x, y)) {
            top.push((x as f32, y as f32));
        }
        if let Some(y) = (0..h).rev().find(|&y| at(x, y)) {
            bottom.push((x as f32, y as f32 + 1.0));
        }
    }
    let mut left = Vec::new();
    let mut right = Vec::new();
    for y in middle(y0, y1) {
        if let Some(x) = (0..w).find(|&x| at(x, y)) {
            left.push((y as f32, x as f32));
        }
        if let Some(x) = (0..w).rev().find(|&x| at(x, y)) {
            right.push((y as f32, x as f32 + 1.0));
        }
    }
    // Each edge as v = a·u + b: y of x for top and bottom, x of y for left and right.
    let (t, b, l, r) = (
        fit_line(&top)?,
        fit_line(&bottom)?,
        fit_line(&left)?,
        fit_line(&right)?,
    );
    let meet = |horizontal: (f32, f32), vertical: (f32, f32)| {
        // y = a x + b and x = c y + d.
        let (a, b) = horizontal;
        let (c, d) = vertical;
        let y = (a * d + b) / (1.0 - a * c);
        (c * y + d, y)
    };
    Some([meet(t, l), meet(t, r), meet(b, r), meet(b, l)])
}

/// A least-squares line through the points, refitted without the ones far from it (a
/// shadow, a finger, a label that touches the edge).
fn fit_line(points: &[(f32, f32)]) -> Option<(f32, f32)> {
    let fit = |pts: &[(f32, f32)]| -> Option<(f32, f32)> {
        if pts.len() < 5 {
            return None;
        }
        let n = pts.len() as f32;
        let mu = pts.iter().map(|p| p.0).sum::<f32>() / n;
        let mv = pts.iter().map(|p| p.1).sum::<f32>() / n;
        let suv: f32 = pts.iter().map(|p| (p.0 - mu) * (p.1 - mv)).sum();
        let suu: f32 = pts.iter().map(|p| (p.0 - mu) * (p.0 - mu)).sum();
        if suu <= f32::EPSILON {
            return None;
        }
        let a = suv / suu;
        Some((a, mv - a * mu))
    };
    let mut line = fit(points)?;
    for _ in 0..2 {
        let kept: Vec<(f32, f32)> = points
            .iter()
            .copied()
            .filter(|p| (p.1 - (line.0 * p.0 + line.1)).abs() <= 1.5)
            .collect();
        if kept.len() < points.len() / 2 {
            break;
        }
        line = fit(&kept)?;
    }
    (line.0.abs() < 0.25).then_some(line)
}

/// Whether the corners make a card: the sides' ratio near 85.6 : 54, opposite sides of
/// near equal length, and big enough to be read (a card on an A4 scan at 150 dpi is ~5%
/// of the page).
fn plausible(c: &Corners, pw: u32, ph: u32) -> bool {
    let d = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
    let (top, right, bottom, left) = (d(c[0], c[1]), d(c[1], c[2]), d(c[2], c[3]), d(c[3], c[0]));
    let width = (top + bottom) / 2.0;
    let height = (left + right) / 2.0;
    if height < 1.0 || width < 1.0 {
        return false;
    }
    let aspect = width / height;
    let even = (top / bottom).max(bottom / top) < 1.15 && (left / right).max(right / left) < 1.15;
    let area = width * height / (pw as f32 * ph as f32);
    let inside = c.iter().all(|(x, y)| {
        *x > -0.02 * pw as f32
            && *y > -0.02 * ph as f32
            && *x < 1.02 * pw as f32
            && *y < 1.02 * ph as f32
    });
    (1.4..1.8).contains(&aspect) && even && area > 0.03 && inside && width > 200.0
}

/// The quadrilateral `c` of `photo` mapped onto a `w` × `h` rectangle (bilinear).
pub fn warp(photo: &RgbImage, c: &Corners, w: u32, h: u32) -> RgbImage {
    let to_photo = Homography::from_unit_square(c);
    let (pw, ph) = photo.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let (sx, sy) = to_photo.apply((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        sample(photo, sx - 0.5, sy - 0.5, pw, ph)
    })
}

fn sample(img: &RgbImage, sx: f32, sy: f32, w: u32, h: u32) -> Rgb<u8> {
    let x0 = sx.floor().clamp(0.0, (w - 1) as f32) as u32;
    let y0 = sy.floor().clamp(0.0, (h - 1) as f32) as u32;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = (sx - x0 as f32).clamp(0.0, 1.0);
    let fy = (sy - y0 as f32).clamp(0.0, 1.0);
    let (a, b, c, d) = (
        img.get_pixel(x0, y0),
        img.get_pixel(x1, y0),
        img.get_pixel(x0, y1),
        img.get_pixel(x1, y1),
    );
    Rgb(std::array::from_fn(|i| {
        let top = f32::from(a.0[i]) * (1.0 - fx) + f32::from(b.0[i]) * fx;
        let bottom = f32::from(c.0[i]) * (1.0 - fx) + f32::from(d.0[i]) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }))
}

/// A projective map from the unit square onto a quadrilateral (Heckbert's closed form).
#[derive(Debug, Clone, Copy)]
pub struct Homography([f32; 9]);

impl Homography {
    /// (0,0), (1,0), (1,1), (0,1) onto the corners in that order.
    pub fn from_unit_square(c: &Corners) -> Homography {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *c;
        let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
        let (dx1, dy1, dx2, dy2) = (x1 - x2, y1 - y2, x3 - x2, y3 - y2);
        let (g, h) = if sx.abs() < 1e-6 && sy.abs() < 1e-6 {
            (0.0, 0.0)
        } else {
            let den = dx1 * dy2 - dx2 * dy1;
            ((sx * dy2 - dx2 * sy) / den, (dx1 * sy - sx * dy1) / den)
        };
        Homography([
            x1 - x0 + g * x1,
            x3 - x0 + h * x3,
            x0,
            y1 - y0 + g * y1,
            y3 - y0 + h * y3,
            y0,
            g,
            h,
            1.0,
        ])
    }

    pub fn apply(&self, u: f32, v: f32) -> (f32, f32) {
        let m = &self.0;
        let z = m[6] * u + m[7] * v + m[8];
        (
            (m[0] * u + m[1] * v + m[2]) / z,
            (m[3] * u + m[4] * v + m[5]) / z,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_on(ground: Rgb<u8>, card: Rgb<u8>, tilt_deg: f32) -> (RgbImage, Corners) {
        let (w, h) = (900u32, 700u32);
        let (cw, ch) = (600.0f32, 600.0 * 54.0 / 85.6);
        let (cx, cy) = (450.0f32, 340.0f32);
        let (s, c) = tilt_deg.to_radians().sin_cos();
        let img = RgbImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
            if u.abs() < cw / 2.0 && v.abs() < ch / 2.0 {
                // Some dark text on the card.
                if (v.abs() < 8.0 && u < 100.0) || (u.abs() < 30.0 && v > 60.0 && v < 80.0) {
                    Rgb([20, 20, 20])
                } else {
                    card
                }
            } else {
                ground
            }
        });
        let corner = |u: f32, v: f32| (cx + c * u - s * v, cy + s * u + c * v);
        let corners = [
            corner(-cw / 2.0, -ch / 2.0),
            corner(cw / 2.0, -ch / 2.0),
            corner(cw / 2.0, ch / 2.0),
            corner(-cw / 2.0, ch / 2.0),
        ];
        (img, corners)
    }

    fn close(found: &Corners, truth: &Corners, tolerance: f32) {
        for (f, t) in found.iter().zip(truth) {
            assert!(
                (f.0 - t.0).abs() <= tolerance && (f.1 - t.1).abs() <= tolerance,
                "found {found:?}, truth {truth:?}"
            );
        }
    }

    #[test]
    fn a_card_on_a_dark_table_is_found_at_its_corners_even_turned() {
        for tilt in [0.0, 2.5, -3.0] {
            let (img, truth) = card_on(Rgb([70, 60, 50]), Rgb([230, 235, 232]), tilt);
            let found = locate(&img).expect("found");
            close(&found, &truth, 4.0);
        }
    }

    #[test]
    fn a_card_turned_upright_is_found_lying() {
        let (img, truth) = card_on(Rgb([70, 60, 50]), Rgb([230, 235, 232]), 1.5);
        let upright = image::imageops::rotate90(&img);
        let found = locate(&upright).expect("found");
        // The long sides are the top and bottom edges of the quadrilateral found.
        let d = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
        let (top, left) = (d(found[0], found[1]), d(found[3], found[0]));
        let (long, short) = (d(truth[0], truth[1]), d(truth[1], truth[2]));
        assert!(
            (top - long).abs() < 6.0 && (left - short).abs() < 6.0,
            "{found:?}"
        );
        assert_eq!(flatten(&upright).0.dimensions(), card_size());
    }

    #[test]
    fn a_pale_card_on_a_white_page_is_found() {
        let (img, truth) = card_on(Rgb([252, 252, 252]), Rgb([228, 234, 236]), 0.5);
        let found = locate(&img).expect("found");
        close(&found, &truth, 4.0);
    }

    #[test]
    fn a_photo_that_is_the_card_already_is_only_scaled() {
        let img = RgbImage::from_fn(856, 540, |x, y| {
            if (200..600).contains(&x) && (100..140).contains(&y) {
                Rgb([20, 20, 20])
            } else {
                Rgb([230, 235, 232])
            }
        });
        assert!(locate(&img).is_none());
        assert_eq!(flatten(&img).0.dimensions(), card_size());
    }

    #[test]
    fn the_homography_maps_the_unit_square_onto_the_corners() {
        let c = [(10.0, 20.0), (300.0, 25.0), (310.0, 200.0), (5.0, 190.0)];
        let hmg = Homography::from_unit_square(&c);
        for ((u, v), want) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .zip(c)
        {
            let got = hmg.apply(*u, *v);
            assert!((got.0 - want.0).abs() < 1e-3 && (got.1 - want.1).abs() < 1e-3);
        }
    }
}
