//! Personal data in ticket text: rule-based detection ([`find`]), scrubbing
//! ([`scrub`]) and a per-file summary ([`survey`]).
//!
//! Detection is a fixed set of patterns compiled once, a few passes over the text and
//! no network, so it can run over a whole file before training. Each kind checks its
//! candidates beyond their shape, to keep version numbers, dates, ids, hashes and code
//! out: IBANs pass the mod-97 checksum, card numbers Luhn and a known issuer prefix,
//! phone numbers need a `+`, a cue word or a phone-like grouping. Names are found only
//! where a greeting, a sign-off or an introduction points at them; a name elsewhere in
//! running text is not found.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// A kind of personal data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum PiiKind {
    Email,
    Phone,
    Iban,
    Card,
    Ip,
    Address,
    Name,
}

impl PiiKind {
    /// Every kind, in display order.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Iban,
        PiiKind::Card,
        PiiKind::Ip,
        PiiKind::Address,
        PiiKind::Name,
    ];

    /// The kind's name in flags and JSON: `email`, `phone`, ….
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Iban => "iban",
            PiiKind::Card => "card",
            PiiKind::Ip => "ip",
            PiiKind::Address => "address",
            PiiKind::Name => "name",
        }
    }

    /// What [`scrub`] puts in place of a value: `[EMAIL]`, `[PHONE]`, ….
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[EMAIL]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Iban => "[IBAN]",
            PiiKind::Card => "[CARD]",
            PiiKind::Ip => "[IP]",
            PiiKind::Address => "[ADDRESS]",
            PiiKind::Name => "[NAME]",
        }
    }

    /// The kind in words, plural, for a summary: "e-mail addresses", ….
    pub fn label(self) -> &'static str {
        match self {
            PiiKind::Email => "e-mail addresses",
            PiiKind::Phone => "phone numbers",
            PiiKind::Iban => "IBANs",
            PiiKind::Card => "card numbers",
            PiiKind::Ip => "IP addresses",
            PiiKind::Address => "street addresses",
            PiiKind::Name => "names",
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`PiiKind`]; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPiiKind(pub String);

impl fmt::Display for UnknownPiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = PiiKind::ALL.iter().map(|k| k.name()).collect();
        write!(
            f,
            "unknown kind of personal data `{}`: expected one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownPiiKind {}

impl FromStr for PiiKind {
    type Err = UnknownPiiKind;

    /// A kind by its [`name`](PiiKind::name), ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        PiiKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownPiiKind(s.to_string()))
    }
}

/// One value found: its kind and where it is, as byte offsets on char boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// The values of personal data in `text`, in text order, none overlapping. Where two
/// kinds claim the same characters the more certain wins: e-mail, IBAN, card, IP,
/// phone, address, name.
pub fn find(text: &str) -> Vec<PiiSpan> {
    let mut found = Found::default();
    emails(text, &mut found);
    ibans(text, &mut found);
    let runs = digit_runs(text);
    cards(text, &runs, &mut found);
    ips(text, &mut found);
    phones(text, &runs, &mut found);
    addresses(text, &mut found);
    names(text, &mut found);
    found.0.into_values().collect()
}

/// `text` with the values of `kinds` replaced by their placeholders; borrowed when there
/// is nothing to replace.
pub fn scrub<'t>(text: &'t str, kinds: &[PiiKind]) -> Cow<'t, str> {
    let spans: Vec<PiiSpan> = find(text)
        .into_iter()
        .filter(|s| kinds.contains(&s.kind))
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str(span.kind.placeholder());
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// How much an example's window shows around its first value, in bytes (~characters).
const WINDOW: usize = 200;
/// Examples kept per kind.
const EXAMPLES: usize = 3;

/// Personal data over many tickets: per kind, how many tickets hold it, with examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PiiSurvey {
    /// Tickets looked at.
    pub tickets: usize,
    /// One entry per kind, in [`PiiKind::ALL`] order, also those found nowhere.
    pub kinds: Vec<PiiKindSurvey>,
}

/// One kind's share of a [`PiiSurvey`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PiiKindSurvey {
    pub kind: PiiKind,
    /// Tickets with at least one value of this kind.
    pub tickets: usize,
    /// Up to three, from the first tickets holding the kind.
    pub examples: Vec<PiiExample>,
}

/// A ticket's text cut to ~200 characters around its first value of a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct PiiExample {
    /// The ticket's line, as given to [`survey`].
    pub line: usize,
    /// The window of the ticket's text.
    pub text: String,
    /// Every value in the window, of any kind, as offsets into `text` (cut at its edges).
    pub spans: Vec<PiiSpan>,
    /// Whether text was cut before and after the window (show "…").
    pub cut_start: bool,
    pub cut_end: bool,
}

/// Surveys `rows` of (line, text): per kind, the tickets holding it and examples.
pub fn survey<'a>(rows: impl IntoIterator<Item = (usize, &'a str)>) -> PiiSurvey {
    let mut kinds: Vec<PiiKindSurvey> = PiiKind::ALL
        .into_iter()
        .map(|kind| PiiKindSurvey {
            kind,
            tickets: 0,
            examples: Vec::new(),
        })
        .collect();
    let mut tickets = 0;
    for (line, text) in rows {
        tickets += 1;
        let spans = find(text);
        for entry in &mut kinds {
            let Some(first) = spans.iter().find(|s| s.kind == entry.kind) else {
                continue;
            };
            entry.tickets += 1;
            if entry.examples.len() < EXAMPLES {
                entry.examples.push(example(line, text, first, &spans));
            }
        }
    }
    PiiSurvey { tickets, kinds }
}

/// The window of `text` around `first`, with the spans inside it.
fn example(line: usize, text: &str, first: &PiiSpan, spans: &[PiiSpan]) -> PiiExample {
    let middle = first.start + (first.end - first.start) / 2;
    let mut end = (middle.saturating_sub(WINDOW / 2) + WINDOW).min(text.len());
    let mut start = end.saturating_sub(WINDOW).min(first.start);
    end = end.max(first.end);
    start = text.floor_char_boundary(start);
    end = text.ceil_char_boundary(end);
    let spans = spans
        .iter()
        .filter(|s| s.start < end && s.end > start)
        .map(|s| PiiSpan {
            kind: s.kind,
            start: s.start.max(start) - start,
            end: s.end.min(end) - start,
        })
        .collect();
    PiiExample {
        line,
        text: text[start..end].to_string(),
        spans,
        cut_start: start > 0,
        cut_end: end < text.len(),
    }
}

