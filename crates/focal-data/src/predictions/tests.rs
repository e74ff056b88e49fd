use super::*;

#[test]
fn files_without_ids_and_rounded_to_six_decimals_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(
        &p,
        "y_true,y_pred,p_0,p_1\n0,0,0.900000,0.100000\n1,1,0.250001,0.749999\n",
    )
    .unwrap();
    let back = PredictionsFile::read(&p).unwrap();
    assert_eq!(back.ids, None);
    assert_eq!(back.y_true, vec![0, 1]);
    // 0.749999 is also the shortest decimal of an f32: it reads as that f32.
    assert_eq!(back.probs.unwrap()[3], f64::from(0.749_999_f32));
    // With ids, errors still name the right column.
    std::fs::write(&p, "id,y_true,y_pred,p_0,p_1\n4,0,0,0.5,x\n").unwrap();
    let e = PredictionsFile::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::PredictionsCell {
                line: 2,
                column: 5,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn errors_name_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(&p, "y_true,y_pred,p_0,p_1\n0,0,0.9,0.1\n1,1,0.5,x\n").unwrap();
    let e = PredictionsFile::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::PredictionsCell {
                line: 3,
                column: 4,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn an_f32_written_shortest_reads_back_as_that_f32() {
    let x = 0.729_550_06_f32;
    assert_eq!(parse_probability(&x.to_string()), Some(f64::from(x)));
    // Six decimals, or more digits than an f32 has: the nearest f64.
    assert_eq!(parse_probability("0.100000"), Some(0.1));
    assert_eq!(parse_probability("0.123456789012"), Some(0.123_456_789_012));
    assert_eq!(parse_probability("x"), None);
}

fn read(text: &str) -> Result<PredictionsFile, DataError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    std::fs::write(&p, text).unwrap();
    PredictionsFile::read(&p)
}

/// The line, column and message of a cell error.
fn cell_error(text: &str) -> (u64, usize, String) {
    match read(text) {
        Err(DataError::PredictionsCell {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a cell error for {text:?}, got {other:?}"),
    }
}

fn names(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn focal_s_own_file_reads_as_before() {
    let back =
        read("id,y_true,y_pred,p_0,p_1,p_2\na,2,1,0.1,0.6,0.3\nb,0,0,0.5,0.25,0.25\n").unwrap();
    assert_eq!(back.ids, names(&["a", "b"]));
    assert_eq!(back.y_true, vec![2, 0]);
    assert_eq!(back.y_pred, vec![1, 0]);
    assert_eq!(back.n_classes, 3);
    assert_eq!(back.probs.as_ref().unwrap().len(), 6);
    assert_eq!(back.class_names, None);
    assert_eq!(back.score_of, None);
    assert!(back.y_pred_given);
    // Integer labels without probabilities: 1 + the largest label.
    let back = read("y_true,y_pred\n0,3\n1,1\n").unwrap();
    assert_eq!((back.n_classes, back.class_names), (4, None));
    // p_0 alone with integer labels is one class, as before.
    let back = read("y_true,y_pred,p_0\n0,0,1\n").unwrap();
    assert_eq!((back.n_classes, back.score_of), (1, None));
    assert_eq!(back.probs, Some(vec![1.0]));
    // And an integer label past the columns is still out of range.
    let (line, column, message) = cell_error("y_true,y_pred,p_0,p_1\n0,2,0.5,0.5\n");
    assert_eq!((line, column), (2, 2));
    assert!(message.contains("out of range"), "{message}");
}

#[test]
fn string_labels_without_probabilities_are_sorted() {
    let back = read("y_true,y_pred\ncat,dog\ndog,dog\nbird,cat\n").unwrap();
    assert_eq!(back.class_names, names(&["bird", "cat", "dog"]));
    assert_eq!(back.y_true, vec![1, 2, 0]);
    assert_eq!(back.y_pred, vec![2, 2, 1]);
    assert_eq!(back.n_classes, 3);
    assert_eq!((back.probs, back.score_of), (None, None));
    assert!(back.y_pred_given);
    // Mixed integers and names are all names, sorted as strings.
    let back = read("y_true,y_pred\n10,cat\n9,10\n").unwrap();
    assert_eq!(back.class_names, names(&["10", "9", "cat"]));
    assert_eq!(back.y_true, vec![0, 1]);
    assert_eq!(back.y_pred, vec![2, 0]);
}

#[test]
fn p_name_columns_give_the_class_order() {
    let back = read(
        "y_true,y_pred,p_malignant,p_benign\nbenign,benign,0.2,0.8\nmalignant,benign,0.4,0.6\n",
    )
    .unwrap();
    assert_eq!(back.class_names, names(&["malignant", "benign"]));
    assert_eq!(back.y_true, vec![1, 0]);
    assert_eq!(back.y_pred, vec![1, 1]);
    // (Shortest f32 decimals: read as those f32.)
    let f = |x: f32| f64::from(x);
    assert_eq!(back.probs, Some(vec![f(0.2), f(0.8), f(0.4), f(0.6)]));
    assert_eq!((back.n_classes, back.score_of), (2, None));
    // Integer labels with columns that are not p_0..p_{C-1} in order: the columns name them.
    let back = read("y_true,y_pred,p_1,p_0\n0,1,0.3,0.7\n").unwrap();
    assert_eq!(back.class_names, names(&["1", "0"]));
    assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
    // Named columns still sum to 1.
    let (line, column, message) = cell_error("y_true,y_pred,p_b,p_a\na,a,0.3,0.3\n");
    assert_eq!((line, column), (2, 3));
    assert!(message.contains("p_b..p_a sum to"), "{message}");
}

#[test]
fn a_label_not_among_the_columns_names_its_cell() {
    let text = "y_true,y_pred,p_cat,p_dog\ncat,cat,0.9,0.1\ncat,bird,0.5,0.5\n";
    let (line, column, message) = cell_error(text);
    assert_eq!((line, column), (3, 2));
    assert!(message.contains("`bird` in y_pred"), "{message}");
    assert!(message.contains("cat, dog"), "{message}");
    let text = "id,y_true,y_pred,p_cat,p_dog\n1,cat,cat,0.9,0.1\n2,bird,cat,0.5,0.5\n";
    let (line, column, _) = cell_error(text);
    assert_eq!((line, column), (3, 2));
    // String labels against focal's indexed columns: not one of the classes 0, 1.
    let (line, column, message) = cell_error("y_true,y_pred,p_0,p_1\n0,cat,0.5,0.5\n");
    assert_eq!((line, column), (2, 2));
    assert!(message.contains("0, 1"), "{message}");
}

#[test]
fn a_score_column_with_integer_labels() {
    let back = read("y_true,score\n0,0.2\n1,0.5\n1,0.49\n0,0.7\n").unwrap();
    assert_eq!(back.y_true, vec![0, 1, 1, 0]);
    assert_eq!(back.y_pred, vec![0, 1, 0, 1]);
    assert!(!back.y_pred_given);
    assert_eq!(back.score_of, Some(1));
    assert_eq!((back.n_classes, back.class_names.clone()), (2, None));
    let s = f64::from(0.2_f32);
    let probs = back.probs.unwrap();
    assert_eq!(probs.len(), 8);
    assert_eq!((probs[0], probs[1]), (1.0 - s, s));
    assert_eq!((probs[2], probs[3]), (0.5, 0.5));
    // Labels must be 0 or 1.
    let (line, column, message) = cell_error("y_true,score\n0,0.2\n2,0.5\n");
    assert_eq!((line, column), (3, 1));
    assert!(message.contains("classes are 0 and 1"), "{message}");
}

#[test]
fn y_pred_with_a_p_1_column() {
    let back = read("y_true,y_pred,p_1\n0,1,0.3\n1,1,0.9\n").unwrap();
    assert_eq!(back.y_pred, vec![1, 1]);
    assert!(back.y_pred_given);
    assert_eq!(back.score_of, Some(1));
    let s = f64::from(0.3_f32);
    assert_eq!(back.probs.unwrap()[..2], [1.0 - s, s]);
    assert_eq!(back.class_names, None);
}

#[test]
fn a_score_column_with_string_labels_is_the_greater_label_s() {
    let back = read("y_true,score\nspam,0.9\nham,0.1\nham,0.5\n").unwrap();
    assert_eq!(back.class_names, names(&["ham", "spam"]));
    assert_eq!(back.score_of, Some(1));
    assert_eq!(back.y_true, vec![1, 0, 0]);
    assert_eq!(back.y_pred, vec![1, 0, 1]);
    // -1 / 1 labels are names: "-1" < "1".
    let back = read("y_true,y_pred,score\n-1,1,0.6\n1,1,0.7\n").unwrap();
    assert_eq!(back.class_names, names(&["-1", "1"]));
    assert_eq!((back.y_true, back.score_of), (vec![0, 1], Some(1)));
    // Not two classes: the header's score column is named.
    let (line, column, message) = cell_error("y_true,y_pred,score\na,b,0.5\nc,a,0.5\n");
    assert_eq!((line, column), (1, 3));
    assert!(message.contains("exactly two classes"), "{message}");
    assert!(message.contains("a, b, c"), "{message}");
    let (line, column, _) = cell_error("y_true,score\na,0.5\n");
    assert_eq!((line, column), (1, 2));
}

#[test]
fn a_single_p_name_column_is_that_class_s_score() {
    let back = read("y_true,p_malignant\nbenign,0.3\nmalignant,0.8\n").unwrap();
    assert_eq!(back.class_names, names(&["benign", "malignant"]));
    assert_eq!(back.score_of, Some(1));
    assert_eq!(back.y_pred, vec![0, 1]);
    // The positive may come first in sorted order: s goes to its index.
    let back = read("y_true,p_benign\nbenign,0.75\nmalignant,0.25\n").unwrap();
    assert_eq!(back.score_of, Some(0));
    assert_eq!(back.probs, Some(vec![0.75, 0.25, 0.25, 0.75]));
    assert_eq!(back.y_pred, vec![0, 1]);
    // A column naming neither label.
    let (line, column, message) = cell_error("y_true,p_other\nbenign,0.3\nmalignant,0.8\n");
    assert_eq!((line, column), (1, 2));
    assert!(message.contains("`benign` and `malignant`"), "{message}");
}

#[test]
fn a_score_outside_zero_one_is_an_error() {
    let (line, column, message) = cell_error("y_true,score\n0,0.5\n1,1.5\n");
    assert_eq!((line, column), (3, 2));
    assert!(message.contains("outside [0, 1]"), "{message}");
    assert_eq!(cell_error("y_true,p_1\n0,NaN\n").0, 2);
    assert_eq!(cell_error("y_true,score\n0,-0.1\n").1, 2);
}

#[test]
fn a_header_without_predictions_or_probabilities_is_an_error() {
    let (line, column, message) = cell_error("y_true\n0\n");
    assert_eq!((line, column), (1, 2));
    assert!(message.contains("y_pred"), "{message}");
    assert_eq!(cell_error("id,y_true\na,0\n").1, 3);
    // A column that is neither y_pred nor a probability.
    let (_, column, message) = cell_error("y_true,pred\n0,0\n");
    assert_eq!(column, 2);
    assert!(message.contains("found `pred`"), "{message}");
    // `score` beside other probability columns.
    assert_eq!(cell_error("y_true,p_0,score\n0,1,1\n").1, 3);
}

#[test]
fn duplicate_columns_are_named() {
    let (line, column, message) = cell_error("y_true,y_pred,p_0,p_0\n0,0,0.5,0.5\n");
    assert_eq!((line, column), (1, 4));
    assert!(message.contains("duplicate column `p_0`"), "{message}");
    assert_eq!(cell_error("id,y_true,id,y_pred\n").1, 3);
}

#[test]
fn y_pred_is_the_first_argmax() {
    let back = read("y_true,p_0,p_1,p_2\n0,0.4,0.4,0.2\n2,0.25,0.25,0.5\n1,0.2,0.4,0.4\n").unwrap();
    assert_eq!(back.y_pred, vec![0, 2, 1]);
    assert!(!back.y_pred_given);
    assert_eq!((back.n_classes, back.score_of), (3, None));
    let back = read("y_true,p_dog,p_cat\ncat,0.5,0.5\n").unwrap();
    assert_eq!(back.class_names, names(&["dog", "cat"]));
    assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
}

#[test]
fn the_id_column_goes_with_every_form() {
    let back = read("id,y_true,y_pred\nr1,cat,dog\nr2,dog,dog\n").unwrap();
    assert_eq!(back.ids, names(&["r1", "r2"]));
    assert_eq!(back.class_names, names(&["cat", "dog"]));
    let back = read("id,y_true,score\nr1,0,0.9\nr2,1,0.1\n").unwrap();
    assert_eq!(back.ids, names(&["r1", "r2"]));
    assert_eq!((back.y_pred, back.score_of), (vec![1, 0], Some(1)));
    let back = read("id,y_true,p_0,p_1\nr1,0,0.9,0.1\n").unwrap();
    assert_eq!((back.ids, back.y_pred), (names(&["r1"]), vec![0]));
    let back = read("id,y_true,y_pred,p_b,p_a\nr1,a,b,0.9,0.1\n").unwrap();
    assert_eq!(back.ids, names(&["r1"]));
    assert_eq!((back.y_true, back.y_pred), (vec![1], vec![0]));
    let back = read("id,y_true,p_yes\nr1,no,0.9\nr2,yes,0.2\n").unwrap();
    assert_eq!(back.ids, names(&["r1", "r2"]));
    assert_eq!(back.class_names, names(&["no", "yes"]));
    assert_eq!((back.y_pred, back.score_of), (vec![1, 0], Some(1)));
}

#[test]
fn class_limits_hold_for_names_too() {
    let mut text = String::from("y_true,y_pred\n");
    for i in 0..=MAX_CLASSES {
        text.push_str(&format!("c{i},c0\n"));
    }
    assert!(matches!(read(&text), Err(DataError::Predictions { .. })));
    let mut header = String::from("y_true,y_pred");
    for i in 0..=MAX_CLASSES {
        header.push_str(&format!(",p_{i}"));
    }
    assert!(matches!(
        read(&format!("{header}\n")),
        Err(DataError::Predictions { .. })
    ));
}

#[test]
fn malformed_files_are_errors_not_panics() {
    let inputs: &[&[u8]] = &[
        b"",
        b"\n",
        b",",
        b"id",
        b"id\n1\n",
        b"id,y_true",
        b"y_true,y_pred\n",
        b"y_true,y_pred\n,\n",
        b"y_true,score\n,0.5\n",
        b"y_true,score,score\n0,1,1\n",
        b"y_true,p_\n0,1\n",
        b"y_true,p_1\n0\n",
        b"y_true,p_1\n0,0.5,1\n",
        b"y_true,p_0\na,1\nb,0\n",
        b"y_true,p_a\n\"a,0.5\n",
        b"y_true,y_pred,p_a,p_b\na,c,0.5,0.5\n",
        b"y_true,p_a,p_b\na,inf,-inf\n",
        b"y_true,p_a,p_b\na,0.5,0.5\nb\n",
        b"y_true,y_pred\n99999999999999999999999,0\n",
        b"y_true,y_pred\n1000,0\n",
        b"y_true,y_pred\n\xff\xfe,0\n",
        b"\xef\xbb\xbfy_true,y_pred\n0,0\n",
        b"y_true,y_pred,score\n1,1,0.5\n1,1,0.5\n",
        b"id,y_true,y_pred,p_1\n,,,\n",
    ];
    for input in inputs {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, input).unwrap();
        let _ = PredictionsFile::read(&p);
    }
    // Some of them read: a lone class with a score column and integer labels.
    assert!(read("y_true,y_pred,score\n1,1,0.5\n").is_ok());
}
