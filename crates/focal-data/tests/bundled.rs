//! The bundled Fashion-MNIST test split.

use focal_data::{DataFormat, SampleKind, bundled};

#[test]
fn bundled_set_is_fashion_mnist_test_split() {
    let ds = bundled().unwrap();
    assert_eq!(ds.format, DataFormat::Bundled);
    assert_eq!(ds.format.to_string(), "bundled");
    assert_eq!(ds.n_samples(), 10_000);
    assert_eq!(ds.n_classes(), 10);
    assert_eq!(
        ds.kind,
        SampleKind::Image {
            channels: 1,
            height: 28,
            width: 28
        }
    );
    assert_eq!(ds.class_counts(), vec![1000; 10]);
    assert_eq!(ds.class_names[8], "Bag");
    assert_eq!(ds.class_names[9], "Ankle boot");
    assert!(ds.splits.is_none());
    assert!(ds.x.iter().all(|v| (0.0..=1.0).contains(&v)));
    // Upstream's first test labels: 9 (Ankle boot), 2, 1, 1, 6.
    assert_eq!(&ds.y[..5], &[9, 2, 1, 1, 6]);
    assert_eq!(ds.imbalance_ratio(), 1.0);
    assert_eq!(ds.fingerprint(), bundled().unwrap().fingerprint());
}
