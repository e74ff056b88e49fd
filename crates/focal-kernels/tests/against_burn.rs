//! The kernels against Burn's own `conv2d` / `max_pool2d` on flex: values, and the gradients of
//! the input, the weight and the bias through Burn's autodiff.

use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Distribution, Tensor, TensorData, Tolerance};

fn device() -> Device {
    Device::flex().autodiff()
}

/// Equal up to f32 summation order: the two kernels add a weight gradient's hundreds of terms
/// in different orders, so a value near 90 may differ by 2e-4 (2.5e-6 relative, seen once in
/// a suite run); an absolute 2e-4 alone made the test flaky on the unseeded random inputs.
fn close(a: Tensor<4>, b: Tensor<4>) {
    a.into_data()
        .assert_approx_eq::<f32>(&b.into_data(), Tolerance::rel_abs(1e-5, 2e-4));
}

/// `sum(f(x) * r)` for a fixed random `r`, so every output position has its own gradient.
fn weighted(y: Tensor<4>, r: &Tensor<4>) -> Tensor<1> {
    (y * r.clone()).sum()
}

fn conv_case(x: [usize; 4], w: [usize; 4], options: ConvOptions<2>, bias: bool) {
    let dev = device();
    let xs = Tensor::<4>::random(x, Distribution::Normal(0.0, 1.0), &dev);
    let ws = Tensor::<4>::random(w, Distribution::Normal(0.0, 0.5), &dev);
    let bs = Tensor::<1>::random([w[0]], Distribution::Normal(0.0, 0.5), &dev);

    let run = |ours: bool| {
        let x = xs.clone().detach().require_grad();
        let wt = ws.clone().detach().require_grad();
        let b = bias.then(|| bs.clone().detach().require_grad());
        let y = if ours {
            focal_kernels::conv2d(x.clone(), wt.clone(), b.clone(), options.clone())
        } else {
            burn::tensor::module::conv2d(x.clone(), wt.clone(), b.clone(), options.clone())
        };
        (y, x, wt, b)
    };
    let (y1, x1, w1, b1) = run(true);
    let (y2, x2, w2, b2) = run(false);
    close(y1.clone(), y2.clone());
    let r = Tensor::<4>::from_data(
        TensorData::new(
            (0..y1.dims().iter().product::<usize>())
                .map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0)
                .collect::<Vec<_>>(),
            y1.dims(),
        ),
        &dev,
    );
    let g1 = weighted(y1, &r).backward();
    let g2 = weighted(y2, &r).backward();
    close(x1.grad(&g1).unwrap(), x2.grad(&g2).unwrap());
    close(w1.grad(&g1).unwrap(), w2.grad(&g2).unwrap());
    if let (Some(b1), Some(b2)) = (b1, b2) {
        b1.grad(&g1).unwrap().into_data().assert_approx_eq::<f32>(
            &b2.grad(&g2).unwrap().into_data(),
            Tolerance::absolute(2e-4),
        );
    }
}

#[test]
fn conv2d_matches_burn_in_value_and_gradients() {
    let o = |s: usize, p: usize, d: usize| ConvOptions::new([s, s], [p, p], [d, d], 1);
    // The CNN's two layers, ResNet's stem, a bottleneck's 1x1s, a strided 3x3, dilation.
    conv_case([4, 1, 28, 28], [8, 1, 3, 3], o(1, 1, 1), true);
    conv_case([4, 8, 14, 14], [16, 8, 3, 3], o(1, 1, 1), true);
    conv_case([2, 3, 32, 32], [8, 3, 7, 7], o(2, 3, 1), false);
    conv_case([3, 16, 8, 8], [8, 16, 1, 1], o(1, 0, 1), false);
    conv_case([3, 16, 8, 8], [32, 16, 1, 1], o(2, 0, 1), false);
    conv_case([5, 4, 9, 9], [6, 4, 3, 3], o(2, 1, 1), false);
    conv_case([2, 3, 11, 10], [4, 3, 3, 3], o(1, 2, 2), true);
    conv_case([33, 4, 2, 2], [5, 4, 3, 3], o(1, 1, 1), false);
    let asymmetric = ConvOptions::new_with_padding([1, 1], [(0, 1), (1, 0)], [1, 1], 1);
    conv_case([2, 3, 6, 6], [4, 3, 2, 2], asymmetric, true);
}

