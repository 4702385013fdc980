//! The CJK font a 受理单 is set in: a configured file, else the first of the fonts a PC of
//! this kind usually has (Noto CJK or WenQuanYi on Linux, Microsoft YaHei or SimSun on
//! Windows, PingFang on a Mac). Its glyphs are checked before anything is drawn: a name
//! with a character the font lacks (䶮 is not in WenQuanYi) is said, never printed as an
//! empty box.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where fonts are looked for when none is configured, in order.
const CANDIDATES: [&str; 10] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simsun.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
];

/// A font face that sets Chinese text.
#[derive(Clone)]
pub struct CjkFont {
    pub path: PathBuf,
    pub data: Arc<Vec<u8>>,
    /// The face within a collection (a .ttc): the simplified-Chinese one where it has one.
    pub index: u32,
    /// The face's name, for messages.
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error(
        "找不到中文字体，无法生成受理单：请安装 Noto Sans CJK（Debian/Ubuntu：apt install fonts-noto-cjk）\
         或文泉驿字体，或在配置文件 [receipt] 中用 font = \"字体文件路径\" 指定（Windows 可指定 C:\\\\Windows\\\\Fonts\\\\msyh.ttc）"
    )]
    NoneFound,
    #[error("无法读取字体文件 {path}：{reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "字体“{name}”缺少这些字：{chars}。打印出来会是空框：请换用 Noto Sans CJK（fonts-noto-cjk）\
         等收字更全的字体（配置文件 [receipt] font）"
    )]
    MissingGlyphs { name: String, chars: String },
}

impl CjkFont {
    /// The configured font, or the first candidate found on this PC.
    pub fn find(configured: Option<&Path>) -> Result<CjkFont, FontError> {
        if let Some(path) = configured {
            return CjkFont::load(path);
        }
        CANDIDATES
            .iter()
            .map(Path::new)
            .filter(|p| p.is_file())
            .find_map(|p| CjkFont::load(p).ok())
            .ok_or(FontError::NoneFound)
    }

    /// A font file (or collection), with its simplified-Chinese face chosen.
    pub fn load(path: &Path) -> Result<CjkFont, FontError> {
        let unreadable = |reason: String| FontError::Unreadable {
            path: path.to_owned(),
            reason,
        };
        let data = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
        let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let mut chosen = None;
        for index in 0..faces {
            let Ok(face) = ttf_parser::Face::parse(&data, index) else {
                continue;
            };
            if face.glyph_index('中').is_none() {
                continue;
            }
            let name = face_name(&face);
            let simplified = name.contains(" SC") || name.contains("简");
            if chosen.is_none() || simplified {
                chosen = Some((index, name));
            }
            if simplified {
                break;
            }
        }
        let (index, name) =
            chosen.ok_or_else(|| unreadable("不是含中文字形的 TrueType/OpenType 字体".into()))?;
        Ok(CjkFont {
            path: path.to_owned(),
            data: Arc::new(data),
            index,
            name,
        })
    }

    fn face(&self) -> ttf_parser::Face<'_> {
        ttf_parser::Face::parse(&self.data, self.index).expect("checked when loaded")
    }

    /// The characters of `text` this font has no glyph for (spaces and controls aside).
    pub fn missing(&self, text: &str) -> Vec<char> {
        let face = self.face();
        let mut out: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .filter(|c| face.glyph_index(*c).is_none())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Refuse text with characters the font lacks, naming them.
    pub fn check(&self, text: &str) -> Result<(), FontError> {
        let missing = self.missing(text);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(FontError::MissingGlyphs {
                name: self.name.clone(),
                chars: missing.into_iter().collect(),
            })
        }
    }

    /// The width of `text` set at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let face = self.face();
        let per_unit = size / f32::from(face.units_per_em());
        text.chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(size, |a| f32::from(a) * per_unit)
            })
            .sum()
    }

    /// `text` broken into lines no wider than `width` at `size` (by character: Chinese has
    /// no spaces; a closing punctuation mark never starts a line).
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for c in text.chars() {
            let mut next = line.clone();
            next.push(c);
            if self.width(&next, size) > width && !line.is_empty() && !closes(c) {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

fn closes(c: char) -> bool {
    "，。、；：？！）》」』”’".contains(c)
}

fn face_name(face: &ttf_parser::Face) -> String {
    let names = face.names();
    let pick = |id: u16| {
        names
            .into_iter()
            .filter(|n| n.name_id == id)
            .find_map(|n| n.to_string())
    };
    pick(ttf_parser::name_id::FULL_NAME)
        .or_else(|| pick(ttf_parser::name_id::FAMILY))
        .unwrap_or_else(|| "（无名字体）".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_chinese_font_is_said_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-font.ttf");
        std::fs::write(&path, b"hello").unwrap();
        let e = CjkFont::find(Some(&path)).err().unwrap().to_string();
        assert!(e.contains("不是含中文字形"), "{e}");
        let e = CjkFont::find(Some(&dir.path().join("none.ttc")))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("无法读取字体文件"), "{e}");
        assert!(FontError::NoneFound.to_string().contains("fonts-noto-cjk"));
    }
}
