//! Search semantics as users rely on them.

use reqwest::StatusCode;
use std::time::Duration;

use crate::helpers::{on_citus, test_config, TestApp};

pub(crate) struct Chat<'a> {
    app: &'a TestApp,
    base: String,
}

impl<'a> Chat<'a> {
    pub(crate) async fn with(app: &'a TestApp, bodies: &[&str]) -> Chat<'a> {
        let token = app.create_app("Search").await;
        let chat = app.create_chat(&token).await;
        for body in bodies {
            app.create_message(&token, chat, body).await;
        }
        Chat {
            app,
            base: format!("/api/applications/{token}/chats/{chat}/messages"),
        }
    }

    /// The bodies found for `query` (with extra query string `extra`).
    pub(crate) async fn find(&self, query: &str, extra: &str) -> Vec<String> {
        let r = self.search(query, extra).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) async fn search(&self, query: &str, extra: &str) -> crate::helpers::Response {
        let q: String = url_encode(query);
        self.app.get(&format!("{}?query={q}{extra}", self.base)).await
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn terms_match_inside_words_case_and_accent_insensitively() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(
        &app,
        &[
            "Hello there",
            "We all live in a yellow submarine",
            "Un Café crème",
            "nothing",
        ],
    )
    .await;

    assert_eq!(
        chat.find("ello", "").await,
        vec!["We all live in a yellow submarine", "Hello there"]
    );
    assert_eq!(chat.find("HELLO", "").await, vec!["Hello there"]);
    assert_eq!(chat.find("submar", "").await, vec!["We all live in a yellow submarine"]);
    assert_eq!(chat.find("cafe", "").await, vec!["Un Café crème"]);
    assert_eq!(chat.find("CRÈME", "").await, vec!["Un Café crème"]);
    assert_eq!(chat.find("CREME", "").await, vec!["Un Café crème"]);
    assert!(chat.find("absent", "").await.is_empty());
}

#[tokio::test]
async fn every_term_must_match_in_any_order() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(&app, &["red apple pie", "green apple", "red car"]).await;

    assert_eq!(chat.find("apple red", "").await, vec!["red apple pie"]);
    assert_eq!(chat.find("red apple", "").await, vec!["red apple pie"]);
    assert_eq!(chat.find("  apple   ", "").await, vec!["green apple", "red apple pie"]);
}

#[tokio::test]
async fn quoted_words_match_as_a_phrase() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(
        &app,
        &[
            "the yellow submarine",
            "a submarine that is yellow",
            "Yellow\n  Submarine!",
        ],
    )
    .await;

    assert_eq!(
        chat.find(r#""yellow submarine""#, "").await,
        vec!["Yellow\n  Submarine!", "the yellow submarine"]
    );
    assert_eq!(chat.find(r#""submarine yellow""#, "").await, Vec::<String>::new());
    // A phrase may start and end inside words, and its highlight spans the whitespace between.
    let r = chat.search("\"llow\tsubma\"", "").await;
    let snippets: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["snippet"].as_str().unwrap())
        .collect();
    assert_eq!(
        snippets,
        vec!["Ye<mark>llow\n  Subma</mark>rine!", "the ye<mark>llow subma</mark>rine"]
    );
}

#[tokio::test]
async fn short_terms_match_word_starts() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(&app, &["hello world", "oh well", "shell"]).await;

    assert_eq!(chat.find("he", "").await, vec!["hello world"]);
    assert_eq!(chat.find("w", "").await, vec!["oh well", "hello world"]);
    assert_eq!(chat.find("Ó", "").await, vec!["oh well"]);
}

#[tokio::test]
async fn short_terms_match_every_word_start_a_reader_sees() {
    let app = TestApp::spawn().await;
    let url = "see http://www.example.org/path/to_file.txt";
    let mail = "mail bob.smith@example.com";
    let issue = "issue #12 fixed";
    let plan = "plan b. works";
    let dashes = "a--b";
    let long = format!("Zebra{}", "z".repeat(3000));
    let chat = Chat::with(&app, &[url, mail, issue, plan, dashes, &long]).await;

    // Inside URLs, host names, paths, file names and e-mail addresses: every word start.
    assert_eq!(chat.find("h", "").await, vec![url]);
    assert_eq!(chat.find("ht", "").await, vec![url]);
    assert_eq!(chat.find("ww", "").await, vec![url]);
    assert_eq!(chat.find("ex", "").await, vec![mail, url]);
    assert_eq!(chat.find("pa", "").await, vec![url]);
    assert_eq!(chat.find("tx", "").await, vec![url]);
    assert_eq!(chat.find("fi", "").await, vec![issue, url]);
    assert_eq!(chat.find("sm", "").await, vec![mail]);
    assert_eq!(chat.find("co", "").await, vec![mail]);
    // Not inside a word.
    assert_eq!(chat.find("tp", "").await, Vec::<String>::new());
    // A word of any length (PostgreSQL's full-text vectors leave out words over 2,047 bytes).
    assert_eq!(chat.find("ze", "").await, vec![long.clone()]);
    // Punctuation in a short term is matched as typed, where a word starts.
    assert_eq!(chat.find("#1", "").await, vec![issue]);
    assert_eq!(chat.find("12", "").await, vec![issue]);
    assert_eq!(chat.find("b.", "").await, vec![plan]);
    // Without a letter or digit, a short term is a substring anywhere.
    assert_eq!(chat.find("--", "").await, vec![dashes]);
    // Highlighted where they match.
    let r = chat.search("ex", "").await;
    assert_eq!(r.body["data"][0]["snippet"], "mail bob.smith@<mark>ex</mark>ample.com");
}

#[tokio::test]
async fn query_syntax_characters_are_plain_text() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(
        &app,
        &[
            "50% off & more!",
            "a|b c:d (e) 'f' \\g",
            "x*y",
            "under_score",
            "underXscore",
            "plain",
        ],
    )
    .await;