/// Accepted spans by start, none overlapping: a later (less certain) detector cannot
/// take characters an earlier one claimed.
#[derive(Default)]
struct Found(BTreeMap<usize, PiiSpan>);

impl Found {
    /// Adds the span unless it overlaps one already found.
    fn add(&mut self, kind: PiiKind, start: usize, end: usize) {
        let before = self.0.range(..end).next_back();
        if before.is_none_or(|(_, s)| s.end <= start) {
            self.0.insert(start, PiiSpan { kind, start, end });
        }
    }
}

fn regex(pattern: &str) -> Regex {
    // The patterns are constants, checked by the tests.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("a valid pattern")
}

/// The char before byte `at`.
fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// The char at byte `at`.
fn char_at(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

// ---------------------------------------------------------------- e-mail

/// Endings of file names that look like domains (`icon@2x.png`, `pkg@1.0.js`).
const FILE_ENDINGS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "js", "mjs", "cjs", "ts", "tsx",
    "jsx", "css", "scss", "sass", "less", "html", "htm", "json", "xml", "yml", "yaml", "txt",
    "log", "lock", "toml", "zip", "gz", "tgz", "tar", "pdf", "java", "class", "kt", "py", "pyc",
    "rb", "php", "cpp", "hpp", "swift", "dll", "exe", "bin", "csv", "vue", "wasm", "map",
];

/// The longest local part an address may have (RFC 5321).
const LOCAL_MAX: usize = 64;

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// E-mail addresses, from each `@` outwards: a local part of letters, digits and
/// `._%+-`, and a domain of two or more labels ending in a letters-only top level.
fn emails(text: &str, found: &mut Found) {
    for (at, _) in text.match_indices('@') {
        let mut start = at;
        for (i, c) in text[..at].char_indices().rev() {
            if !is_local_char(c) || at - i > LOCAL_MAX {
                break;
            }
            start = i;
        }
        // The local part starts with a letter or digit and does not end in a dot.
        while let Some(c) = text[start..at].chars().next() {
            if c.is_alphanumeric() {
                break;
            }
            start += c.len_utf8();
        }
        let local = &text[start..at];
        if local.is_empty() || local.ends_with('.') || local.contains("..") {
            continue;
        }
        let mut end = at + 1;
        for (i, c) in text[at + 1..].char_indices() {
            if !(c.is_alphanumeric() || c == '.' || c == '-') || i > 255 {
                break;
            }
            end = at + 1 + i + c.len_utf8();
        }
        let domain = text[at + 1..end].trim_end_matches(['.', '-']);
        end = at + 1 + domain.len();
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
        let ending = domain.rsplit('.').next().unwrap_or("");
        let ending_ok = domain.contains('.')
            && (2..=24).contains(&ending.chars().count())
            && ending.chars().all(char::is_alphabetic)
            && !FILE_ENDINGS.iter().any(|e| ending.eq_ignore_ascii_case(e));
        let clean_before = char_before(text, start)
            .is_none_or(|c| !(is_word(c) || matches!(c, '@' | '.' | '-' | '+' | '%')));
        let clean_after =
            char_at(text, end).is_none_or(|c| !(is_word(c) || matches!(c, '@' | '-')));
        if labels_ok && ending_ok && clean_before && clean_after {
            found.add(PiiKind::Email, start, end);
        }
    }
}

// ---------------------------------------------------------------- IBAN

static IBAN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?-u:\b)[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){10,32}"));

/// IBAN length per country (ISO 13616 registry).
fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" | "SD" | "FK" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" | "MN" => 20,
        "CH" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "CR" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" | "VA" => 22,
        "AE" | "GI" | "IL" | "TL" | "IQ" | "OM" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" | "ST" | "LY" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" | "BI" | "DJ" => 27,
        "AL" | "AZ" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" | "SV" | "BY" | "NI" | "HN" => 28,
        "BR" | "EG" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" | "YE" => 30,
        "MT" | "SC" => 31,
        "LC" => 32,
        "RU" => 33,
        _ => return None,
    })
}

/// Whether `iban` (letters and digits, no spaces) passes the ISO 7064 mod-97 check.
fn iban_checksum_ok(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, rest) = iban.split_at(4);
    let mut r: u32 = 0;
    for &c in rest.iter().chain(head) {
        r = match c {
            b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (r * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    r == 1
}

fn ibans(text: &str, found: &mut Found) {
    for m in IBAN.find_iter(text) {
        let Some(len) = iban_length(&m.as_str()[..2]) else {
            continue;
        };
        // Walk the characters: a space may only follow a full group of four.
        let mut chars = Vec::with_capacity(len);
        let mut end = m.start();
        for &b in m.as_str().as_bytes() {
            if chars.len() == len {
                break;
            }
            if b == b' ' {
                if !chars.len().is_multiple_of(4) {
                    break;
                }
            } else {
                chars.push(b);
            }
            end += 1;
        }
        let spaced = m.as_str()[..end - m.start()].contains(' ');
        // Spaced IBANs are grouped by four from the start, all the way.
        let grouped = !spaced
            || m.as_str()[..end - m.start()]
                .split(' ')
                .rev()
                .skip(1)
                .all(|g| g.len() == 4);
        if chars.len() == len
            && grouped
            && char_at(text, end).is_none_or(|c| !is_word(c))
            && iban_checksum_ok(&chars)
        {
            found.add(PiiKind::Iban, m.start(), end);
        }
    }
}

// ---------------------------------------------------------------- digit runs

/// Digits with phone- or card-like separators between them: candidates for both.
static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\+?(?:\([0-9]{1,5}\)[ ]?)?[0-9]+(?:(?:[ ]?[-./][ ]?|[ ]|[ ]?\([0-9]{1,5}\)[ ]?)[0-9]+)*",
    )
});

