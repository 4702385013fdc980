//! Moving and zooming the crop of a card photo that did not pass, seeing the result before
//! Enter makes a passing JPEG. The editing itself is `photo_ui::CropEditor`'s.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::Reply;
use crate::tui::action::Action;
use crate::tui::ctx::Ctx;
use crate::tui::photo_ui::{CropEditor, PREVIEW_CELLS};
use crate::tui::theme::{bold, centered, clear_for_popup, dim, prose};

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

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let editor = &self.editor;
        let rect = centered(area, 96, 24);
        clear_for_popup(frame, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(" 调整制卡照片：358×441 像素 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [left, right] = Layout::horizontal([
            Constraint::Length(PREVIEW_CELLS.width + 2),
            Constraint::Min(10),
        ])
        .areas(inner);
        if let Some(p) = &editor.preview {
            frame.render_widget(ratatui_image::Image::new(p), left);
        }
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
        lines.push(Line::from(Span::styled(
            "参考线：蓝＝头顶 7–21 像素  橙＝眼睛须在此线以上  绿＝两眼中点  紫＝脸宽 179–255",
            dim(),
        )));
        lines.push(Line::from(""));
        lines.push(Line::from(
            "←→↑↓ 移动   + / - 缩放   [ ] 旋转   a 按人脸自动   r 复位",
        ));
        lines.push(Line::from(
            "Enter 生成合格照片（JPEG，20KB–8.75MB）   Esc 取消",
        ));
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "请确认：近期彩色免冠照，五官清晰无遮挡，无反光，头部居中。",
            dim(),
        )));
        frame.render_widget(prose(lines, right), right);
    }
}
