//! Daily Limit: how many uses a key may have per UTC day, or none (an empty field).

use tui_input::{Input, InputRequest};

use super::{Effect, Job, Outcome};
use crate::store::{KeyRecord, MAX_DAILY_LIMIT};
use crate::tui::action::Action;

/// The rule, said when the field holds something else.
pub const LIMIT_RULE: &str =
    "A daily limit is a whole number from 1 to 1,000,000,000; leave the field empty for none.";

pub struct SetLimit {
    pub key: KeyRecord,
    pub value: Input,
    pub error: Option<String>,
}

impl SetLimit {
    /// Opens on `key` with its current limit in the field.
    pub fn new(key: KeyRecord) -> SetLimit {
        let value = key.daily_limit.map(|n| n.to_string()).unwrap_or_default();
        SetLimit {
            key,
            value: Input::new(value),
            error: None,
        }
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Cancel => return Outcome::Close,
            Action::Edit(request) => {
                self.value.handle(request);
                self.error = parse(self.value.value()).err();
            }
            Action::Paste(text) => {
                // Digits are all a limit holds: a pasted line (or a megabyte pasted by
                // mistake) is cut to what could be one.
                for c in text.trim().chars().take(16) {
                    self.value.handle(InputRequest::InsertChar(c));
                }
                self.error = parse(self.value.value()).err();
            }
            Action::Submit => match parse(self.value.value()) {
                Ok(limit) => {
                    return Outcome::Run(Effect::Write(Job::SetLimit {
                        key: self.key.clone(),
                        limit,
                    }));
                }
                Err(rule) => self.error = Some(rule),
            },
            _ => {}
        }
        Outcome::Stay
    }
}

/// The field as a limit: empty (or "none") for no limit, else 1 to [`MAX_DAILY_LIMIT`]; digit
/// group separators (`5,000`, `5_000`, `5 000`) are allowed as people write them.
fn parse(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    digits
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_DAILY_LIMIT).contains(n))
        .map(Some)
        .ok_or_else(|| LIMIT_RULE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_reads_as_people_write_limits() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse(" none "), Ok(None));
        assert_eq!(parse("5000"), Ok(Some(5_000)));
        assert_eq!(parse("5,000"), Ok(Some(5_000)));
        assert_eq!(parse("1_000_000_000"), Ok(Some(MAX_DAILY_LIMIT)));
        for bad in [
            "0",
            "-1",
            "1000000001",
            "ten",
            "1.5",
            "99999999999999999999",
        ] {
            assert_eq!(parse(bad), Err(LIMIT_RULE.to_owned()), "{bad}");
        }
    }
}