#[test]
fn grouped_convolution_falls_back_to_burn() {
    conv_case(
        [2, 4, 6, 6],
        [4, 2, 3, 3],
        ConvOptions::new([1, 1], [1, 1], [1, 1], 2),
        true,
    );
}

fn pool_case(x: [usize; 4], kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) {
    let dev = device();
    let xs = Tensor::<4>::random(x, Distribution::Normal(0.0, 1.0), &dev);
    let x1 = xs.clone().detach().require_grad();
    let x2 = xs.detach().require_grad();
    let options = MaxPoolOptions::new(kernel)
        .with_stride(stride)
        .with_padding(padding);
    let y1 = focal_kernels::max_pool2d(x1.clone(), options.clone());
    let y2 = burn::tensor::module::max_pool2d(x2.clone(), options);
    close(y1.clone(), y2.clone());
    let r = Tensor::<4>::random(y1.dims(), Distribution::Default, &Device::flex()).to_device(&dev);
    let g1 = weighted(y1, &r).backward();
    let g2 = weighted(y2, &r).backward();
    close(x1.grad(&g1).unwrap(), x2.grad(&g2).unwrap());
}

#[test]
fn max_pool2d_matches_burn_in_value_and_gradient() {
    pool_case([4, 8, 28, 28], [2, 2], [2, 2], [0, 0]);
    pool_case([2, 4, 15, 13], [3, 3], [2, 2], [1, 1]);
    pool_case([3, 2, 7, 7], [2, 2], [1, 1], [0, 0]);
    pool_case([1, 3, 9, 8], [3, 2], [3, 2], [1, 1]);
}

#[test]
fn inference_without_autodiff_matches() {
    let dev = Device::flex();
    let x = Tensor::<4>::random([3, 5, 12, 12], Distribution::Default, &dev);
    let w = Tensor::<4>::random([7, 5, 3, 3], Distribution::Default, &dev);
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    close(
        focal_kernels::conv2d(x.clone(), w.clone(), None, options.clone()),
        burn::tensor::module::conv2d(x.clone(), w, None, options),
    );
    let pool = MaxPoolOptions::new([3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1]);
    close(
        focal_kernels::max_pool2d(x.clone(), pool.clone()),
        burn::tensor::module::max_pool2d(x, pool),
    );
}

