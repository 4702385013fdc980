//! Moving and zooming the crop of a card photo that did not pass, seeing the result before
//! Enter makes a passing JPEG. The editing itself is `photo_ui::CropEditor`'s.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::Reply;
use crate::photo::check::{CARD_HEIGHT, CARD_WIDTH};
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::photo_ui::CropEditor;
use crate::tui::theme::{bold, clear_for_popup, dim, prose};

pub struct CropPopup {
    pub editor: CropEditor,
}

impl CropPopup {
    pub const HINTS: &'static str = CropEditor::HINTS;

    pub fn new(mut editor: CropEditor, ctx: &Ctx) -> CropPopup {
        editor.refresh(&ctx.picker);
        CropPopup { editor }
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Reply {
        match self.editor.on_key(key, &ctx.picker) {
            Some(true) => match self.editor.accept(&ctx.session.store) {
                Ok(photo) => Reply::Act(Action::CardPhotoMade(photo)),
                Err(message) => {
                    ctx.fail(message);
                    Reply::Stay
                }
            },
            Some(false) => Reply::Act(Action::CropCancelled),
            None => Reply::Stay,
        }
    }

    /// Where the popup goes: below the header, above the status line (up to three rows:
    /// a refusal shown there stays in view) and the keys, as wide as the terminal allows.
    fn rect(area: Rect) -> Rect {
        let width = area.width.min(160);
        let top = area.y + 1;
        let height = area.height.saturating_sub(1 + 3 + 1);
        Rect::new(area.x + (area.width - width) / 2, top, width, height)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let editor = &self.editor;
        let rect = Self::rect(area);
        clear_for_popup(frame, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(" 调整制卡照片：358×441 像素 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        // The preview in the card's shape, as tall as the popup allows (one row below it
        // for the ruler), never more than half the width.
        let rows = inner.height.saturating_sub(1).max(4);
        let (fw, fh) = (
            editor.font_size.0.max(1) as f32,
            editor.font_size.1.max(1) as f32,
        );
        let cols =
            ((rows as f32 * fh * CARD_WIDTH as f32) / (CARD_HEIGHT as f32 * fw)).round() as u16;
        let cols = cols.min(inner.width / 2).max(4);
        // The rows those columns fill in the card's shape (the picture is scaled to fit:
        // the rulers are laid out on the rows it really covers).
        let rows = ((cols as f32 * fw * CARD_HEIGHT as f32) / (CARD_WIDTH as f32 * fh))
            .round()
            .clamp(4.0, rows as f32) as u16;
        let [left, _, right] = Layout::horizontal([
            Constraint::Length(cols + RULER),
            Constraint::Length(1),
            Constraint::Min(10),
        ])
        .areas(inner);
        let picture = Rect::new(left.x + RULER, left.y, cols, rows.min(left.height));
        if let Some(p) = &editor.preview {
            let mut state = p.borrow_mut();
            frame.render_stateful_widget(
                ratatui_image::StatefulImage::default().resize(ratatui_image::Resize::Scale(Some(
                    ratatui_image::FilterType::Triangle,
                ))),
                picture,
                &mut *state,
            );
        }
        draw_rulers(frame, picture);
        let mut lines = vec![Line::from(Span::styled("原照片的问题：", bold()))];
        for r in &editor.reasons {
            lines.push(Line::from(Span::styled(
                format!("· {r}"),
                Style::default().fg(Color::Yellow),
            )));
        }
        if let Err(why) = &editor.auto
            && !why.is_empty()
        {
            lines.push(Line::from(Span::styled(
                format!("· 无法按人脸自动裁剪：{why}"),
                Style::default().fg(Color::Yellow),
            )));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(editor.status.as_str()));
        for m in &editor.measures {
            let style = if m.starts_with('✗') {
                Style::default().fg(Color::Red)
            } else {
                Style::default()
            };
            lines.push(Line::from(Span::styled(m.as_str(), style)));
        }
        lines.push(Line::from(vec![
            Span::styled("标尺：左侧 ", dim()),
            Span::styled(HAIR_MARK, Style::default().fg(Color::Cyan)),
            Span::styled(" 头顶应在此行  ", dim()),
            Span::styled(EYE_MARK, Style::default().fg(Color::LightRed)),
            Span::styled(" 眼睛不低于此行；下方 ", dim()),
            Span::styled(MID_MARK, Style::default().fg(Color::Green)),
            Span::styled(" 两眼中点范围  ", dim()),
            Span::styled(WIDTH_MARK, Style::default().fg(Color::Magenta)),
            Span::styled(" 脸宽 179 与 255 像素的边", dim()),
        ]));
        // (The keys are in the hints below.)
        lines.push(Line::from(Span::styled(
            "Enter 生成合格照片（JPEG，20KB–8.75MB）。请确认：近期彩色免冠照，五官清晰无遮挡，无反光，头部居中。",
            dim(),
        )));
        frame.render_widget(prose(lines, right), right);
    }
}

/// Columns left of the preview for the ruler's marks.
const RULER: u16 = 1;
const HAIR_MARK: &str = "▸";
const EYE_MARK: &str = "▶";
const MID_MARK: &str = "▲";
const WIDTH_MARK: &str = "╵";

/// The rules' guides as marks beside the preview, in cells: they show whatever the
/// terminal draws images with (half-blocks blur a one-pixel line away). Left of it the row
/// the top of the hair must be in and the lowest row the eyes may be on; under it the
/// columns of the eyes' midpoint and of the face-width bounds.
fn draw_rulers(frame: &mut Frame, picture: Rect) {
    use crate::photo::geometry::{EYE_LINE_ABOVE_BOTTOM, EYE_MID_X, FACE_WIDTH, HAIR_TOP};
    if picture.x == 0 || picture.width == 0 || picture.height == 0 {
        return;
    }
    let buf = frame.buffer_mut();
    let row = |y_px: f32| {
        picture.y
            + ((y_px / CARD_HEIGHT as f32) * picture.height as f32).min(picture.height as f32 - 1.0)
                as u16
    };
    let col = |x_px: f32| {
        picture.x
            + ((x_px / CARD_WIDTH as f32) * picture.width as f32).min(picture.width as f32 - 1.0)
                as u16
    };
    let mut put = |x: u16, y: u16, mark: &str, colour: Color| {
        if x < buf.area.right() && y < buf.area.bottom() {
            buf[(x, y)].set_symbol(mark).set_fg(colour);
        }
    };
    let left = picture.x - 1;
    put(
        left,
        row((HAIR_TOP.start() + HAIR_TOP.end()) / 2.0),
        HAIR_MARK,
        Color::Cyan,
    );
    put(
        left,
        row(CARD_HEIGHT as f32 - EYE_LINE_ABOVE_BOTTOM),
        EYE_MARK,
        Color::LightRed,
    );
    let below = picture.y + picture.height;
    for x in col(*EYE_MID_X.start())..=col(*EYE_MID_X.end()) {
        put(x, below, MID_MARK, Color::Green);
    }
    let centre = (EYE_MID_X.start() + EYE_MID_X.end()) / 2.0;
    for half in [FACE_WIDTH.start() / 2.0, FACE_WIDTH.end() / 2.0] {
        put(col(centre - half), below, WIDTH_MARK, Color::Magenta);
        put(col(centre + half), below, WIDTH_MARK, Color::Magenta);
    }
}
