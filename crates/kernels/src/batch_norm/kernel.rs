//! Batch norm for training over NCHW `f32` slices, fused with what follows it in
//! the network: `y = relu(γ·(x − μ)/√(σ² + ε) + β + skip)`, with the batch's
//! mean μ and biased variance σ² per channel, `skip` optional.
//!
//! Burn runs this as about ten separate element-wise operations forward and as
//! many backward, each a full pass over the tensor on the calling thread. Here it
//! is one pass for the statistics and one for the output forward, two passes
//! backward: reductions in parallel over channels, element-wise passes over
//! images, on rayon's pool.

use crate::board_conv::kernel::relu;
use rayon::prelude::*;

/// Sizes of one batch norm.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BnShape {
    /// Images in the batch.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Cells of one plane (`h·w`).
    pub hw: usize,
}

impl BnShape {
    /// Values per channel: the count the statistics divide by.
    fn count(&self) -> f64 {
        (self.n * self.hw) as f64
    }

    fn image(&self) -> usize {
        self.c * self.hw
    }

    /// Images per parallel task of an element-wise pass (about 16 K floats).
    fn images_per_task(&self) -> usize {
        (16_384 / self.image().max(1)).max(1)
    }
}

/// The batch statistics of `x`: `[mean; c]` followed by `[biased variance; c]`.
///
/// # Shapes
/// `x: [n, c, hw]` → `out: [2c]`
pub fn stats(s: &BnShape, x: &[f32], out: &mut [f32]) {
    debug_assert_eq!(x.len(), s.n * s.image());
    let per = channel_sums(s, x, x, x, |_, v, _, _| (v, v * v));
    let per = per.into_iter().map(|(sum, sq)| {
        let mean = sum / s.count();
        (mean as f32, relu((sq / s.count() - mean * mean) as f32))
    });
    for (j, (mean, var)) in per.enumerate() {
        out[j] = mean;
        out[s.c + j] = var;
    }
}

/// Per channel, the two sums of `f(channel, x, y, z)` over the batch. In parallel over images, each task reading
/// whole images (contiguous memory) into its own per-channel totals: reading
/// channel by channel instead jumps `c·h·w` floats between planes and ran at a
/// fraction of the speed.
fn channel_sums(
    s: &BnShape,
    x: &[f32],
    y: &[f32],
    z: &[f32],
    f: impl Fn(usize, f32, f32, f32) -> (f32, f32) + Sync,
) -> Vec<(f64, f64)> {
    let (img, hw) = (s.image(), s.hw);
    let task = img * s.images_per_task();
    let tasks = x.len().div_ceil(task.max(1));
    (0..tasks)
        .into_par_iter()
        .map(|t| {
            let range = t * task..((t + 1) * task).min(x.len());
            let (xs, ys, zs) = (&x[range.clone()], &y[range.clone()], &z[range]);
            let mut acc = vec![(0f64, 0f64); s.c];
            for (p, ((xp, yp), zp)) in xs
                .chunks_exact(hw)
                .zip(ys.chunks_exact(hw))
                .zip(zs.chunks_exact(hw))
                .enumerate()
            {
                let j = p % s.c;
                let (a, b) = lane_sums(xp, yp, zp, |u, v, w| f(j, u, v, w));
                acc[j].0 += a;
                acc[j].1 += b;
            }
            acc
        })
        .reduce(
            || vec![(0f64, 0f64); s.c],
            |mut a, b| {
                for (a, b) in a.iter_mut().zip(b) {
                    a.0 += b.0;
                    a.1 += b.1;
                }
                a
            },
        )
}

