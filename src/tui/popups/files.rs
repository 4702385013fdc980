//! Picking a photo: the photo folder's images newest first (the one just taken is at the
//! top), or a path typed with Tab completion; then the file is stored in the store.
//! Checking and fixing photos against the card spec is the photo module's job.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Reply;
use crate::domain::PhotoSlot;
use crate::domain::dates::beijing;
use crate::tui::action::Action;
use crate::tui::theme::{centered, clear_for_popup, dim, pack, pad, selected};

const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

pub struct FilePopup {
    pub slot: PhotoSlot,
    pub dir: PathBuf,
    /// Image files of the folder, newest first.
    pub entries: Vec<ImageFile>,
    /// What the clerk typed: a filter on the names, or a path.
    pub input: String,
    pub selected: usize,
    /// Why the folder could not be listed, if it could not.
    pub problem: Option<String>,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// An image in the photo folder, with the time it was last written (read once, when the
/// folder is listed, never while drawing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub path: PathBuf,
    pub modified: std::time::SystemTime,
}

/// Image files in `dir`, newest first.
pub fn list_images(dir: &Path) -> std::io::Result<Vec<ImageFile>> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| is_image(p))
        .map(|p| {
            let t = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(files
        .into_iter()
        .map(|(modified, path)| ImageFile { path, modified })
        .collect())
}

/// Complete a typed path as a shell does: to the longest common prefix of the matches.
pub fn complete_path(input: &str, base: &Path) -> String {
    let typed = Path::new(input);
    let (dir, prefix) = if input.ends_with('/') {
        (typed.to_path_buf(), String::new())
    } else {
        (
            typed.parent().map(Path::to_path_buf).unwrap_or_default(),
            typed
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("")
                .to_owned(),
        )
    };
    let search = if dir.as_os_str().is_empty() {
        base.to_path_buf()
    } else if dir.is_absolute() {
        dir.clone()
    } else {
        base.join(&dir)
    };
    let Ok(read) = std::fs::read_dir(&search) else {
        return input.to_owned();
    };
    let mut names: Vec<(String, bool)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let is_dir = e.file_type().ok()?.is_dir();
            (name.starts_with(&prefix) && !name.starts_with('.')).then_some((name, is_dir))
        })
        .collect();
    names.sort();
    let Some((first, first_dir)) = names.first().cloned() else {
        return input.to_owned();
    };
    let mut common = first.clone();
    for (n, _) in &names[1..] {
        while !n.starts_with(&common) {
            common.pop();
        }
    }
    let mut out = if dir.as_os_str().is_empty() {
        common.clone()
    } else {
        dir.join(&common).to_string_lossy().into_owned()
    };
    if names.len() == 1 && first_dir {
        out.push('/');
    }
    out
}

pub use crate::private_files::io_reason;

/// Make the photo folder at first run, readable by this user only (ID card images and
/// face photos go there). A folder that exists already is left as it is.
pub fn ensure_photo_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    crate::store::create_private_dir(dir)
}

impl FilePopup {
    pub fn open(dir: &Path, slot: PhotoSlot) -> FilePopup {
        let (entries, problem) = match list_images(dir) {
            Ok(e) => (e, None),
            Err(e) => (
                Vec::new(),
                Some(format!(
                    "照片文件夹{}：{}。可在上面输入照片的完整路径（Tab 补全）",
                    io_reason(&e),
                    dir.display()
                )),
            ),
        };
        FilePopup {
            slot,
            dir: dir.to_owned(),
            entries,
            input: String::new(),
            selected: 0,
            problem,
        }
    }

