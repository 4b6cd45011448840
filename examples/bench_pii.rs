//! Personal-data detection (`dialect::pii`): precision and recall on real tickets with
//! planted values, and the speed of `find`. Prints one JSON object. Run by
//! `bench/pii.sh`; not a test.
//!
//! A seeded sample of tickets from each file gets, in about half of them, one or two
//! generated values (several formats per kind) inside a short sentence at a word
//! boundary; the planted values are the ground truth. A detection of a kind counts as
//! right when it overlaps a planted value of that kind; any other detection, in the
//! ticket's own text too, counts as a false positive (`precision`);
//! `precision_planted_only` leaves out those that touch no planted value. Detections
//! in the original, unplanted tickets (all of both files) are listed apart, to be
//! judged by reading them: a real e-mail address in a ticket is a right detection there.
//!
//! Usage: bench_pii [DATA_DIR] [PER_FILE] [SEED]
//! With PII_DUMP=FILE, every unplanted detection is written to FILE, one a line.

use dialect::pii::{self, PiiKind, PiiSpan};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// The allocator the CLI and the app use.
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

type Failure = Box<dyn std::error::Error>;

const FILES: [&str; 2] = ["banking77_train.csv", "tickettagger_issues_train.csv"];
/// Examples of each sort kept per kind in the report.
const SHOW: usize = 10;

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("../shared/data", String::as_str);
    let per_file: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let seed: u64 = args.get(3).map_or(Ok(20_261_201), |s| s.parse())?;
    let mut rng = StdRng::seed_from_u64(seed);

    let mut all = Vec::new();
    let mut sample = Vec::new();
    for file in FILES {
        let texts = read_texts(&Path::new(dir).join(file))?;
        let picked = rand::seq::index::sample(&mut rng, texts.len(), per_file.min(texts.len()));
        sample.extend(picked.into_iter().map(|i| texts[i].clone()));
        all.extend(texts);
    }

    // Plant values into about half of the sample.
    let mut planted_texts = Vec::with_capacity(sample.len());
    for text in &sample {
        let values = if rng.random_bool(0.5) {
            rng.random_range(1..=2)
        } else {
            0
        };
        planted_texts.push(plant(text, values, &mut rng));
    }

    let mut tally: BTreeMap<PiiKind, Tally> = PiiKind::ALL
        .into_iter()
        .map(|k| (k, Tally::default()))
        .collect();
    for (text, truth) in &planted_texts {
        let found = pii::find(text);
        for span in &found {
            let t = tally.entry(span.kind).or_default();
            t.found += 1;
            let hit = truth
                .iter()
                .any(|p| p.kind == span.kind && overlaps(p, span));
            let planted_kind = truth.iter().find(|p| overlaps(p, span)).map(|p| p.kind);
            if hit {
                t.right += 1;
                continue;
            }
            if planted_kind.is_none() {
                t.in_original += 1;
            }
            if t.false_positives.len() < SHOW {
                t.false_positives.push(json!({
                    "text": snippet(text, span),
                    "on_planted": planted_kind,
                }));
            }
        }
        for p in truth {
            let t = tally.entry(p.kind).or_default();
            t.planted += 1;
            if found.iter().any(|s| s.kind == p.kind && overlaps(p, s)) {
                t.recalled += 1;
            } else if t.misses.len() < SHOW {
                let got = found.iter().find(|s| overlaps(p, s)).map(|s| s.kind);
                t.misses
                    .push(json!({ "text": snippet(text, p), "found_as": got }));
            }
        }
    }

    let mut kinds = Map::new();
    let (mut found, mut right, mut planted, mut recalled, mut in_original) = (0, 0, 0, 0, 0);
    for (kind, t) in &tally {
        found += t.found;
        right += t.right;
        planted += t.planted;
        recalled += t.recalled;
        in_original += t.in_original;
        kinds.insert(
            kind.name().to_string(),
            json!({
                "planted": t.planted,
                "found": t.found,
                "right": t.right,
                "in_original": t.in_original,
                "precision": ratio(t.right, t.found),
                "precision_planted_only": ratio(t.right, t.found - t.in_original),
                "recall": ratio(t.recalled, t.planted),
                "false_positives": t.false_positives,
                "misses": t.misses,
            }),
        );
    }

    let unplanted = unplanted(&all)?;
    let throughput = throughput(&all);
    let report = json!({
        "machine": machine(),
        "seed": seed,
        "sample": {
            "tickets": planted_texts.len(),
            "planted_tickets": planted_texts.iter().filter(|(_, t)| !t.is_empty()).count(),
            "planted_values": planted,
        },
        "overall": {
            "planted": planted,
            "found": found,
            "in_original": in_original,
            "precision": ratio(right, found),
            "precision_planted_only": ratio(right, found - in_original),
            "recall": ratio(recalled, planted),
        },
        "kinds": kinds,
        "throughput": throughput,
        "unplanted_detections": unplanted,
    });
    println!("{report}");
    Ok(())
}