/// The two sums of `f(x, y, z)` over three equal slices, in eight lanes (so the
/// compiler vectorises it), totalled in `f64`.
#[inline(always)]
fn lane_sums(
    x: &[f32],
    y: &[f32],
    z: &[f32],
    f: impl Fn(f32, f32, f32) -> (f32, f32),
) -> (f64, f64) {
    const L: usize = 8;
    let (mut a, mut b) = ([0f32; L], [0f32; L]);
    let (xc, yc, zc) = (x.chunks_exact(L), y.chunks_exact(L), z.chunks_exact(L));
    let (xr, yr, zr) = (xc.remainder(), yc.remainder(), zc.remainder());
    for ((xs, ys), zs) in xc.zip(yc).zip(zc) {
        for l in 0..L {
            let (u, v) = f(xs[l], ys[l], zs[l]);
            a[l] += u;
            b[l] += v;
        }
    }
    let (mut ta, mut tb) = (0f64, 0f64);
    for l in 0..L {
        ta += a[l] as f64;
        tb += b[l] as f64;
    }
    for ((&xv, &yv), &zv) in xr.iter().zip(yr).zip(zr) {
        let (u, v) = f(xv, yv, zv);
        ta += u as f64;
        tb += v as f64;
    }
    (ta, tb)
}

/// The layer's parameters and the batch's statistics.
#[derive(Copy, Clone, Debug)]
pub struct BnParams<'a> {
    /// `[c]`
    pub gamma: &'a [f32],
    /// `[c]`
    pub beta: &'a [f32],
    /// `[mean; c]` then `[biased variance; c]`, from [`stats`].
    pub stats: &'a [f32],
    /// Added to the variance.
    pub eps: f32,
}

/// Per-channel `scale = γ/√(σ² + ε)` and `shift = β − μ·scale`, and `1/√(σ² + ε)`.
struct Factors {
    scale: Vec<f32>,
    shift: Vec<f32>,
    inv_std: Vec<f32>,
}

impl Factors {
    fn new(s: &BnShape, p: &BnParams<'_>) -> Self {
        let inv_std: Vec<f32> = (0..s.c)
            .map(|j| 1.0 / (p.stats[s.c + j] + p.eps).sqrt())
            .collect();
        let scale: Vec<f32> = (0..s.c).map(|j| p.gamma[j] * inv_std[j]).collect();
        let shift = (0..s.c)
            .map(|j| p.beta[j] - p.stats[j] * scale[j])
            .collect();
        Factors {
            scale,
            shift,
            inv_std,
        }
    }
}

/// The value before the ReLU; forward and backward compute it the same way, so
/// the backward pass's ReLU mask is the forward's.
#[inline(always)]
fn pre(x: f32, scale: f32, shift: f32, skip: f32) -> f32 {
    x * scale + shift + skip
}

/// `out = relu(γ·(x − μ)/√(σ² + ε) + β + skip)`.
///
/// # Shapes
/// `x, skip, out: [n, c, hw]`
pub fn forward(s: &BnShape, p: &BnParams<'_>, x: &[f32], skip: Option<&[f32]>, out: &mut [f32]) {
    let f = Factors::new(s, p);
    let (img, hw) = (s.image(), s.hw);
    let task = img * s.images_per_task();
    out.par_chunks_mut(task).enumerate().for_each(|(t, out)| {
        let base = t * task;
        let x = &x[base..base + out.len()];
        let skip = skip.map(|k| &k[base..base + out.len()]);
        for (p, o) in out.chunks_exact_mut(hw).enumerate() {
            let j = p % s.c;
            let xs = &x[p * hw..(p + 1) * hw];
            let (sc, sh) = (f.scale[j], f.shift[j]);
            match skip {
                Some(k) => {
                    let ks = &k[p * hw..(p + 1) * hw];
                    for ((o, &xv), &kv) in o.iter_mut().zip(xs).zip(ks) {
                        *o = relu(pre(xv, sc, sh, kv));
                    }
                }
                None => {
                    for (o, &xv) in o.iter_mut().zip(xs) {
                        *o = relu(pre(xv, sc, sh, 0.0));
                    }
                }
            }
        }
        debug_assert_eq!(out.len() % img, 0);
    });
}

