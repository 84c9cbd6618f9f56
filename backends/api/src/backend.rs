//! The traits a backend implements.
//!
//! The surface is object-safe so that the dispatcher and the C ABI hold `Arc<dyn Backend>`
//! and choose at run time; data crosses it as erased views ([`RawPoints`], [`RawScalars`],
//! [`NttData`]) carrying run-time ids. A backend implements each operation for the static
//! types it supports (usually once, generically, through [`crate::with_curve_group!`]) and
//! inherits `Unsupported` for everything else: one required method ([`Backend::info`]),
//! everything else defaulted.
//!
//! Two kinds of reusable, possibly device-resident state exist: prepared MSM bases
//! ([`Backend::prepare_bases`], for the SRS a prover uses for many MSMs) and NTT domains
//! ([`Backend::ntt_domain`], holding twiddles). Both are objects owned by the caller, never
//! global state, so any number of them can be used from any number of threads.

use crate::curve::{CurveGroup, Projective};
use crate::error::{BackendError, BackendResult};
use crate::field::{PrimeField, TwoAdicField};
use crate::ids::{CurveGroupId, FieldId, OpId};
use crate::view::{RawPoints, RawScalars};
use std::sync::Arc;

/// What kind of device a backend drives.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// The host CPU.
    Cpu,
    /// An NVIDIA GPU through CUDA.
    Cuda,
    /// An OpenCL device (GPU, or CPU through PoCL).
    OpenCl,
    /// An FPGA card (or its simulation).
    Fpga,
    /// A third-party plugin.
    Plugin,
}

impl DeviceKind {
    /// Lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
            DeviceKind::OpenCl => "opencl",
            DeviceKind::Fpga => "fpga",
            DeviceKind::Plugin => "plugin",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DeviceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" => Ok(DeviceKind::Cuda),
            "opencl" | "ocl" => Ok(DeviceKind::OpenCl),
            "fpga" => Ok(DeviceKind::Fpga),
            "plugin" => Ok(DeviceKind::Plugin),
            _ => Err(format!(
                "unknown backend '{s}' (expected cpu, cuda, opencl, fpga or plugin)"
            )),
        }
    }
}

/// Facts about the device behind a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Human-readable device name (CPU model, GPU name, FPGA image).
    pub name: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// Vendor, when known.
    pub vendor: String,
    /// Driver or runtime version, when there is one.
    pub driver: String,
    /// Device memory in bytes (host memory for the CPU).
    pub memory_bytes: u64,
    /// Compute units: threads for the CPU, SMs for CUDA, compute units for OpenCL.
    pub compute_units: u32,
    /// True when the device is simulated (FPGA RTL simulation): never reported as hardware.
    pub simulated: bool,
    /// True when the device's work runs on the host's CPU cores (the CPU backend, or an
    /// OpenCL CPU device such as PoCL): automatic dispatch then does not treat it as an
    /// accelerator.
    pub runs_on_host: bool,
    /// Peak clock in MHz as the driver or the OS reports it (`None` when unknown): part of
    /// the device fingerprint a benchmark report carries.
    pub clock_mhz: Option<u32>,
}

/// MSM support for one (curve, group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsmCapability {
    /// The (curve, group).
    pub id: CurveGroupId,
    /// Largest number of points in one call.
    pub max_len: usize,
}

/// NTT support for one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NttCapability {
    /// The field.
    pub field: FieldId,
    /// Largest `log2(n)`.
    pub max_log_n: u32,
}

/// What a backend can do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// MSM support per (curve, group).
    pub msm: Vec<MsmCapability>,
    /// NTT support per field.
    pub ntt: Vec<NttCapability>,
    /// Hash instances supported by [`Backend::hash`].
    pub hash: Vec<crate::hash::HashId>,
    /// True when [`Backend::prepare_bases`] keeps bases resident (on the device).
    pub resident_bases: bool,
}

impl Capabilities {
    /// The MSM capability for `id`, if any.
    pub fn msm_for(&self, id: CurveGroupId) -> Option<&MsmCapability> {
        self.msm.iter().find(|c| c.id == id)
    }
    /// The NTT capability for `field`, if any.
    pub fn ntt_for(&self, field: FieldId) -> Option<&NttCapability> {
        self.ntt.iter().find(|c| c.field == field)
    }
    /// True when an MSM of `len` points over `id` is within the capabilities.
    pub fn supports_msm(&self, id: CurveGroupId, len: usize) -> bool {
        self.msm_for(id).is_some_and(|c| len <= c.max_len)
    }
    /// True when hashing with instance `id` is within the capabilities.
    pub fn supports_hash(&self, id: crate::hash::HashId) -> bool {
        self.hash.contains(&id)
    }
    /// True when an NTT of size `2^log_n` over `field` is within the capabilities.
    pub fn supports_ntt(&self, field: FieldId, log_n: u32) -> bool {
        self.ntt_for(field).is_some_and(|c| log_n <= c.max_log_n)
    }
}

