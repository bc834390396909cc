//! The residual tower for inference with activations kept in the chunk layout
//! from layer to layer.
//!
//! [`kernel::forward`] takes and returns NCHW tensors, so every layer of a tower
//! pays two transposes (NCHW into a padded chunk, the gemm's output back to NCHW)
//! and Burn's separate bias, residual-add and ReLU passes. Here each chunk of
//! boards goes through the whole tower on one thread: a layer's gemm output is
//! written once, with its bias, residual add and ReLU, straight into the padded
//! input of the next layer. Only the tower's input and output are NCHW.

use super::kernel::{self, ConvShape, relu};
use rayon::prelude::*;
use std::cell::RefCell;

/// One "same" convolution with bias (batch norm folded in), followed by ReLU.
#[derive(Clone, Debug)]
pub struct TowerConv {
    /// `[c_out, c_in·k·k]`
    pub weight: Vec<f32>,
    /// `[c_out]`
    pub bias: Vec<f32>,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
}

/// Stem `relu(conv(x))`, then blocks `x = relu(b(relu(a(x))) + x)`, all with one
/// odd square kernel side.
#[derive(Clone, Debug)]
pub struct Tower {
    /// Board rows.
    pub h: usize,
    /// Board columns.
    pub w: usize,
    /// Kernel side (odd).
    pub k: usize,
    /// The stem.
    pub stem: TowerConv,
    /// The residual blocks' two convolutions.
    pub blocks: Vec<(TowerConv, TowerConv)>,
}

thread_local! {
    /// Per-thread scratch: input chunk, three activation chunks, im2col matrix,
    /// gemm output. Allocated once, reused.
    static SCRATCH: RefCell<[Vec<f32>; 6]> = RefCell::new(Default::default());
}

impl Tower {
    /// Channels of the tower's output.
    pub fn channels(&self) -> usize {
        self.stem.c_out
    }

    fn shape(&self, layer: &TowerConv, n: usize) -> ConvShape {
        ConvShape {
            n,
            c_in: layer.c_in,
            c_out: layer.c_out,
            h: self.h,
            w: self.w,
            k: self.k,
        }
    }

    /// The tower's output for `n` boards.
    ///
    /// # Shapes
    /// `x: [n, stem.c_in, h, w]` → `out: [n, channels, h, w]` (NCHW)
    pub fn forward(&self, n: usize, x: &[f32], out: &mut [f32]) {
        let (hw, c_in, c) = (self.h * self.w, self.stem.c_in, self.channels());
        assert_eq!(x.len(), n * c_in * hw, "tower input length");
        assert_eq!(out.len(), n * c * hw, "tower output length");
        assert!(self.k % 2 == 1, "tower kernel side must be odd");
        for (a, b) in &self.blocks {
            assert!(a.c_in == c && a.c_out == c && b.c_in == c && b.c_out == c);
        }
        if n == 0 || hw == 0 || c == 0 {
            return;
        }
        let chunk = self.shape(&self.stem, n).chunk_boards();
        out.par_chunks_mut(chunk * c * hw)
            .zip(x.par_chunks(chunk * c_in * hw))
            .for_each(|(out, x)| self.chunk(x.len() / (c_in * hw), x, out));
    }

