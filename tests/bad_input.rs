//! Every kind of malformed file gets a specific, actionable error (naming the file and,
//! where there is one, the line) or a correct result with warnings — never a panic.

mod common;

use dialect::dataset::inspect::{inspect, InspectOptions};
use dialect::dataset::profile::profile_file;
use dialect::dataset::quality::Severity;
use dialect::dataset::{read_labeled, read_table, LabeledData};
use dialect::setting::Setting;
use dialect::settings::SplitPlan;
use dialect::train::DataSpec;
use dialect::{EngineError, TextSpec};
use std::path::{Path, PathBuf};

struct Case {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn case(name: &str, bytes: &[u8]) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    Case { _dir: dir, path }
}

fn read(path: &Path) -> Result<LabeledData, EngineError> {
    read_labeled(path, &TextSpec::column("text"), "label", None)
}

/// The error is a data error about `path` whose message contains every `needle`.
fn assert_data_error(
    result: Result<impl std::fmt::Debug, EngineError>,
    path: &Path,
    needles: &[&str],
) {
    let err = result.expect_err("expected an error");
    let (EngineError::Data {
        path: p, message, ..
    }
    | EngineError::Blocked { path: p, message }) = &err
    else {
        panic!("expected a data error, got {err:?}");
    };
    assert_eq!(p, path);
    for n in needles {
        assert!(message.contains(n), "'{message}' should mention '{n}'");
    }
    assert!(err.is_user_error());
}

fn text_and_label(path: &Path) -> DataSpec {
    DataSpec {
        validation_corrections: None,
        drop_overlap: false,
        corrections: None,
        path: path.to_path_buf(),
        text: TextSpec::column("text"),
        label_column: "label".into(),
        label_form: dialect::dataset::LabelForm::Single,
        label_map: None,
        validation: None,
        split: SplitPlan {
            validation_fraction: 0.1,
            seed: 1,
            max_rows: None,
        },
    }
}

fn warning<'a>(data: &'a LabeledData, kind: &str) -> &'a dialect::dataset::Warning {
    data.warnings
        .items()
        .iter()
        .find(|w| w.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} warning in {:?}", data.warnings))
}

#[test]
fn empty_file() {
    let c = case("empty.csv", b"");
    assert_data_error(read(&c.path), &c.path, &["empty"]);
    assert_data_error(profile_file(&c.path), &c.path, &["empty"]);
}

#[test]
fn header_only() {
    let c = case("header.csv", b"text,label\n");
    assert_data_error(read(&c.path), &c.path, &["no data rows"]);
    assert_data_error(read_table(&c.path), &c.path, &["no data rows"]);
}

#[test]
fn no_usable_text_column() {
    let c = case("ids.csv", b"id,label\n1,a\n2,b\n3,a\n4,b\n");
    assert_data_error(
        read(&c.path),
        &c.path,
        &["no column named 'text'", "'id'", "'label'"],
    );
    let i = inspect(&c.path, &InspectOptions::default()).unwrap();
    assert!(i.report.is_none());
    let note = i.note.unwrap();
    assert!(note.message.contains("no free-text column"), "{note:?}");
    assert_eq!(note.setting, Some(Setting::TextColumn));
}

