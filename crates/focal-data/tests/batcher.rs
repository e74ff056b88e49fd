//! The batcher: tensor shapes, values, targets and normalisation.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset as _;
use burn::tensor::{Device, Int, Tensor};
use focal_data::batcher::{ImageBatcher, Normalization, TabularBatcher, batch_from_indices};
use focal_data::{DataFormat, Dataset, SampleKind, bundled};

#[test]
fn image_batches_have_nchw_shape_and_the_right_values() {
    let ds = bundled().unwrap();
    let device = Device::flex();
    let (images, targets): (Tensor<4>, Tensor<1, Int>) =
        batch_from_indices(&ds, &[3, 0, 7], &device, None).unwrap();
    assert_eq!(images.dims(), [3, 1, 28, 28]);
    let v: Vec<f32> = images.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(&v[..784], &*ds.sample(3));
    assert_eq!(&v[784..1568], &*ds.sample(0));
    let t: Vec<i64> = targets
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    assert_eq!(t, vec![ds.y[3] as i64, ds.y[0] as i64, ds.y[7] as i64]);

    let (flat, _): (Tensor<2>, _) = batch_from_indices(&ds, &[1, 2], &device, None).unwrap();
    assert_eq!(flat.dims(), [2, 784]);
    assert!(batch_from_indices::<3>(&ds, &[1], &device, None).is_err());
    assert!(batch_from_indices::<4>(&ds, &[10_000], &device, None).is_err());

    // The Burn Batcher gives the same tensor as the plain function.
    let batcher = ImageBatcher {
        kind: ds.kind,
        norm: None,
    };
    let items = vec![ds.get(3).unwrap(), ds.get(0).unwrap(), ds.get(7).unwrap()];
    let b = batcher.batch(items, &device);
    let w: Vec<f32> = b.images.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(w, v);
}

#[test]
fn normalisation_from_training_indices_centres_and_scales() {
    let x = vec![1.0, 10.0, 3.0, 30.0, 5.0, 50.0, 100.0, 100.0];
    let ds = Dataset::new(
        DataFormat::Csv,
        None,
        SampleKind::Tabular { n_features: 2 },
        x,
        vec![0, 1, 0, 1],
        vec!["a".into(), "b".into()],
        None,
    )
    .unwrap();
    // Fit on the first three rows only: means 3 and 30, population std sqrt(8/3) and sqrt(800/3).
    let norm = Normalization::fit(&ds, &[0, 1, 2]).unwrap();
    assert!((norm.mean[0] - 3.0).abs() < 1e-6 && (norm.mean[1] - 30.0).abs() < 1e-5);
    let device = Device::flex();
    let (f, _): (Tensor<2>, _) = batch_from_indices(&ds, &[0, 1, 2], &device, Some(&norm)).unwrap();
    let v: Vec<f32> = f.into_data().try_to_vec::<f32>().unwrap();
    let expected = [-1.2247449, -1.2247449, 0.0, 0.0, 1.2247449, 1.2247449];
    for (a, b) in v.iter().zip(expected) {
        assert!((a - b).abs() < 1e-5, "{v:?}");
    }
    let batcher = TabularBatcher {
        kind: ds.kind,
        norm: Some(norm),
    };
    let b = batcher.batch(vec![ds.get(1).unwrap()], &device);
    assert_eq!(b.features.dims(), [1, 2]);
    let t: Vec<i64> = b
        .targets
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    assert_eq!(t, vec![1]);
}