    assert_eq!(chat.find("50%", "").await, vec!["50% off & more!"]);
    assert_eq!(chat.find("&", "").await, vec!["50% off & more!"]);
    assert_eq!(chat.find("a|b", "").await, vec!["a|b c:d (e) 'f' \\g"]);
    assert_eq!(chat.find("c:d", "").await, vec!["a|b c:d (e) 'f' \\g"]);
    assert_eq!(chat.find("(e)", "").await, vec!["a|b c:d (e) 'f' \\g"]);
    assert_eq!(chat.find("'f'", "").await, vec!["a|b c:d (e) 'f' \\g"]);
    assert_eq!(chat.find("\\g", "").await, vec!["a|b c:d (e) 'f' \\g"]);
    assert_eq!(chat.find("x*y", "").await, vec!["x*y"]);
    assert_eq!(chat.find("r_s", "").await, vec!["under_score"], "_ is not a wildcard");
    assert_eq!(chat.find("r%s", "").await, Vec::<String>::new(), "% is not a wildcard");
    for hostile in [
        "!",
        "'",
        "\\",
        ":*",
        "&|!",
        "()",
        "'':*",
        "\\\\'",
        "*",
        "!!!!",
        "a'",
        "\"",
        "' OR 1=1 --",
    ] {
        let r = chat.search(hostile, "").await;
        assert_eq!(r.status, StatusCode::OK, "{hostile}: {}", r.body);
    }
}

#[tokio::test]
async fn pagination_goes_past_ten_hits_with_a_cursor() {
    let app = TestApp::spawn().await;
    let bodies: Vec<String> = (1..=35).map(|i| format!("needle number {i}")).collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let chat = Chat::with(&app, &refs).await;

    let first = chat.search("needle", "&limit=20").await;
    let cursor = first.body["next_before"].as_i64().unwrap();
    let second = chat.search("needle", &format!("&limit=20&before={cursor}")).await;
    let page2 = chat.search("needle", "&limit=20&page=2").await;

    let numbers = |r: &crate::helpers::Response| r.numbers();
    assert_eq!(numbers(&first), (16..=35).rev().collect::<Vec<_>>());
    assert_eq!(first.body["has_more"], true);
    assert_eq!(numbers(&second), (1..=15).rev().collect::<Vec<_>>());
    assert_eq!(second.body["has_more"], false);
    assert_eq!(numbers(&page2), numbers(&second));
}

#[tokio::test]
async fn relevance_order_and_snippets() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(&app, &["a sub marine", "submarine <b>", "nosub here", "sub"]).await;

    let ranked = chat.search("sub", "&order=relevance").await;

    let bodies: Vec<&str> = ranked.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["sub", "a sub marine", "submarine <b>", "nosub here"]);
    let snippet = |i: usize| ranked.body["data"][i]["snippet"].as_str().unwrap().to_owned();
    assert_eq!(snippet(2), "<mark>sub</mark>marine &lt;b&gt;");
    assert_eq!(snippet(3), "no<mark>sub</mark> here");
}