    /// One chunk of `boards` boards through the whole tower.
    fn chunk(&self, boards: usize, x: &[f32], out: &mut [f32]) {
        let (c, kk) = (self.channels(), self.k * self.k);
        let stem = self.shape(&self.stem, boards);
        let block = ConvShape { c_in: c, ..stem };
        let cols = boards * self.h * self.w;
        let act = kernel::padded_len(&block, boards);
        let lens = [
            kernel::padded_len(&stem, boards),
            act,
            act,
            act,
            stem.patch().max(c * kk) * cols,
            c * cols,
        ];
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            for (v, &len) in scratch.iter_mut().zip(&lens) {
                if v.len() < len {
                    v.resize(len, 0.0);
                }
            }
            let [input, a, b, c, col, tmp] = &mut *scratch;
            let input = &mut input[..lens[0]];
            let (mut a, b, mut c) = (&mut a[..act], &mut b[..act], &mut c[..act]);
            kernel::pad_chunk(&stem, x, boards, input);
            self.layer(&stem, &self.stem, input, None, col, tmp, a);
            for (la, lb) in &self.blocks {
                self.layer(&block, la, a, None, col, tmp, b);
                self.layer(&block, lb, b, Some(a), col, tmp, c);
                std::mem::swap(&mut a, &mut c);
            }
            self.unpad(boards, a, out);
        });
    }

    /// `dst = relu(conv(src) + bias + skip)`, `src`, `skip` and `dst` padded chunks.
    #[allow(clippy::too_many_arguments)]
    fn layer(
        &self,
        s: &ConvShape,
        l: &TowerConv,
        src: &[f32],
        skip: Option<&[f32]>,
        col: &mut [f32],
        tmp: &mut [f32],
        dst: &mut [f32],
    ) {
        let boards = s.n;
        let c_out = l.c_out;
        kernel::conv_chunk(s, src, boards, &l.weight, col, tmp);
        let (h, w, p) = (self.h, self.w, self.k / 2);
        let (row_len, run) = ((w + 2 * p) * boards, w * boards);
        let plane = (h + 2 * p) * row_len;
        for o in 0..c_out {
            kernel::zero_border(&mut dst[o * plane..(o + 1) * plane], h, p, row_len, boards);
        }
        // The transpose tmp[(y, x, b), o] → dst[o, y + p, (x + p)·boards + b] in
        // tiles of TILE columns: a tile's rows of tmp stay in L1 while every
        // channel takes its values from them.
        const TILE: usize = 16;
        for y in 0..h {
            for i0 in (0..run).step_by(TILE) {
                let t = TILE.min(run - i0);
                let tile = &tmp[(y * run + i0) * c_out..][..t * c_out];
                let at = (y + p) * row_len + p * boards + i0;
                for (o, &bias) in l.bias.iter().enumerate() {
                    let d = &mut dst[o * plane + at..][..t];
                    let values = tile[o..].iter().step_by(c_out);
                    match skip {
                        Some(skip) => {
                            let k = &skip[o * plane + at..][..t];
                            for ((d, &v), &k) in d.iter_mut().zip(values).zip(k) {
                                *d = relu(v + bias + k);
                            }
                        }
                        None => {
                            for (d, &v) in d.iter_mut().zip(values) {
                                *d = relu(v + bias);
                            }
                        }
                    }
                }
            }
        }
    }

    /// A padded chunk of the tower's channels → NCHW `out`.
    fn unpad(&self, boards: usize, src: &[f32], out: &mut [f32]) {
        let (h, w, p, c) = (self.h, self.w, self.k / 2, self.channels());
        let row_len = (w + 2 * p) * boards;
        let plane = (h + 2 * p) * row_len;
        for (idx, dst) in out.chunks_exact_mut(h * w).enumerate().take(boards * c) {
            let (b, o) = (idx / c, idx % c);
            for (y, row) in dst.chunks_exact_mut(w).enumerate() {
                let at = o * plane + (y + p) * row_len + p * boards + b;
                for (xo, d) in row.iter_mut().enumerate() {
                    *d = src[at + xo * boards];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| (i as f32 * 0.618 + seed).sin() * 0.5)
            .collect()
    }

    fn conv(c_in: usize, c_out: usize, k: usize, seed: f32) -> TowerConv {
        TowerConv {
            weight: values(c_out * c_in * k * k, seed),
            // Every other channel's bias well below zero, so that the ReLUs cut
            // after the residual adds too, and the others' above.
            bias: values(c_out, seed + 1.0)
                .iter()
                .enumerate()
                .map(|(o, b)| b + if o % 2 == 0 { 0.2 } else { -1.5 })
                .collect(),
            c_in,
            c_out,
        }
    }

    /// The same tower layer by layer: [`kernel::forward`] (NCHW), then bias
    /// (inside the kernel), residual add and ReLU as separate passes.
    fn layer_by_layer(t: &Tower, n: usize, x: &[f32]) -> Vec<f32> {
        let run = |l: &TowerConv, x: &[f32], skip: Option<&[f32]>| {
            let s = ConvShape {
                n,
                c_in: l.c_in,
                c_out: l.c_out,
                h: t.h,
                w: t.w,
                k: t.k,
            };
            let mut out = vec![0.0; n * l.c_out * t.h * t.w];
            kernel::forward(&s, x, &l.weight, Some(&l.bias), &mut out);
            if let Some(skip) = skip {
                out.iter_mut().zip(skip).for_each(|(o, s)| *o += s);
            }
            out.iter_mut().for_each(|o| *o = relu(*o));
            out
        };
        let mut x = run(&t.stem, x, None);
        for (a, b) in &t.blocks {
            let y = run(a, &x, None);
            x = run(b, &y, Some(&x));
        }
        x
    }

    #[test]
    fn a_nan_input_reaches_the_output() {
        let tower = Tower {
            h: 3,
            w: 3,
            k: 3,
            stem: conv(2, 4, 3, 0.3),
            blocks: vec![(conv(4, 4, 3, 2.0), conv(4, 4, 3, 5.0))],
        };
        let mut x = values(2 * 2 * 9, 7.0);
        x[4] = f32::NAN; // board 0, centre of plane 0: reaches all of board 0
        let mut out = vec![0.0; 2 * 4 * 9];
        tower.forward(2, &x, &mut out);
        assert!(
            out[..36].iter().all(|v| v.is_nan()),
            "board 0: {:?}",
            &out[..36]
        );
        assert!(out[36..].iter().all(|v| v.is_finite()), "board 1");
    }

    #[test]
    fn tower_equals_the_layers_one_by_one() {
        // Batches that leave a short last chunk, a board smaller than the
        // kernel's reach, a 1×1 kernel, a tower without blocks.
        for (n, planes, c, blocks, h, w, k) in [
            (29, 3, 8, 2, 6, 7, 3),
            (1, 2, 4, 1, 3, 3, 3),
            (70, 3, 5, 3, 8, 8, 3),
            (13, 3, 6, 1, 2, 2, 5),
            (9, 4, 6, 2, 4, 5, 1),
            (17, 3, 4, 0, 6, 7, 3),
        ] {
            let tower = Tower {
                h,
                w,
                k,
                stem: conv(planes, c, k, 0.3),
                blocks: (0..blocks)
                    .map(|i| (conv(c, c, k, 2.0 + i as f32), conv(c, c, k, 5.0 + i as f32)))
                    .collect(),
            };
            let x = values(n * planes * h * w, 7.0);
            let mut out = vec![f32::NAN; n * c * h * w];
            tower.forward(n, &x, &mut out);
            let want = layer_by_layer(&tower, n, &x);
            let zeros = want.iter().filter(|&&v| v == 0.0).count();
            assert!(
                zeros > 0 && zeros < want.len(),
                "n={n} c={c} {h}×{w} k={k}: the ReLU must cut some values and not all ({zeros} of {})",
                want.len()
            );
            for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                if b.is_nan() {
                    assert!(a.is_nan(), "entry {i}: {a} where the layers give NaN");
                    continue;
                }
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "n={n} c={c} {h}×{w} k={k}, entry {i}: {a} vs {b}"
                );
            }
        }
    }
}