#[derive(Default)]
struct Tally {
    planted: usize,
    recalled: usize,
    found: usize,
    right: usize,
    /// Wrong detections that touch no planted value: in the ticket's own text.
    in_original: usize,
    false_positives: Vec<Value>,
    misses: Vec<Value>,
}

fn ratio(a: usize, b: usize) -> Value {
    if b == 0 {
        Value::Null
    } else {
        json!(a as f64 / b as f64)
    }
}

fn overlaps(a: &PiiSpan, b: &PiiSpan) -> bool {
    a.start < b.end && b.start < a.end
}

/// ~60 bytes either side of the span, the span marked ⟦…⟧, on one line.
fn snippet(text: &str, span: &PiiSpan) -> String {
    let from = text.floor_char_boundary(span.start.saturating_sub(60));
    let to = text.ceil_char_boundary((span.end + 60).min(text.len()));
    format!(
        "{}⟦{}⟧{}",
        &text[from..span.start],
        &text[span.start..span.end],
        &text[span.end..to]
    )
    .replace(['\n', '\r'], "⏎")
}

fn read_texts(path: &Path) -> Result<Vec<String>, Failure> {
    let mut reader = csv::Reader::from_path(path)?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "text")
        .ok_or_else(|| format!("{}: no `text` column", path.display()))?;
    let mut texts = Vec::new();
    for record in reader.records() {
        texts.push(record?.get(column).unwrap_or_default().to_string());
    }
    Ok(texts)
}

/// Every detection in the original tickets, per kind: how many, in how many tickets,
/// and the first few in context.
fn unplanted(all: &[String]) -> Result<Value, Failure> {
    let mut dump = match std::env::var_os("PII_DUMP") {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let mut per_kind: BTreeMap<PiiKind, (usize, usize, Vec<String>)> = BTreeMap::new();
    for (row, text) in all.iter().enumerate() {
        let spans = pii::find(text);
        let mut seen = Vec::new();
        for span in &spans {
            let entry = per_kind.entry(span.kind).or_default();
            entry.0 += 1;
            if !seen.contains(&span.kind) {
                seen.push(span.kind);
                entry.1 += 1;
            }
            if entry.2.len() < SHOW {
                entry.2.push(snippet(text, span));
            }
            if let Some(out) = dump.as_mut() {
                writeln!(out, "{}\t{}\t{}", span.kind, row, snippet(text, span))?;
            }
        }
    }
    let mut out = Map::new();
    for kind in PiiKind::ALL {
        let (spans, tickets, examples) = per_kind.remove(&kind).unwrap_or_default();
        out.insert(
            kind.name().to_string(),
            json!({ "spans": spans, "tickets": tickets, "examples": examples }),
        );
    }
    Ok(json!({ "tickets": all.len(), "kinds": out }))
}

/// `find` over every original ticket: the best of five rounds.
fn throughput(all: &[String]) -> Value {
    let bytes: usize = all.iter().map(String::len).sum();
    let mut best = f64::INFINITY;
    let mut spans = 0;
    for _ in 0..5 {
        let start = Instant::now();
        spans = all.iter().map(|t| pii::find(t).len()).sum::<usize>();
        best = best.min(start.elapsed().as_secs_f64());
    }
    json!({
        "tickets": all.len(),
        "bytes": bytes,
        "spans": spans,
        "seconds": best,
        "tickets_per_s": all.len() as f64 / best,
        "mb_per_s": bytes as f64 / 1e6 / best,
        "threads": 1,
    })
}

/// The engine's description of this CPU (model name, threads, kernels' ISA path).
fn machine() -> Value {
    let cpu = dialect::device::available_devices()
        .into_iter()
        .find(|d| d.choice == dialect::DeviceChoice::Cpu)
        .and_then(|d| d.name)
        .unwrap_or_else(|| "unknown".into());
    json!({ "cpu": cpu })
}

// ---------------------------------------------------------------- planting

/// Where a template's sentence goes in a ticket.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Start,
    Anywhere,
    End,
}