#[tokio::test]
async fn results_stay_inside_their_chat_and_application() {
    let app = TestApp::spawn().await;
    let mine = Chat::with(&app, &["secret plans"]).await;
    let _other_app = Chat::with(&app, &["secret plans of another tenant"]).await;
    let token = mine.base.split('/').nth(3).unwrap().to_owned();
    let sibling = app.create_chat(&token).await;
    app.create_message(&token, sibling, "secret plans in a sibling chat")
        .await;

    assert_eq!(mine.find("secret", "").await, vec!["secret plans"]);
    assert_eq!(mine.find("plans", "&order=relevance").await, vec!["secret plans"]);
}

#[tokio::test]
async fn new_edited_and_deleted_messages_are_reflected_at_once() {
    let app = TestApp::spawn_paused().await;
    let chat = Chat::with(&app, &["first draft"]).await;

    assert_eq!(
        chat.find("draft", "").await,
        vec!["first draft"],
        "found while still queued"
    );
    app.put(
        &format!("{}/1", chat.base),
        serde_json::json!({"body": "final version"}),
    )
    .await;
    assert!(chat.find("draft", "").await.is_empty());
    assert_eq!(chat.find("final", "").await, vec!["final version"]);
    app.drain().await;
    assert_eq!(
        chat.find("final", "").await,
        vec!["final version"],
        "found once written"
    );
    app.put(
        &format!("{}/1", chat.base),
        serde_json::json!({"body": "edited after writing"}),
    )
    .await;
    assert_eq!(chat.find("after", "").await, vec!["edited after writing"]);
    app.delete(&format!("{}/1", chat.base)).await;
    assert!(chat.find("after", "").await.is_empty());
}

#[tokio::test]
async fn bad_search_parameters_are_400_and_blank_queries_list() {
    let app = TestApp::spawn().await;
    let chat = Chat::with(&app, &["x"]).await;

    let order = chat.search("x", "&order=sideways").await;
    order.assert_problem(400, "invalid_parameter");
    assert_eq!(order.body["field"], "order");
    let long = chat.search(&"y".repeat(501), "").await;
    long.assert_problem(400, "invalid_parameter");
    assert_eq!(long.body["field"], "query");
    // A blank query is no search: the plain list.
    let blank = chat.search("   ", "").await;
    assert_eq!(blank.numbers(), vec![1]);
    assert!(blank.body["data"][0].get("snippet").is_none());
    // Bounds apply to searches too.
    assert!(chat.find("x", "&after=3").await.is_empty());
    assert_eq!(chat.find("x", "&order=relevance&before=3").await, vec!["x"]);
}

