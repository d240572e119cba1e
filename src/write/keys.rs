//! What writing messages adds for search (V19): each message's keys (`search::keys`, from its
//! folded text) laid out for one statement, and the dictionary words not yet known to be stored.

use crate::{
    search::{fold_str, keys},
    store::lexicon::{Lexicon, NewWords},
};

/// The folded texts and keys of a lot of messages, the keys one after the other, with each
/// message's range in them.
#[derive(Default)]
pub struct Keyed {
    /// Every message's folded text.
    pub folded: Vec<String>,
    /// Every message's keys, in the messages' order.
    pub keys: Vec<i32>,
    /// Where each message's keys start in `keys` (1-based, as in SQL).
    pub from: Vec<i32>,
    /// Where they end (inclusive; `from - 1` for none).
    pub to: Vec<i32>,
    /// The words the dictionary may not have yet.
    pub words: NewWords,
}

/// Folded texts, keys and new words for `messages` (application id, body).
pub fn keyed<'m>(lexicon: &Lexicon, messages: impl IntoIterator<Item = (i64, &'m str)>) -> Keyed {
    let mut out = Keyed::default();
    let mut apps = Vec::new();
    for (app, body) in messages {
        let folded = fold_str(body);
        out.from.push(out.keys.len() as i32 + 1);
        out.keys.extend(keys::message_keys(&folded));
        out.to.push(out.keys.len() as i32);
        out.folded.push(folded);
        apps.push(app);
    }
    out.words = lexicon.unknown(
        apps.iter()
            .zip(&out.folded)
            .flat_map(|(app, folded)| keys::words(folded).map(move |w| (*app, w))),
    );
    out
}
