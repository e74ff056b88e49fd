//! The fused optimizer steps against burn-optim's own optimizers: the same parameters and the
//! same state, to the bit, step after step, and checkpoints that load across the two.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, Optimizer, RecordState, SgdConfig,
    StateSink,
};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use focal_kernels::{FusedAdamConfig, FusedSgdConfig};

fn bits<const D: usize>(t: &Tensor<D>) -> Vec<u32> {
    t.clone()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// A state's record: every tensor leaf's name and bits, every scalar's name and value.
fn record<S: RecordState>(s: &S) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let mut sink = StateSink::default();
    s.state_flatten("p", &mut sink);
    let mut t: Vec<(String, Vec<u8>)> = sink
        .tensors
        .into_iter()
        .map(|(n, d)| (n, d.as_bytes().to_vec()))
        .collect();
    t.sort();
    let mut sc: Vec<String> = sink
        .scalars
        .iter()
        .map(|(n, v)| format!("{n}={v:?}"))
        .collect();
    sc.sort();
    (t, sc)
}

/// Gradients with zeros of both signs, tiny and large values, and the shape of a conv weight.
fn grad(step: usize, shape: [usize; 4]) -> Tensor<4> {
    let dev = Device::flex();
    let g = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0 + step as f64), &dev);
    let mut v = g.into_data().try_to_vec::<f32>().unwrap();
    v[0] = 0.0;
    v[1] = -0.0;
    v[2] = 1e-30;
    v[3] = -3e4;
    Tensor::from_data(TensorData::new(v, shape), &dev)
}

/// `steps` steps of burn-optim's `O` and of the fused `F` on the same parameter and
/// gradients: parameters and states equal to the bit after each, on a parameter that nothing
/// else holds and on one that is shared (copied first).
fn same_steps<O: Optimizer, F: Optimizer>(burn: &O, fused: &F, lrs: &[f64]) {
    let shape = [5, 3, 3, 7];
    let p0 = Tensor::<4>::random(shape, Distribution::Normal(0.0, 0.3), &Device::flex());
    let (mut pa, mut pb) = (p0.clone(), p0.clone() + 0.0);
    let (mut sa, mut sb) = (None, None);
    for (step, &lr) in lrs.iter().enumerate() {
        let g = grad(step, shape);
        let keep = (step == 2).then(|| pb.clone());
        let (a, na) = burn.step(lr, pa, g.clone(), sa);
        let (b, nb) = fused.step(lr, pb, g, sb);
        assert_eq!(bits(&a), bits(&b), "parameter after step {step}");
        let (ra, rb) = (record(na.as_ref().unwrap()), record(nb.as_ref().unwrap()));
        assert_eq!(ra, rb, "state after step {step}");
        if let Some(k) = keep {
            assert_ne!(
                bits(&k),
                bits(&b),
                "the shared parameter was copied, not overwritten"
            );
        }
        (pa, pb, sa, sb) = (a, b, na, nb);
    }
}

const LRS: [f64; 5] = [1e-3, 1e-3, 3e-2, 1e-4, 0.5];

#[test]
fn adam_is_burns_adam_to_the_bit() {
    let decay = Some(WeightDecayConfig::new(0.05));
    for (eps, wd) in [(1e-8, None), (1e-5, decay.clone()), (1e-8, decay)] {
        let burn = AdamConfig::new()
            .with_epsilon(eps)
            .with_weight_decay(wd.clone())
            .build();
        let ours = fused_adam(eps, wd, false);
        same_steps(&burn, &ours, &LRS);
    }
}

#[test]
fn adamw_is_burns_adamw_to_the_bit() {
    for wd in [1e-4f32, 0.0, 0.3] {
        let burn = AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(wd)
            .build();
        let ours = fused_adam(1e-8, Some(WeightDecayConfig::new(wd)), true);
        same_steps(&burn, &ours, &LRS);
    }
}

#[test]
fn sgd_is_burns_sgd_to_the_bit() {
    let decay = Some(WeightDecayConfig::new(1e-3));
    let momentum = |nesterov| {
        Some(
            MomentumConfig::new()
                .with_momentum(0.9)
                .with_nesterov(nesterov),
        )
    };
    for (wd, m) in [
        (None, momentum(false)),
        (decay.clone(), momentum(false)),
        (decay.clone(), momentum(true)),
        (decay, None),
        (None, None),
    ] {
        let burn = SgdConfig::new()
            .with_weight_decay(wd.clone())
            .with_momentum(m.clone())
            .build();
        let ours = FusedSgdConfig::new()
            .with_weight_decay(wd)
            .with_momentum(m)
            .build();
        same_steps(&burn, &ours, &LRS);
    }
}

