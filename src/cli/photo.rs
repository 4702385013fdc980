//! `sbk photo check FILE` and `sbk photo fix IN OUT`: the card photo rules from the shell.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::EXIT_INVALID;
use crate::domain::PhotoSlot;
use crate::photo::{auto_fix_card, decode, normalise_id};

/// `--kind card|id-front|id-back`: a photo slot as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindArg(pub PhotoSlot);

impl clap::ValueEnum for KindArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            KindArg(PhotoSlot::CardPhoto),
            KindArg(PhotoSlot::IdFront),
            KindArg(PhotoSlot::IdBack),
            KindArg(PhotoSlot::AgentIdCard),
            KindArg(PhotoSlot::Authorisation),
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self.0 {
            PhotoSlot::CardPhoto => PossibleValue::new("card")
                .alias("card-photo")
                .help("制卡照片"),
            PhotoSlot::IdFront => PossibleValue::new("id-front").help("身份证正面"),
            PhotoSlot::IdBack => PossibleValue::new("id-back").help("身份证背面"),
            PhotoSlot::AgentIdCard => PossibleValue::new("agent-id").help("代办人身份证"),
            PhotoSlot::Authorisation => {
                PossibleValue::new("authorisation").help("委托书或关系证明")
            }
        })
    }
}

/// Exit status for a file that cannot be read as a photo at all.
pub const EXIT_UNREADABLE: u8 = 2;

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Say whether a photo meets the spec, and why not (exit 0 passes, 1 fails, 2 unreadable).
    Check {
        file: PathBuf,
        /// What the photo is for.
        #[arg(long, value_enum, default_value_t = KindArg(PhotoSlot::CardPhoto))]
        kind: KindArg,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a photo that passes the check: crop, resize and compress a card photo (centred),
    /// or turn an ID card image upright and bring it to a sane size.
    Fix {
        input: PathBuf,
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = KindArg(PhotoSlot::CardPhoto))]
        kind: KindArg,
    },
    /// Read an ID card photo: print what was recognised, with a confidence per field
    /// (exit 0 read, 1 nothing usable, 2 unreadable, 3 recognition not in this build).
    Read {
        file: PathBuf,
        /// Which side the photo shows: front (人像面) or back (国徽面).
        #[arg(long, value_enum)]
        side: CardSide,
        /// Print the readings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a synthetic phone-style JPEG (no real person) for trying the wizard and demos.
    #[command(hide = true)]
    Sample {
        output: PathBuf,
        #[arg(long, default_value_t = 3000)]
        width: u32,
        #[arg(long, default_value_t = 4000)]
        height: u32,
        /// Store it sideways with an EXIF orientation tag, as a phone held upright does.
        #[arg(long)]
        sideways: bool,
    },
}

/// Exit status of `photo read` in a build without the `ocr` feature.
#[cfg_attr(feature = "ocr", allow(dead_code))]
pub const EXIT_NOT_BUILT_IN: u8 = 3;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CardSide {
    /// 人像面 (正面): name, gender, ethnicity, birth date, address, number.
    Front,
    /// 国徽面 (背面): issuing authority, validity.
    Back,
}