/// A sentence around a value: `{}` marks the value.
struct Planting {
    kind: PiiKind,
    place: Place,
    before: String,
    value: String,
    after: String,
}

/// `text` with `count` values planted, and where they ended up.
fn plant(text: &str, count: usize, rng: &mut StdRng) -> (String, Vec<PiiSpan>) {
    let mut plantings: Vec<(usize, Planting)> = (0..count)
        .map(|_| {
            let kind = *PiiKind::ALL.choose(rng).unwrap_or(&PiiKind::Email);
            let p = planting(kind, rng);
            let at = match p.place {
                Place::Start => 0,
                Place::End => text.len(),
                Place::Anywhere => word_boundary(text, rng),
            };
            (at, p)
        })
        .collect();
    plantings.sort_by_key(|(at, p)| (*at, p.place == Place::End));
    let mut out = String::with_capacity(text.len() + 200);
    let mut truth = Vec::new();
    let mut at = 0;
    for (pos, p) in plantings {
        out.push_str(&text[at..pos]);
        at = pos;
        if !out.is_empty() && !out.ends_with([' ', '\n']) {
            out.push(' ');
        }
        out.push_str(&p.before);
        let start = out.len();
        out.push_str(&p.value);
        truth.push(PiiSpan {
            kind: p.kind,
            start,
            end: out.len(),
        });
        out.push_str(&p.after);
        if at < text.len() && !text[at..].starts_with([' ', '\n']) {
            out.push(' ');
        }
    }
    out.push_str(&text[at..]);
    (out, truth)
}

