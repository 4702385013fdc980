//! Keys and a short how-to for the screen under it; any key closes it.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::Reply;
use crate::tui::theme::centered;

pub struct HelpPopup {
    text: String,
}

/// The keys every step of the wizard takes.
const KEYS: &str = "Tab / Shift-Tab / ↑↓  下一项 / 上一项
Enter                 打开列表、按按钮、导入照片
空格                  勾选 / 取消勾选
PageDown / PageUp     下一步 / 上一步（也可 Ctrl-N / Ctrl-P）
Ctrl-U                清空正在输入的这一项
Ctrl-S                立即保存（每次修改都会自动保存）
Esc                   回到工作台（内容不会丢失）
F1（非输入时也可按 ?）  本帮助
Ctrl-Q                退出";

impl HelpPopup {
    pub const HINTS: &'static str = " 按任意键关闭帮助";

    /// Help for a screen: what to do there (`how`), then the keys.
    pub fn new(how: &str) -> HelpPopup {
        HelpPopup {
            text: format!("{how}\n\n{KEYS}"),
        }
    }

    pub fn on_key(&mut self, _key: KeyEvent) -> Reply {
        Reply::Close
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let rect = centered(area, 72, 20);
        frame.render_widget(Clear, rect);
        let block = Block::default().borders(Borders::ALL).title(" 帮助 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        frame.render_widget(
            Paragraph::new(self.text.as_str()).wrap(Wrap { trim: false }),
            inner,
        );
    }
}
