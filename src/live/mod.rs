//! Live delivery of a chat's messages (`.../messages/stream`): what changed is published as
//! compact lines in the payload of the NOTIFYs the announcer already sends on the jobs channel;
//! the process's one LISTEN connection hands them to the [`Hub`], which fans them out to the
//! subscribers of each chat.

mod hub;
mod subscription;

pub use hub::Hub;
pub use subscription::{LiveEvent, Subscription};
use uuid::Uuid;

/// A change to a chat, as published by the process that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// Messages were accepted (their numbers and jobs committed).
    Appended { token: Uuid, chat: i64 },
    /// A message's body was replaced.
    Edited { token: Uuid, chat: i64, number: i64 },
    /// A message was deleted.
    Deleted { token: Uuid, chat: i64, number: i64 },
    /// The chat was deleted.
    ChatGone { token: Uuid, chat: i64 },
    /// The application, with all its chats, was deleted.
    ApplicationGone { token: Uuid },
    /// Events may have been lost (too many to send, or a reconnect): every topic looks again.
    Everything,
}

impl ChatEvent {
    /// The event as one line of a NOTIFY payload.
    pub fn encode(&self) -> String {
        match self {
            ChatEvent::Appended { token, chat } => format!("a {token} {chat}"),
            ChatEvent::Edited { token, chat, number } => format!("u {token} {chat} {number}"),
            ChatEvent::Deleted { token, chat, number } => format!("d {token} {chat} {number}"),
            ChatEvent::ChatGone { token, chat } => format!("x {token} {chat}"),
            ChatEvent::ApplicationGone { token } => format!("X {token}"),
            ChatEvent::Everything => "*".to_owned(),
        }
    }

    /// Parses one line of a NOTIFY payload; `None` for anything else (an empty payload is a plain
    /// worker wake-up).
    pub fn decode(line: &str) -> Option<ChatEvent> {
        let mut parts = line.split(' ');
        let kind = parts.next()?;
        if kind == "*" {
            return Some(ChatEvent::Everything);
        }
        let token = parts.next()?.parse().ok()?;
        if kind == "X" {
            return Some(ChatEvent::ApplicationGone { token });
        }
        let chat = parts.next()?.parse().ok()?;
        let mut number = || parts.next().and_then(|n| n.parse().ok());
        Some(match kind {
            "a" => ChatEvent::Appended { token, chat },
            "x" => ChatEvent::ChatGone { token, chat },
            "u" => ChatEvent::Edited {
                token,
                chat,
                number: number()?,
            },
            "d" => ChatEvent::Deleted {
                token,
                chat,
                number: number()?,
            },
            _ => return None,
        })
    }
}

/// Most bytes in one NOTIFY payload (PostgreSQL's limit is 8,000).
pub const MAX_PAYLOAD: usize = 7_900;

/// Packs event lines into as few payloads as fit, dropping repeats (an `a` line for a busy chat
/// appears once per window). Past `max_payloads`, one `*` replaces them all.
pub fn pack(lines: Vec<String>, max_payloads: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut payloads: Vec<String> = Vec::new();
    for line in lines {
        if !seen.insert(line.clone()) {
            continue;
        }
        match payloads.last_mut() {
            Some(p) if p.len() + 1 + line.len() <= MAX_PAYLOAD => {
                p.push('\n');
                p.push_str(&line);
            }
            _ => payloads.push(line),
        }
    }
    if payloads.len() > max_payloads {
        return vec![ChatEvent::Everything.encode()];
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let token = Uuid::new_v4();
        for event in [
            ChatEvent::Appended { token, chat: 3 },
            ChatEvent::Edited {
                token,
                chat: 3,
                number: 9,
            },
            ChatEvent::Deleted {
                token,
                chat: 1,
                number: 2,
            },
            ChatEvent::ChatGone { token, chat: 7 },
            ChatEvent::ApplicationGone { token },
            ChatEvent::Everything,
        ] {
            assert_eq!(ChatEvent::decode(&event.encode()), Some(event));
        }
        assert_eq!(ChatEvent::decode(""), None);
        assert_eq!(ChatEvent::decode("u 1 2 3"), None);
        assert_eq!(ChatEvent::decode(&format!("u {token} 2")), None);
    }

    #[test]
    fn packing_dedupes_splits_and_gives_up() {
        let token = Uuid::new_v4();
        let line = |chat| ChatEvent::Appended { token, chat }.encode();
        let packed = pack(vec![line(1), line(2), line(1)], 10);
        assert_eq!(packed, vec![format!("{}\n{}", line(1), line(2))]);
        let many: Vec<String> = (0..1000).map(line).collect();
        let packed = pack(many, 100);
        assert!(packed.len() > 1 && packed.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let lines: usize = packed.iter().map(|p| p.lines().count()).sum();
        assert_eq!(lines, 1000);
        assert_eq!(pack((0..1000).map(line).collect(), 2), vec!["*".to_owned()]);
    }
}
