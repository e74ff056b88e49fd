use super::*;

fn tiny() -> Dataset {
    Dataset::new(
        DataFormat::Csv,
        None,
        SampleKind::Tabular { n_features: 2 },
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        vec![0, 1, 1],
        vec!["a".into(), "b".into()],
        None,
    )
    .unwrap()
}

#[test]
fn format_names_are_the_serde_and_display_strings() {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};
    let all = [
        (DataFormat::Idx, "idx"),
        (DataFormat::Npz, "npz"),
        (DataFormat::ImageFolder, "image-folder"),
        (DataFormat::Csv, "csv"),
        (DataFormat::Bundled, "bundled"),
        (DataFormat::Manifest, "manifest"),
    ];
    for (format, name) in all {
        assert_eq!(format.name(), name);
        assert_eq!(format.to_string(), name);
        // Serialize and Deserialize share the `rename_all`: reading the name back proves the
        // serialised string.
        let de: StrDeserializer<'_, Error> = name.into_deserializer();
        assert_eq!(DataFormat::deserialize(de).unwrap(), format);
    }
    assert_eq!(format!("[{:<8}]", DataFormat::Csv), "[csv     ]");
}

#[test]
fn fnv1a_matches_the_published_test_vectors() {
    // From the FNV reference test suite: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c.
    let mut h = Fnv1a::new();
    assert_eq!(h.0, 0xcbf29ce484222325);
    h.write(b"a");
    assert_eq!(h.0, 0xaf63dc4c8601ec8c);
}

#[test]
fn accessors_and_counts() {
    let ds = tiny();
    assert_eq!(ds.n_samples(), 3);
    assert_eq!(ds.n_classes(), 2);
    assert_eq!(ds.sample_len(), 2);
    assert_eq!(&*ds.sample(1), &[2.0, 3.0]);
    assert_eq!(ds.class_counts(), vec![1, 2]);
    assert_eq!(ds.imbalance_ratio(), 2.0);
    let sub = ds.subset(&[2, 0, 2]);
    assert_eq!(sub.y, vec![1, 0, 1]);
    assert_eq!(sub.x, vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
}

#[test]
fn a_subset_taken_in_place_is_the_copied_subset() {
    for rows in [vec![], vec![0], vec![1, 2], vec![0, 2], vec![0, 1, 2]] {
        let copied = tiny().subset(&rows);
        let moved = tiny().into_subset(&rows);
        assert_eq!((&moved.x, &moved.y), (&copied.x, &copied.y), "{rows:?}");
        assert_eq!(moved.class_names, copied.class_names);
        assert!(moved.splits.is_none());
    }
}

#[test]
fn fingerprint_is_stable_and_content_sensitive() {
    let a = tiny();
    let mut b = tiny();
    b.source = Some(PathBuf::from("/elsewhere"));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.fingerprint().len(), 16);
    let mut values = b.x.clone().into_f32();
    values[3] = 3.5;
    b.x = values.into();
    assert_ne!(a.fingerprint(), b.fingerprint());
}

#[test]
fn new_rejects_parts_that_do_not_fit() {
    let kind = SampleKind::Tabular { n_features: 2 };
    let names = vec!["a".to_string()];
    let bad_len = Dataset::new(
        DataFormat::Csv,
        None,
        kind,
        vec![0.0; 3],
        vec![0, 0],
        names.clone(),
        None,
    );
    assert!(matches!(bad_len, Err(DataError::InvalidDataset { .. })));
    let bad_label = Dataset::new(
        DataFormat::Csv,
        None,
        kind,
        vec![0.0; 2],
        vec![1],
        names.clone(),
        None,
    );
    assert!(bad_label.unwrap_err().to_string().contains("label 1"));
    let nan = Dataset::new(
        DataFormat::Csv,
        None,
        kind,
        vec![0.0, f32::NAN],
        vec![0],
        names.clone(),
        None,
    );
    assert!(nan.unwrap_err().to_string().contains("finite"));
    let splits = Splits {
        train: vec![0],
        val: vec![0],
        test: vec![],
    };
    let dup = Dataset::new(
        DataFormat::Csv,
        None,
        kind,
        vec![0.0; 2],
        vec![0],
        names,
        Some(splits),
    );
    assert!(dup.unwrap_err().to_string().contains("twice"));
}