#[test]
fn burn_nn_layers_give_the_same_output() {
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    let dev = device();
    let x = Tensor::<4>::random([2, 3, 15, 14], Distribution::Default, &dev);
    for (k, s, padding) in [
        (3, 1, PaddingConfig2d::Same),
        (2, 2, PaddingConfig2d::Same),
        (7, 2, PaddingConfig2d::Explicit(3, 3, 3, 3)),
        (3, 2, PaddingConfig2d::Valid),
    ] {
        let conv = Conv2dConfig::new([3, 4], [k, k])
            .with_stride([s, s])
            .with_padding(padding.clone())
            .init(&dev);
        close(
            focal_kernels::conv2d_layer(&conv, x.clone()),
            conv.forward(x.clone()),
        );
    }
    let pool = MaxPool2dConfig::new([3, 3])
        .with_strides([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init();
    close(
        focal_kernels::max_pool2d_layer(&pool, x.clone()),
        pool.forward(x),
    );
}

#[test]
fn an_attached_gradient_is_the_gradient_and_scales_with_the_incoming_one() {
    let dev = device();
    let x = Tensor::<2>::random([3, 4], Distribution::Default, &dev).require_grad();
    let grad: Vec<f32> = (0..12).map(|i| i as f32 / 10.0).collect();
    let g = Tensor::<2>::from_data(TensorData::new(grad.clone(), [3, 4]), &dev);
    // Reduced: value [1], seeded with 1, then scaled by 3.
    let value = Tensor::<1>::from_floats([2.5], &dev);
    let y = focal_kernels::attach_gradient(x.clone(), value, grad.clone());
    assert_eq!(y.clone().into_scalar::<f32>(), 2.5);
    let grads = y.clone().backward();
    x.grad(&grads)
        .unwrap()
        .into_data()
        .assert_approx_eq::<f32>(&g.clone().inner().into_data(), Tolerance::absolute(1e-7));
    let value = Tensor::<1>::from_floats([2.5], &dev);
    let y = focal_kernels::attach_gradient(x.clone(), value, grad.clone());
    let grads = (y * 3.0).backward();
    x.grad(&grads).unwrap().into_data().assert_approx_eq::<f32>(
        &(g.clone().inner() * 3.0).into_data(),
        Tolerance::absolute(1e-6),
    );
    // Per row: value [3]; row i's gradient scaled by its weight.
    let value = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &dev);
    let y = focal_kernels::attach_gradient(x.clone(), value, grad);
    let w = Tensor::<1>::from_floats([1.0, -2.0, 0.5], &dev);
    let grads = (y * w.clone()).sum().backward();
    let want = g.inner() * w.inner().reshape([3, 1]);
    x.grad(&grads)
        .unwrap()
        .into_data()
        .assert_approx_eq::<f32>(&want.into_data(), Tolerance::absolute(1e-6));
}

/// `a` and `b` within 1e-4 relative, with an absolute floor of 1e-5 for values near 0 (a
/// gradient that is 0 in exact arithmetic, as the input's gradient of a batch norm over two
/// values per channel, is rounding noise on both sides).
fn near<const D: usize>(a: Tensor<D>, b: Tensor<D>, what: &str) {
    near_floor(a, b, what, 1e-5);
}

fn near_floor<const D: usize>(a: Tensor<D>, b: Tensor<D>, what: &str, floor: f32) {
    let (a, b) = (
        a.into_data().convert::<f32>().try_to_vec::<f32>().unwrap(),
        b.into_data().convert::<f32>().try_to_vec::<f32>().unwrap(),
    );
    assert_eq!(a.len(), b.len(), "{what}: sizes");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * y.abs() + floor,
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

fn ramp<const D: usize>(shape: [usize; D], dev: &Device) -> Tensor<D> {
    let len: usize = shape.iter().product();
    Tensor::<D>::from_data(
        TensorData::new(
            (0..len)
                .map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0)
                .collect::<Vec<_>>(),
            shape,
        ),
        dev,
    )
}

/// focal's batch norm (optionally + residual, ReLU) against Burn's `batch_norm_train` followed
/// by Burn's add and ReLU: output, batch statistics, and the gradients of x, gamma, beta and
/// the residual.
fn bn_case<const D: usize>(shape: [usize; D], residual: bool, relu: bool, offset: f32) {
    let dev = device();
    let c = shape[1];
    let xs = Tensor::<D>::random(shape, Distribution::Normal(offset as f64, 2.0), &dev);
    let rs = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &dev);
    let gs = Tensor::<1>::random([c], Distribution::Normal(1.0, 0.5), &dev);
    let bs = Tensor::<1>::random([c], Distribution::Normal(0.0, 0.5), &dev);
    let spec = focal_kernels::BatchNormSpec {
        epsilon: 1e-5,
        relu,
    };
    let run = |ours: bool| {
        let x = xs.clone().detach().require_grad();
        let g = gs.clone().detach().require_grad();
        let b = bs.clone().detach().require_grad();
        let r = residual.then(|| rs.clone().detach().require_grad());
        let (y, mean, var) = if ours {
            let o =
                focal_kernels::batch_norm_train(x.clone(), g.clone(), b.clone(), r.clone(), spec);
            (o.output, o.mean, o.variance)
        } else {
            let o = burn::tensor::module::batch_norm_train(x.clone(), g.clone(), b.clone(), 1e-5);
            let mut y = o.output;
            if let Some(r) = &r {
                y = y + r.clone();
            }
            if relu {
                y = burn::tensor::activation::relu(y);
            }
            (y, o.mean, o.variance)
        };
        (y, mean, var, x, g, b, r)
    };
    let (y1, m1, v1, x1, g1, b1, r1) = run(true);
    let (y2, m2, v2, x2, g2, b2, r2) = run(false);
    let what = format!("{shape:?} residual {residual} relu {relu}");
    // Inputs far from 0 hold fewer bits of their deviation from the mean: at an offset of 300
    // both sides' outputs differ by up to one f32 spacing of the input (3e-5), whichever is
    // nearer the exact value.
    let floor = 1e-5f32.max(offset.abs() * 2f32.powi(-24) * 2.0);
    near_floor(y1.clone(), y2.clone(), &format!("{what}: output"), floor);
    near(m1, m2, &format!("{what}: mean"));
    near(v1, v2, &format!("{what}: variance"));
    let w = ramp(shape, &dev);
    let grads1 = (y1 * w.clone()).sum().backward();
    let grads2 = (y2 * w).sum().backward();
    near(
        x1.grad(&grads1).unwrap(),
        x2.grad(&grads2).unwrap(),
        &format!("{what}: dx"),
    );
    near(
        g1.grad(&grads1).unwrap(),
        g2.grad(&grads2).unwrap(),
        &format!("{what}: dgamma"),
    );
    near(
        b1.grad(&grads1).unwrap(),
        b2.grad(&grads2).unwrap(),
        &format!("{what}: dbeta"),
    );
    if let (Some(r1), Some(r2)) = (r1, r2) {
        near(
            r1.grad(&grads1).unwrap(),
            r2.grad(&grads2).unwrap(),
            &format!("{what}: dresidual"),
        );
    }
}

