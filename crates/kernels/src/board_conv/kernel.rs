//! "Same" convolutions (odd square kernel, stride 1, zero padding) over a batch of
//! small boards, on plain `f32` slices in NCHW order.
//!
//! A general CPU convolution builds one im2col matrix per image, so on a 6×7 board
//! every gemm is only 42 columns wide and never reaches the CPU's speed. Here the
//! batch is cut into chunks of several boards (about [`CHUNK_COLUMNS`] cells), each
//! chunk gets one im2col matrix `[c_in·k·k, boards·h·w]` and one gemm, and chunks
//! run in parallel on rayon's pool.

use gemm::{Parallelism, gemm};
use rayon::prelude::*;
use std::cell::RefCell;

/// Cells per chunk: wide enough for the gemm, small enough for its im2col matrix
/// (`c_in·k·k × CHUNK_COLUMNS` floats) to stay in the L2 cache.
pub const CHUNK_COLUMNS: usize = 512;

/// `max(v, 0)` that keeps a NaN (as Burn's ReLU does; `f32::max` would turn it
/// into 0 and hide a diverged network from the trainer's non-finite check).
#[inline(always)]
pub fn relu(v: f32) -> f32 {
    if v < 0.0 { 0.0 } else { v }
}

/// Sizes of one convolution.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Boards in the batch.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Board rows.
    pub h: usize,
    /// Board columns.
    pub w: usize,
    /// Kernel side (odd).
    pub k: usize,
}

impl ConvShape {
    pub(super) fn cells(&self) -> usize {
        self.h * self.w
    }

    /// Length of one patch: a row of the weight matrix.
    pub(super) fn patch(&self) -> usize {
        self.c_in * self.k * self.k
    }

    pub(super) fn chunk_boards(&self) -> usize {
        (CHUNK_COLUMNS / self.cells().max(1)).clamp(1, self.n.max(1))
    }

    /// The shape of the input gradient's convolution (channels swapped).
    pub fn transposed(&self) -> ConvShape {
        ConvShape {
            c_in: self.c_out,
            c_out: self.c_in,
            ..*self
        }
    }
}

thread_local! {
    /// Per-thread scratch (padded boards, im2col matrix, gemm output): allocated
    /// once, reused.
    static SCRATCH: RefCell<[Vec<f32>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

fn with_scratch<R>(lens: [usize; 3], f: impl FnOnce([&mut [f32]; 3]) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let [a, b, c] = &mut *s;
        for (v, &len) in [&mut *a, &mut *b, &mut *c].into_iter().zip(&lens) {
            if v.len() < len {
                v.resize(len, 0.0);
            }
        }
        f([&mut a[..lens[0]], &mut b[..lens[1]], &mut c[..lens[2]]])
    })
}

/// Columns of a chunk are ordered (row, column, board), boards innermost: then a
/// row of the im2col matrix is `h` runs of `w·boards` contiguous floats of the
/// padded chunk below, instead of `h·boards` runs of `w`.
///
/// `padded`: `[c_in, h+2p, w+2p, boards]` with zero borders, from `x` (NCHW).
pub(super) fn pad_chunk(s: &ConvShape, x: &[f32], boards: usize, padded: &mut [f32]) {
    let (h, w, p, hw) = (s.h, s.w, s.k / 2, s.cells());
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    let row_len = wp * boards;
    for ci in 0..s.c_in {
        let channel = &mut padded[ci * hp * row_len..][..hp * row_len];
        zero_border(channel, h, p, row_len, boards);
        let rows = channel[p * row_len..(h + p) * row_len].chunks_exact_mut(row_len);
        for (y, row) in rows.enumerate() {
            // Boards innermost: contiguous writes, reads `c_in·h·w` apart.
            let interior = &mut row[p * boards..(w + p) * boards];
            for (xo, cell) in interior.chunks_exact_mut(boards).enumerate() {
                let at = ci * hw + y * w + xo;
                for (b, v) in cell.iter_mut().enumerate() {
                    *v = x[b * s.c_in * hw + at];
                }
            }
        }
    }
}