/// A run of digit groups. `groups` are byte ranges; `seps[i]` lies between groups i, i+1.
struct Run {
    start: usize,
    end: usize,
    plus: bool,
    paren_first: bool,
    groups: Vec<(usize, usize)>,
}

impl Run {
    fn sep<'t>(&self, text: &'t str, i: usize) -> &'t str {
        &text[self.groups[i].1..self.groups[i + 1].0]
    }

    /// Whether the run's left and right edges are clean: not inside a word, a longer
    /// number, a path, an amount or a hash.
    fn edges_clean(&self, text: &str) -> (bool, bool) {
        let left_ok = match char_before(text, self.start) {
            None => true,
            Some(c) if is_word(c) => false,
            Some(
                '.' | '-' | '/' | '#' | '$' | '€' | '£' | '¥' | '@' | '=' | '&' | '%' | '\\' | '+'
                | '~' | '^' | '*',
            ) => false,
            Some(':' | ',') => {
                let before = text[..self.start - 1].chars().next_back();
                !before.is_some_and(|c| c.is_ascii_digit())
            }
            Some(_) => true,
        };
        let right_ok = match char_at(text, self.end) {
            None => true,
            Some(c) if is_word(c) => false,
            Some('%' | '@' | '/' | '\\' | '€' | '$' | '£') => false,
            Some('.' | ',' | ':' | '-' | '+' | '*' | '^') => {
                !text[self.end + 1..].chars().next().is_some_and(is_word)
            }
            Some(_) => true,
        };
        (left_ok, right_ok)
    }

    /// Byte range of groups `i..j`, with the run's `+` or `(` when `i` is 0.
    fn range(&self, i: usize, j: usize) -> (usize, usize) {
        let start = if i == 0 { self.start } else { self.groups[i].0 };
        (start, self.groups[j - 1].1)
    }

    /// Whether groups `i..j` stand apart from the rest of the run: split from it at a
    /// space that differs from the separators inside (not cut out of `01 02 03 04 …`).
    fn splits_cleanly(&self, text: &str, i: usize, j: usize) -> bool {
        let inside: Vec<&str> = (i..j - 1).map(|k| self.sep(text, k)).collect();
        let apart = |sep: &str| sep.contains(' ') && !inside.contains(&sep);
        (i == 0 || apart(self.sep(text, i - 1)))
            && (j == self.groups.len() || apart(self.sep(text, j - 1)))
    }
}