#[test]
fn batch_norm_matches_burn_in_value_statistics_and_gradients() {
    for (residual, relu) in [(false, false), (false, true), (true, true), (true, false)] {
        bn_case([4, 6, 9, 9], residual, relu, 0.0);
        bn_case([1, 3, 5, 7], residual, relu, 0.5);
        bn_case([33, 4, 3, 3], residual, relu, -1.0);
        bn_case([2, 5, 1, 1], residual, relu, 0.0);
    }
    // A ResNet stem's size, rank 2 and 3, and a channel whose mean is large against its spread.
    bn_case([2, 64, 56, 56], false, true, 0.0);
    bn_case([33, 7], false, false, 0.0);
    bn_case([3, 5, 17], true, true, 0.0);
    bn_case([4, 3, 6, 6], false, false, 300.0);
}

/// burn-nn's `BatchNorm` layer through focal's kernels: the same outputs and the same running
/// statistics after training steps (equal up to the batch statistics' last bits), then the same
/// outputs in evaluation (running statistics, on the inner device and on the autodiff device
/// with the layer switched to evaluation).
#[test]
fn batch_norm_layers_match_burn_in_training_and_evaluation() {
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    let dev = device();
    for shape in [[4, 6, 5, 5], [1, 3, 4, 4], [33, 2, 3, 3]] {
        let ours = BatchNormConfig::new(shape[1]).init(&dev);
        let burns = ours.clone();
        for step in 0..3 {
            let x = Tensor::<4>::random(shape, Distribution::Normal(step as f64, 1.5), &dev);
            near(
                focal_kernels::batch_norm_layer(&ours, x.clone()),
                burns.forward(x.clone()),
                "layer output",
            );
            let r = Tensor::<4>::random(shape, Distribution::Default, &dev);
            let want = burn::tensor::activation::relu(burns.forward(x.clone()) + r.clone());
            near(
                focal_kernels::batch_norm_add_relu_layer(&ours, x.clone(), r),
                want,
                "layer + residual + relu",
            );
            near(
                focal_kernels::batch_norm_relu_layer(&ours, x.clone()),
                burn::tensor::activation::relu(burns.forward(x)),
                "layer + relu",
            );
        }
        near(
            ours.running_mean.value(),
            burns.running_mean.value(),
            "running mean",
        );
        near(
            ours.running_var.value(),
            burns.running_var.value(),
            "running var",
        );
        let x = Tensor::<4>::random(shape, Distribution::Normal(1.0, 1.5), &dev);
        let (vo, vb) = (ours.valid(), burns.valid());
        let xi = x.clone().inner();
        near(
            focal_kernels::batch_norm_layer(&vo, xi.clone()),
            vb.forward(xi.clone()),
            "evaluation",
        );
        let r = Tensor::<4>::random(shape, Distribution::Default, &xi.device());
        near(
            focal_kernels::batch_norm_add_relu_layer(&vo, xi.clone(), r.clone()),
            burn::tensor::activation::relu(vb.forward(xi) + r),
            "evaluation + residual + relu",
        );
        let (eo, eb) = (ours.clone().freeze(), burns.clone().freeze());
        near(
            focal_kernels::batch_norm_layer(&eo, x.clone()),
            eb.forward(x),
            "evaluation mode on the autodiff device",
        );
    }
}