/// Gradients of [`forward`] from the output gradient `grad`: writes `dx` and,
/// when there is a skip input (`skip = Some((skip, dskip))`), its gradient
/// `dskip` (the gradient before the ReLU); returns `(dγ, dβ)`. The batch statistics' own dependence on `x` is
/// included, as in training-mode batch norm.
///
/// # Shapes
/// `x, skip, grad, dx, dskip: [n, c, hw]`
/// → `([c], [c])`
pub fn backward(
    s: &BnShape,
    p: &BnParams<'_>,
    x: &[f32],
    grad: &[f32],
    dx: &mut [f32],
    skip: Option<(&[f32], &mut [f32])>,
) -> (Vec<f32>, Vec<f32>) {
    let f = Factors::new(s, p);
    let (skip, dskip) = skip.unzip();
    // Pass 1: per channel, Σg and Σg·x, g the gradient before the ReLU.
    // One closure for both cases (two instantiations of the reduction ran 15 %
    // slower in training steps; the branch on `skip` is loop-invariant).
    let sums_per_channel = channel_sums(s, x, grad, skip.unwrap_or(x), |j, xv, gv, kv| {
        let kv = if skip.is_some() { kv } else { 0.0 };
        let g = if pre(xv, f.scale[j], f.shift[j], kv) > 0.0 {
            gv
        } else {
            0.0
        };
        (g, g * xv)
    });
    let m = s.count();
    let mut dgamma = vec![0f32; s.c];
    let mut dbeta = vec![0f32; s.c];
    // dx = scale·g + a·x + b per channel, with dγ = r(Σgx − μΣg), dβ = Σg:
    // dx = scale·(g − dβ/m − x̂·dγ/m), x̂ = (x − μ)·r.
    let mut coef = vec![(0f32, 0f32); s.c];
    for j in 0..s.c {
        let (sg, sgx) = sums_per_channel[j];
        let (mean, r) = (p.stats[j] as f64, f.inv_std[j] as f64);
        let dg = r * (sgx - mean * sg);
        dgamma[j] = dg as f32;
        dbeta[j] = sg as f32;
        let scale = f.scale[j] as f64;
        let a = -scale * r * dg / m;
        let b = -scale * sg / m - a * mean;
        coef[j] = (a as f32, b as f32);
    }
    // Pass 2, per image: dx (and dskip = g).
    let (img, hw) = (s.image(), s.hw);
    let task = img * s.images_per_task();
    let fill = |t: usize, dx: &mut [f32], mut dskip: Option<&mut [f32]>| {
        let base = t * task;
        for (p, d) in dx.chunks_exact_mut(hw).enumerate() {
            let j = p % s.c;
            let at = base + p * hw;
            let (xs, gs) = (&x[at..at + hw], &grad[at..at + hw]);
            let (sc, sh) = (f.scale[j], f.shift[j]);
            let (a, b) = coef[j];
            // Iterators, not indices: no bounds checks, so the loops vectorise
            // and the ReLU mask is a select, not a branch.
            let mask = |xv: f32, gv: f32, kv: f32| if pre(xv, sc, sh, kv) > 0.0 { gv } else { 0.0 };
            match (skip, dskip.as_deref_mut()) {
                (Some(k), Some(dk)) => {
                    let ks = &k[at..at + hw];
                    let dk = &mut dk[p * hw..(p + 1) * hw];
                    for ((((d, dk), &xv), &gv), &kv) in d.iter_mut().zip(dk).zip(xs).zip(gs).zip(ks)
                    {
                        let g = mask(xv, gv, kv);
                        *dk = g;
                        *d = sc * g + a * xv + b;
                    }
                }
                _ => {
                    for ((d, &xv), &gv) in d.iter_mut().zip(xs).zip(gs) {
                        *d = sc * mask(xv, gv, 0.0) + a * xv + b;
                    }
                }
            }
        }
    };
    match dskip {
        Some(dk) => dx
            .par_chunks_mut(task)
            .zip(dk.par_chunks_mut(task))
            .enumerate()
            .for_each(|(t, (d, k))| fill(t, d, Some(k))),
        None => dx
            .par_chunks_mut(task)
            .enumerate()
            .for_each(|(t, d)| fill(t, d, None)),
    }
    (dgamma, dbeta)
}
