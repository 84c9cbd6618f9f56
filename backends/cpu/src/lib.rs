//! # zkaccel-cpu
//!
//! The CPU backend: always compiled, always present, and the oracle every other backend is
//! tested against (it is itself tested against arkworks, Plonky3, naive implementations and
//! published known answers by the conformance suite).
//!
//! - MSM: Pippenger's bucket method with signed digits; the GLV endomorphism on the G1
//!   groups; affine buckets updated in batches sharing one inversion, XYZZ buckets where a
//!   window is sparse (the batches on eight lanes with AVX-512 IFMA for BN254 G1, where the
//!   CPU has it); a cost model choosing the window and splitting windows over threads
//!   ([`msm`]).
//! - NTT: depth-first radix-2/radix-4 transforms with per-domain twiddles, a cache-blocked
//!   four-step path for large columns, lazily reduced butterflies and a `mulx`/`adx` product
//!   (detected at run time) for the 254-bit fields, eight butterflies at a time with AVX-512
//!   IFMA where the CPU has it; every order, coset, inverse and batched columns ([`ntt`]).
//! - Hashing: Poseidon (circomlib) and Poseidon2 (HorizenLabs, Plonky3) batches, sponges
//!   and Merkle layers ([`hash`]).
//!
//! Work runs on rayon: on the global pool, or on a private pool of a chosen size
//! ([`CpuBackend::with_threads`]).

pub mod hash;
#[cfg(target_arch = "x86_64")]
mod ifma52;
pub mod msm;
pub mod ntt;
mod wiped;

use std::sync::Arc;
use zkaccel_backend::curve::Affine;
use zkaccel_backend::field::{BabyBear, Goldilocks};
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{
    with_curve_group, with_ntt_field, Backend, BackendError, BackendNttDomain, BackendResult,
    Capabilities, CurveGroup, CurveGroupId, DeviceInfo, DeviceKind, FieldId, HashOp, MsmCapability,
    NttCapability, NttDomainSpec, OpId, PointsView, PreparedBases, RawPoint, RawPoints, RawScalars,
    ScalarsView, TwoAdicField,
};

/// The modulus of `F` when `F` stores its elements as `L` 64-bit limbs in Montgomery form
/// (`R = 2^(64L)`), the form the lazily reduced and eight-lane paths work on.
pub(crate) fn mont_modulus<F: zkaccel_backend::PrimeField, const L: usize>() -> Option<[u64; L]> {
    if F::LIMBS != L || core::mem::size_of::<F>() != 8 * L {
        return None;
    }
    for x in [F::ONE, F::from_u64(2)] {
        if bytemuck::bytes_of(&x) != bytemuck::cast_slice::<u64, u8>(x.to_montgomery().as_ref()) {
            return None;
        }
    }
    F::modulus().as_ref().try_into().ok()
}

/// True when the CPU has AVX-512F and `ZKACCEL_CPU_AVX512` is not `0`; asked once per
/// process. Every AVX-512 path (the Goldilocks NTT lanes, the IFMA paths) requires it, so
/// `ZKACCEL_CPU_AVX512=0` measures the scalar code on a machine that has AVX-512.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("ZKACCEL_CPU_AVX512").map_or(true, |v| v != "0")
            && std::arch::is_x86_feature_detected!("avx512f")
    })
}

/// The CPU backend.
pub struct CpuBackend {
    info: DeviceInfo,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuBackend {
    /// A backend on rayon's global pool (all cores unless `RAYON_NUM_THREADS` says otherwise).
    pub fn new() -> Self {
        Self {
            info: cpu_info(rayon::current_num_threads()),
            pool: None,
        }
    }

    /// A backend with its own pool of `threads` threads.
    pub fn with_threads(threads: usize) -> BackendResult<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("zkaccel-cpu-{i}"))
            .build()
            .map_err(|e| BackendError::Other(format!("cannot start CPU threads: {e}")))?;
        Ok(Self {
            info: cpu_info(threads.max(1)),
            pool: Some(Arc::new(pool)),
        })
    }

    fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        }
    }
}

impl CpuBackend {
    fn hash_typed<F: hash::CpuHashField>(
        &self,
        id: HashId,
        op: HashOp,
        input: &[u8],
        output: &mut [u8],
    ) -> BackendResult<()> {
        let layout =
            |e: bytemuck::PodCastError| BackendError::BadInput(format!("hash data layout: {e}"));
        // An empty byte slice may be dangling with alignment 1: no elements to cast.
        let input: &[F] = if input.is_empty() {
            &[]
        } else {
            bytemuck::try_cast_slice(input).map_err(layout)?
        };
        let output: &mut [F] = if output.is_empty() {
            &mut []
        } else {
            bytemuck::try_cast_slice_mut(output).map_err(layout)?
        };
        self.run(|| match op {
            HashOp::Permute => hash::permute_batch(id, output),
            HashOp::Hash { input_len } => hash::hash_batch(id, input, input_len, output),
            HashOp::Compress { arity } => hash::compress_batch(id, arity, input, output),
        })
        .map_err(BackendError::from)
    }
}

/// The scalars as canonical integers. They may be witness data, so the copy is wiped when
/// it is dropped ([`wiped::Wiped`]: volatile writes the compiler cannot remove).
fn canonical_scalars<C: CurveGroup>(s: &ScalarsView<'_, C::Scalar>) -> wiped::Wiped<[u64; 4]> {
    use rayon::prelude::*;
    wiped::Wiped::new(
        (0..s.len())
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| s.canonical(i))
            .collect(),
    )
}