fn digit_runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    for m in DIGIT_RUN.find_iter(text) {
        let s = m.as_str();
        if s.bytes().filter(u8::is_ascii_digit).count() < 7 {
            continue;
        }
        let mut groups = Vec::new();
        let mut open: Option<usize> = None;
        for (i, b) in s.bytes().enumerate() {
            match (b.is_ascii_digit(), open) {
                (true, None) => open = Some(i),
                (false, Some(o)) => {
                    groups.push((m.start() + o, m.start() + i));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(o) = open {
            groups.push((m.start() + o, m.end()));
        }
        runs.push(Run {
            start: m.start(),
            end: m.end(),
            plus: s.starts_with('+'),
            paren_first: s.starts_with('(') || s.starts_with("+("),
            groups,
        });
    }
    runs
}

/// The longest sub-run (groups `i..j`, at most `max_groups` of them) that `ok` accepts.
fn best_subrun(
    text: &str,
    run: &Run,
    max_groups: usize,
    ok: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let n = run.groups.len();
    let (left_ok, right_ok) = run.edges_clean(text);
    for width in (1..=n.min(max_groups)).rev() {
        for i in 0..=n - width {
            let j = i + width;
            let edges_ok = (i > 0 || left_ok) && (j < n || right_ok);
            if edges_ok && run.splits_cleanly(text, i, j) && ok(i, j) {
                return Some((i, j));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- cards

/// Whether `digits` passes the Luhn check.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if !i.is_multiple_of(2) {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a number of this length and prefix is issued by a known card scheme.
fn card_issuer_ok(digits: &[u8]) -> bool {
    let prefix = |n: usize| -> u32 {
        digits[..n]
            .iter()
            .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
    };
    let len = digits.len();
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    match p1 {
        4 => matches!(len, 13 | 16 | 19), // Visa
        5 => (51..=55).contains(&p2) && len == 16 || p2 == 50 || (56..=58).contains(&p2), // Mastercard, Maestro
        2 => (2221..=2720).contains(&p4) && len == 16 || (2200..=2204).contains(&p4), // Mastercard, Mir
        3 => {
            (p2 == 34 || p2 == 37) && len == 15                          // Amex
                || (3528..=3589).contains(&p4) && len >= 16               // JCB
                || (p2 == 36 || (300..=305).contains(&p3) || p2 == 38 || p2 == 39) && len >= 14
            // Diners
        }
        6 => len >= 16 || (p2 == 67 || p2 == 63) && len >= 12, // Discover, UnionPay, Maestro
        _ => false,
    }
}

fn card_ok(text: &str, run: &Run, i: usize, j: usize) -> bool {
    let groups = &run.groups[i..j];
    let lens: Vec<usize> = groups.iter().map(|(a, b)| b - a).collect();
    let total: usize = lens.iter().sum();
    if !(13..=19).contains(&total) || (i == 0 && (run.plus || run.paren_first)) {
        return false;
    }
    let seps: Vec<&str> = (i..j - 1).map(|k| run.sep(text, k)).collect();
    if seps.iter().any(|s| *s != " " && *s != "-") || seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let shape_ok = match lens.as_slice() {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        [4, 4, 4, rest @ ..] => {
            !rest.is_empty()
                && rest[..rest.len() - 1].iter().all(|&l| l == 4)
                && rest.last().is_some_and(|&l| (1..=4).contains(&l))
        }
        _ => false,
    };
    if !shape_ok {
        return false;
    }
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|&(a, b)| text[a..b].bytes())
        .collect();
    card_issuer_ok(&digits) && luhn_ok(&digits)
}

fn cards(text: &str, runs: &[Run], found: &mut Found) {
    for run in runs {
        if let Some((i, j)) = best_subrun(text, run, 5, |i, j| card_ok(text, run, i, j)) {
            let (start, end) = run.range(i, j);
            found.add(PiiKind::Card, start, end);
        }
    }
}

// ---------------------------------------------------------------- IP addresses

static IPV4: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"));

static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?:[0-9A-Fa-f]{1,4}:|:)(?:[0-9A-Fa-f]{0,4}:){1,6}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?",
    )
});

/// Words that say a dotted number nearby is a version.
const VERSION_CUES: &[&str] = &["version", "versions", "ver", "v", "release", "build"];

fn ips(text: &str, found: &mut Found) {
    for m in IPV4.find_iter(text) {
        let before_ok = char_before(text, m.start())
            .is_none_or(|c| !(is_word(c) || matches!(c, '.' | '-' | '\\')));
        let after_ok = match char_at(text, m.end()) {
            None => true,
            Some(c) if is_word(c) => false,
            Some('.' | '-') => !text[m.end() + 1..].chars().next().is_some_and(is_word),
            Some(_) => true,
        };
        let Ok(ip) = m.as_str().parse::<std::net::Ipv4Addr>() else {
            continue;
        };
        let [a, b, c, _] = ip.octets();
        // No one's machine: unspecified, loopback, "this network", masks.
        let anyone = ip.is_unspecified() || ip.is_loopback() || a == 0 || a == 255;
        // Four-part version numbers (2.4.2.0, 15.0.0.0) are far more common in tickets
        // than hosts whose first three parts are all small; 10.x stays an address.
        let version = (a != 10 && a <= 20 && b <= 20 && c <= 20)
            || cue_before(text, m.start(), 16, VERSION_CUES);
        if before_ok && after_ok && !anyone && !version {
            found.add(PiiKind::Ip, m.start(), m.end());
        }
    }
    if !text.contains(':') {
        return;
    }
    for m in IPV6.find_iter(text) {
        let mut value = m.as_str();
        let mut end = m.end();
        if value.ends_with(':') && !value.ends_with("::") {
            value = &value[..value.len() - 1];
            end -= 1;
        }
        let Ok(ip) = value.parse::<std::net::Ipv6Addr>() else {
            continue;
        };
        let before_ok = char_before(text, m.start()).is_none_or(|c| !(is_word(c) || c == ':'));
        let after_ok =
            char_at(text, end).is_none_or(|c| !(is_word(c) || matches!(c, ':' | '(' | '<')));
        let groups: Vec<&str> = value.split(':').filter(|g| !g.is_empty()).collect();
        // Compressed forms short enough to be code (`f64::add`) need three groups or a
        // full first group (`fe80::1`), and a digit.
        let shaped = !value.contains("::")
            || groups.len() >= 3
            || groups.first().is_some_and(|g| g.len() == 4);
        let digit = value.bytes().any(|b| b.is_ascii_digit());
        if before_ok && after_ok && shaped && digit && !ip.is_unspecified() && !ip.is_loopback() {
            found.add(PiiKind::Ip, m.start(), end);
        }
    }
}

// ---------------------------------------------------------------- phone numbers

/// Words that say a number nearby is a phone number.
const PHONE_CUES: &[&str] = &[
    "phone",
    "phones",
    "telephone",
    "tel",
    "call",
    "calls",
    "called",
    "calling",
    "mobile",
    "cell",
    "cellphone",
    "fax",
    "whatsapp",
    "sms",
    "hotline",
];

/// Whether one of `cues` is a whole word among the `reach` bytes before `at`.
fn cue_before(text: &str, at: usize, reach: usize, cues: &[&str]) -> bool {
    let from = text.floor_char_boundary(at.saturating_sub(reach));
    text[from..at]
        .split(|c: char| !c.is_alphabetic())
        .any(|w| cues.iter().any(|cue| w.eq_ignore_ascii_case(cue)))
}

/// Whether groups look like a date: a year 1900–2099 after or before a day and a
/// month (`2024-01-15`, `15.01.2024`, `09 05 2017`; spaces only when `spaces`).
fn date_like(text: &str, run: &Run, i: usize, j: usize, spaces: bool) -> bool {
    let short = |g: usize| run.groups[g].1 - run.groups[g].0 <= 2;
    let date_sep = |g: usize| match run.sep(text, g).trim() {
        "-" | "/" | "." => true,
        "" => spaces,
        _ => false,
    };
    (i..j).any(|k| {
        let (a, b) = run.groups[k];
        let year = b - a == 4 && (text[a..b].starts_with("19") || text[a..b].starts_with("20"));
        let before =
            k >= i + 2 && short(k - 1) && short(k - 2) && date_sep(k - 1) && date_sep(k - 2);
        let after = k + 2 < j && short(k + 1) && short(k + 2) && date_sep(k) && date_sep(k + 1);
        year && (before || after)
    })
}

fn phone_ok(text: &str, run: &Run, i: usize, j: usize) -> bool {
    let groups = &run.groups[i..j];
    let lens: Vec<usize> = groups.iter().map(|(a, b)| b - a).collect();
    let digits: usize = lens.iter().sum();
    let first = &text[groups[0].0..groups[0].1];
    let seps: Vec<&str> = (i..j - 1).map(|k| run.sep(text, k)).collect();
    let plus = i == 0 && run.plus;
    let intl = plus
        || (first.starts_with("00")
            && !first[2..].starts_with('0')
            && (3..=5).contains(&lens[0])
            && lens.len() >= 2);
    // A dot beside other separators is a decimal point (`0.17766 / 0.02660`).
    let mixed_dots = seps.contains(&".") && seps.iter().any(|s| *s != ".");
    if mixed_dots || date_like(text, run, i, j, !intl) {
        return false;
    }
    let uniform = seps.windows(2).all(|w| w[0] == w[1]);
    // 1 000 000, 12.345.678: digit grouping of an amount.
    let thousands = lens.len() >= 2
        && lens[0] <= 3
        && !first.starts_with('0')
        && lens[1..].iter().all(|&l| l == 3)
        && uniform;
    if intl {
        let ones = lens[1..].iter().filter(|&&l| l == 1).count();
        return (8..=15).contains(&digits) && ones <= 1 && (lens.len() == 1 || lens[0] <= 5);
    }
    if cue_before(text, run.range(i, j).0, 40, PHONE_CUES) {
        return (7..=15).contains(&digits);
    }
    if lens.len() < 2 || !(9..=13).contains(&digits) || thousands {
        return false;
    }
    if i == 0 && run.paren_first {
        return true;
    }
    let dots = seps.iter().all(|s| *s == ".");
    let trunk = first.starts_with('0')
        && (2..=5).contains(&lens[0])
        && lens.iter().all(|&l| l >= 2)
        && (!dots || lens.len() >= 3);
    let north_american = uniform
        && match lens.as_slice() {
            [3, 3, 4] => !first.starts_with(['0', '1']),
            [1, 3, 3, 4] => first == "1",
            _ => false,
        };
    trunk || north_american
}

fn phones(text: &str, runs: &[Run], found: &mut Found) {
    for run in runs {
        if let Some((i, j)) = best_subrun(text, run, 8, |i, j| phone_ok(text, run, i, j)) {
            let (start, end) = run.range(i, j);
            found.add(PiiKind::Phone, start, end);
        }
    }
}

// ---------------------------------------------------------------- street addresses

/// A name-like word: capital, then lower case (`Oak`, `O'Brien`, `McDonald`).
const WORD: &str = r"\p{Lu}(?:\p{Ll}+|['’]\p{Lu}\p{Ll}+)(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?";

/// Street addresses: English order (`12 Oak Street`, `1600 Pennsylvania Avenue NW,
/// Washington, DC 20500`: a number, one to three capitalised words and a street type,
/// then optionally a flat, a city and a ZIP or UK postcode) and European orders
/// (`Hauptstraße 12`, `Berliner Straße 5`, `Kerkstraat 7`, `Via Roma 15`, `12 rue de la
/// Paix`, optionally with a postcode and city). Lower-case addresses are not matched.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let suffix = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Crescent|Parkway|Pkwy|Highway|Hwy|Square|Sq|Alley|Gardens|Grove)";
    let english = format!(
        r"(?-u:\b)[0-9]{{1,5}}[A-Za-z]?(?:-[0-9]{{1,5}})?,?[ ](?:(?:North|South|East|West|[NSEW]\.?)[ ])?(?:{WORD}[ ]){{1,3}}{suffix}(?-u:\b)\.?(?:[ ](?:NW|NE|SW|SE|N|S|E|W)(?-u:\b))?(?:,?[ ](?:Apt|Apartment|Suite|Ste|Unit|Flat)\.?[ ]?[0-9A-Za-z-]+)?(?:,[ ]?{WORD}(?:[ ]{WORD})?)?(?:,?[ ](?:[A-Z]{{2}}[ ])?(?:[0-9]{{5}}(?:-[0-9]{{4}})?|[A-Z]{{1,2}}[0-9][A-Z0-9]?[ ][0-9][A-Z]{{2}}))?"
    );
    let compound = r"(?:\p{Lu}\p{Ll}+(?:straße|strasse|str\.|weg|platz|allee|gasse|damm|straat|laan|plein|gracht|vej|gade|gatan|vägen|veien)|\p{Lu}\p{Ll}+[ -](?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Damm))";
    let romance_first = format!(
        r"(?-u:\b)(?:Rue|Avenue|Boulevard|Via|Viale|Piazza|Corso|Calle|Avenida|Rua|Carrer|Paseo)[ ](?:(?:de|du|des|la|le|del|della|di|da|do|dos|das|l'|d')[ ]?){{0,2}}{WORD}(?:[ ]{WORD}){{0,2}},?[ ][0-9]{{1,4}}[a-z]?(?-u:\b)"
    );
    let number_first = format!(
        r"(?-u:\b)[0-9]{{1,4}}(?:[ ]?(?:bis|ter))?,?[ ](?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai)[ ](?:(?:de|du|des|la|le|l'|d')[ ]?){{0,2}}{WORD}(?:[ ]{WORD}){{0,2}}"
    );
    let european = format!(
        r"(?:{compound}[ ][0-9]{{1,4}}[a-z]?(?-u:\b)|{romance_first}|{number_first})(?:,?[ ](?:[A-Z]{{1,2}}-)?[0-9]{{4,5}}(?:[ ]?[A-Z]{{2}})?[ ]{WORD})?"
    );
    regex(&format!("{english}|{european}"))
});

