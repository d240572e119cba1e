//! Chat-like English text for demo data: sentences from templates whose slots (people, things,
//! places, days, emoji…) are filled with Zipf-distributed picks, so some words are everywhere and
//! some are rare, with accented words among them. Deterministic for a seed.

/// A small fast PRNG (xorshift64*), deterministic per seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// An index in 0..n, the first ones much more likely (Zipf, exponent 1).
    pub fn zipf(&mut self, n: usize) -> usize {
        // Inverse of the continuous approximation: P(rank <= k) ~ ln(k + 1) / ln(n + 1).
        let k = ((n as f64 + 1.0).powf(self.f64()) - 1.0) as usize;
        k.min(n - 1)
    }
}

const PEOPLE: &[&str] = &[
    "Alice", "Bob", "Maria", "José", "Chen", "Priya", "Zoë", "Omar", "Hannah", "Lukas", "Aiko", "Fatima", "Noah",
    "Inès", "Mateo", "Sven", "Björn", "Chloé", "Ravi", "Yuki",
];
const THINGS: &[&str] = &[
    "release",
    "meeting",
    "report",
    "invoice",
    "deploy",
    "budget",
    "roadmap",
    "design",
    "database",
    "dashboard",
    "contract",
    "presentation",
    "newsletter",
    "backlog",
    "migration",
    "prototype",
    "survey",
    "spreadsheet",
    "onboarding",
    "résumé",
    "checklist",
    "firmware",
    "submarine",
    "piano",
    "bicycle",
    "umbrella",
    "telescope",
    "harmonica",
];
const PLACES: &[&str] = &[
    "the office",
    "the café",
    "Berlin",
    "the lobby",
    "room 4",
    "München",
    "Lisbon",
    "the lab",
    "the warehouse",
    "Zürich",
    "the rooftop",
    "São Paulo",
    "the library",
    "Kyoto",
];
const DAYS: &[&str] = &[
    "today",
    "tomorrow",
    "Monday",
    "Friday",
    "next week",
    "tonight",
    "Wednesday",
    "this afternoon",
    "Thursday morning",
    "the weekend",
];
const FOOD: &[&str] = &[
    "pizza",
    "coffee",
    "tacos",
    "sushi",
    "crème brûlée",
    "jalapeño poppers",
    "croissants",
    "ramen",
    "a smoothie",
    "bagels",
    "piña colada",
    "falafel",
];
const FEELINGS: &[&str] = &[
    "great",
    "fine",
    "weird",
    "amazing",
    "broken",
    "done",
    "late",
    "ready",
    "blocked",
    "naïve",
    "perfect",
    "confusing",
];
const EMOJI: &[&str] = &["😀", "👍", "🎉", "❤️", "🔥", "🙏", "😂", "🚀", "✅", "👀", "🤔", "😅"];

const TEMPLATES: &[&str] = &[
    "Hi {person}, is the {thing} {feeling}?",
    "Can we move the {thing} meeting to {day}?",
    "I'm at {place}, where are you?",
    "The {thing} looks {feeling} {emoji}",
    "{person} said the {thing} is {feeling}.",
    "Anyone up for {food} {day}?",
    "Thanks {person}! {emoji}",
    "Running late, be there in 10",
    "Did you see the new {thing}?",
    "Let's ship the {thing} {day} {emoji}",
    "Who has the keys to {place}?",
    "Lunch: {food} at {place}",
    "ok",
    "sounds good {emoji}",
    "lol",
    "{person}, can you review the {thing} before {day}?",
    "The {thing} and the {thing} are both {feeling} now",
    "Reminder: {thing} review {day} at {place}",
    "I left my {thing} at {place} 🙈",
    "Is {person} coming to {place} {day}?",
    "déjà vu: the {thing} is {feeling} again",
    "Can someone order {food}?",
    "Welcome aboard, {person}! {emoji}",
    "Moving the {thing} from {place} to {place}",
    "FYI the {thing} is {feeling}, {person} is on it",
    "brb",
    "Happy birthday {person}!!! 🎂🎉",
    "What time is the {thing} {day}?",
    "I think the {thing} needs another pass",
    "Great job on the {thing}, {person} {emoji}",
];

/// A chat message: one to three sentences from the templates.
pub fn message(rng: &mut Rng) -> String {
    let sentences = [1, 1, 1, 1, 2, 2, 3][rng.below(7)];
    let mut out = String::new();
    for i in 0..sentences {
        if i > 0 {
            out.push(' ');
        }
        let template = TEMPLATES[rng.zipf(TEMPLATES.len())];
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find('}').unwrap_or(0);
            let list = match &rest[start + 1..end] {
                "person" => PEOPLE,
                "thing" => THINGS,
                "place" => PLACES,
                "day" => DAYS,
                "food" => FOOD,
                "feeling" => FEELINGS,
                _ => EMOJI,
            };
            out.push_str(list[rng.zipf(list.len())]);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
    }
    out
}

/// A name for the `i`-th demo application.
pub fn application_name(i: usize) -> String {
    const NAMES: &[&str] = &[
        "Support desk",
        "Design team",
        "Book club",
        "Night shift",
        "Hiking group",
    ];
    match NAMES.get(i) {
        Some(name) => (*name).to_owned(),
        None => format!("Demo application {}", i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_filled_in_and_deterministic() {
        let a: Vec<String> = (0..200)
            .map({
                let mut rng = Rng::new(5);
                move |_| message(&mut rng)
            })
            .collect();
        let b: Vec<String> = (0..200)
            .map({
                let mut rng = Rng::new(5);
                move |_| message(&mut rng)
            })
            .collect();
        assert_eq!(a, b);
        assert!(a
            .iter()
            .all(|m| !m.contains('{') && !m.contains('}') && !m.trim().is_empty()));
        assert!(a.iter().any(|m| m.contains("meeting")));
        let mut rng = Rng::new(1);
        let picks: Vec<usize> = (0..10_000).map(|_| rng.zipf(10)).collect();
        let first = picks.iter().filter(|&&k| k == 0).count();
        let last = picks.iter().filter(|&&k| k == 9).count();
        assert!(first > 3 * last, "zipf: {first} vs {last}");
    }
}