/// A byte offset just after a space in `text` (or its start or end).
fn word_boundary(text: &str, rng: &mut StdRng) -> usize {
    let spaces: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i + 1)
        .collect();
    let mut options = vec![0, text.len()];
    options.extend(spaces);
    *options.choose(rng).unwrap_or(&0)
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or_default()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn planting(kind: PiiKind, rng: &mut StdRng) -> Planting {
    let value = match kind {
        PiiKind::Email => email(rng),
        PiiKind::Phone => phone(rng),
        PiiKind::Iban => iban(rng),
        PiiKind::Card => card(rng),
        PiiKind::Ip => ip(rng),
        PiiKind::Address => address(rng),
        PiiKind::Name => name(rng),
    };
    let templates: &[(Place, &str)] = match kind {
        PiiKind::Email => &[
            (Place::Anywhere, "my email is {}."),
            (Place::Anywhere, "please contact me at {}"),
            (Place::End, "You can reply to {} if needed."),
            (Place::Anywhere, "({})"),
            (Place::Anywhere, "I sent it from {} yesterday."),
            (Place::Start, "From: {}\n"),
        ],
        PiiKind::Phone => &[
            (Place::Anywhere, "call me on {}."),
            (Place::Anywhere, "my phone number is {}"),
            (Place::End, "You can reach me at {} during office hours."),
            (Place::Anywhere, "{} is my number."),
            (Place::Anywhere, "Tel: {}"),
            (Place::End, "Mobile: {}"),
            (Place::Anywhere, "my number is {},"),
            (Place::Anywhere, "or text {}"),
        ],
        PiiKind::Iban => &[
            (Place::Anywhere, "IBAN {}"),
            (Place::Anywhere, "my IBAN is {}."),
            (Place::Anywhere, "I sent the money to {} yesterday."),
            (Place::End, "Account: {}"),
        ],
        PiiKind::Card => &[
            (Place::Anywhere, "my card number is {}."),
            (Place::Anywhere, "the card {} was charged twice"),
            (Place::Anywhere, "I paid with {}"),
            (Place::End, "Card: {}"),
        ],
        PiiKind::Ip => &[
            (Place::Anywhere, "my IP is {}."),
            (Place::Anywhere, "requests from {} are blocked"),
            (Place::Anywhere, "the server at {} does not answer"),
            (Place::End, "(client {})"),
            (Place::Anywhere, "I connect from {}"),
        ],
        PiiKind::Address => &[
            (Place::Anywhere, "I live at {}."),
            (Place::Anywhere, "please send it to {}"),
            (Place::Anywhere, "my address is {},"),
            (Place::End, "Delivery address: {}"),
            (Place::Anywhere, "I moved to {} last month."),
        ],
        PiiKind::Name => &[
            (Place::End, "\nRegards,\n{}"),
            (Place::End, "Best regards, {}"),
            (Place::End, "Thanks, {}"),
            (Place::End, "Cheers,\n{}"),
            (Place::End, "Sincerely,\n{}"),
            (Place::Start, "Hi, my name is {} and"),
            (Place::Start, "Hello, I'm {}."),
            (Place::End, "\n-- \n{}"),
            (Place::End, "Kind regards\n{}"),
            (Place::Anywhere, "{} from accounting asked me to write."),
            (Place::Anywhere, "I spoke to {} on the phone."),
        ],
    };
    let (place, template) = *templates.choose(rng).unwrap_or(&templates[0]);
    let (before, after) = template.split_once("{}").unwrap_or((template, ""));
    // Names of people other than the writer: first and last; signatures: either.
    let value = if kind == PiiKind::Name && rng.random_bool(0.4) {
        value.split(' ').next().unwrap_or_default().to_string()
    } else {
        value
    };
    // Some people type names and addresses all in lower case.
    let value = if matches!(kind, PiiKind::Name | PiiKind::Address) && rng.random_bool(0.1) {
        value.to_lowercase()
    } else {
        value
    };
    Planting {
        kind,
        place,
        before: before.to_string(),
        value,
        after: after.to_string(),
    }
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Richard",
    "Jessica",
    "Thomas",
    "Sarah",
    "Daniel",
    "Karen",
    "Emily",
    "Anna",
    "Lukas",
    "Sophie",
    "Maximilian",
    "Lena",
    "Jonas",
    "Hannah",
    "Jürgen",
    "Søren",
    "Øyvind",
    "Björn",
    "Åsa",
    "Ingrid",
    "Mikael",
    "Aino",
    "Matti",
    "Pierre",
    "Élodie",
    "Camille",
    "François",
    "Amélie",
    "Chloé",
    "Giulia",
    "Marco",
    "Francesca",
    "Alessandro",
    "José",
    "María",
    "Sofía",
    "Javier",
    "Carmen",
    "Inês",
    "João",
    "Gonçalo",
    "Łukasz",
    "Katarzyna",
    "Piotr",
    "Agnieszka",
    "Dmitri",
    "Olga",
    "Sergei",
    "Natalia",
    "Yusuf",
    "Ayşe",
    "Mehmet",
    "Ahmed",
    "Fatima",
    "Omar",
    "Layla",
    "Hassan",
    "Aisha",
    "Priya",
    "Rahul",
    "Ananya",
    "Arjun",
    "Deepika",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Haruto",
    "Sakura",
    "Minjun",
    "Jiwoo",
    "Linh",
    "Minh",
    "Chinedu",
    "Ngozi",
    "Kwame",
    "Amara",
    "Thabo",
    "Zanele",
    "Kofi",
    "Aroha",
    "Siobhán",
    "Seán",
    "Niamh",
    "Eoin",
    "Zoë",
    "Noah",
    "Olivia",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Girard",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Fernández",
    "González",
    "López",
    "Sánchez",
    "Pérez",
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Ivanov",
    "Petrov",
    "Smirnova",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Haddad",
    "Khalil",
    "Mansour",
    "Patel",
    "Sharma",
    "Gupta",
    "Singh",
    "Reddy",
    "Wang",
    "Li",
    "Zhang",
    "Chen",
    "Liu",
    "Tanaka",
    "Suzuki",
    "Takahashi",
    "Kim",
    "Park",
    "Lee",
    "Nguyen",
    "Tran",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Nkosi",
    "Dlamini",
    "O'Brien",
    "O'Connor",
    "McDonald",
    "MacLeod",
    "van der Berg",
    "de Jong",
    "Jansen",
    "Andersen",
    "Nielsen",
    "Hansen",
    "Johansson",
    "Lindqvist",
    "Virtanen",
    "Korhonen",
    "Novák",
    "Horváth",
    "Papadopoulos",
    "Cohen",
    "Levi",
    "Kaur",
    "Ali",
    "Hussain",
    "Murphy",
    "Kelly",
];