fn addresses(text: &str, found: &mut Found) {
    for m in ADDRESS.find_iter(text) {
        let before_ok =
            char_before(text, m.start()).is_none_or(|c| !matches!(c, '.' | '-' | '/' | '#'));
        if before_ok {
            found.add(PiiKind::Address, m.start(), m.end());
        }
    }
}

// ---------------------------------------------------------------- names

/// What points at a name: a sign-off, an introduction, a greeting, a signature line.
static NAME_CUE: LazyLock<Regex> = LazyLock::new(|| {
    let gap = r"(?:[ \t]*\r?\n)*[ \t]*";
    let strong = format!(
        r"(?-u:\b)(?i:(?:best|kind|warm|warmest|many)\s+regards|regards|sincerely|yours\s+(?:truly|sincerely|faithfully)|mit\s+freundlichen\s+grüßen|viele\s+grüße|liebe\s+grüße|grüße|cordialement|saludos|atentamente|met\s+vriendelijke\s+groet)[ \t]*[,.!]?{gap}"
    );
    let thanks = r"thanks(?:\s+(?:again|a\s+lot|in\s+advance))?|thank\s+you(?:\s+(?:again|in\s+advance))?|many\s+thanks|cheers";
    // "Best John" needs punctuation or a line break; "Thanks John" may do without.
    let weak = format!(
        r"(?-u:\b)(?:(?i:{thanks}|best(?:\s+wishes)?|br)(?:[ \t]*[,!.-]{gap}|(?:[ \t]*\r?\n)+[ \t]*)|(?i:{thanks})[ \t]+)"
    );
    let intro = r"(?-u:\b)(?i:my\s+name\s+is|my\s+name's|i\s+am|i'm|i’m|this\s+is)[ \t]+";
    let greet = r"(?-u:\b)(?i:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))(?:[ \t]*,[ \t]*|[ \t]+)(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?";
    let dash = r"(?:^|\n)--[ \t]*\r?\n[ \t]*";
    regex(&format!(
        r"(?P<strong>{strong})|(?P<weak>{weak})|(?P<intro>{intro})|(?P<greet>{greet})|(?P<dash>{dash})"
    ))
});

