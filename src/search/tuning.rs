//! The seven tuned figures of the routing (see `routes`), with what is on record for each. They
//! were set with the search benchmark (`cargo run --release --example bench -- search`: 10M
//! messages, one chat of 1M; `--diagnose` prints the route and time per query; BENCHMARKS.md holds
//! the runs): change one only with a before/after run of it.

/// Rows the first walk may read per wanted hit (bounded by `MIN_WINDOW` and `MAX_WINDOW`): a page
/// of 20 wants 21 hits, a window of 4,200 rows; a common term finds them in far fewer and stops.
/// Set with the first routed plan (commit 7786a25); no sweep of it on its own is on record.
pub(super) const WINDOW_PER_HIT: i64 = 200;
/// The smallest first window, and the smallest second walk. Set with `WINDOW_PER_HIT`.
pub(super) const MIN_WINDOW: i64 = 4_000;
/// The largest first window (a page of 100: 101 hits wanted). Set with `WINDOW_PER_HIT`.
pub(super) const MAX_WINDOW: i64 = 20_000;
/// The most rows a second walk may read (ARCHITECTURE.md: "up to 120,000 rows"): it bounds a
/// walk that was expected to be short and was not.
pub(super) const MAX_SECOND_WINDOW: i64 = 120_000;
/// The most rows a second walk may be expected to need when the first walk's hits are all it goes
/// by (it may read up to a third more, stopping at its last hit). Measured: the second walk of
/// up to 40,000 rows took an infix fragment on the 1M-message chat from p95 60 to 15 ms
/// (commit bc1743a, BENCHMARKS.md run of 13:05).
pub(super) const MAX_DENSITY_WINDOW: i64 = 40_000;
/// Rows a walk reads in the time the index path spends on one candidate row (measured on a
/// 1M-message chat with phrases of two common words: ~0.75 µs per walked row, 6–7 µs per
/// candidate on the index path, bitmap included).
pub(super) const INDEX_COST_IN_ROWS: i64 = 8;
/// The most dictionary words one anchor of a term may expand to and still narrow the index path
/// (Lucene's default bound on a query's clauses is 1,024). Beyond it the anchor is left to the
/// check on the text: such an anchor ("ing", a 1-character word start) is common in the text,
/// and the walks usually find its page first.
pub(super) const EXPANSION_CAP: i64 = 2_048;