fn name(rng: &mut StdRng) -> String {
    format!("{} {}", pick(rng, FIRST), pick(rng, LAST))
}

/// A name in ASCII for an e-mail address: accents dropped, spaces and quotes gone.
fn fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let plain = match c {
                'á' | 'à' | 'â' | 'ä' | 'å' | 'ã' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' | 'ı' => 'i',
                'ó' | 'ò' | 'ô' | 'ö' | 'ø' | 'õ' => 'o',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                'ł' => 'l',
                'ś' | 'ş' => 's',
                'ß' => 's',
                c if c.is_ascii_alphanumeric() => c,
                _ => return None,
            };
            Some(plain.to_ascii_lowercase())
        })
        .collect()
}

fn email(rng: &mut StdRng) -> String {
    let first = fold(&pick(rng, FIRST).to_lowercase());
    let last = fold(&pick(rng, LAST).to_lowercase());
    let local = match rng.random_range(0..7) {
        0 => format!("{first}.{last}"),
        1 => format!("{}{last}", &first[..1]),
        2 => format!("{first}_{last}{}", rng.random_range(1..99)),
        3 => format!("{first}.{last}+support"),
        4 => format!("{first}{}", rng.random_range(1970..2010)),
        5 => format!("{}.{last}", &first[..1]),
        _ => format!("{last}{first}"),
    };
    let domain = pick(
        rng,
        &[
            "gmail.com",
            "yahoo.co.uk",
            "outlook.com",
            "web.de",
            "acme-corp.io",
            "mail.example.org",
            "uni-heidelberg.de",
            "orange.fr",
            "proton.me",
            "icloud.com",
            "libero.it",
            "hotmail.es",
            "company.com.au",
        ],
    );
    let value = format!("{local}@{domain}");
    if rng.random_bool(0.1) {
        // Some people write it capitalised.
        let mut chars = value.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or(value)
    } else {
        value
    }
}