/// One to three name-like words right after a cue (`Jean-Luc`, `Lukas van der Berg`).
/// Matched apart from the cues, so that the scan for cues stays a small automaton.
static NAME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    let particle = r"(?:van|von|de|der|den|da|di|del|du|le|la|dos|das|al|el|bin|ibn)";
    regex(&format!(
        r"^{WORD}(?:[ ](?:{particle}[ ]){{0,2}}{WORD}){{0,2}}"
    ))
});

/// Capitalised words that follow a greeting or sign-off but are no name: addressees,
/// sign-off words, and words that start a sentence (`Hi, Recently, …`).
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "Team", "Support", "Sir", "Madam", "All", "There", "Everyone", "Everybody", "Guys",
    "Folks", "Friends", "Friend", "World", "Again", "Advance", "Customer", "Service",
    "Services", "Admin", "Anyone", "Someone", "Somebody", "Devs", "Developers",
    "Maintainers", "Community", "Bank", "Users", "User", "Thanks", "Thank", "Regards",
    "Best", "Kind", "Cheers", "Sincerely", "Hello", "Hi", "Hey", "Dear", "Good", "Morning",
    "Afternoon", "Evening", "Greetings", "Please", "Kindly", "Hope", "Yes", "No", "Ok",
    "Okay", "Sorry", "Well", "The", "An", "It", "Is", "In", "For", "To", "This", "That",
    "These", "Those", "And", "But", "Or", "So", "We", "You", "They", "He", "She", "My",
    "Our", "Your", "Also", "Any", "Not", "Just", "Here", "Now", "Then", "When", "What",
    "How", "Why", "If", "On", "Of", "As", "At", "With", "After", "Before", "Since",
    "Because", "However", "Today", "Yesterday", "First", "Firstly", "Finally", "Recently",
    "Currently", "Unfortunately", "Basically", "Actually", "Apparently", "Hopefully",
    "Additionally", "Sometimes", "Sent", "From", "Using", "Trying", "Getting", "Having",
    "Looking", "Working", "Running", "New", "Still", "Very", "Really", "Sure", "Glad",
    "Happy", "Unable",
];

