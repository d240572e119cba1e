//! One folding everywhere: the service folds text (for highlights and relevance) exactly as the
//! database does (for matching), so a hit is always highlighted and ranked; and what search makes
//! of text in decomposed form, emoji, right-to-left scripts and zero-width characters.

use chat_system::search::fold_str;

use crate::{helpers::TestApp, search::Chat};

/// What PostgreSQL's `unaccent()` makes of every character it changes, as a JSON object: the
/// query that wrote `src/search/unaccent.json` (sorted, one entry per line).
const UNACCENT_CHANGES: &str = "SELECT json_object_agg(chr(n), u ORDER BY n)::text FROM ( \
     SELECT n, public.unaccent('public.unaccent', chr(n)) u FROM generate_series(128, 1114111) n \
     WHERE n NOT BETWEEN 55296 AND 57343) t WHERE u <> chr(n)";

#[tokio::test]
async fn the_services_folding_is_the_databases() {
    let app = TestApp::spawn().await;
    let client = app.db.client().await.unwrap();

    // The rules the service carries are the database's, character for character.
    let text: String = client.query_one(UNACCENT_CHANGES, &[]).await.unwrap().get(0);
    let database: serde_json::Value = serde_json::from_str(&text).unwrap();
    let carried: serde_json::Value = serde_json::from_str(include_str!("../../src/search/unaccent.json")).unwrap();
    assert_eq!(
        carried, database,
        "src/search/unaccent.json differs from this PostgreSQL's unaccent rules"
    );

    for text in [
        "Crème BRÛLÉE",
        "Die Straße, Łódź, Ørsted, Æsir, Œuvre, ﬁnal ½",
        "Cafe\u{301} de\u{301}compose\u{301}",
        "İstanbul ǅ ΟΔΟΣ ΣΑ Σ",
        "שלום עולם مرحبا بالعالم",
        "zero\u{200b}width\u{200d}joiner \u{feff}bom",
        "party 🎉 tonight 👍🏽 ❤️",
        "tabs\tand\u{a0}no-break\u{3000}spaces  \n twice",
        "한국어 日本語 Ελληνικά Кириллица йод",
        "©2026 ™ “quoted” ¡hola!",
    ] {
        let database: String = client
            .query_one("SELECT chat_search_text($1)", &[&text])
            .await
            .unwrap()
            .get(0);
        assert_eq!(fold_str(text), database, "{text:?}");
    }

    // Every character, folded alone: since V19 the service folds what is stored (the searchable
    // text of every message it writes), so the two must agree on all of them, not a sample.
    let rows = client
        .query(
            "SELECT n, chat_search_text('a' || chr(n) || 'a') FROM generate_series(1, 1114111) n
             WHERE n NOT BETWEEN 55296 AND 57343",
            &[],
        )
        .await
        .unwrap();
    let differ: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let c = char::from_u32(row.get::<_, i32>(0) as u32)?;
            let database: String = row.get(1);
            let service = fold_str(&format!("a{c}a"));
            (service != database).then(|| format!("U+{:04X}: service {service:?}, database {database:?}", c as u32))
        })
        .take(20)
        .collect();
    assert!(differ.is_empty(), "the foldings differ:\n{}", differ.join("\n"));
}

#[tokio::test]
async fn every_hit_is_highlighted_whatever_its_letters() {
    let app = TestApp::spawn().await;
    let strasse = "Die Straße ist lang";
    let lodz = "Łódź is far";
    let decomposed = "Cafe\u{301} ouvert";
    let party = "party 🎉 tonight";
    let hebrew = "שלום עולם";
    let zero_width = "hel\u{200b}lo there";
    let chat = Chat::with(&app, &[strasse, lodz, decomposed, party, hebrew, zero_width]).await;

    let first = |r: crate::helpers::Response| {
        let hit = &r.body["data"][0];
        (
            hit["body"].as_str().unwrap().to_owned(),
            hit["snippet"].as_str().unwrap().to_owned(),
        )
    };
    for (query, body, snippet) in [
        // unaccent's letters beyond accents: ß is ss, ł is l.
        ("strasse", strasse, "Die <mark>Straße</mark> ist lang"),
        ("straße", strasse, "Die <mark>Straße</mark> ist lang"),
        ("lodz", lodz, "<mark>Łódź</mark> is far"),
        // A body in decomposed form (e + combining acute), a query precomposed, and the reverse.
        ("café", decomposed, "<mark>Cafe\u{301}</mark> ouvert"),
        ("cafe\u{301}", decomposed, "<mark>Cafe\u{301}</mark> ouvert"),
        // An emoji is a term like any other (no letter or digit: found anywhere).
        ("🎉", party, "party <mark>🎉</mark> tonight"),
        // Right-to-left text: words, and a short term where a word starts.
        ("עולם", hebrew, "שלום <mark>עולם</mark>"),
        ("של", hebrew, "<mark>של</mark>ום עולם"),
        // A zero-width space is a character that is not a letter: it ends a word.
        ("lo", zero_width, "hel\u{200b}<mark>lo</mark> there"),
    ] {
        let r = chat.search(query, "&order=relevance").await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert_eq!(first(r), (body.to_owned(), snippet.to_owned()), "{query}");
    }
    assert_eq!(chat.find("hello", "").await, Vec::<String>::new());
}