fn phone(rng: &mut StdRng) -> String {
    let area = format!("{}{}", rng.random_range(2..10), digits(rng, 2));
    let exch = format!("{}{}", rng.random_range(2..10), digits(rng, 2));
    let line = digits(rng, 4);
    match rng.random_range(0..22) {
        0 => format!("+1 ({area}) {exch}-{line}"),
        1 => format!("+1-{area}-{exch}-{line}"),
        2 => format!("({area}) {exch}-{line}"),
        3 => format!("{area}-{exch}-{line}"),
        4 => format!("{area}.{exch}.{line}"),
        5 => format!("1-800-{exch}-{line}"),
        6 => format!("+44 20 7946 {}", digits(rng, 4)),
        7 => format!("+44 7700 900{}", digits(rng, 3)),
        8 => format!("020 7946 {}", digits(rng, 4)),
        9 => format!("07700 900{}", digits(rng, 3)),
        10 => format!("+44 (0)20 7946 {}", digits(rng, 4)),
        11 => format!("+49 30 {}", digits(rng, 8)),
        12 => format!("030 {}", digits(rng, 8)),
        13 => format!("0151 {}", digits(rng, 8)),
        14 => format!("+49 (0)89 {}", digits(rng, 7)),
        15 => format!("030/{}", digits(rng, 7)),
        16 => {
            let p: Vec<String> = (0..4).map(|_| digits(rng, 2)).collect();
            format!("+33 {} {}", rng.random_range(1..8), p.join(" "))
        }
        17 => {
            let p: Vec<String> = (0..4).map(|_| digits(rng, 2)).collect();
            format!("0{} {}", rng.random_range(1..8), p.join(" "))
        }
        18 => {
            let p: Vec<String> = (0..4).map(|_| digits(rng, 2)).collect();
            format!("06.{}", p.join("."))
        }
        19 => format!("+31 6 {}", digits(rng, 8)),
        20 => match rng.random_range(0..6) {
            0 => format!("+91 9{} {}", digits(rng, 4), digits(rng, 5)),
            1 => format!("+39 06 {} {}", digits(rng, 4), digits(rng, 4)),
            2 => format!(
                "+34 6{} {} {}",
                digits(rng, 2),
                digits(rng, 3),
                digits(rng, 3)
            ),
            3 => format!("+81 3-{}-{}", digits(rng, 4), digits(rng, 4)),
            4 => format!("+61 2 {} {}", digits(rng, 4), digits(rng, 4)),
            _ => format!("+55 11 9{}-{}", digits(rng, 4), digits(rng, 4)),
        },
        _ => match rng.random_range(0..9) {
            0 => format!("+4915{}", digits(rng, 9)),
            1 => format!("0412 {} {}", digits(rng, 3), digits(rng, 3)),
            2 => format!("6{} {} {}", digits(rng, 2), digits(rng, 3), digits(rng, 3)),
            3 => format!("03-{}-{}", digits(rng, 4), digits(rng, 4)),
            4 => format!("{area} {exch} {line}"),
            5 => format!(
                "+7 (495) {}-{}-{}",
                digits(rng, 3),
                digits(rng, 2),
                digits(rng, 2)
            ),
            6 => format!("+86 138 {} {}", digits(rng, 4), digits(rng, 4)),
            7 => format!("0800 {} {}", digits(rng, 3), digits(rng, 4)),
            _ => format!("+1.{area}.{exch}.{line}"),
        },
    }
}

/// ISO 7064 mod 97 of an IBAN's characters, letters as two digits.
fn mod97(chars: &str) -> u32 {
    chars.bytes().fold(0u32, |r, c| match c {
        b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
        _ => (r * 100 + u32::from(c.to_ascii_uppercase() - b'A') + 10) % 97,
    })
}