fn fused_adam(eps: f32, wd: Option<WeightDecayConfig>, adamw: bool) -> focal_kernels::FusedAdam {
    let c = FusedAdamConfig::new()
        .with_epsilon(eps)
        .with_weight_decay(wd);
    if adamw { c.build_adamw() } else { c.build() }
}

#[derive(Module, Debug)]
struct Net {
    conv: Conv2d,
    bn: BatchNorm,
    head: Linear,
}

impl Net {
    fn new(device: &Device) -> Self {
        Net {
            conv: Conv2dConfig::new([2, 4], [3, 3]).init(device),
            bn: BatchNormConfig::new(4).init(device),
            head: LinearConfig::new(4 * 6 * 6, 3).init(device),
        }
    }

    fn loss(&self, step: usize) -> Tensor<1> {
        // Inputs from a formula, not from Burn's generator: that is process-wide, and the other
        // tests draw from it at the same time.
        let dev = self.head.weight.val().device();
        let x: Vec<f32> = (0..5 * 2 * 8 * 8)
            .map(|i| ((i * 37 + step * 11) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(x, [5, 2, 8, 8]), &dev);
        let y = self.bn.forward(self.conv.forward(x));
        let z: Tensor<2> = self.head.forward(y.flatten::<2>(1, 3));
        (z.clone() * z).sum()
    }
}

fn params(net: &Net) -> Vec<Vec<u32>> {
    vec![
        bits(&net.conv.weight.val()),
        bits(&net.conv.bias.as_ref().unwrap().val()),
        bits(&net.bn.gamma.val()),
        bits(&net.head.weight.val()),
    ]
}

fn train(net: Net, optim: &mut ModuleOptimizer, steps: std::ops::Range<usize>) -> Net {
    let mut net = net;
    for step in steps {
        let grads = GradientsParams::from_grads(net.loss(step).backward(), &net);
        net = optim.step(1e-2, net, grads);
    }
    net
}

/// Whole models through `ModuleOptimizer`, with gradient clipping: the same parameters after
/// each step, and a checkpoint of either optimizer resumes in the other with the same result.
#[test]
fn module_optimizers_match_and_their_checkpoints_load_across() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let net = Net::new(&device);
    let clip = Some(GradientClippingConfig::Norm(0.7));
    let decay = Some(WeightDecayConfig::new(1e-3));
    let momentum = Some(MomentumConfig::new().with_momentum(0.9));
    let pairs: Vec<(ModuleOptimizer, ModuleOptimizer)> = vec![
        (
            AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay.clone())
                .with_grad_clipping(clip.clone())
                .init(),
            FusedAdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay.clone())
                .with_grad_clipping(clip.clone())
                .init(),
        ),
        (
            SgdConfig::new()
                .with_momentum(momentum.clone())
                .with_weight_decay(decay.clone())
                .with_gradient_clipping(clip.clone())
                .init(),
            FusedSgdConfig::new()
                .with_momentum(momentum)
                .with_weight_decay(decay)
                .with_gradient_clipping(clip)
                .init(),
        ),
    ];
    for (mut burn, mut ours) in pairs {
        let a = train(net.clone(), &mut burn, 0..3);
        let b = train(net.clone(), &mut ours, 0..3);
        assert_eq!(params(&a), params(&b));
        // Each optimizer's checkpoint into the other kind, then two more steps each way.
        let (bytes_burn, bytes_ours) = (burn.into_bytes().unwrap(), ours.into_bytes().unwrap());
        let mut burn_from_ours = burn.clone().from_bytes(bytes_ours).unwrap();
        let mut ours_from_burn = ours.clone().from_bytes(bytes_burn).unwrap();
        let a2 = train(a.clone(), &mut burn, 3..5);
        let b2 = train(b.clone(), &mut ours, 3..5);
        let c2 = train(b.clone(), &mut burn_from_ours, 3..5);
        let d2 = train(a.clone(), &mut ours_from_burn, 3..5);
        assert_eq!(params(&a2), params(&b2), "uninterrupted");
        assert_eq!(
            params(&a2),
            params(&c2),
            "Burn's optimizer from our checkpoint"
        );
        assert_eq!(params(&a2), params(&d2), "ours from Burn's checkpoint");
    }
}
