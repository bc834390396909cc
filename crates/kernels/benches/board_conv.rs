//! The board convolution kernels alone (`cargo bench -p az-kernels --bench board_conv`):
//! forward, input gradient and weight gradient of a connect4 tower layer at
//! batch 256. Compare with Burn's conv2d in a whole network: `az bench model
//! connect4 --conv burn|board`.

use az_kernels::board_conv::kernel::{self, ConvShape};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn values(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 % 257) as f32 / 257.0) - 0.5)
        .collect()
}

fn kernels(c: &mut Criterion) {
    for (name, s) in [
        (
            "tower 32",
            ConvShape {
                n: 256,
                c_in: 32,
                c_out: 32,
                h: 6,
                w: 7,
                k: 3,
            },
        ),
        (
            "tower 64",
            ConvShape {
                n: 256,
                c_in: 64,
                c_out: 64,
                h: 6,
                w: 7,
                k: 3,
            },
        ),
    ] {
        let x = values(s.n * s.c_in * s.h * s.w);
        let w = values(s.c_out * s.c_in * s.k * s.k);
        let mut out = vec![0.0; s.n * s.c_out * s.h * s.w];
        let mut dx = vec![0.0; x.len()];
        let mut dw = vec![0.0; w.len()];
        let flops = 2 * s.n * s.c_out * s.c_in * s.k * s.k * s.h * s.w;
        let mut g = c.benchmark_group(format!("board_conv {name}"));
        g.throughput(Throughput::Elements(flops as u64)); // "elements" = FLOP
        g.bench_function("forward", |b| {
            b.iter(|| kernel::forward(&s, &x, &w, None, &mut out))
        });
        g.bench_function("input_grad", |b| {
            b.iter(|| kernel::input_grad(&s, &w, &out, &mut dx))
        });
        g.bench_function("weight_grad", |b| {
            b.iter(|| kernel::weight_grad(&s, &x, &out, &mut dw))
        });
        g.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
