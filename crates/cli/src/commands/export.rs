//! `az export`: a trained network out of az, as a safetensors file with its
//! architecture in the metadata; tools/reference_net.py reads it with numpy alone.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{Target, load_net, resolve};
use az_game::Game;
use az_model::{InferenceNet, NamedTensor};
use rand::{RngExt, SeedableRng};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File formats `az export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// safetensors (Hugging Face): named `f32` tensors and string metadata.
    Safetensors,
}

/// Arguments of `az export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// The file format.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: Format,
    /// The file to write (default: the checkpoint's name with `.safetensors`, in
    /// the current directory).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write this many positions (from random games) with az's outputs for
    /// them, to check another implementation against: FILE's name with
    /// `.inputs.npy`, `.logits.npy` and `.values.npy` (see tools/reference_net.py).
    #[arg(long, default_value_t = 0)]
    pub samples: usize,
    /// Seed of the sample positions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// Version of the tensor names and layouts in the file's metadata.
pub const LAYOUT: &str = "az.inference.v1";

struct Visit<'a> {
    args: &'a ExportArgs,
    target: Target,
    output: PathBuf,
}

impl GameVisitor for Visit<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Game>(self) -> Result<String, BadInput> {
        let net = load_net::<G>(&self.target.exp, &self.target.checkpoint)?;
        let tensors = net.named_tensors();
        let bytes = safetensors_bytes(&tensors, metadata::<G>(&net, &self.target))?;
        write(&self.output, &bytes)?;
        let mut out = format!(
            "{}: {} tensors, {} parameters, batch norm folded into the convolutions ({} bytes)",
            self.output.display(),
            tensors.len(),
            tensors.iter().map(|t| t.values.len()).sum::<usize>(),
            bytes.len()
        );
        if self.args.samples > 0 {
            let files = write_samples::<G>(&net, &self.output, self.args.samples, self.args.seed)?;
            out.push_str(&format!("\nsamples: {}", files.join(", ")));
        }
        Ok(out)
    }
}

/// The architecture, for a reader that knows nothing of az.
fn metadata<G: Game>(net: &InferenceNet, target: &Target) -> HashMap<String, String> {
    let c = net.config();
    let checkpoint = target
        .checkpoint
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    [
        ("format", LAYOUT.to_owned()),
        ("game", G::NAME.to_owned()),
        (
            "input_shape",
            format!("[{}, {}, {}]", c.planes, c.height, c.width),
        ),
        ("actions", c.actions.to_string()),
        ("blocks", c.blocks.to_string()),
        ("channels", c.channels.to_string()),
        ("value_hidden", c.value_hidden.to_string()),
        ("value_channels", c.value_channels.to_string()),
        ("batch_norm", "folded".to_owned()),
        (
            "forward",
            "x=relu(conv(stem,x)); per block: x=relu(conv(b,relu(conv(a,x)))+x); \
             policy=policy_fc(flatten(relu(conv(policy_conv,x)))) (logits over all actions, \
             unmasked); value=tanh(value_fc2(relu(value_fc1(flatten(relu(conv(value_conv,x)))))) \
             for the player to move; conv: stride 1, zero padding k/2; linear weight [out, in]"
                .to_owned(),
        ),
        ("experiment", target.exp.name.clone()),
        ("checkpoint", checkpoint),
        ("az_version", env!("CARGO_PKG_VERSION").to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The safetensors file for `tensors`.
fn safetensors_bytes(
    tensors: &[NamedTensor],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, BadInput> {
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|t| (t.name.clone(), t.shape.clone(), f32_bytes(&t.values)))
        .collect();
    let views = raw
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.as_str(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BadInput(format!("az export: a tensor does not fit its shape: {e}")))?;
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| BadInput(format!("az export: safetensors: {e}")))
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BadInput> {
    az_record::write_atomic(path, bytes).map_err(|e| BadInput(e.to_string()))
}

/// `n` positions from random games of `G` (each a random number of plies in,
/// never terminal), az's logits and values for them, as three `.npy` files next
/// to `output`.
fn write_samples<G: Game>(
    net: &InferenceNet,
    output: &Path,
    n: usize,
    seed: u64,
) -> Result<Vec<String>, BadInput> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let len = G::SHAPE.len();
    let mut inputs = vec![0.0f32; n * len];
    for row in inputs.chunks_exact_mut(len) {
        let plies = rng.random_range(0..G::MAX_GAME_LENGTH);
        let mut position = G::new();
        for _ in 0..plies {
            let moves = position.legal_moves();
            if moves.is_empty() {
                break;
            }
            let next = moves[rng.random_range(0..moves.len())];
            let mut after = position.clone();
            after.apply_unchecked(next);
            if after.is_terminal() {
                break;
            }
            position = after;
        }
        position.encode(row);
    }
    let (logits, values) = net.forward_slices(n, &inputs);
    let s = G::SHAPE;
    let files = [
        ("inputs", inputs, vec![n, s.planes, s.height, s.width]),
        ("logits", logits, vec![n, G::NUM_ACTIONS]),
        ("values", values, vec![n]),
    ];
    let mut names = Vec::new();
    for (what, values, shape) in files {
        let path = output.with_extension(format!("{what}.npy"));
        write(&path, &npy(&shape, &values))?;
        names.push(path.display().to_string());
    }
    Ok(names)
}

/// An `.npy` file (format 1.0) of little-endian `f32`s.
fn npy(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header, padded to 64 bytes, ending in \n.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(
        &u16::try_from(header.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(header.as_bytes());
    out.extend(f32_bytes(values));
    out
}

/// Runs `az export`.
///
/// # Errors
/// [`BadInput`] for a target that is not a checkpoint of a run, a checkpoint that
/// cannot be read (named), or a file that cannot be written.
pub fn run(args: &ExportArgs) -> Result<String, BadInput> {
    let target = resolve(&args.target, &args.overrides)?;
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = target
            .checkpoint
            .file_stem()
            .map_or_else(|| "network".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from(format!("{}-{stem}.safetensors", target.exp.name))
    });
    let game = target.exp.manifest.game.name.clone();
    with_game(
        &game,
        Visit {
            args,
            target,
            output,
        },
    )?
}
