//! The one place a Burn backend is chosen: the manifest's `model.device`,
//! among the backends this binary was built with (cargo features `flex`,
//! `wgpu`, `cuda`).

use crate::error::BadInput;
use az_experiment::{AdapterSpec, DeviceSpec, Experiment, ModelSection};
use burn::tensor::Device;

/// The Burn device of `[model]`: `device`, and for wgpu `adapter`.
///
/// # Errors
/// [`BadInput`] if this binary was built without that backend, saying how to
/// get it, or if the machine has no such adapter.
pub fn device(model: &ModelSection) -> Result<Device, BadInput> {
    match model.device {
        DeviceSpec::Cpu => cpu(),
        DeviceSpec::Cuda => cuda(),
        DeviceSpec::Wgpu => wgpu::device(model.adapter),
    }
}

#[cfg(feature = "flex")]
fn cpu() -> Result<Device, BadInput> {
    Ok(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn cpu() -> Result<Device, BadInput> {
    Err(BadInput(
        "model.device = \"cpu\" needs the flex backend: build az with --features flex (a default)"
            .to_owned(),
    ))
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device, BadInput> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device, BadInput> {
    Err(BadInput(
        "model.device = \"cuda\" needs az built with CUDA: cargo run --release -p az-cli --features cuda -- ... \
         (or --set model.device=cpu)"
            .to_owned(),
    ))
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use super::{AdapterSpec, BadInput, Device};
    use burn::tensor::DeviceKind;
    use std::sync::{Mutex, PoisonError};

    /// Adapters opened so far: wgpu's runtime is set up once per adapter and
    /// process, and later calls get the same device.
    static OPENED: Mutex<Vec<(AdapterSpec, Device)>> = Mutex::new(Vec::new());

    fn kind(adapter: AdapterSpec) -> DeviceKind {
        match adapter {
            AdapterSpec::Default => DeviceKind::DefaultDevice,
            AdapterSpec::Discrete(n) => DeviceKind::DiscreteGpu(n),
            AdapterSpec::Integrated(n) => DeviceKind::IntegratedGpu(n),
            AdapterSpec::Virtual(n) => DeviceKind::VirtualGpu(n),
            AdapterSpec::Cpu => DeviceKind::Cpu,
        }
    }

    pub(super) fn device(adapter: AdapterSpec) -> Result<Device, BadInput> {
        let mut opened = OPENED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, device)) = opened.iter().find(|(a, _)| *a == adapter) {
            return Ok(device.clone());
        }
        let device = Device::wgpu_options()
            .device_kind(kind(adapter))
            .init()
            .map_err(|e| {
                BadInput(format!(
                    "model.device = \"wgpu\" with model.adapter = \"{adapter}\": {e}. \
                     Adapters: {}; a machine without a GPU can run Mesa's lavapipe \
                     (Debian: apt-get install mesa-vulkan-drivers) with model.adapter = \"cpu\"",
                    AdapterSpec::ALLOWED
                ))
            })?;
        opened.push((adapter, device.clone()));
        Ok(device)
    }

    pub(super) fn finish() {
        let opened = OPENED.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, device) in opened.iter() {
            let _ = device.sync();
        }
    }
}

#[cfg(not(feature = "wgpu"))]
mod wgpu {
    use super::{AdapterSpec, BadInput, Device};

    pub(super) fn finish() {}

    pub(super) fn device(_adapter: AdapterSpec) -> Result<Device, BadInput> {
        Err(BadInput(
            "model.device = \"wgpu\" needs az built with wgpu: cargo run --release -p az-cli --features wgpu -- ... \
             (or --set model.device=cpu)"
                .to_owned(),
        ))
    }
}

/// Makes Burn's default device the CPU (flex), unless `BURN_DEVICE` says
/// otherwise. Call it first in `main`, before any thread starts.
///
/// Burn materialises a resumed optimiser's state on `Device::default()`, which
/// in a build with a GPU backend is that GPU's default adapter, and moves it to
/// the training device at the first step. Staged on the CPU instead, a CPU run
/// of a GPU-enabled `az` never touches a GPU (on a machine without one it would
/// fail), and a GPU run gets its state with one upload.
#[allow(unsafe_code)]
pub fn default_device_is_the_cpu() {
    if cfg!(feature = "flex") && std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: called at the start of `main`, while no other thread exists
        // to read the environment.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}

/// Names the shared math threads (rayon's global pool, which Burn's CPU backend
/// and az's kernels use for the parallel parts of training and evaluation)
/// `az-pool-N`, so a run's CPU report can tell them from the threads that start
/// them. Call it before anything uses the pool.
pub fn name_the_math_threads() {
    // Fails only if the pool already exists: then it keeps its names.
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("az-pool-{i}"))
        .build_global();
}

/// Waits for the work queued on the GPU devices opened so far. Call it before
/// `main` returns: a process that exits while a driver still compiles or runs
/// its kernels can crash in the driver's teardown (seen with Mesa's lavapipe,
/// whose LLVM is unloaded under a thread still compiling a shader).
pub fn finish() {
    wgpu::finish();
}

/// Loads an experiment (name or path, with `--set` overrides) and its device.
///
/// # Errors
/// [`BadInput`] for a missing or invalid manifest or a backend this binary lacks.
pub fn load_with_device(
    name: &str,
    overrides: &[String],
) -> Result<(Experiment, Device), BadInput> {
    let exp = crate::experiments::load(name, overrides)?;
    let device = device(&exp.manifest.model)?;
    Ok((exp, device))
}