impl From<CardSide> for crate::idcard::Side {
    fn from(s: CardSide) -> Self {
        match s {
            CardSide::Front => crate::idcard::Side::Front,
            CardSide::Back => crate::idcard::Side::Back,
        }
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    crate::private_files::read_regular(path, crate::photo::decode::MAX_FILE_BYTES)
}

pub fn run(cmd: PhotoCommand) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match cmd {
        PhotoCommand::Check {
            file,
            kind: KindArg(kind),
            json,
        } => {
            // Judged on a copy of 360 px or more (a 12-megapixel JPEG is reduced while it is
            // decoded): every check looks at most at that, and the sizes are the file's.
            let decoded = match read(&file)
                .and_then(|b| crate::photo::decode_reduced(&b, 360).map_err(|e| e.to_string()))
            {
                Ok(d) => d,
                Err(message) => {
                    if json {
                        let _ = writeln!(
                            out,
                            "{}",
                            serde_json::json!({"readable": false, "passes": false, "message": message})
                        );
                    } else {
                        eprintln!("✗ 无法读取照片：{message}");
                    }
                    return ExitCode::from(EXIT_UNREADABLE);
                }
            };
            let verdict = crate::idcard::shape::check(&decoded, kind);
            if json {
                let mut v = serde_json::to_value(&verdict).unwrap_or_default();
                v["readable"] = true.into();
                v["passes"] = verdict.passes().into();
                let _ = writeln!(out, "{v}");
            } else {
                let head = if verdict.passes() {
                    "✓ 符合要求"
                } else {
                    "✗ 不符合要求"
                };
                let _ = writeln!(
                    out,
                    "{head}：{}  {}×{} 像素，{:.1} KB，{}",
                    kind.label(),
                    verdict.width,
                    verdict.height,
                    verdict.file_bytes as f64 / 1024.0,
                    verdict.format.to_uppercase()
                );
                if let Some(m) = &verdict.geometry {
                    let _ = writeln!(out, "  {}", crate::photo::geometry::summary(m));
                }
                for f in &verdict.findings {
                    let mark = if f.fails { "  ✗ " } else { "  注意：" };
                    let _ = writeln!(out, "{mark}{}", f.message);
                }
                if !verdict.passes() && kind == PhotoSlot::CardPhoto {
                    let _ = writeln!(
                        out,
                        "  可运行 sbk photo fix {} 输出文件.jpg 自动修正",
                        file.display()
                    );
                }
            }
            if verdict.passes() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_INVALID)
            }
        }
        PhotoCommand::Read { file, side, json } => read_card(&file, side.into(), json),
        PhotoCommand::Sample {
            output,
            width,
            height,
            sideways,
        } => {
            let (w, h) = (width.clamp(16, 8000), height.clamp(16, 8000));
            let bytes = crate::photo::synthetic::phone_jpeg(w, h, sideways);
            match std::fs::write(&output, bytes) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("✗ 无法写入 {}：{e}", output.display());
                    ExitCode::from(EXIT_INVALID)
                }
            }
        }
        PhotoCommand::Fix {
            input,
            output,
            kind: KindArg(kind),
        } => {
            // A card photo is 441 px tall: decode a big JPEG only as large as that needs
            // (1.5× for a good downscale), not all of its 12 megapixels.
            let min_short = crate::photo::check::CARD_HEIGHT * 3 / 2;
            let read = read(&input).and_then(|b| {
                match kind {
                    PhotoSlot::CardPhoto => crate::photo::decode_reduced(&b, min_short),
                    _ => decode(&b),
                }
                .map(|d| (d, b))
                .map_err(|e| e.to_string())
            });
            let (decoded, original) = match read {
                Ok(d) => d,
                Err(message) => {
                    eprintln!("✗ 无法读取照片：{message}");
                    return ExitCode::from(EXIT_UNREADABLE);
                }
            };
            let mut measures = None;
            let fixed = match kind {
                // Placed from the face (as the crop editor's starting position): what
                // cannot be placed is refused with the reason.
                PhotoSlot::CardPhoto => auto_fix_card(&decoded, &original).map(|(bytes, _, m)| {
                    measures = Some(m);
                    bytes
                }),
                _ => normalise_id(&decoded),
            };
            let bytes = match fixed {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("✗ 无法修正：{e}");
                    return ExitCode::from(EXIT_INVALID);
                }
            };
            // A photo of a person is personal data: created readable by its owner only,
            // written whole or not at all.
            if let Err(e) = crate::private_files::write_private(&output, &bytes) {
                eprintln!("✗ 无法写入 {}：{e}", output.display());
                return ExitCode::from(EXIT_INVALID);
            }
            let _ = writeln!(
                out,
                "✓ 已写入 {}（{:.1} KB），符合{}要求",
                output.display(),
                bytes.len() as f64 / 1024.0,
                kind.label()
            );
            if let Some(m) = &measures {
                let _ = writeln!(out, "  {}", crate::photo::geometry::summary(m));
            }
            ExitCode::SUCCESS
        }
    }
}

#[cfg(not(feature = "ocr"))]
fn read_card(_: &std::path::Path, _: crate::idcard::Side, _: bool) -> ExitCode {
    eprintln!("✗ {}", crate::idcard::NOT_BUILT_IN);
    ExitCode::from(EXIT_NOT_BUILT_IN)
}

#[cfg(feature = "ocr")]
fn read_card(file: &std::path::Path, side: crate::idcard::Side, json: bool) -> ExitCode {
    let bytes = match read(file) {
        Ok(b) => b,
        Err(message) => {
            eprintln!("✗ {message}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let recognised = crate::idcard::engine::Reader::new().and_then(|mut r| r.read(&bytes, side));
    let recognised = match recognised {
        Ok(r) => r,
        Err(e @ crate::idcard::engine::ReadError::Image(_)) => {
            eprintln!("✗ {e}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
        Err(e) => {
            eprintln!("✗ {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&recognised).unwrap_or_default()
        );
    } else {
        let _ = writeln!(out, "{}：", side.label());
        for r in &recognised.readings {
            let label = format!("{:\u{3000}<6}", r.field.label());
            match (r.usable(), &r.problem) {
                (Some(_), _) => {
                    let _ = writeln!(out, "  {label} {}  （把握 {}%）", r.shown, r.confidence);
                }
                (None, Some(p)) => {
                    let _ = writeln!(out, "  {label} ✗ 不可采用：{p}（读到“{}”）", r.raw);
                }
                (None, None) => {
                    let _ = writeln!(
                        out,
                        "  {label} ？{}  （把握仅 {}%，不自动填入）",
                        r.shown, r.confidence
                    );
                }
            }
        }
    }
    if recognised.readings.iter().any(|r| r.usable().is_some()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}
