//! The histogram's text exposition.

use super::*;

#[test]
fn histograms_are_cumulative() {
    let h = Histogram::new(&SIZE_BUCKETS);
    for v in [1.0, 3.0, 3.0, 5000.0] {
        h.observe(v);
    }
    let mut out = String::new();
    h.render(&mut out, "x", "k=\"v\"");
    assert!(out.contains("x_bucket{k=\"v\",le=\"1\"} 1\n"), "{out}");
    assert!(out.contains("x_bucket{k=\"v\",le=\"5\"} 3\n"), "{out}");
    assert!(out.contains("x_bucket{k=\"v\",le=\"1000\"} 3\n"), "{out}");
    assert!(out.contains("x_bucket{k=\"v\",le=\"+Inf\"} 4\n"), "{out}");
    assert!(out.contains("x_sum{k=\"v\"} 5007\n"), "{out}");
    assert!(out.contains("x_count{k=\"v\"} 4\n"), "{out}");
}

#[test]
fn counters_render_one_sample_per_label_set() {
    let c = Counters::default();
    for route in ["walk", "index", "walk"] {
        c.add(format!("route=\"{route}\""));
    }
    let mut out = String::new();
    c.render(&mut out, "x_total", "Help.");
    let expected =
        "# HELP x_total Help.\n# TYPE x_total counter\nx_total{route=\"index\"} 1\nx_total{route=\"walk\"} 2\n";
    assert_eq!(out, expected);
}