#[test]
fn binary_gzip_xlsx_and_pdf_renamed_to_csv() {
    let gz = case(
        "tickets.csv",
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
    );
    assert_data_error(read(&gz.path), &gz.path, &["gzip"]);
    let xlsx = case(
        "tickets.csv",
        b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml",
    );
    assert_data_error(read(&xlsx.path), &xlsx.path, &["Excel", "CSV"]);
    let pdf = case("tickets.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    assert_data_error(read(&pdf.path), &pdf.path, &["PDF"]);
    let bin: Vec<u8> = (0..4096u32)
        .map(|i| if i % 3 == 0 { 0 } else { (i * 7 % 251) as u8 })
        .collect();
    let b = case("tickets.csv", &bin);
    assert_data_error(read(&b.path), &b.path, &["binary"]);
}

#[test]
fn ragged_rows() {
    let c = case(
        "ragged.csv",
        b"text,label,extra\nfine row here,bug,x\nshort row,bug\nlong row,bug,x,y,z\n",
    );
    let data = read(&c.path).unwrap();
    assert_eq!(data.examples.len(), 3);
    assert_eq!(warning(&data, "ragged").lines, vec![3, 4]);
}

#[test]
fn unterminated_quote() {
    let c = case(
        "quote.csv",
        b"text,label\nok text,bug\n\"this quote never closes,bug\nnext row,feature\nlast row,bug\n",
    );
    let data = read(&c.path).unwrap();
    let w = warning(&data, "unclosed_quote");
    assert_eq!(w.lines, vec![3]);
    assert!(w.message.contains("closing quote"));
}

#[test]
fn invalid_utf8() {
    // Windows-1252 throughout: detected, decoded, and said.
    let c = case(
        "latin.csv",
        b"text,label\nl'\xe9cran reste noir apr\xe8s la mise \xe0 jour,bug\n",
    );
    let data = read(&c.path).unwrap();
    assert_eq!(
        data.examples[0].text,
        "l'écran reste noir après la mise à jour"
    );
    assert!(warning(&data, "encoding").message.contains("not UTF-8"));
    // UTF-8 for the first 64 KiB, then a stray byte: replaced and reported by line.
    let mut bytes = b"text,label\n".to_vec();
    for i in 0..2000 {
        bytes.extend(format!("a perfectly ordinary ticket number {i},bug\n").as_bytes());
    }
    bytes.extend(b"broken \xff byte,bug\n");
    let c = case("late.csv", &bytes);
    let data = read(&c.path).unwrap();
    assert_eq!(warning(&data, "invalid_bytes").lines, vec![2002]);
}

#[test]
fn nul_bytes() {
    let c = case("nul.csv", b"text,label\nhello\0 world,bug\nclean,bug\n");
    let data = read(&c.path).unwrap();
    assert_eq!(data.examples[0].text, "hello world");
    assert_eq!(warning(&data, "nul").lines, vec![2]);
}

#[test]
fn sixty_megabyte_cell() {
    let mut bytes = b"text,label\nshort,bug\n\"".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 60 << 20));
    bytes.extend(b"\",feature\n");
    let c = case("huge.csv", &bytes);
    let data = read(&c.path).unwrap();
    assert_eq!(data.examples[1].text.len(), 1 << 20);
    let w = warning(&data, "long_cell");
    assert_eq!(w.lines, vec![3]);
    assert!(w.message.contains("'text'"));
}

#[test]
fn two_hundred_thousand_columns() {
    let header: Vec<String> = (0..200_000).map(|i| format!("c{i}")).collect();
    let c = case("wide.csv", format!("{}\n", header.join(",")).as_bytes());
    assert_data_error(read(&c.path), &c.path, &["200000 columns", "delimiter"]);
}

#[test]
fn duplicate_and_padded_header_names() {
    let c = case("dup.csv", b" text ,label,text\nfirst,bug,second\n");
    let data = read(&c.path).unwrap();
    assert_eq!(data.examples[0].text, "first");
    let kinds: Vec<&str> = data
        .warnings
        .items()
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert!(kinds.iter().any(|m| m.contains("trimmed")), "{kinds:?}");
    let table = read_table(&c.path).unwrap();
    assert_eq!(table.headers, vec!["text", "label", "text_2"]);
}

#[test]
fn only_one_class() {
    let c = case(
        "one.csv",
        b"text,label\nthe app crashes on start,bug\nerror on the login page,bug\n",
    );
    let spec = text_and_label(&c.path);
    let blocked = spec.load(false);
    assert!(
        matches!(&blocked, Err(e) if e.settings() == vec![Setting::Force]),
        "training anyway is the setting that gets past it: {blocked:?}"
    );
    assert_data_error(blocked, &c.path, &["only one class", "train anyway"]);
}

#[test]
fn class_with_one_example() {
    let c = case(
        "lonely.csv",
        b"text,label\nthe app crashes,bug\nlogin fails badly,bug\nplease add dark mode,feature\n",
    );
    let spec = text_and_label(&c.path);
    assert_data_error(
        spec.load(false),
        &c.path,
        &["'feature' has 1 example", "merge"],
    );
    // Forced, the split itself still says what to do.
    let err = spec.load(true).unwrap_err().to_string();
    assert!(err.contains("'feature'") && err.contains("merge"), "{err}");
    let data = read(&c.path).unwrap();
    let report = dialect::dataset::quality::assess(&data, None, None);
    assert!(report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Blocking));
}

#[test]
fn all_texts_empty() {
    let c = case("notext.csv", b"text,label\n,bug\n  ,feature\n");
    assert_data_error(
        read(&c.path),
        &c.path,
        &["no usable rows", "2 with an empty text"],
    );
}

#[test]
fn all_labels_empty() {
    let c = case(
        "nolabel.csv",
        b"text,label\nthe app crashes,\nplease add dark mode,  \n",
    );
    assert_data_error(
        read(&c.path),
        &c.path,
        &["no usable rows", "2 with an empty label"],
    );
}

#[test]
fn directory_passed_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_data_error(read(dir.path()), dir.path(), &["folder"]);
}