/// Every route a search can take in a big chat (a short walk, a longer walk for common words in
/// a rare combination, the index for rare terms) gives the same answer as reading every message:
/// all hits, newest first, each once, across pages.
#[tokio::test]
async fn big_chat_searches_find_every_hit_whatever_the_route() {
    let mut config = test_config();
    if on_citus() {
        // The key filler looks every 30 maintenance intervals there (`upkeep::keys`).
        config.maintenance_interval_ms = 100;
    }
    let app = TestApp::spawn_with(config, true).await;
    let token = app.create_app("big").await;
    let chat = app.create_chat(&token).await;
    let total = 30_000i64;
    // Message n: "gamma" when n is odd, "alpha" when even, "beta" when a multiple of 3, "delta"
    // of 5 (never next to each other); the phrase "alpha beta" when n ends in 007, "gamma delta"
    // every 3,000; "rareword" six times in all, with a URL at the end; "omega" every 700.
    let body = |n: i64| {
        let mut words = Vec::new();
        if n % 2 == 1 {
            words.push("gamma".to_owned());
        }
        if n % 2 == 0 {
            words.push("alpha".to_owned());
        }
        words.push(format!("filler{}", n % 97));
        if n % 3 == 0 {
            words.push("beta".to_owned());
        }
        if n % 5 == 0 {
            words.push("delta".to_owned());
        }
        if n % 1000 == 7 {
            words.push("Alpha\n Beta".to_owned());
        }
        if n % 3000 == 13 {
            words.push("gamma delta".to_owned());
        }
        if n % 5000 == 11 {
            words.push("rareword".to_owned());
        }
        if n % 700 == 3 {
            words.push("omega".to_owned());
        }
        if n % 5000 == 11 {
            words.push("(see http://qz.example.org)".to_owned());
            // One token of 62 letters and digits: stored in the dictionary as pieces.
            words.push("0123456789abcdefghij0123456789abcdefghijKLMNOPQRSTUVWXYZzyxwvu".to_owned());
        }
        words.join(" ")
    };
    // Written as by a release before V19: no keys, and no folded text, which a trigger fills
    // (V19). On Citus, where no such release ever ran and V19 made no trigger, as this release
    // leaves an edited message: its folded text, no keys.
    let insert = match on_citus() {
        false => {
            "WITH a AS (SELECT id FROM applications WHERE token = $1)
             INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at)
             SELECT a.id, $2, n, b, now(), now() FROM a, unnest($3::bigint[], $4::text[]) AS t(n, b)"
        }
        true => {
            "WITH a AS (SELECT id FROM applications WHERE token = $1)
             INSERT INTO messages (application_id, chat_number, number, body, search_text, created_at, updated_at)
             SELECT a.id, $2, n, b, chat_search_text(b), now(), now() FROM a, unnest($3::bigint[], $4::text[]) AS t(n, b)"
        }
    };
    let client = app.db.client().await.unwrap();
    client
        .execute(
            insert,
            &[
                &uuid::Uuid::parse_str(&token).unwrap(),
                &chat,
                &(1..=total).collect::<Vec<_>>(),
                &(1..=total).map(body).collect::<Vec<_>>(),
            ],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE chat_counters SET last_message_number = $2
             WHERE application_id = (SELECT id FROM applications WHERE token = $1) AND chat_number = $3",
            &[&uuid::Uuid::parse_str(&token).unwrap(), &total, &chat],
        )
        .await
        .unwrap();
    client.batch_execute("VACUUM ANALYZE messages").await.unwrap();

    let base = format!("/api/applications/{token}/chats/{chat}/messages");
    // The route each query must take, where only this test's searches can take it (`/metrics`
    // is shared by the tests running beside this one, and they all walk).
    type Matches<'f> = &'f dyn Fn(i64) -> bool;
    let cases: [(&str, Option<&str>, Matches); 14] = [
        // Dense: the first walk.
        ("alpha beta", None, &|n| n % 6 == 0 || n % 1000 == 7),
        // Hits every 700 messages: a longer walk.
        ("omega", Some("second_walk"), &|n| n % 700 == 3),
        // Common words, rare together: the word-pairs index.
        ("\"alpha beta\"", Some("index"), &|n| n % 1000 == 7),
        // Common words, rarer together: their count in the first window decides.
        ("\"gamma delta\"", None, &|n| n % 3000 == 13),
        // Rare: the index.
        ("rareword", Some("index"), &|n| n % 5000 == 11),
        ("rareword alpha", Some("index"), &|n| n % 5000 == 11 && n % 2 == 0),
        ("\"ta rarew\"", Some("index"), &|n| n % 5000 == 11 && n % 3 == 0),
        // The word-pairs index, with the phrase starting and ending inside words.
        ("\"eta rarewo\"", Some("index"), &|n| n % 5000 == 11 && n % 3 == 0),
        // Rare word starts, inside a URL: words of the dictionary by their start.
        ("qz", Some("index"), &|n| n % 5000 == 11),
        ("ht ex", Some("index"), &|n| n % 5000 == 11),
        ("qz.ex", Some("index"), &|n| n % 5000 == 11),
        // Inside a long token, past its 40th character, and across its pieces.
        ("klmnopqrstuvwxyzzy", Some("index"), &|n| n % 5000 == 11),
        ("89abcdefghijklmnopqrstu", Some("index"), &|n| n % 5000 == 11),
        // Rare, but nothing the dictionary can look up: the rest of the chat walked.
        ("://", Some("long_walk"), &|n| n % 5000 == 11),
    ];
    // The messages were written without search keys, as by a release before V19: searched
    // first as they are (the key filler may have keyed some meanwhile), then once all are keyed.
    for pass in ["as written", "keyed"] {
        if pass == "keyed" {
            // The filler's pace is the benchmarks' business: under the whole suite's load a
            // debug build on 2 cores once took more than 5 s for the 30,000.
            let keying = Duration::from_secs(60);
            app.eventually_within("every message keyed", keying, || async {
                app.count("SELECT count(*) FROM messages WHERE search_keys IS NULL")
                    .await
                    == 0
            })
            .await;
            assert!(
                app.count("SELECT count(*) FROM search_words WHERE word = 'rareword'")
                    .await
                    == 1
            );
        }
        for (query, route, matches) in cases {
            let routes_before = match route {
                Some(route) => search_routes(&app, route).await,
                None => 0,
            };
            let expected: Vec<i64> = (1..=total).rev().filter(|n| matches(*n)).collect();
            let mut got = Vec::new();
            let mut before = String::new();
            loop {
                let q = url_encode(query);
                let r = app.get(&format!("{base}?query={q}&limit=20{before}")).await;
                assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
                got.extend(r.numbers());
                if r.body["has_more"] != true {
                    break;
                }
                before = format!("&before={}", r.body["next_before"]);
            }
            assert_eq!(got, expected, "{pass}: {query}");
            if let Some(route) = route {
                assert!(
                    search_routes(&app, route).await > routes_before,
                    "{pass}: {query}: {route}"
                );
            }
        }
    }
}

