//! Loading torchvision-format ResNet weights: golden logits from PyTorch, greyscale adaptation,
//! head re-initialisation, and a malicious pickle that must not run.
//!
//! Fixtures and golden values: `scripts/gen_pretrained_fixture.py` (torch 2.15.0): torchvision's
//! layout and key names at stage widths 2-16, one block per stage.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use focal_train::model::pretrained::load_resnet;
use focal_train::model::{BlockKind, ResNet};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("pretrained_golden.json")).unwrap())
        .unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn shape4(v: &serde_json::Value) -> [usize; 4] {
    let s: Vec<usize> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    [s[0], s[1], s[2], s[3]]
}

fn logits(net: &ResNet, input: Vec<f32>, shape: [usize; 4], device: &Device) -> Vec<f32> {
    let x = Tensor::<4>::from_data(TensorData::new(input, shape), device);
    net.forward(x).into_data().try_into_vec_as::<f32>().unwrap()
}

/// Largest absolute difference; PyTorch and Burn sum in different orders, so 1e-4.
fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "max |diff| {worst}: {got:?} vs {want:?}");
}

#[test]
fn torchvision_weights_give_torch_logits_from_pth_and_safetensors() {
    let device = Device::flex();
    let g = golden();
    for (name, kind) in [
        ("resnet_basic", BlockKind::Basic),
        ("resnet_bottleneck", BlockKind::Bottleneck),
    ] {
        for ext in ["pth", "safetensors"] {
            let net = ResNet::with_width(kind, [1, 1, 1, 1], 3, 10, 2, &device);
            let (net, report) = load_resnet(net, &fixture(&format!("{name}.{ext}"))).unwrap();
            assert!(
                !report.head_reinitialised && !report.first_conv_summed,
                "{name}.{ext}"
            );
            assert!(report.loaded > 10, "{name}.{ext}: {report:?}");
            let out = logits(
                &net,
                floats(&g[name]["input"]),
                shape4(&g[name]["input_shape"]),
                &device,
            );
            assert_close(&out, &floats(&g[name]["logits"]));
        }
    }
}

#[test]
fn greyscale_input_sums_the_first_convolution() {
    // A grey image g seen as RGB (g, g, g) by the 3-channel model gives the same logits as g
    // through the 1-channel model whose first convolution is summed over colour channels.
    let device = Device::flex();
    let g = golden();
    for ext in ["pth", "safetensors"] {
        let net = ResNet::with_width(BlockKind::Basic, [1, 1, 1, 1], 1, 10, 2, &device);
        let (net, report) = load_resnet(net, &fixture(&format!("resnet_basic.{ext}"))).unwrap();
        assert!(report.first_conv_summed && !report.head_reinitialised);
        let g = &g["resnet_basic"];
        let out = logits(
            &net,
            floats(&g["grey_input"]),
            shape4(&g["grey_input_shape"]),
            &device,
        );
        assert_close(&out, &floats(&g["grey_logits"]));
    }
}

#[test]
fn head_is_reinitialised_when_the_class_count_differs() {
    let device = Device::flex();
    let net = ResNet::with_width(BlockKind::Bottleneck, [1, 1, 1, 1], 3, 2, 2, &device);
    let fresh_fc = net.fc.weight.val().into_data();
    let (net, report) = load_resnet(net, &fixture("resnet_bottleneck.pth")).unwrap();
    assert!(report.head_reinitialised);
    assert_eq!(net.fc.weight.val().into_data(), fresh_fc);
    assert_eq!(net.fc.weight.val().dims(), [64, 2]);
}