fn names(text: &str, found: &mut Found) {
    for c in NAME_CUE.captures_iter(text) {
        let Some(cue_end) = c.get(0).map(|m| m.end()) else {
            continue;
        };
        let Some(name) = NAME_AFTER.find(&text[cue_end..]) else {
            continue;
        };
        // Keep the words up to the first that is no name.
        let mut end = None;
        let mut offset = cue_end;
        for word in name.as_str().split(' ') {
            let is_word_token = word.chars().next().is_some_and(char::is_uppercase);
            if is_word_token && NOT_NAMES.contains(&word) {
                break;
            }
            if is_word_token {
                end = Some(offset + word.len());
            }
            offset += word.len() + 1;
        }
        let Some(end) = end else {
            continue;
        };
        let rest = &text[end..];
        let next = rest.chars().next();
        let closes = next.is_none_or(|c| matches!(c, '\n' | '\r' | '.' | ',' | '!' | ';' | ')'))
            || rest.trim().is_empty()
            || rest.starts_with(" (");
        // How sure the cue is decides what may follow the name.
        let intro = c.name("intro").map(|m| m.as_str().to_lowercase());
        let ok = if c.name("strong").is_some() || c.name("dash").is_some() {
            next.is_none_or(|c| !is_word(c))
        } else if let Some(cue) = intro {
            let goes_on = [" from ", " here", " and "]
                .iter()
                .any(|w| rest.starts_with(w));
            if cue.starts_with("my") {
                next.is_none_or(|c| !is_word(c))
            } else if cue.starts_with("this") {
                rest.starts_with(" from ")
                    || rest.starts_with(" here")
                    || next.is_none_or(|c| c == '\n')
            } else {
                closes || goes_on
            }
        } else if c.name("greet").is_some() {
            closes || next == Some(':') || rest.starts_with(" -")
        } else {
            closes
        };
        if ok {
            found.add(PiiKind::Name, cue_end, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(PiiKind, &str)> {
        find(text)
            .into_iter()
            .map(|s| (s.kind, &text[s.start..s.end]))
            .collect()
    }

    fn one(text: &str, kind: PiiKind, value: &str) {
        assert_eq!(kinds(text), vec![(kind, value)], "in {text:?}");
    }

    fn none(text: &str) {
        assert_eq!(kinds(text), vec![], "in {text:?}");
    }

    #[test]
    fn patterns_compile() {
        for re in [
            &IBAN,
            &DIGIT_RUN,
            &IPV4,
            &IPV6,
            &ADDRESS,
            &NAME_CUE,
            &NAME_AFTER,
        ] {
            LazyLock::force(re);
        }
    }

    #[test]
    fn kinds_parse_and_name() {
        for kind in PiiKind::ALL {
            assert_eq!(kind.name().parse::<PiiKind>(), Ok(kind));
            assert!(kind.placeholder().starts_with('['));
            assert!(!kind.label().is_empty());
        }
        assert_eq!(" Email ".parse::<PiiKind>(), Ok(PiiKind::Email));
        let err = "mail".parse::<PiiKind>().unwrap_err().to_string();
        assert!(
            err.contains("mail") && err.contains("email, phone, iban, card, ip, address, name")
        );
        assert_eq!(serde_json::to_string(&PiiKind::Iban).unwrap(), "\"iban\"");
    }

    #[test]
    fn emails() {
        one(
            "Please reply to john.smith+tickets@example.co.uk, thanks",
            PiiKind::Email,
            "john.smith+tickets@example.co.uk",
        );
        one("Mail: Anna_B@web.de.", PiiKind::Email, "Anna_B@web.de");
        none("see icon@2x.png and lodash@4.17.21 and @angular/core@12.0.0");
        none("the decorator @Component and a.b@c");
    }

    #[test]
    fn phones() {
        one(
            "call me on +44 20 7946 0958 please",
            PiiKind::Phone,
            "+44 20 7946 0958",
        );
        one(
            "My number: +1 (555) 123-4567.",
            PiiKind::Phone,
            "+1 (555) 123-4567",
        );
        one(
            "reach me at (555) 123-4567",
            PiiKind::Phone,
            "(555) 123-4567",
        );
        one("or 555.867.5309 after six", PiiKind::Phone, "555.867.5309");
        one("Festnetz 030 12345678", PiiKind::Phone, "030 12345678");
        one("au 06 12 34 56 78 merci", PiiKind::Phone, "06 12 34 56 78");
        one("+44 (0)20 7946 0958", PiiKind::Phone, "+44 (0)20 7946 0958");
        one("0049 30 1234567", PiiKind::Phone, "0049 30 1234567");
        one("mobile 5551234567", PiiKind::Phone, "5551234567");
        one("Ticket 12 555-123-4567", PiiKind::Phone, "555-123-4567");
        one(
            "my phone number is 626 734 019",
            PiiKind::Phone,
            "626 734 019",
        );
        one(
            "my phone number is 03-2057-0891",
            PiiKind::Phone,
            "03-2057-0891",
        );
        one("+44 20 2017 0958", PiiKind::Phone, "+44 20 2017 0958");
    }

    #[test]
    fn ibans() {
        one(
            "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
            PiiKind::Iban,
            "DE89 3704 0044 0532 0130 00",
        );
        one(
            "to GB82WEST12345698765432 today",
            PiiKind::Iban,
            "GB82WEST12345698765432",
        );
        one("NL91ABNA0417164300", PiiKind::Iban, "NL91ABNA0417164300");
        // One digit off, or the check digits swapped: no IBAN.
        none("IBAN DE89 3704 0044 0532 0130 01");
        none("IBAN DE98 3704 0044 0532 0130 00");
        none("GB82WEST12345698765433");
    }

    #[test]
    fn iban_checksum() {
        assert!(iban_checksum_ok(b"FR1420041010050500013M02606"));
        assert!(!iban_checksum_ok(b"FR1420041010050500013M02607"));
        assert!(!iban_checksum_ok(b"FR14"));
    }

    #[test]
    fn cards() {
        one(
            "card 4111 1111 1111 1111 was declined",
            PiiKind::Card,
            "4111 1111 1111 1111",
        );
        one(
            "paid with 5500-0000-0000-0004.",
            PiiKind::Card,
            "5500-0000-0000-0004",
        );
        one("amex 3782 822463 10005", PiiKind::Card, "3782 822463 10005");
        one("4012888888881881", PiiKind::Card, "4012888888881881");
        // Luhn fails by one digit.
        one(
            "paid with 6011-7327-2636-0482 64bit",
            PiiKind::Card,
            "6011-7327-2636-0482",
        );
        none("card 4111 1111 1111 1112 was declined");
        none("paid with 5500-0000-0000-0005.");
        // Luhn-valid but no issuer starts with 9; mixed separators.
        none("id 9111 1111 1111 1115");
        none("4111 1111-1111 1111");
        assert!(luhn_ok(b"79927398713") && !luhn_ok(b"79927398710"));
    }

    #[test]
    fn ips() {
        one(
            "blocked from 203.0.113.42 since",
            PiiKind::Ip,
            "203.0.113.42",
        );
        one(
            "dial tcp 10.40.31.166:8300: refused",
            PiiKind::Ip,
            "10.40.31.166",
        );
        one(
            "addr 2001:db8:85a3::8a2e:370:7334 ok",
            PiiKind::Ip,
            "2001:db8:85a3::8a2e:370:7334",
        );
        one(
            "link fe80::1ff:fe23:4567:890a%eth0",
            PiiKind::Ip,
            "fe80::1ff:fe23:4567:890a",
        );
        one(
            "full 2001:0db8:0000:0000:0000:ff00:0042:8329.",
            PiiKind::Ip,
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
        );
        none("127.0.0.1 and 0.0.0.0 and ::1 and 255.255.255.0");
        none("version 1.2.3 and 1.2.3.4.5 and 300.1.1.1");
        none("std::vector<int> and f64::add(x) and Foo::Bar::baz at 12:30:45");
        none("MAC 00:1A:2B:3C:4D:5E");
        // Four-part versions.
        none("ansible 2.4.2.0, Version=15.0.0.0, \"version\": \"10.0.0.12\", METEOR@1.4.1.3");
        none("openliberty-17.0.0.3-RC and 1.9.8.0-beta7 and SQLServerDsc\\10.0.0.0");
        one("scp me@25.41.29.133:/tmp", PiiKind::Ip, "25.41.29.133");
    }

    #[test]
    fn addresses() {
        one(
            "I live at 12 Oak Street now",
            PiiKind::Address,
            "12 Oak Street",
        );
        one(
            "ship to 1600 Pennsylvania Avenue NW, Washington, DC 20500 asap",
            PiiKind::Address,
            "1600 Pennsylvania Avenue NW, Washington, DC 20500",
        );
        one(
            "at 221B Baker Street, London NW1 6XE.",
            PiiKind::Address,
            "221B Baker Street, London NW1 6XE",
        );
        one(
            "wohne in der Hauptstraße 12, 10115 Berlin",
            PiiKind::Address,
            "Hauptstraße 12, 10115 Berlin",
        );
        one("Berliner Straße 5a", PiiKind::Address, "Berliner Straße 5a");
        one("Kerkstraat 7 in Utrecht", PiiKind::Address, "Kerkstraat 7");
        one(
            "au 12 rue de la Paix, 75002",
            PiiKind::Address,
            "12 rue de la Paix",
        );
        one("in Via Roma 15", PiiKind::Address, "Via Roma 15");
        none("step 3 click the Street view; String 5; version 2 Drive");
    }

    #[test]
    fn names() {
        one(
            "It fails again.\nBest regards,\nMaría José García",
            PiiKind::Name,
            "María José García",
        );
        one("Any ideas? Thanks, Peter", PiiKind::Name, "Peter");
        one("Hi Anna, the export broke", PiiKind::Name, "Anna");
        one(
            "Hello, my name is Jean-Luc O'Brien and I",
            PiiKind::Name,
            "Jean-Luc O'Brien",
        );
        one("Dear Mr. Smith, thank you", PiiKind::Name, "Smith");
        one(
            "ok\n-- \nLukas van der Berg\nACME",
            PiiKind::Name,
            "Lukas van der Berg",
        );
        one("Cheers,\nØyvind", PiiKind::Name, "Øyvind");
        none("Hi Team, Hello World! Dear Sir, Thanks, Windows 10 users");
        none("This is Chrome on Linux. I am Using the app. Thanks. The end");
        none("Thanks. Edit: it works");
        none("Hi, Recently, the build broke. Hi, Need API docs. Thanks Can you help?");
        one("works now, thanks Diego", PiiKind::Name, "Diego");
        none("this is the best Option. Best Practice.");
    }

    #[test]
    fn no_false_positives() {
        none("Released 2024-01-15, then 15.01.2024 and 01/15/2024 10:30");
        none("version 1.2.3, semver 2.0.0-rc.1+build.5, build 10.0.19041.1");
        none("at Foo.java:123 at com.example.Bar.baz(Bar.java:4567)");
        none("commit 3f4a2b1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f40 and sha 1234567890abcdef");
        none("uuid 123e4567-e89b-12d3-a456-426614174000");
        none("it costs $1,234.56 or 1 000 000 EUR or €12.345.678");
        none("order #123-456-7890 and order no. 12345678, issue #4521");
        none("0x7fff84cf3000 - 0x7fff84d62000 and 18446744073709551612");
        none("Addressable: 00 Partially addressable: 01 02 03 04 05 06 07 Heap");
        none("Call head() 0.17766 / 0.02660 : Call pagestart()");
        none("![simulator screen shot 09 05 2017 21 35 31](https://x)");
        none("2017-09-19 09:47:52,496 INFO and 6 10135 10136 00:00");
        none("I transferred 7,000 to a friend and got only 20.00");
        none("time_modified: \"0001-01-01 00:00:00 +0000\"");
    }

    #[test]
    fn scrubs() {
        let text = "Mail a@b.com or call +44 20 7946 0958. Regards, Ann";
        assert_eq!(
            scrub(text, &[PiiKind::Email, PiiKind::Phone]),
            "Mail [EMAIL] or call [PHONE]. Regards, Ann"
        );
        assert_eq!(
            scrub(text, &PiiKind::ALL),
            "Mail [EMAIL] or call [PHONE]. Regards, [NAME]"
        );
        assert!(matches!(scrub(text, &[PiiKind::Iban]), Cow::Borrowed(_)));
        assert!(matches!(
            scrub("nothing here", &PiiKind::ALL),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn multibyte_text() {
        let text = "Grüße 🎉 écrivez à zoë@exemple.fr 🙂 ou appelez le +33 1 23 45 67 89 — merci! Cordialement, Zoë";
        assert_eq!(
            kinds(text),
            vec![
                (PiiKind::Email, "zoë@exemple.fr"),
                (PiiKind::Phone, "+33 1 23 45 67 89"),
                (PiiKind::Name, "Zoë"),
            ]
        );
        assert!(scrub(text, &PiiKind::ALL).contains("🙂 ou appelez le [PHONE] —"));
        // Every cut of emoji-dense text stays on char boundaries.
        let dense = "📞+1 555 123 4567📞 ✉️ a@b.io ✉️ 🏠 12 Oak Street 🏠 ".repeat(3);
        for span in find(&dense) {
            assert!(dense.is_char_boundary(span.start) && dense.is_char_boundary(span.end));
        }
        let s = survey([(2, dense.as_str())]);
        for kind in &s.kinds {
            for ex in &kind.examples {
                for span in &ex.spans {
                    assert!(ex.text.is_char_boundary(span.start));
                    assert!(ex.text.is_char_boundary(span.end));
                }
            }
        }
    }

    #[test]
    fn survey_counts_and_windows() {
        let long = format!(
            "{} mail me: ann@example.com {}",
            "x ".repeat(300),
            "y ".repeat(300)
        );
        let rows = [
            (2, "call +44 20 7946 0958"),
            (3, "nothing"),
            (4, long.as_str()),
            (5, "a@b.de and c@d.de"),
            (6, "e@f.de"),
            (7, "g@h.de"),
        ];
        let s = survey(rows);
        assert_eq!(s.tickets, 6);
        assert_eq!(s.kinds.len(), 7);
        let email = &s.kinds[0];
        assert_eq!((email.kind, email.tickets), (PiiKind::Email, 4));
        assert_eq!(email.examples.len(), 3);
        let ex = &email.examples[0];
        assert_eq!(ex.line, 4);
        assert!(ex.text.len() <= WINDOW + 4 && ex.cut_start && ex.cut_end);
        assert_eq!(ex.spans.len(), 1);
        assert_eq!(
            &ex.text[ex.spans[0].start..ex.spans[0].end],
            "ann@example.com"
        );
        let two = &email.examples[1];
        assert_eq!(
            (two.line, two.spans.len(), two.cut_start, two.cut_end),
            (5, 2, false, false)
        );
        assert_eq!(s.kinds[1].tickets, 1);
        assert!(s.kinds[2..]
            .iter()
            .all(|k| k.tickets == 0 && k.examples.is_empty()));
        let json = serde_json::to_value(&s).unwrap();
        assert!(json["kinds"][0]["examples"][0].get("cutStart").is_some());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Any text: spans in order, apart, on char boundaries; scrubbing never panics.
        #[test]
        fn spans_are_ordered_and_on_boundaries(
            text in "[0-9 +().@:/#,a-zA-ZäéßÄ🎉\n-]{0,120}|(Hi|Regards,|IBAN|call) [A-Z][a-zé]{1,6} [0-9 .-]{0,30}"
        ) {
            let spans = find(&text);
            let mut last = 0;
            for s in &spans {
                proptest::prop_assert!(s.start >= last && s.start < s.end && s.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
                last = s.end;
            }
            let _ = scrub(&text, &PiiKind::ALL);
            let _ = survey([(2, text.as_str())]);
        }
    }
}