/// How many searches `route` has answered so far in this process (`/metrics`).
async fn search_routes(app: &TestApp, route: &str) -> u64 {
    let text = app.text("/metrics").await;
    let line = format!("chat_search_route_total{{route=\"{route}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |n| n.parse().unwrap())
}

/// The search dictionary holds the words messages hold: a word only deleted messages held goes
/// at the pruner's pass; words still held stay, and an application with messages not keyed yet
/// (their words unknown) keeps all of its words until they are keyed.
#[tokio::test]
async fn the_dictionary_keeps_only_words_messages_hold() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("words").await;
    let chat = app.create_chat(&token).await;
    app.create_message(&token, chat, "Zebra unicorn").await;
    app.create_message(&token, chat, "zebra lion").await;
    app.drain().await;
    let words = "SELECT count(*) FROM search_words WHERE word IN ('zebra', 'unicorn', 'lion')";
    assert_eq!(app.count(words).await, 3);

    let r = app
        .delete(&format!("/api/applications/{token}/chats/{chat}/messages/1"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Not seen for long enough (any age, for the test), and held by no message: gone.
    let pruned = chat_system::upkeep::prune_words(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM search_words WHERE word = 'unicorn'")
            .await,
        0
    );
    assert_eq!(app.count(words).await, 2);
    let found = Chat {
        app: &app,
        base: format!("/api/applications/{token}/chats/{chat}/messages"),
    }
    .find("zebr", "")
    .await;
    assert_eq!(found, ["zebra lion"]);

    // A message without keys yet: nothing of its application is pruned until it is keyed.
    let client = app.db.client().await.unwrap();
    client
        .batch_execute(
            "UPDATE messages SET search_keys = NULL;
             INSERT INTO search_words (application_id, word) SELECT id, 'orphan' FROM applications",
        )
        .await
        .unwrap();
    let pruned = chat_system::upkeep::prune_words(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pruned, 0);
    while chat_system::upkeep::fill_keys(&app.db).await.unwrap() > 0 {}
    let pruned = chat_system::upkeep::prune_words(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(pruned, 1, "the orphan");
    assert_eq!(app.count(words).await, 2);
}

/// A word already in the dictionary is marked seen when another process sends it again, so the
/// pruner keeps a word messages still bring; one seen within the last 5 minutes is not rewritten.
#[tokio::test]
async fn a_word_sent_again_is_marked_seen_at_most_every_five_minutes() {
    let app = TestApp::spawn_paused().await;
    let token = app.create_app("seen").await;
    let chat = app.create_chat(&token).await;
    app.create_message(&token, chat, "zebra").await;
    app.drain().await;
    let id = app.app_id(&token).await;
    let client = app.db.client().await.unwrap();
    let set_seen = |age: &'static str| {
        let sql = format!(
            "UPDATE search_words SET seen_at = now() - interval '{age}' WHERE application_id = {id} AND word = 'zebra'"
        );
        let client = &client;
        async move { client.batch_execute(&sql).await.unwrap() }
    };
    let seen_within = |age: &'static str| {
        let sql = format!("SELECT count(*) FROM search_words WHERE application_id = {id} AND word = 'zebra' AND seen_at > now() - interval '{age}'");
        let app = &app;
        async move { app.count(&sql).await == 1 }
    };

    // Unseen for two hours; another process (which does not remember the word) writes it again.
    set_seen("2 hours").await;
    let other = TestApp::spawn_on(&app.url, crate::helpers::test_config(), false).await;
    other.create_message(&token, chat, "zebra again").await;
    other.drain().await;
    assert!(seen_within("6 minutes").await, "marked seen when sent again");

    // Seen a moment ago (here: later than now, which no rounding reaches): not rewritten.
    set_seen("-1 hour").await;
    let third = TestApp::spawn_on(&app.url, crate::helpers::test_config(), false).await;
    third.create_message(&token, chat, "zebra thrice").await;
    third.drain().await;
    assert!(seen_within("-50 minutes").await, "left as it was");
}