fn iban(rng: &mut StdRng) -> String {
    let letters = |rng: &mut StdRng, options: &[&str]| pick(rng, options).to_string();
    let (country, bban) = match rng.random_range(0..14) {
        0 => ("DE", digits(rng, 18)),
        1 => (
            "GB",
            letters(rng, &["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + &digits(rng, 14),
        ),
        2 => ("FR", digits(rng, 23)),
        3 => ("ES", digits(rng, 20)),
        4 => ("IT", letters(rng, &["X", "A", "K"]) + &digits(rng, 22)),
        5 => (
            "NL",
            letters(rng, &["ABNA", "INGB", "RABO", "TRIO"]) + &digits(rng, 10),
        ),
        6 => ("BE", digits(rng, 12)),
        7 => ("CH", digits(rng, 17)),
        8 => ("AT", digits(rng, 16)),
        9 => ("PL", digits(rng, 24)),
        10 => ("SE", digits(rng, 20)),
        11 => ("IE", letters(rng, &["AIBK", "BOFI"]) + &digits(rng, 14)),
        12 => ("PT", digits(rng, 21)),
        _ => ("NO", digits(rng, 11)),
    };
    let check = 98 - mod97(&format!("{bban}{country}00"));
    let compact = format!("{country}{check:02}{bban}");
    if rng.random_bool(0.6) {
        let chars: Vec<char> = compact.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        compact
    }
}

/// A card number of `len` digits starting with `prefix`, with its Luhn check digit.
fn luhn_number(rng: &mut StdRng, prefix: &str, len: usize) -> String {
    let mut body = format!("{prefix}{}", digits(rng, len - prefix.len() - 1));
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i.is_multiple_of(2) {
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
    body.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    body
}

fn card(rng: &mut StdRng) -> String {
    let mc2 = rng.random_range(2221..=2720).to_string();
    let mc5 = format!("5{}", rng.random_range(1..=5));
    let jcb = rng.random_range(3528..=3589).to_string();
    let (number, shape): (String, &[usize]) = match rng.random_range(0..9) {
        0 | 1 => (luhn_number(rng, "4", 16), &[4, 4, 4, 4]),
        2 => (luhn_number(rng, &mc5, 16), &[4, 4, 4, 4]),
        3 => (luhn_number(rng, &mc2, 16), &[4, 4, 4, 4]),
        4 => {
            let prefix = pick(rng, &["34", "37"]);
            (luhn_number(rng, prefix, 15), &[4, 6, 5])
        }
        5 => {
            let prefix = pick(rng, &["6011", "65"]);
            (luhn_number(rng, prefix, 16), &[4, 4, 4, 4])
        }
        6 => (luhn_number(rng, &jcb, 16), &[4, 4, 4, 4]),
        7 => (luhn_number(rng, "36", 14), &[4, 6, 4]),
        _ => (luhn_number(rng, "62", 19), &[4, 4, 4, 4, 3]),
    };
    let sep = pick(rng, &[" ", " ", "-", ""]);
    let mut groups = Vec::new();
    let mut at = 0;
    for &n in shape {
        groups.push(&number[at..at + n]);
        at += n;
    }
    groups.join(sep)
}

fn ip(rng: &mut StdRng) -> String {
    let hex = |rng: &mut StdRng| format!("{:x}", rng.random_range(0..=0xffffu32));
    match rng.random_range(0..7) {
        0 | 1 => {
            let first = loop {
                let o = rng.random_range(1..=223u8);
                if o != 127 && o != 10 {
                    break o;
                }
            };
            format!(
                "{first}.{}.{}.{}",
                rng.random_range(0..=255u8),
                rng.random_range(0..=255u8),
                rng.random_range(1..=254u8)
            )
        }
        2 => format!(
            "192.168.{}.{}",
            rng.random_range(0..=255u8),
            rng.random_range(1..=254u8)
        ),
        3 => format!(
            "10.{}.{}.{}",
            rng.random_range(0..=255u8),
            rng.random_range(0..=255u8),
            rng.random_range(1..=254u8)
        ),
        4 => {
            let groups: Vec<String> = (0..8)
                .map(|_| format!("{:04x}", rng.random_range(0..=0xffffu32)))
                .collect();
            format!("2001:{}", groups[1..].join(":"))
        }
        5 => format!("2001:db8::{}:{}", hex(rng), hex(rng)),
        _ => format!("fe80::{}:{}:{}:{}", hex(rng), hex(rng), hex(rng), hex(rng)),
    }
}

fn address(rng: &mut StdRng) -> String {
    const STREETS: &[&str] = &[
        "Oak",
        "Maple",
        "Elm",
        "Pine",
        "Cedar",
        "Main",
        "High",
        "Church",
        "Park",
        "Mill",
        "Station",
        "Victoria",
        "King",
        "Queen",
        "Baker",
        "Washington",
        "Lincoln",
        "Sunset",
        "Lake",
        "Green",
        "Willow",
        "Birch",
        "Chestnut",
        "Forest",
        "River",
        "Meadow",
    ];
    const SUFFIXES: &[&str] = &[
        "Street",
        "St",
        "St.",
        "Avenue",
        "Ave",
        "Road",
        "Rd",
        "Boulevard",
        "Blvd",
        "Lane",
        "Drive",
        "Dr",
        "Court",
        "Way",
        "Place",
        "Terrace",
    ];
    const CITIES: &[&str] = &["Springfield", "Portland", "Austin", "Denver", "Boston"];
    const GERMAN: &[&str] = &[
        "Haupt", "Bahnhof", "Schul", "Garten", "Berg", "Kirch", "Linden", "Goethe", "Schiller",
        "Wald", "Dorf", "Mozart", "Markt",
    ];
    let n = rng.random_range(1..2000);
    let street = pick(rng, STREETS);
    match rng.random_range(0..10) {
        0..=2 => format!("{n} {street} {}", pick(rng, SUFFIXES)),
        3 => format!(
            "{n} {street} {}, {}, {} {}",
            pick(rng, SUFFIXES),
            pick(rng, CITIES),
            pick(rng, &["CA", "TX", "NY", "OR", "MA"]),
            digits(rng, 5)
        ),
        4 => format!(
            "{n} {} {street} {}, Apt {}{}",
            pick(rng, &["North", "East", "Old"]),
            pick(rng, SUFFIXES),
            rng.random_range(1..20),
            pick(rng, &["A", "B", ""])
        ),
        5 => format!(
            "{} {street} Road, {} {}{} {}{}",
            rng.random_range(1..200),
            pick(rng, &["London", "Leeds", "Bristol"]),
            pick(rng, &["NW", "SE", "LS", "BS"]),
            rng.random_range(1..20),
            rng.random_range(1..10),
            pick(rng, &["AB", "XE", "QT"])
        ),
        6 => {
            let base = pick(rng, GERMAN);
            let suffix = pick(rng, &["straße", "strasse", "weg", "platz", "allee"]);
            let n = rng.random_range(1..150);
            if rng.random_bool(0.5) {
                format!(
                    "{base}{suffix} {n}, {} {}",
                    digits(rng, 5),
                    pick(rng, &["Berlin", "München", "Köln", "Zürich"])
                )
            } else {
                format!("{base}{suffix} {n}")
            }
        }
        7 => format!(
            "{}straat {}, {} {} Amsterdam",
            pick(rng, &["Kerk", "Molen", "Dorps", "Prinsen"]),
            rng.random_range(1..300),
            rng.random_range(1000..9999),
            pick(rng, &["AB", "CD", "XK"])
        ),
        8 => format!(
            "{} {}, {} {}",
            rng.random_range(1..150),
            pick(
                rng,
                &[
                    "rue de la Paix",
                    "rue Victor Hugo",
                    "avenue des Champs-Élysées",
                    "boulevard Saint-Germain",
                    "place de la République"
                ]
            ),
            digits(rng, 5),
            pick(rng, &["Paris", "Lyon", "Marseille"])
        ),
        _ => format!(
            "{} {}",
            pick(
                rng,
                &[
                    "Via Roma",
                    "Via Giuseppe Verdi",
                    "Corso Vittorio Emanuele",
                    "Piazza Navona",
                    "Calle Mayor",
                    "Avenida de la Constitución"
                ]
            ),
            rng.random_range(1..200)
        ),
    }
}
