//! The `?` overlay: every binding, generated from the key map, and the page's short FAQ.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::centered;
use super::theme::Theme;
use crate::tui::keymap::{Context, hints};

const FAQ: &[(&str, &str)] = &[
    (
        "Why is only a masked key shown?",
        "hivekeys stores a SHA-256 hash of each key, never the key itself. The full key is shown \
         once, in \"Your New API Key\" after you create or rotate it: copy it then. The masked form \
         is enough to recognise a key and check its environment, status and last use.",
    ),
    (
        "What does Rotate Key do?",
        "It gives the key a new secret under the same id, name and environment. The old secret \
         stops working at once, or after the grace period you pick (1 hour, 24 hours or 7 days), \
         so apps can switch over.",
    ),
    (
        "What does Revoke do?",
        "It disables the key and every secret it has, at once and for good. Revoked keys stay \
         listed so their history can be reviewed.",
    ),
    (
        "Are these my model provider's keys?",
        "No. Workspace API keys authenticate requests to your deployments. They are not the \
         provider credentials you connect for personal model usage; those are managed under \
         Integrations (\"Use your own API Key\").",
    ),
];

pub fn render(frame: &mut Frame<'_>, area: Rect, scroll: u16, theme: &Theme) {
    let outer = centered(area, 84, area.height.saturating_sub(2));
    frame.render_widget(Clear, outer);
    let mut lines = Vec::new();
    for context in Context::ALL {
        let entries: Vec<_> = hints(context).collect();
        if entries.is_empty() {
            continue;
        }
        lines.push(Line::styled(context.title(), theme.title()));
        for hint in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", hint.keys), theme.key_hint()),
                Span::raw(hint.text),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::styled("Questions", theme.title()));
    for (question, answer) in FAQ {
        lines.push(Line::styled(*question, theme.warning()));
        lines.push(Line::from(*answer));
        lines.push(Line::from(""));
    }
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(" Help ", theme.title()))
        .title_bottom(Line::from(" j/k scroll · Esc/? close ").right_aligned());
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        outer,
    );
}
