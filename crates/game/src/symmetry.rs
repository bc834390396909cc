//! Board symmetries acting on encodings and policy vectors together.

use crate::Shape;

/// One board symmetry: where it sends every cell of a plane and every policy entry.
///
/// Both maps are forward maps and permutations: cell `c` of every input plane goes
/// to cell `cells[c]`, policy entry `a` goes to entry `actions[a]`. A game's
/// [`Game::transformed`](crate::Game::transformed) must agree with them: encoding
/// the transformed position equals transforming the encoding, and move `m` becomes
/// the move whose index is `actions[index(m)]` (the conformance kit checks both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symmetry {
    /// Forward map of the `height × width` cells of a plane.
    pub cells: Vec<u16>,
    /// Forward map of policy indices.
    pub actions: Vec<u16>,
}

impl Symmetry {
    /// The identity on `cells` cells and `actions` policy entries.
    pub fn identity(cells: usize, actions: usize) -> Symmetry {
        Symmetry {
            cells: (0..cells as u16).collect(),
            actions: (0..actions as u16).collect(),
        }
    }

    /// Transforms an encoded position (`shape.len()` values) into `out`.
    ///
    /// # Panics
    /// If a slice is shorter than `shape.len()` or the map has another size.
    pub fn apply_encoding(&self, shape: Shape, input: &[f32], out: &mut [f32]) {
        let n = shape.cells();
        assert_eq!(
            self.cells.len(),
            n,
            "symmetry has {} cells, shape {n}",
            self.cells.len()
        );
        for (src, dst) in input[..shape.len()]
            .chunks_exact(n)
            .zip(out.chunks_exact_mut(n))
        {
            for (c, &to) in self.cells.iter().enumerate() {
                dst[to as usize] = src[c];
            }
        }
    }

    /// Transforms a policy vector into `out`.
    ///
    /// # Panics
    /// If a slice is shorter than the map.
    pub fn apply_policy(&self, input: &[f32], out: &mut [f32]) {
        for (a, &to) in self.actions.iter().enumerate() {
            out[to as usize] = input[a];
        }
    }
}

/// The eight symmetries of an `n × n` board (the dihedral group D4) as forward cell
/// maps over row-major cells; index 0 is the identity.
pub fn dihedral_square(n: usize) -> Vec<Vec<u16>> {
    let map = |f: &dyn Fn(usize, usize) -> (usize, usize)| -> Vec<u16> {
        (0..n * n)
            .map(|c| {
                let (r, k) = f(c / n, c % n);
                (r * n + k) as u16
            })
            .collect()
    };
    let m = n - 1;
    vec![
        map(&|r, c| (r, c)),
        map(&|r, c| (c, m - r)),     // rotate 90° clockwise
        map(&|r, c| (m - r, m - c)), // rotate 180°
        map(&|r, c| (m - c, r)),     // rotate 270° clockwise
        map(&|r, c| (r, m - c)),     // mirror left-right
        map(&|r, c| (m - r, c)),     // mirror top-bottom
        map(&|r, c| (c, r)),         // main diagonal
        map(&|r, c| (m - c, m - r)), // anti-diagonal
    ]
}

/// The left-right mirror of a `height × width` board as a forward cell map.
pub fn mirror_columns(height: usize, width: usize) -> Vec<u16> {
    (0..height * width)
        .map(|c| ((c / width) * width + (width - 1 - c % width)) as u16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_permutation(map: &[u16]) -> bool {
        let mut seen = vec![false; map.len()];
        map.iter()
            .all(|&i| !std::mem::replace(&mut seen[i as usize], true))
    }

    #[test]
    fn dihedral_maps_are_distinct_permutations() {
        for n in [3, 8] {
            let maps = dihedral_square(n);
            assert_eq!(maps.len(), 8);
            for (i, a) in maps.iter().enumerate() {
                assert!(is_permutation(a));
                for b in &maps[i + 1..] {
                    assert_ne!(a, b);
                }
            }
        }
    }

    #[test]
    fn rotation_by_90_four_times_is_identity() {
        let maps = dihedral_square(8);
        let rot = &maps[1];
        let mut c: Vec<u16> = (0..64).collect();
        for _ in 0..4 {
            c = c.iter().map(|&x| rot[x as usize]).collect();
        }
        assert_eq!(c, maps[0]);
        // Top-left corner goes to top-right under a clockwise quarter turn.
        assert_eq!(rot[0], 7);
    }

    #[test]
    fn mirror_is_an_involution() {
        let m = mirror_columns(6, 7);
        assert!(is_permutation(&m));
        assert_eq!(m[0], 6);
        assert!((0..42).all(|c| m[m[c] as usize] as usize == c));
    }

    #[test]
    fn apply_encoding_moves_every_plane() {
        let shape = Shape {
            planes: 2,
            height: 1,
            width: 3,
        };
        let sym = Symmetry {
            cells: vec![2, 1, 0],
            actions: vec![2, 1, 0],
        };
        let mut out = [0.0; 6];
        sym.apply_encoding(shape, &[1., 2., 3., 4., 5., 6.], &mut out);
        assert_eq!(out, [3., 2., 1., 6., 5., 4.]);
        let mut p = [0.0; 3];
        sym.apply_policy(&[0.5, 0.3, 0.2], &mut p);
        assert_eq!(p, [0.2, 0.3, 0.5]);
    }
}