fn msm_view<C: CurveGroup>(b: &PointsView<'_, C>, s: &ScalarsView<'_, C::Scalar>) -> RawPoint {
    let scalars = canonical_scalars::<C>(s);
    let r = match b.as_affine_slice() {
        Some(points) => msm::msm_with(scalars.len(), |i| points[i], &scalars),
        None => msm::msm_with(scalars.len(), |i| b.get(i), &scalars),
    };
    RawPoint::from_projective(&r)
}

impl Backend for CpuBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        let mem = self.info.memory_bytes.max(1 << 30);
        Capabilities {
            msm: CurveGroupId::ALL
                .iter()
                .map(|&id| MsmCapability {
                    id,
                    max_len: usize::MAX,
                })
                .collect(),
            ntt: FieldId::ALL
                .iter()
                .filter(|f| f.is_ntt_field())
                .map(|&field| {
                    let adicity = with_ntt_field!(field, |F| F::TWO_ADICITY, 0);
                    let by_memory = 63 - (mem / field.element_bytes() as u64).leading_zeros();
                    NttCapability {
                        field,
                        max_log_n: adicity.min(by_memory),
                    }
                })
                .collect(),
            hash: zkaccel_backend::hash::HashId::ALL.to_vec(),
            resident_bases: false,
        }
    }

    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if bases.len() != scalars.len() {
            return Err(BackendError::BadInput(format!(
                "{} bases but {} scalars",
                bases.len(),
                scalars.len()
            )));
        }
        with_curve_group!(
            bases.id(),
            |C| {
                let b = bases.typed::<C>()?;
                let s = scalars.typed::<<C as CurveGroup>::Scalar>()?;
                Ok(self.run(|| msm_view::<C>(&b, &s)))
            },
            Err(BackendError::unsupported(OpId::Msm, bases.id().to_string()))
        )
    }

    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        with_curve_group!(
            bases.id(),
            |C| {
                let b = bases.typed::<C>()?;
                let points = self.run(|| b.to_vec());
                Ok(Arc::new(CpuBases::<C> {
                    points,
                    pool: self.pool.clone(),
                }) as Arc<dyn PreparedBases>)
            },
            Err(BackendError::unsupported(OpId::Msm, bases.id().to_string()))
        )
    }

    fn hash(&self, id: HashId, op: HashOp, input: &[u8], output: &mut [u8]) -> BackendResult<()> {
        match id.info().field {
            FieldId::Bn254Fr => {
                self.hash_typed::<zkaccel_backend::curves::Bn254Fr>(id, op, input, output)
            }
            FieldId::Goldilocks => self.hash_typed::<Goldilocks>(id, op, input, output),
            FieldId::BabyBear => self.hash_typed::<BabyBear>(id, op, input, output),
            f => Err(BackendError::unsupported(
                OpId::Hash,
                format!("{id} over {f}"),
            )),
        }
    }

    fn ntt_domain(&self, spec: &NttDomainSpec) -> BackendResult<Arc<dyn BackendNttDomain>> {
        with_ntt_field!(
            spec.field,
            |F| Ok(
                Arc::new(ntt::CpuNttDomain::<F>::new(spec, self.pool.clone())?)
                    as Arc<dyn BackendNttDomain>
            ),
            Err(BackendError::unsupported(OpId::Ntt, spec.field.to_string()))
        )
    }
}

/// Bases copied into our layout, kept for many MSMs.
struct CpuBases<C: CurveGroup> {
    points: Vec<Affine<C>>,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl<C: CurveGroup> PreparedBases for CpuBases<C> {
    fn id(&self) -> CurveGroupId {
        C::id()
    }
    fn len(&self) -> usize {
        self.points.len()
    }
    fn resident_bytes(&self) -> u64 {
        core::mem::size_of_val(self.points.as_slice()) as u64
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if scalars.len() > self.points.len() {
            return Err(BackendError::BadInput(format!(
                "{} scalars for {} prepared bases",
                scalars.len(),
                self.points.len()
            )));
        }
        let s = scalars.typed::<C::Scalar>()?;
        let b = PointsView::from_affine(&self.points[..s.len()]);
        let f = || msm_view::<C>(&b, &s);
        Ok(match &self.pool {
            Some(p) => p.install(f),
            None => f(),
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Device facts for the host CPU (model name and memory from /proc on Linux).
fn cpu_info(threads: usize) -> DeviceInfo {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let vendor = cpuinfo
        .lines()
        .find(|l| l.starts_with("vendor_id"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0);
    DeviceInfo {
        name,
        kind: DeviceKind::Cpu,
        vendor,
        driver: format!("rayon, {threads} threads"),
        memory_bytes,
        compute_units: threads as u32,
        simulated: false,
        runs_on_host: true,
        clock_mhz: cpu_clock_mhz(&cpuinfo),
    }
}

/// The CPU's maximum clock (cpufreq), else the current clock of the first core as
/// /proc/cpuinfo reports it (virtual machines often have no cpufreq).
fn cpu_clock_mhz(cpuinfo: &str) -> Option<u32> {
    let max_khz = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    max_khz.map(|k| (k / 1000) as u32).or_else(|| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with("cpu MHz"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|m| m.trim().parse::<f64>().ok())
            .map(|m| m.round() as u32)
    })
}