#[test]
fn invalid_jsonl_line_is_named() {
    let c = case(
        "t.jsonl",
        b"{\"text\": \"fine\", \"label\": \"bug\"}\n{\"text\": \"broken\", \"label\": }\n",
    );
    assert_data_error(read(&c.path), &c.path, &["line 2", "JSON"]);
    let c = case(
        "t.jsonl",
        b"{\"text\": \"fine\", \"label\": \"bug\"}\n[1, 2]\n",
    );
    assert_data_error(read(&c.path), &c.path, &["line 2", "object"]);
}

#[test]
fn a_quote_left_open_in_a_large_file_is_an_error_naming_its_line() {
    let mut bytes = b"text,label\nfine row,bug\n\"this quote never closes,bug\n".to_vec();
    let row = b"another ordinary ticket text here,feature\n";
    while bytes.len() <= dialect::dataset::source::MAX_RECORD_BYTES + 1024 {
        bytes.extend_from_slice(row);
    }
    let c = case("open-quote.csv", &bytes);
    assert_data_error(
        read(&c.path),
        &c.path,
        &["line 3", "64 MB", "quote", "one ticket per line"],
    );
    assert_data_error(profile_file(&c.path), &c.path, &["line 3", "quote"]);
}

#[test]
fn a_jsonl_file_without_line_breaks_is_an_error() {
    let mut bytes = b"{\"text\": \"".to_vec();
    bytes.extend(std::iter::repeat_n(
        b'x',
        dialect::dataset::source::MAX_JSONL_LINE_BYTES + 10,
    ));
    bytes.extend(b"\", \"label\": \"bug\"}");
    let c = case("one-line.jsonl", &bytes);
    assert_data_error(read(&c.path), &c.path, &["line 1", "8 MB", "line breaks"]);
}

/// A file whose label column is an id: every row a different value.
fn id_as_label(rows: usize) -> Case {
    let mut text = String::from("text,label\n");
    for i in 0..rows {
        text.push_str(&format!("ticket number {i} about the app,T-{i}\n"));
    }
    case("ids.csv", text.as_bytes())
}

#[test]
fn an_id_column_as_label_is_one_blocking_finding_and_training_refuses_it() {
    let c = id_as_label(1_500);
    let options = InspectOptions {
        text: Some(TextSpec::column("text")),
        label_column: Some("label".into()),
        ..Default::default()
    };
    let i = inspect(&c.path, &options).unwrap();
    let report = i.report.unwrap();
    let too_many: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "too_many_classes")
        .collect();
    assert_eq!(too_many.len(), 1);
    assert_eq!(too_many[0].severity, Severity::Blocking);
    assert!(too_many[0].message.contains("1500 different values"));
    assert!(too_many[0].message.contains("id"));
    // Not one finding per class, and not every raw value sent on.
    assert!(report.findings.len() < 10, "{}", report.findings.len());
    assert_eq!(i.raw_labels.len(), 1_000);
    assert_eq!(i.raw_label_values, 1_500);
    // Training refuses it even when forced.
    let err = text_and_label(&c.path).load(true).unwrap_err().to_string();
    assert!(err.contains("1500 different values"), "{err}");
}

#[test]
fn inspection_checks_leakage_across_the_split_training_will_make() {
    let mut text = String::from("text,label\n");
    for i in 0..40 {
        let label = if i % 2 == 0 { "bug" } else { "feature" };
        // Each text twice, the second time in other case and punctuation.
        text.push_str(&format!("ticket {i} says the app fails,{label}\n"));
        text.push_str(&format!("Ticket {i} says: the APP fails!,{label}\n"));
    }
    let c = case("dups.csv", text.as_bytes());
    let unsplit = inspect(&c.path, &InspectOptions::default()).unwrap();
    let report = unsplit.report.unwrap();
    assert!(report.findings.iter().all(|f| f.code != "leakage"));
    let codes: Vec<&str> = report
        .not_measured
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(codes, vec!["truncation", "leakage"]);

    let options = InspectOptions {
        split: Some(SplitPlan {
            validation_fraction: 0.25,
            seed: 42,
            max_rows: None,
        }),
        ..Default::default()
    };
    let report = inspect(&c.path, &options).unwrap().report.unwrap();
    let leak = report
        .findings
        .iter()
        .find(|f| f.code == "leakage")
        .expect("a leakage finding across the split");
    assert!(leak.count > 0 && leak.count <= 20, "{}", leak.count);
    assert!(report.not_measured.iter().all(|n| n.code != "leakage"));
}

#[test]
fn a_cancelled_inspection_stops_and_says_so() {
    let c = id_as_label(5_000);
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let read = dialect::dataset::inspect::FileRows::read(&c.path, None, None, Some(&cancel));
    assert!(read.unwrap().is_none());
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let read = dialect::dataset::inspect::FileRows::read(&c.path, None, None, Some(&cancel));
    assert_eq!(read.unwrap().unwrap().profile.rows, 5_000);
}
