//! Keys and a short how-to for the screen under it; any key closes it.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders};

use super::Reply;
use crate::tui::theme::{centered, clear_for_popup, prose};

pub struct HelpPopup {
    text: String,
}

/// The keys every step of the wizard takes.
pub const WIZARD_KEYS: &str = "Tab / Shift-Tab / ↑↓  下一项 / 上一项
Enter                 打开列表、按按钮、导入照片
空格                  勾选 / 取消勾选
PageDown / PageUp     下一步 / 上一步（也可 Ctrl-N / Ctrl-P）
Ctrl-U                清空正在输入的这一项
Ctrl-S                立即保存（每次修改都会自动保存）
Esc                   回到工作台（内容不会丢失）
Ctrl-L                立即锁屏（离开柜台时）
F1（非输入时也可按 ?）  本帮助
Ctrl-Q                退出";

/// The keys an application's progress page takes.
pub const PROGRESS_KEYS: &str = "p                     打印受理单（没有打印机时保存为 PDF）
e                     修改已退回的申请
Esc                   回到工作台
F1 / ?                本帮助
Ctrl-Q                退出";

/// The keys the home screen takes.
pub const HOME_KEYS: &str = "↑↓ / PageUp PageDown   选择申请
Enter                 打开所选申请（草稿继续填写，其余看进度）
n                     新建申请
/                     搜索（输入即筛选，Esc 清除）
w                     撤回所选的“待同步”申请
o                     操作员管理（负责人）
r                     工作日报：各操作员的件数和待处理的申请（负责人）
Ctrl-L                立即锁屏（离开柜台时）
F1 / ?                本帮助
q / Ctrl-Q            退出";

impl HelpPopup {
    pub const HINTS: &'static str = " 按任意键关闭帮助";

    /// Help for a screen: what to do there (`how`), then the keys it takes.
    pub fn new(how: &str, keys: &str) -> HelpPopup {
        HelpPopup {
            text: format!("{how}\n\n{keys}"),
        }
    }

    pub fn on_key(&mut self, _key: KeyEvent) -> Reply {
        Reply::Close
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let rect = centered(area, 72, 20);
        clear_for_popup(frame, rect);
        let block = Block::default().borders(Borders::ALL).title(" 帮助 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        frame.render_widget(prose(self.text.as_str(), inner), inner);
    }
}