/// Zeroes the padding of one padded plane (`h + 2p` rows of `row_len` =
/// `(w + 2p)·boards` floats).
pub(super) fn zero_border(plane: &mut [f32], h: usize, p: usize, row_len: usize, boards: usize) {
    plane[..p * row_len].fill(0.0);
    plane[(h + p) * row_len..].fill(0.0);
    for row in plane[p * row_len..(h + p) * row_len].chunks_exact_mut(row_len) {
        row[..p * boards].fill(0.0);
        row[row_len - p * boards..].fill(0.0);
    }
}

/// The im2col matrix `[c_in·k·k, h·w·boards]` of a padded chunk: row `(ci, ky, kx)`
/// holds channel `ci` shifted by `(ky − p, kx − p)`, zero outside the board.
fn im2col(s: &ConvShape, padded: &[f32], boards: usize, col: &mut [f32]) {
    let (h, w, k, p) = (s.h, s.w, s.k, s.k / 2);
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    let run = w * boards;
    let mut rows = col.chunks_exact_mut(h * run);
    for ci in 0..s.c_in {
        for ky in 0..k {
            for kx in 0..k {
                let row = rows.next().expect("im2col: one row per patch element");
                for (y, dst) in row.chunks_exact_mut(run).enumerate() {
                    let src = ((ci * hp + y + ky) * wp + kx) * boards;
                    dst.copy_from_slice(&padded[src..src + run]);
                }
            }
        }
    }
}

/// Writes a channel-major chunk `tmp[c_out, h·w·boards]` (boards innermost) into
/// NCHW `out`, adding `bias`.
fn unpack_chunk(s: &ConvShape, tmp: &[f32], boards: usize, bias: Option<&[f32]>, out: &mut [f32]) {
    let (hw, c_out) = (s.cells(), s.c_out);
    for (plane, dst) in out.chunks_exact_mut(hw).enumerate().take(boards * c_out) {
        let (b, o) = (plane / c_out, plane % c_out);
        let shift = bias.map_or(0.0, |bias| bias[o]);
        let src = &tmp[b * c_out + o..];
        for (cell, d) in dst.iter_mut().enumerate() {
            *d = src[cell * boards * c_out] + shift;
        }
    }
}

/// The inverse of [`unpack_chunk`] (without bias): NCHW `dout` → `tmp[c_out, h·w·boards]`.
fn pack_chunk(s: &ConvShape, dout: &[f32], boards: usize, tmp: &mut [f32]) {
    let (hw, c_out) = (s.cells(), s.c_out);
    for (o, dst) in tmp.chunks_exact_mut(hw * boards).enumerate().take(c_out) {
        for (cell, values) in dst.chunks_exact_mut(boards).enumerate() {
            for (b, v) in values.iter_mut().enumerate() {
                *v = dout[(b * c_out + o) * hw + cell];
            }
        }
    }
}