/// The result of an MSM in erased form: the Jacobian point's coordinates, as limbs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RawPoint {
    /// The (curve, group) of the point.
    pub id: CurveGroupId,
    /// `X`, `Y`, `Z` in Montgomery form, little-endian limbs; only the first
    /// `size_of::<Projective<C>>() / 8` limbs are used.
    pub limbs: [u64; RawPoint::MAX_LIMBS],
}

impl RawPoint {
    /// Largest Jacobian point: three `F_p²` coordinates of six limbs.
    pub const MAX_LIMBS: usize = 36;

    /// Erases a typed point.
    pub fn from_projective<C: CurveGroup>(p: &Projective<C>) -> Self {
        let mut limbs = [0u64; Self::MAX_LIMBS];
        let src: &[u64] = bytemuck::cast_slice(core::slice::from_ref(p));
        limbs[..src.len()].copy_from_slice(src);
        Self { id: C::id(), limbs }
    }

    /// The typed point, when `C` matches.
    pub fn to_projective<C: CurveGroup>(&self) -> BackendResult<Projective<C>> {
        if self.id != C::id() {
            return Err(BackendError::BadInput(format!(
                "result is {} but {} was expected",
                self.id,
                C::id()
            )));
        }
        let n = core::mem::size_of::<Projective<C>>() / 8;
        Ok(bytemuck::pod_read_unaligned(bytemuck::cast_slice(
            &self.limbs[..n],
        )))
    }
}

/// Forward or inverse transform.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NttDirection {
    /// `y_i = Σ_j x_j ω^(ij)`.
    Forward = 0,
    /// `x_j = n⁻¹ Σ_i y_i ω^(−ij)` (scaled by `1/n`).
    Inverse = 1,
}

/// Element order of an NTT input or output.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NttOrder {
    /// Index `i` holds element `i`.
    Natural = 0,
    /// Index `i` holds element `bitreverse(i, log n)`.
    BitReversed = 1,
}

/// How the columns of a batch are laid out.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BatchLayout {
    /// Column `c` occupies elements `[c·n, (c+1)·n)`.
    Contiguous = 0,
    /// Row-major `n × batch` matrix (Plonky3's `RowMajorMatrix`): element `i` of column `c`
    /// is at `i·batch + c`.
    Interleaved = 1,
}

/// How one NTT call runs, beyond the domain.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NttConfig {
    /// Forward or inverse.
    pub direction: NttDirection,
    /// Order of the input.
    pub input_order: NttOrder,
    /// Order of the output.
    pub output_order: NttOrder,
    /// Coset shift `g`, as the canonical integer (little-endian limbs, zero-padded): the
    /// forward transform evaluates on `g·H`, the inverse interpolates from `g·H`.
    /// `None` for the subgroup itself.
    pub coset: Option<[u64; 4]>,
    /// Number of columns transformed in this call (at least 1).
    pub batch: usize,
    /// Layout of the columns.
    pub layout: BatchLayout,
}

impl Default for NttConfig {
    fn default() -> Self {
        Self {
            direction: NttDirection::Forward,
            input_order: NttOrder::Natural,
            output_order: NttOrder::Natural,
            coset: None,
            batch: 1,
            layout: BatchLayout::Contiguous,
        }
    }
}

/// What defines an NTT domain: the field, the size and the root of unity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NttDomainSpec {
    /// The field.
    pub field: FieldId,
    /// `log2(n)`.
    pub log_n: u32,
    /// The primitive `n`-th root of unity, canonical limbs (zero-padded to four).
    pub root: [u64; 4],
}

impl NttDomainSpec {
    /// The domain of size `2^log_n` with the field's default root, `None` when `log_n`
    /// exceeds the field's two-adicity.
    pub fn with_default_root<F: TwoAdicField>(log_n: u32) -> Option<Self> {
        let w = F::two_adic_root(log_n)?;
        Some(Self {
            field: F::ID,
            log_n,
            root: pad4(w.to_canonical().as_ref()),
        })
    }

    /// The domain with a caller-chosen root (the caller, normally the runtime, checks that
    /// it is a primitive `2^log_n`-th root).
    pub fn with_root<F: PrimeField>(log_n: u32, root: F) -> Self {
        Self {
            field: F::ID,
            log_n,
            root: pad4(root.to_canonical().as_ref()),
        }
    }

    /// The root as a typed element.
    pub fn root_as<F: PrimeField>(&self) -> BackendResult<F> {
        decode_padded::<F>(&self.root)
            .ok_or_else(|| BackendError::BadInput("NTT root is not a valid element".into()))
    }

    /// `n = 2^log_n`.
    pub fn size(&self) -> usize {
        1usize << self.log_n
    }
}

