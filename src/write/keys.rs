//! What writing messages adds for search (V19): each message's keys (`search::keys`, from its
//! folded text) laid out for one statement, and the dictionary words not yet known to be stored.

use crate::{
    search::{fold_str, keys},
    store::lexicon::{Lexicon, NewWords},
};

/// The keys of a lot of messages, one after the other, with each message's range in them.
pub struct Keyed {
    /// Every message's keys, in the messages' order.
    pub keys: Vec<i32>,
    /// Where each message's keys start in `keys` (1-based, as in SQL).
    pub from: Vec<i32>,
    /// Where they end (inclusive; `from - 1` for none). Both 0: no keys computed (NULL).
    pub to: Vec<i32>,
    /// The words the dictionary may not have yet.
    pub words: NewWords,
}

/// Keys and new words for `messages` (application id, chat number, body); without `lexicon`,
/// none (NULL keys).
pub fn keyed<'m>(lexicon: Option<&Lexicon>, messages: impl IntoIterator<Item = (i64, i64, &'m str)>) -> Keyed {
    let mut out = Keyed {
        keys: Vec::new(),
        from: Vec::new(),
        to: Vec::new(),
        words: NewWords::default(),
    };
    let Some(lexicon) = lexicon else {
        let n = messages.into_iter().count();
        out.from = vec![0; n];
        out.to = vec![0; n];
        return out;
    };
    let mut folded_all: Vec<(i64, String)> = Vec::new();
    for (app, chat, body) in messages {
        let folded = fold_str(body);
        out.from.push(out.keys.len() as i32 + 1);
        out.keys.extend(keys::message_keys(app, chat, &folded));
        out.to.push(out.keys.len() as i32);
        folded_all.push((app, folded));
    }
    out.words = lexicon.unknown(
        folded_all
            .iter()
            .flat_map(|(app, folded)| keys::words(folded).map(move |w| (*app, w))),
    );
    out
}