pub(super) fn padded_len(s: &ConvShape, boards: usize) -> usize {
    let p2 = 2 * (s.k / 2);
    s.c_in * (s.h + p2) * (s.w + p2) * boards
}

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]`, strides in elements (row, column), one thread.
// The only unsafe code of az-kernels: gemm takes raw pointers and strides.
#[allow(unsafe_code, clippy::too_many_arguments)]
fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    // The extents the strides reach must lie inside the slices.
    assert!(dst.len() >= (m - 1) * dst_rs + n);
    assert!(k == 0 || lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
    assert!(k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    // SAFETY: every index gemm forms is row·rs + col·cs within the extents asserted
    // above; `dst` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// The convolution of a padded chunk of `boards` boards, without bias:
/// `tmp[cols × c_out]` (boards innermost in `cols`, channels innermost in a row),
/// through the im2col matrix `col`. Of the gemm's orientations this is the one it
/// runs fastest in: the im2col matrix is its column-major operand, so nothing is
/// repacked (asking for the transposed output made it repack).
pub(super) fn conv_chunk(
    s: &ConvShape,
    padded: &[f32],
    boards: usize,
    weight: &[f32],
    col: &mut [f32],
    tmp: &mut [f32],
) {
    let (patch, cols, c_out) = (s.patch(), boards * s.cells(), s.c_out);
    let (col, tmp) = (&mut col[..patch * cols], &mut tmp[..c_out * cols]);
    im2col(s, padded, boards, col);
    // tmp[cols × c_out] = colᵀ[cols × patch] · weightᵀ[patch × c_out]
    matmul(
        (cols, c_out, patch),
        tmp,
        c_out,
        false,
        col,
        (1, cols),
        weight,
        (1, patch),
    );
}

/// `out = conv(x, weight) + bias`.
///
/// # Shapes
/// `x: [n, c_in, h, w]`, `weight: [c_out, c_in, k, k]`, `bias: [c_out]`,
/// `out: [n, c_out, h, w]` (all contiguous, NCHW).
pub fn forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let (hw, patch, c_out) = (s.cells(), s.patch(), s.c_out);
    assert_eq!(x.len(), s.n * s.c_in * hw, "conv input length");
    assert_eq!(weight.len(), c_out * patch, "conv weight length");
    assert_eq!(out.len(), s.n * c_out * hw, "conv output length");
    if let Some(b) = bias {
        assert_eq!(b.len(), c_out, "conv bias length");
    }
    if s.n == 0 || hw == 0 || c_out == 0 {
        return;
    }
    let chunk = s.chunk_boards();
    out.par_chunks_mut(chunk * c_out * hw)
        .zip(x.par_chunks(chunk * s.c_in * hw))
        .for_each(|(out, x)| {
            let boards = out.len() / (c_out * hw);
            let cols = boards * hw;
            let lens = [padded_len(s, boards), patch * cols, c_out * cols];
            with_scratch(lens, |[padded, col, tmp]| {
                pad_chunk(s, x, boards, padded);
                conv_chunk(s, padded, boards, weight, col, tmp);
                unpack_chunk(s, tmp, boards, bias, out);
            })
        });
}

/// The weight that turns the output gradient into the input gradient:
/// `[c_in, c_out, k, k]`, channels swapped and the kernel rotated by 180°.
pub fn flip_weight(s: &ConvShape, weight: &[f32]) -> Vec<f32> {
    let (k, kk) = (s.k, s.k * s.k);
    let mut flipped = vec![0.0; weight.len()];
    for o in 0..s.c_out {
        for ci in 0..s.c_in {
            for t in 0..kk {
                let (ky, kx) = (t / k, t % k);
                let rotated = (k - 1 - ky) * k + (k - 1 - kx);
                flipped[(ci * s.c_out + o) * kk + rotated] = weight[(o * s.c_in + ci) * kk + t];
            }
        }
    }
    flipped
}

/// The input gradient: `dx = conv(dout, flip_weight(weight))`.
///
/// # Shapes
/// `weight: [c_out, c_in, k, k]`, `dout: [n, c_out, h, w]`, `dx: [n, c_in, h, w]`
pub fn input_grad(s: &ConvShape, weight: &[f32], dout: &[f32], dx: &mut [f32]) {
    forward(&s.transposed(), dout, &flip_weight(s, weight), None, dx);
}

/// The weight gradient `dw = Σ dout ⊗ patches(x)`.
///
/// # Shapes
/// `x: [n, c_in, h, w]`, `dout: [n, c_out, h, w]`, `dw: [c_out, c_in, k, k]`
pub fn weight_grad(s: &ConvShape, x: &[f32], dout: &[f32], dw: &mut [f32]) {
    let (hw, patch, c_out) = (s.cells(), s.patch(), s.c_out);
    assert_eq!(x.len(), s.n * s.c_in * hw, "conv input length");
    assert_eq!(dout.len(), s.n * c_out * hw, "conv output gradient length");
    assert_eq!(dw.len(), c_out * patch, "conv weight gradient length");
    let chunk = s.chunk_boards();
    let sums = if s.n == 0 || hw == 0 {
        vec![0.0; c_out * patch]
    } else {
        x.par_chunks(chunk * s.c_in * hw)
            .zip(dout.par_chunks(chunk * c_out * hw))
            .fold(
                || vec![0.0f32; c_out * patch],
                |mut acc, (x, dout)| {
                    let boards = x.len() / (s.c_in * hw);
                    let cols = boards * hw;
                    let lens = [padded_len(s, boards), patch * cols, c_out * cols];
                    with_scratch(lens, |[padded, col, tmp]| {
                        pad_chunk(s, x, boards, padded);
                        im2col(s, padded, boards, col);
                        pack_chunk(s, dout, boards, tmp);
                        // acc = dwᵀ[patch × c_out] += col[patch × cols] · tmpᵀ[cols × c_out]
                        matmul(
                            (patch, c_out, cols),
                            &mut acc,
                            c_out,
                            true,
                            col,
                            (cols, 1),
                            tmp,
                            (1, cols),
                        );
                    });
                    acc
                },
            )
            .reduce(
                || vec![0.0f32; c_out * patch],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                },
            )
    };
    // dwᵀ[patch × c_out] → dw[c_out × patch]
    for (r, row) in sums.chunks_exact(c_out).enumerate() {
        for (o, &v) in row.iter().enumerate() {
            dw[o * patch + r] = v;
        }
    }
}

/// The bias gradient `db[o] = Σ dout[·, o, ·, ·]` over planes of `cells` values.
///
/// # Shapes
/// `dout: [n, c_out, h, w]` (`cells` = h·w), `db: [c_out]`
pub fn bias_grad(cells: usize, dout: &[f32], db: &mut [f32]) {
    let c_out = db.len();
    assert_eq!(
        dout.len() % (c_out * cells).max(1),
        0,
        "conv output gradient length"
    );
    db.fill(0.0);
    for (plane, values) in dout.chunks_exact(cells.max(1)).enumerate() {
        db[plane % c_out] += values.iter().sum::<f32>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition: out[b,o,y,x] = bias[o] + Σ w[o,c,ky,kx]·x[b,c,y+ky−p,x+kx−p].
    fn naive(s: &ConvShape, x: &[f32], w: &[f32], bias: &[f32]) -> Vec<f32> {
        let (h, wd, k, p) = (s.h as isize, s.w as isize, s.k, (s.k / 2) as isize);
        let mut out = vec![0.0; s.n * s.c_out * s.h * s.w];
        for b in 0..s.n {
            for o in 0..s.c_out {
                for y in 0..h {
                    for xo in 0..wd {
                        let mut sum = bias[o] as f64;
                        for c in 0..s.c_in {
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (yi, xi) = (y + ky as isize - p, xo + kx as isize - p);
                                    if yi < 0 || yi >= h || xi < 0 || xi >= wd {
                                        continue;
                                    }
                                    let xv = x[((b * s.c_in + c) * s.h + yi as usize) * s.w
                                        + xi as usize];
                                    sum += (w[((o * s.c_in + c) * k + ky) * k + kx] * xv) as f64;
                                }
                            }
                        }
                        out[((b * s.c_out + o) * s.h + y as usize) * s.w + xo as usize] =
                            sum as f32;
                    }
                }
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        // A fixed, irregular sequence in [-1, 1].
        (0..len)
            .map(|i| {
                let v = (i as u32)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(seed.wrapping_mul(40_503));
                (v >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "element {i}: {a} vs {b}"
            );
        }
    }

    fn shapes() -> Vec<ConvShape> {
        vec![
            // connect4 stem and tower, a batch wider than one chunk
            ConvShape {
                n: 30,
                c_in: 3,
                c_out: 8,
                h: 6,
                w: 7,
                k: 3,
            },
            ConvShape {
                n: 13,
                c_in: 5,
                c_out: 4,
                h: 6,
                w: 7,
                k: 3,
            },
            // odd sizes: one row, one column, 5×5 kernel larger than the board, 1×1
            ConvShape {
                n: 3,
                c_in: 2,
                c_out: 3,
                h: 1,
                w: 9,
                k: 3,
            },
            ConvShape {
                n: 2,
                c_in: 2,
                c_out: 2,
                h: 4,
                w: 1,
                k: 3,
            },
            ConvShape {
                n: 4,
                c_in: 3,
                c_out: 2,
                h: 3,
                w: 3,
                k: 5,
            },
            ConvShape {
                n: 5,
                c_in: 4,
                c_out: 3,
                h: 8,
                w: 8,
                k: 1,
            },
        ]
    }

    #[test]
    fn forward_matches_the_definition() {
        for s in shapes() {
            let x = values(s.n * s.c_in * s.h * s.w, 1);
            let w = values(s.c_out * s.c_in * s.k * s.k, 2);
            let bias = values(s.c_out, 3);
            let mut out = vec![f32::NAN; s.n * s.c_out * s.h * s.w];
            forward(&s, &x, &w, Some(&bias), &mut out);
            close(&out, &naive(&s, &x, &w, &bias));
        }
    }

    /// Gradients of L = Σ dout ⊙ conv(x, w, b) against their definitions:
    /// dL/dx = conv with the flipped weight; dL/dw[o,c,ky,kx] and dL/db[o] by
    /// finite differences of the (linear) naive convolution.
    #[test]
    fn gradients_match_the_definition() {
        for s in shapes() {
            let x = values(s.n * s.c_in * s.h * s.w, 4);
            let w = values(s.c_out * s.c_in * s.k * s.k, 5);
            let dout = values(s.n * s.c_out * s.h * s.w, 6);
            let zero_bias = vec![0.0; s.c_out];
            let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
                naive(&s, x, w, b)
                    .iter()
                    .zip(&dout)
                    .map(|(o, d)| (o * d) as f64)
                    .sum()
            };
            let base = loss(&x, &w, &zero_bias);

            let mut dw = vec![f32::NAN; w.len()];
            let mut db = vec![f32::NAN; s.c_out];
            weight_grad(&s, &x, &dout, &mut dw);
            bias_grad(s.h * s.w, &dout, &mut db);
            for i in 0..w.len() {
                let mut w1 = w.clone();
                w1[i] += 1.0; // the loss is linear in w: the difference is exact
                let expected = (loss(&x, &w1, &zero_bias) - base) as f32;
                assert!(
                    (dw[i] - expected).abs() < 1e-3 * (1.0 + expected.abs()),
                    "{s:?} dw[{i}]"
                );
            }
            for o in 0..s.c_out {
                let mut b1 = zero_bias.clone();
                b1[o] = 1.0;
                let expected = (loss(&x, &w, &b1) - base) as f32;
                assert!(
                    (db[o] - expected).abs() < 1e-3 * (1.0 + expected.abs()),
                    "{s:?} db[{o}]"
                );
            }

            let mut dx = vec![f32::NAN; x.len()];
            input_grad(&s, &w, &dout, &mut dx);
            for i in (0..x.len()).step_by(7) {
                let mut x1 = x.clone();
                x1[i] += 1.0;
                let expected = (loss(&x1, &w, &zero_bias) - base) as f32;
                assert!(
                    (dx[i] - expected).abs() < 1e-3 * (1.0 + expected.abs()),
                    "{s:?} dx[{i}]"
                );
            }
        }
    }

    #[test]
    fn an_empty_batch_is_fine() {
        let s = ConvShape {
            n: 0,
            c_in: 2,
            c_out: 3,
            h: 6,
            w: 7,
            k: 3,
        };
        let mut out = [];
        forward(&s, &[], &values(54, 1), None, &mut out);
        let mut dw = vec![f32::NAN; 54];
        weight_grad(&s, &[], &[], &mut dw);
        assert!(dw.iter().all(|&v| v == 0.0));
    }
}