#[test]
fn another_depth_or_a_broken_file_is_an_error_naming_the_file() {
    let device = Device::flex();
    // Basic weights into a bottleneck net: shapes do not fit.
    let net = ResNet::with_width(BlockKind::Bottleneck, [1, 1, 1, 1], 3, 10, 2, &device);
    let e = load_resnet(net, &fixture("resnet_basic.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("resnet_basic.safetensors"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.pth");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    let net = ResNet::with_width(BlockKind::Basic, [1, 1, 1, 1], 3, 10, 2, &device);
    assert!(
        load_resnet(net, &junk)
            .unwrap_err()
            .to_string()
            .contains("junk.pth")
    );

    let net = ResNet::with_width(BlockKind::Basic, [1, 1, 1, 1], 3, 10, 2, &device);
    let e = load_resnet(net, &tmp.path().join("weights.onnx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("weights.onnx"), "{e}");
}

#[test]
fn a_pickle_that_would_run_code_is_refused_without_running_it() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("pwned");
    let cmd = format!("touch {}", marker.display());
    // Protocol-2 pickle of os.system(cmd): GLOBAL 'os system', the argument, TUPLE1, REDUCE.
    let mut bytes = b"\x80\x02cos\nsystem\nq\x00X".to_vec();
    bytes.extend((cmd.len() as u32).to_le_bytes());
    bytes.extend(cmd.as_bytes());
    bytes.extend(b"q\x01\x85q\x02Rq\x03.");
    let evil = tmp.path().join("evil.pth");
    std::fs::write(&evil, bytes).unwrap();
    let net = ResNet::with_width(BlockKind::Basic, [1, 1, 1, 1], 3, 10, 2, &Device::flex());
    assert!(load_resnet(net, &evil).is_err());
    assert!(!marker.exists(), "the pickle ran code");
}

/// Issue 12, item 3: with pretrained weights, real greyscale images enter the model as
/// torchvision's recipe makes them (RGB, `[0, 1]`, ImageNet mean/std), checked by value against
/// torchvision (`scripts/gen_imagenet_inputs_fixture.py`): the normalised pixels, and the tiny
/// ResNet's logits on them. The training split's standardisation gives other logits.
#[test]
fn pretrained_inputs_are_normalised_as_torchvision_does_on_real_images() {
    use focal_data::task::TaskSpec;
    use focal_train::{InputNormalization, PreparedData};
    let device = Device::flex();
    let g: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("imagenet_inputs_golden.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<usize> = g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let spec = TaskSpec {
        positive: None,
        ratio: None,
        long_tail: None,
        allow_majority_positive: false,
        seed: 0,
    };
    let scratch =
        PreparedData::new(&focal_data::bundled().unwrap(), &spec, Default::default()).unwrap();
    assert_eq!(
        scratch.task.input_normalization,
        InputNormalization::TrainingSplit
    );
    let data = scratch
        .clone()
        .with_input_normalization(InputNormalization::Imagenet)
        .unwrap();
    assert_eq!(data.task.input_normalization, InputNormalization::Imagenet);
    let x = data.device_set_of(&rows, &device).x();
    assert_eq!(x.dims(), shape4(&g["shape"]));
    let values = x.clone().into_data().try_into_vec_as::<f32>().unwrap();
    let at = |i: usize, c: usize, r: usize, q: usize| values[((i * 3 + c) * 28 + r) * 28 + q];
    for probe in g["probes"].as_array().unwrap() {
        let p: Vec<f64> = probe
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let got = at(p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize);
        assert!((f64::from(got) - p[4]).abs() < 1e-6, "{p:?}: {got}");
    }
    for (i, sums) in g["channel_sums"].as_array().unwrap().iter().enumerate() {
        for (c, want) in floats(sums).into_iter().enumerate() {
            let got: f32 = (0..28 * 28).map(|k| at(i, c, k / 28, k % 28)).sum();
            assert!(
                (got - want).abs() < 1e-2,
                "image {i} channel {c}: {got} vs {want}"
            );
        }
    }
    let net = ResNet::with_width(BlockKind::Basic, [1, 1, 1, 1], 3, 10, 2, &device);
    let (net, report) = load_resnet(net, &fixture("resnet_basic.pth")).unwrap();
    assert!(!report.first_conv_summed);
    let want: Vec<f32> = g["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let got = net.forward(x).into_data().try_into_vec_as::<f32>().unwrap();
    assert_close(&got, &want);
    // Per-channel standardisation of the greyscale images (the scratch path), repeated over
    // RGB, gives logits far from torchvision's: the test tells the two apart.
    let grey = scratch.device_set_of(&rows, &device).x();
    let other = net
        .forward(grey.repeat_dim(1, 3))
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let gap = other
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        gap > 1e-2,
        "standardised inputs gave torchvision's logits too ({gap})"
    );
}