/// Pads up to four canonical limbs.
pub fn pad4(l: &[u64]) -> [u64; 4] {
    let mut r = [0u64; 4];
    r[..l.len()].copy_from_slice(l);
    r
}

/// Decodes four zero-padded canonical limbs as an element of `F` (`None` when not below `p`
/// or when limbs beyond `F::LIMBS` are non-zero).
pub fn decode_padded<F: PrimeField>(l: &[u64; 4]) -> Option<F> {
    if l[F::LIMBS..].iter().any(|&x| x != 0) {
        return None;
    }
    let mut v: F::Limbs = bytemuck::Zeroable::zeroed();
    v.as_mut().copy_from_slice(&l[..F::LIMBS]);
    F::from_canonical(&v)
}

/// Erased NTT data: the elements of every column, in storage form (Montgomery for the large
/// fields and BabyBear, canonical for Goldilocks), as bytes.
#[derive(Debug)]
pub struct NttData<'a> {
    /// The field of the elements.
    pub field: FieldId,
    /// The bytes, `n · batch · element_bytes` long.
    pub bytes: &'a mut [u8],
}

impl<'a> NttData<'a> {
    /// Erases a typed slice.
    pub fn from_slice<F: PrimeField>(s: &'a mut [F]) -> Self {
        Self {
            field: F::ID,
            bytes: bytemuck::cast_slice_mut(s),
        }
    }

    /// The typed slice, when `F` matches and the bytes are aligned.
    pub fn typed<F: PrimeField>(&mut self) -> BackendResult<&mut [F]> {
        if F::ID != self.field {
            return Err(BackendError::BadInput(format!(
                "NTT data is {} but {} was expected",
                self.field,
                F::ID
            )));
        }
        bytemuck::try_cast_slice_mut(self.bytes)
            .map_err(|e| BackendError::BadInput(format!("NTT data layout: {e}")))
    }
}

/// A hashing operation over a batch; elements are in storage form of the instance's field.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HashOp {
    /// Permutes, in place, every `width`-element state of `output` (`input` is empty).
    Permute,
    /// Hashes each message of `input_len` elements of `input` into `digest` elements of
    /// `output` (circomlib's fixed-length hash, or Plonky3's `PaddingFreeSponge`; see
    /// [`crate::hash::modes`]).
    Hash {
        /// Elements per message.
        input_len: usize,
    },
    /// Compresses each group of `arity` digests of `input` into one digest of `output`: one
    /// Merkle layer.
    Compress {
        /// Children per node.
        arity: usize,
    },
}

/// A backend-owned NTT domain: twiddles and whatever else the backend precomputes.
pub trait BackendNttDomain: Send + Sync {
    /// The domain this was built for.
    fn spec(&self) -> &NttDomainSpec;
    /// Transforms `cfg.batch` columns of `2^log_n` elements in place.
    fn ntt(&self, data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()>;
}

/// MSM bases a backend has taken in (copied, converted, uploaded, maybe precomputed).
pub trait PreparedBases: Send + Sync {
    /// The (curve, group).
    fn id(&self) -> CurveGroupId;
    /// Number of points.
    fn len(&self) -> usize;
    /// True when there are no points.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes held (on the device, for accelerators).
    fn resident_bytes(&self) -> u64;
    /// `Σ scalars[i]·bases[i]` over the first `scalars.len()` bases.
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint>;
    /// Lets the runtime recover the concrete type (and the backend that made it).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A compute backend.
pub trait Backend: Send + Sync + 'static {
    /// The device behind this backend.
    fn info(&self) -> &DeviceInfo;

    /// What this backend can do. Default: nothing.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// `Σ scalars[i]·bases[i]` with `bases.len() == scalars.len()` (checked by the caller).
    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        let _ = scalars;
        Err(BackendError::unsupported(
            OpId::Msm,
            format!("{} on {}", bases.id(), self.info().name),
        ))
    }

    /// Takes in bases for repeated MSMs.
    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        Err(BackendError::unsupported(
            OpId::Msm,
            format!("prepared {} bases on {}", bases.id(), self.info().name),
        ))
    }

    /// Runs a hashing operation with instance `id` (see [`HashOp`] for what `input` and
    /// `output` hold; the caller has checked their lengths).
    fn hash(
        &self,
        id: crate::hash::HashId,
        op: HashOp,
        input: &[u8],
        output: &mut [u8],
    ) -> BackendResult<()> {
        let _ = (op, input, output);
        Err(BackendError::unsupported(
            OpId::Hash,
            format!("{id} on {}", self.info().name),
        ))
    }

    /// Builds (precomputes) an NTT domain.
    fn ntt_domain(&self, spec: &NttDomainSpec) -> BackendResult<Arc<dyn BackendNttDomain>> {
        Err(BackendError::unsupported(
            OpId::Ntt,
            format!("{} 2^{} on {}", spec.field, spec.log_n, self.info().name),
        ))
    }
}
