//! A document cut to fit a number of characters by priority, whole lines only: the
//! sections that matter most are kept whole first, then as many items as fit of the
//! next ones; the order of the document stays.

/// One part of a document.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// Higher is kept first.
    pub priority: u8,
    /// Lines that go with the section or not at all (a heading).
    pub head: String,
    /// Parts that may be left out, each whole lines.
    pub items: Vec<String>,
    /// When items are left out, keep the last ones (the newest of a list) rather than
    /// the first.
    pub keep_last: bool,
    /// What closes the section (a blank line).
    pub tail: String,
}

impl Section {
    /// A section of `priority` with this heading and items, closed by a blank line.
    pub fn new(priority: u8, head: impl Into<String>, items: Vec<String>) -> Section {
        Section {
            priority,
            head: head.into(),
            items,
            keep_last: false,
            tail: "\n".into(),
        }
    }

    fn len(&self) -> usize {
        chars(&self.head) + chars(&self.tail) + self.items.iter().map(|i| chars(i)).sum::<usize>()
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The sections as one text of at most `max` characters (`note(n)` is added, within
/// the limit, when `n` items or sections were left out).
pub fn fit(sections: &[Section], max: usize, note: impl Fn(usize) -> String) -> String {
    let whole: String = sections.iter().map(render_all).collect();
    if chars(&whole) <= max {
        return whole;
    }
    let reserve = chars(&note(usize::MAX >> 1));
    let mut budget = max.saturating_sub(reserve);
    let mut order: Vec<usize> = (0..sections.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sections[i].priority));
    // For each section: which of its items are kept (None: the section is left out).
    let mut kept: Vec<Option<Vec<bool>>> = vec![None; sections.len()];
    for i in order {
        let s = &sections[i];
        if s.len() <= budget {
            budget -= s.len();
            kept[i] = Some(vec![true; s.items.len()]);
            continue;
        }
        let frame = chars(&s.head) + chars(&s.tail);
        if frame > budget {
            continue;
        }
        let mut keep = vec![false; s.items.len()];
        let mut room = budget - frame;
        let idx: Vec<usize> = if s.keep_last {
            (0..s.items.len()).rev().collect()
        } else {
            (0..s.items.len()).collect()
        };
        // A list stays contiguous: past the first item that does not fit, stop.
        for j in idx {
            let n = chars(&s.items[j]);
            if n > room {
                break;
            }
            room -= n;
            keep[j] = true;
        }
        if keep.contains(&true) {
            budget = room;
            kept[i] = Some(keep);
        }
    }
    let left_out: usize = sections
        .iter()
        .zip(&kept)
        .map(|(s, k)| match k {
            None => s.items.len().max(1),
            Some(k) => k.iter().filter(|x| !**x).count(),
        })
        .sum();
    let mut out = String::new();
    for (s, keep) in sections.iter().zip(&kept) {
        let Some(keep) = keep else {
            continue;
        };
        out.push_str(&s.head);
        for (item, k) in s.items.iter().zip(keep) {
            if *k {
                out.push_str(item);
            }
        }
        out.push_str(&s.tail);
    }
    out.push_str(&note(left_out.max(1)));
    out
}

fn render_all(s: &Section) -> String {
    format!("{}{}{}", s.head, s.items.concat(), s.tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(prefix: &str, n: usize, width: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("{prefix}{i:0>w$}\n", w = width))
            .collect()
    }

    fn note(n: usize) -> String {
        format!("> {n} left out\n")
    }

    #[test]
    fn a_document_that_fits_is_unchanged() {
        let s = [Section::new(1, "# A\n", lines("a", 3, 3))];
        assert_eq!(fit(&s, 1000, note), "# A\na000\na001\na002\n\n");
    }

    #[test]
    fn priorities_decide_whole_lines_stay_and_order_is_kept() {
        let mut commands = Section::new(1, "## Commands\n", lines("c", 50, 20));
        commands.keep_last = true;
        let sections = [
            Section::new(9, "# Title\n", vec!["lead line\n".into()]),
            commands,
            Section::new(5, "## Tests\n", lines("t", 3, 5)),
        ];
        let out = fit(&sections, 300, note);
        assert!(out.chars().count() <= 300, "{}", out.chars().count());
        assert!(
            out.starts_with("# Title\nlead line\n\n## Commands\n"),
            "{out}"
        );
        assert!(out.contains("## Tests\nt00000\nt00001\nt00002\n"), "{out}");
        // The newest commands stay; every line is whole.
        assert!(out.contains(&format!("c{:0>20}\n", 49)), "{out}");
        assert!(!out.contains(&format!("c{:0>20}\n", 0)), "{out}");
        for l in out.lines() {
            assert!(
                l.is_empty() || l.starts_with(['#', 'l', 'c', 't', '>']),
                "{l}"
            );
            if let Some(rest) = l.strip_prefix('c') {
                assert_eq!(rest.len(), 20, "{l}");
            }
        }
        assert!(out.ends_with(" left out\n"), "{out}");
        assert!(out.find("## Commands").unwrap() < out.find("## Tests").unwrap());
    }

    #[test]
    fn an_item_too_long_for_anything_is_left_out_whole() {
        let sections = [
            Section::new(9, "# T\n", vec![]),
            Section::new(1, "## Big\n", vec![format!("{}\n", "x".repeat(500))]),
        ];
        let out = fit(&sections, 100, note);
        assert!(!out.contains('x'), "{out}");
        assert!(out.starts_with("# T\n"));
    }
}
