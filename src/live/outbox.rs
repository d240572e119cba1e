//! The outbox of live event lines waiting for the announcer: each line kept once, in order, and
//! bounded while the database cannot be reached.

use std::collections::HashSet;

use super::event::ChatEvent;

/// Live event lines waiting for the announcer, each kept once (a busy chat's `a` line is one
/// line however many messages it gets) and in the order first published. Past the cap, while
/// the announcer cannot send (the database is unreachable), the lines a re-read of every watched
/// chat recovers (new messages, a chat or application deleted) give way to one "look again"
/// (`*`), sent first: every listener of every instance then re-reads every watched chat. Edits
/// and deletes, which a re-read cannot recover, are kept; only when they alone pass the cap are
/// the oldest dropped, with a warning.
#[derive(Default)]
pub(super) struct Outbox {
    lines: Vec<String>,
    seen: HashSet<String>,
    /// Lines were given up: the next announcement starts with `*`.
    look_again: bool,
}

impl Outbox {
    pub(super) fn push(&mut self, line: String, cap: usize) {
        if line == ChatEvent::Everything.encode() {
            return self.give_up_rereadable();
        }
        if self.look_again && rereadable(&line) {
            return;
        }
        if self.seen.insert(line.clone()) {
            self.lines.push(line);
        }
        if self.lines.len() > cap {
            self.give_up_rereadable();
            if self.lines.len() > cap {
                let dropped = self.lines.len() - cap;
                tracing::warn!(dropped, "live outbox full of edits and deletes; the oldest are dropped");
                for line in self.lines.drain(..dropped) {
                    self.seen.remove(&line);
                }
            }
        }
    }

    /// Replaces every line a re-read recovers by the "look again" marker.
    fn give_up_rereadable(&mut self) {
        self.look_again = true;
        self.lines.retain(|line| !rereadable(line));
        self.seen.retain(|line| !rereadable(line));
    }

    /// Everything for one announcement, the marker first.
    pub(super) fn take(&mut self) -> Vec<String> {
        self.seen.clear();
        let mut lines = std::mem::take(&mut self.lines);
        if std::mem::take(&mut self.look_again) {
            lines.insert(0, ChatEvent::Everything.encode());
        }
        lines
    }

    /// Puts back an announcement that was not sent, ahead of what was published since.
    pub(super) fn put_back(&mut self, unsent: Vec<String>, cap: usize) {
        let newer = self.take();
        for line in unsent.into_iter().chain(newer) {
            self.push(line, cap);
        }
    }
}

/// True for a line whose news a re-read of the watched chats finds again: new messages (`a`), a
/// chat (`x`) or an application (`X`) deleted. Not edits (`u`) and deletes (`d`).
fn rereadable(line: &str) -> bool {
    !(line.starts_with("u ") || line.starts_with("d "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appended(chat: i64) -> String {
        ChatEvent::Appended { app: 1, chat }.encode()
    }

    fn edited(number: i64) -> String {
        ChatEvent::Edited {
            app: 1,
            chat: 1,
            number,
        }
        .encode()
    }

    #[test]
    fn the_outbox_keeps_each_line_once_in_order() {
        let mut outbox = Outbox::default();
        for line in [appended(1), edited(4), appended(1), appended(2)] {
            outbox.push(line, 10);
        }
        assert_eq!(outbox.take(), [appended(1), edited(4), appended(2)]);
        assert!(outbox.take().is_empty());
    }

    #[test]
    fn past_its_cap_the_outbox_says_look_again_and_keeps_edits() {
        let mut outbox = Outbox::default();
        outbox.push(edited(1), 3);
        for chat in 1..=5 {
            outbox.push(appended(chat), 3);
        }
        outbox.push(edited(2), 3);
        // New-message lines after the marker add nothing: the re-read finds them.
        outbox.push(appended(9), 3);
        assert_eq!(outbox.take(), ["*".to_owned(), edited(1), edited(2)]);
        // Edits alone past the cap: the oldest go.
        for number in 1..=5 {
            outbox.push(edited(number), 3);
        }
        assert_eq!(outbox.take(), ["*".to_owned(), edited(3), edited(4), edited(5)]);
    }

    #[test]
    fn an_unsent_announcement_goes_back_ahead_of_newer_lines_and_never_past_the_cap_silently() {
        let mut outbox = Outbox::default();
        outbox.push(appended(1), 3);
        outbox.push(edited(1), 3);
        let unsent = outbox.take();
        outbox.push(appended(2), 3);
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), [appended(1), edited(1), appended(2)]);

        // Taken while the outbox filled up again: together they pass the cap.
        outbox.push(appended(1), 3);
        outbox.push(appended(2), 3);
        let unsent = outbox.take();
        outbox.push(appended(3), 3);
        outbox.push(appended(4), 3);
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), ["*".to_owned()]);

        // A marker taken and not sent is kept.
        outbox.push("*".to_owned(), 3);
        let unsent = outbox.take();
        outbox.put_back(unsent, 3);
        assert_eq!(outbox.take(), ["*".to_owned()]);
    }
}