    /// The folder's images whose names contain what was typed.
    pub fn visible(&self) -> Vec<&ImageFile> {
        self.entries
            .iter()
            .filter(|f| {
                f.path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.to_lowercase().contains(&self.input.to_lowercase()))
            })
            .collect()
    }

    /// The keys `on_key` handles, for the footer.
    pub const HINTS: &'static str = " 输入筛选或路径  ↑↓ 选择  Tab 补全路径  Enter 导入  Esc 取消";

    /// Handle a key: a file chosen is an `Import` for the screen.
    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        let import = |field, path| Reply::Act(Action::Import { field, path });
        match key.code {
            KeyCode::Esc => return Reply::Close,
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.visible().len().saturating_sub(1))
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.selected = 0;
            }
            KeyCode::Tab => {
                self.input = complete_path(&self.input, &self.dir);
                self.selected = 0;
            }
            KeyCode::Enter => {
                let typed = self.typed_path();
                if let Some(p) = typed.as_ref().filter(|p| p.is_file()) {
                    return import(self.slot.field(), p.clone());
                }
                if let Some(f) = self.visible().get(self.selected) {
                    return import(self.slot.field(), f.path.clone());
                }
                if let Some(p) = typed {
                    self.problem = Some(match std::fs::metadata(&p) {
                        Ok(m) if m.is_dir() => format!(
                            "{} 是文件夹：请输入其中一张照片的文件名（Tab 补全）",
                            p.display()
                        ),
                        Ok(_) => format!("{} 不是普通文件", p.display()),
                        Err(e) => format!("找不到这张照片：{} {}", p.display(), io_reason(&e)),
                    });
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        Reply::Stay
    }

    pub fn on_paste(&mut self, text: &str) {
        self.input.push_str(text);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let visible = self.visible();
        let rect = centered(area, 76, 18);
        clear_for_popup(frame, rect);
        let block = Block::default().borders(Borders::ALL).title(format!(
            " 导入{}：照片文件夹 {} ",
            self.slot.label(),
            self.dir.display()
        ));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let mut lines = vec![Line::from(vec![
            Span::raw("筛选或路径："),
            Span::styled(
                format!("{}▏", self.input),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ),
        ])];
        // Messages wrap inside the box: the part that says what to do is never cut.
        let message = |text: &str, style: Style| -> Vec<Line<'static>> {
            pack(&[text.to_owned()], inner.width as usize + 1, 0)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, style)))
                .collect()
        };
        if let Some(p) = &self.problem {
            lines.extend(message(p, Style::default().fg(Color::Red)));
        }
        if visible.is_empty() && self.problem.is_none() {
            let text = if self.entries.is_empty() {
                format!(
                    "照片文件夹 {} 中还没有照片：把手机或高拍仪拍的照片（JPEG/PNG）放进这个文件夹，或在上面输入照片的完整路径（Tab 补全）",
                    self.dir.display()
                )
            } else {
                "没有名字含所输内容的照片；也可输入照片的完整路径（Tab 补全）".to_owned()
            };
            lines.extend(message(&text, dim()));
        }
        let height = inner.height.saturating_sub(2) as usize;
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        for (i, file) in visible.iter().enumerate().skip(first).take(height) {
            let when = chrono::DateTime::<chrono::Utc>::from(file.modified)
                .with_timezone(&beijing())
                .format("%m-%d %H:%M")
                .to_string();
            let name = file
                .path
                .file_name()
                .map(|n| crate::domain::display::printable(&n.to_string_lossy()).into_owned())
                .unwrap_or_default();
            let style = if i == self.selected {
                selected()
            } else {
                Style::default()
            };
            lines.push(Line::from(Span::styled(
                format!(" {}  {}", pad(&name, 50), when),
                style,
            )));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        let hint = Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        );
        frame.render_widget(Paragraph::new("最新的在最上面").style(dim()), hint);
    }

    /// The typed text as a path (relative paths are in the photo folder).
    fn typed_path(&self) -> Option<PathBuf> {
        let t = self.input.trim();
        if t.is_empty() {
            return None;
        }
        let p = Path::new(t);
        Some(if p.is_absolute() {
            p.to_owned()
        } else {
            self.dir.join(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_extends_to_the_common_prefix() {
        let dir = tempfile::TempDir::new().unwrap();
        for name in ["photo-2026-a.jpg", "photo-2026-b.jpg", "other.png"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("scans")).unwrap();
        assert_eq!(complete_path("ph", dir.path()), "photo-2026-");
        assert_eq!(complete_path("ot", dir.path()), "other.png");
        assert_eq!(complete_path("sc", dir.path()), "scans/");
        assert_eq!(complete_path("zz", dir.path()), "zz");
    }

    #[test]
    fn the_newest_image_comes_first_and_others_are_ignored() {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join("old.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("old.jpg"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::fs::write(dir.path().join("new.JPG"), b"x").unwrap();
        let names: Vec<_> = list_images(dir.path())
            .unwrap()
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["new.JPG", "old.jpg"]);
    }
}
