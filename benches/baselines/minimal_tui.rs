//! The floor for "start to first frame": a minimal ratatui program, as ratatui's own
//! hello-world is written, drawing one paragraph and waiting for q. `benches/run` starts
//! it in a pseudo-terminal beside `sbk` and times both from spawn to the text on screen.

use ratatui::crossterm::event::{self, Event, KeyCode};
use ratatui::widgets::Paragraph;

fn main() -> std::io::Result<()> {
    let mut terminal = ratatui::init();
    let drawn = terminal.draw(|frame| {
        frame.render_widget(Paragraph::new("第三代社会保障卡 柜台申领"), frame.area())
    });
    let result = drawn.and_then(|_| {
        loop {
            if let Event::Key(key) = event::read()?
                && key.code == KeyCode::Char('q')
            {
                return Ok(());
            }
        }
    });
    ratatui::restore();
    result
}
