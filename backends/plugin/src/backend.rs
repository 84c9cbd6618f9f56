//! [`PluginBackend`]: one plugin device behind the [`Backend`] trait, with conversion of
//! the caller's layouts into the ABI's fixed encodings, emulation of undeclared NTT
//! features, and validation of every result.

use crate::abi;
use crate::loader::{c_chars, PluginLibrary};
use std::borrow::Cow;
use std::ffi::c_void;
use std::sync::Arc;
use zkaccel_backend::backend::decode_padded;
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{
    with_curve_group, with_ntt_field, Affine, Backend, BackendError, BackendNttDomain,
    BackendResult, BatchLayout, Capabilities, CurveGroup, CurveGroupId, CurveId, DeviceInfo,
    DeviceKind, Encoding, FieldId, GroupId, HashOp, MsmCapability, NttCapability, NttConfig,
    NttData, NttDirection, NttDomainSpec, NttOrder, OpId, PreparedBases, PrimeField, Projective,
    RawPoint, RawPoints, RawScalars, TwoAdicField,
};

/// One device of a loaded plugin.
pub struct PluginBackend {
    lib: Arc<PluginLibrary>,
    device: u32,
    info: DeviceInfo,
    caps: Capabilities,
    /// `ZKAP_NTT_*` flags per NTT field.
    ntt_flags: Vec<(FieldId, u32)>,
}

impl std::fmt::Debug for PluginBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginBackend")
            .field("plugin", &self.lib.name)
            .field("path", &self.lib.path)
            .field("device", &self.device)
            .field("info", &self.info)
            .finish()
    }
}

impl PluginBackend {
    /// Queries device `device` of the plugin; on failure, which query failed and its status.
    pub(crate) fn open(lib: Arc<PluginLibrary>, device: u32) -> Result<Self, (&'static str, i32)> {
        // SAFETY: `zkap_device_info` is plain integers and char arrays: all-zero is valid.
        let mut di: abi::zkap_device_info = unsafe { core::mem::zeroed() };
        di.struct_size = core::mem::size_of::<abi::zkap_device_info>() as u32;
        let f = lib.table.device_info.expect("checked at load");
        let mut code = 0;
        lib.invoke_void(|| {
            // SAFETY: the plugin's own function and context; `di` is writable and its
            // struct_size says how big.
            code = unsafe { f(lib.ctx, device, &mut di) }
        });
        if code != abi::ZKAP_OK {
            return Err(("device_info", code));
        }
        // SAFETY: `zkap_capabilities` is plain integers: all-zero is valid.
        let mut ci: abi::zkap_capabilities = unsafe { core::mem::zeroed() };
        ci.struct_size = core::mem::size_of::<abi::zkap_capabilities>() as u32;
        let f = lib.table.capabilities.expect("checked at load");
        let mut code = 0;
        lib.invoke_void(|| {
            // SAFETY: as above, for the capabilities struct.
            code = unsafe { f(lib.ctx, device, &mut ci) }
        });
        if code != abi::ZKAP_OK {
            return Err(("capabilities", code));
        }
        let name = c_chars(&di.name);
        let driver = c_chars(&di.driver);
        let info = DeviceInfo {
            name: if name.is_empty() {
                format!("{} device {device}", lib.name)
            } else {
                name
            },
            kind: DeviceKind::Plugin,
            vendor: c_chars(&di.vendor),
            driver: format!(
                "{}{}plugin '{}' {} ({})",
                driver,
                if driver.is_empty() { "" } else { ", " },
                lib.name,
                lib.version,
                lib.path.display()
            ),
            memory_bytes: di.memory_bytes,
            compute_units: di.compute_units,
            simulated: di.simulated != 0,
            runs_on_host: di.runs_on_host != 0,
            clock_mhz: (di.clock_mhz != 0).then_some(di.clock_mhz),
        };
        let (caps, ntt_flags) = convert_caps(&lib, &info.name, &ci);
        Ok(Self {
            lib,
            device,
            info,
            caps,
            ntt_flags,
        })
    }

    /// The device's name.
    pub fn device_name(&self) -> &str {
        &self.info.name
    }

    /// The plugin's name (from its table).
    pub fn plugin_name(&self) -> &str {
        &self.lib.name
    }

    /// The plugin's version string.
    pub fn plugin_version(&self) -> &str {
        &self.lib.version
    }

    /// The file the plugin was loaded from.
    pub fn plugin_path(&self) -> &std::path::Path {
        &self.lib.path
    }

    /// The device's index within its plugin.
    pub fn device_index(&self) -> u32 {
        self.device
    }

    fn msm_fn(&self) -> BackendResult<abi::MsmFn> {
        self.lib.table.msm.ok_or_else(|| {
            BackendError::unsupported(OpId::Msm, format!("plugin '{}' has no msm", self.lib.name))
        })
    }

    fn check_msm(&self, id: CurveGroupId, n: usize) -> BackendResult<()> {
        if self.caps.supports_msm(id, n) {
            Ok(())
        } else {
            Err(BackendError::unsupported(
                OpId::Msm,
                format!("{id}, {n} points on {}", self.info.name),
            ))
        }
    }

    /// Calls the plugin's MSM on packed bases and canonical scalars, and validates the
    /// result.
    fn call_msm<C: CurveGroup>(
        &self,
        points: &[Affine<C>],
        scalars: &[[u64; 4]],
    ) -> BackendResult<RawPoint> {
        debug_assert_eq!(points.len(), scalars.len());
        if scalars.is_empty() {
            return Ok(RawPoint::from_projective(&Projective::<C>::IDENTITY));
        }
        let f = self.msm_fn()?;
        let args = msm_args::<C>(
            points.as_ptr().cast(),
            scalars.as_ptr().cast(),
            scalars.len(),
        );
        let mut out = empty_result();
        self.lib.invoke(OpId::Msm, || {
            // SAFETY: `args` points to `count` packed points and scalars that live for the
            // call; `out` is writable; the plugin's own function and context.
            unsafe { f(self.lib.ctx, self.device, &args, &mut out) }
        })?;
        validate_result::<C>(&self.lib.name, &out)
    }
}

fn msm_args<C: CurveGroup>(
    points: *const u64,
    scalars: *const u64,
    n: usize,
) -> abi::zkap_msm_args {
    abi::zkap_msm_args {
        struct_size: core::mem::size_of::<abi::zkap_msm_args>() as u32,
        curve: C::CURVE.as_u32(),
        group: C::GROUP.as_u32(),
        coord_limbs: (core::mem::size_of::<C::Base>() / 8) as u32,
        count: n as u64,
        points,
        scalars,
    }
}

fn empty_result() -> abi::zkap_msm_result {
    abi::zkap_msm_result {
        struct_size: core::mem::size_of::<abi::zkap_msm_result>() as u32,
        curve: 0,
        group: 0,
        limbs_written: 0,
        limbs: [0; abi::ZKAP_MAX_RESULT_LIMBS],
    }
}

fn invalid(plugin: &str, what: impl std::fmt::Display) -> BackendError {
    BackendError::Other(format!(
        "plugin '{plugin}' returned an invalid result: {what}"
    ))
}

/// Checks a plugin's MSM result: the requested group, `3 × coordinate limbs` limbs, every
/// coordinate below the modulus, and the point on the curve (or at infinity, `Z = 0`).
fn validate_result<C: CurveGroup>(
    plugin: &str,
    out: &abi::zkap_msm_result,
) -> BackendResult<RawPoint> {
    if out.curve != C::CURVE.as_u32() || out.group != C::GROUP.as_u32() {
        return Err(invalid(
            plugin,
            format_args!(
                "a point of curve {} group {} for an MSM over {}",
                out.curve,
                out.group,
                C::id()
            ),
        ));
    }
    let words = core::mem::size_of::<Projective<C>>() / 8;
    if out.limbs_written as usize != words {
        return Err(invalid(
            plugin,
            format_args!(
                "{} limbs for a {} point, which has {words}",
                out.limbs_written,
                C::id()
            ),
        ));
    }
    let p: Projective<C> = bytemuck::pod_read_unaligned(bytemuck::cast_slice(&out.limbs[..words]));
    let coords: &[C::BasePrime] = bytemuck::cast_slice(core::slice::from_ref(&p));
    for (i, c) in coords.iter().enumerate() {
        let limbs = bytemuck::cast_ref::<C::BasePrime, <C::BasePrime as PrimeField>::Limbs>(c);
        if <C::BasePrime as PrimeField>::from_canonical(limbs).is_none() {
            return Err(invalid(
                plugin,
                format_args!("coordinate limb group {i} is not below the modulus"),
            ));
        }
    }
    if !p.is_identity() && !p.to_affine().is_on_curve() {
        return Err(invalid(
            plugin,
            format_args!("the MSM result is not on the {} curve", C::id()),
        ));
    }
    Ok(RawPoint::from_projective(&p))
}

/// The caller's bases as packed `Affine<C>` (borrowed when already in that layout).
fn packed_points<'a, C: CurveGroup>(bases: &RawPoints<'a>) -> BackendResult<Cow<'a, [Affine<C>]>> {
    let view = bases.typed::<C>()?;
    Ok(match view.as_affine_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(view.to_vec()),
    })
}

/// The caller's scalars as canonical limbs (borrowed when already canonical).
fn canonical_scalars<'a, F: PrimeField<Limbs = [u64; 4]>>(
    s: &RawScalars<'a>,
) -> BackendResult<Cow<'a, [[u64; 4]]>> {
    let view = s.typed::<F>()?;
    Ok(match s.encoding() {
        Encoding::Canonical => Cow::Borrowed(s.limbs()),
        Encoding::Montgomery => Cow::Owned((0..s.len()).map(|i| view.canonical(i)).collect()),
    })
}

/// Turns the plugin's capability struct into ours, dropping (with a warning) entries with
/// unknown ids, empty sizes, duplicates, and operations whose functions are missing.
fn convert_caps(
    lib: &PluginLibrary,
    device: &str,
    ci: &abi::zkap_capabilities,
) -> (Capabilities, Vec<(FieldId, u32)>) {
    let warn = |what: String| {
        tracing::warn!(plugin = %lib.name, device = %device, "ignoring a capability: {what}");
    };
    let t = &lib.table;
    let mut caps = Capabilities::default();
    let mut flags = Vec::new();
    let n_msm = (ci.msm_count as usize).min(abi::ZKAP_MAX_MSM_CAPS);
    if ci.msm_count as usize > abi::ZKAP_MAX_MSM_CAPS {
        warn(format!(
            "msm_count {} above {}",
            ci.msm_count,
            abi::ZKAP_MAX_MSM_CAPS
        ));
    }
    if n_msm > 0 && t.msm.is_none() {
        warn("MSM capabilities without an msm function".into());
    } else {
        for m in &ci.msm[..n_msm] {
            let id = CurveId::from_u32(m.curve)
                .zip(GroupId::from_u32(m.group))
                .map(|(c, g)| CurveGroupId::new(c, g))
                .filter(|id| id.is_known());
            match id {
                None => warn(format!(
                    "MSM over unknown curve {} group {}",
                    m.curve, m.group
                )),
                Some(id) if m.max_len == 0 => warn(format!("MSM over {id} with max_len 0")),
                Some(id) if caps.msm_for(id).is_some() => warn(format!("MSM over {id} twice")),
                Some(id) => caps.msm.push(MsmCapability {
                    id,
                    max_len: usize::try_from(m.max_len).unwrap_or(usize::MAX),
                }),
            }
        }
    }
    let n_ntt = (ci.ntt_count as usize).min(abi::ZKAP_MAX_NTT_CAPS);
    if ci.ntt_count as usize > abi::ZKAP_MAX_NTT_CAPS {
        warn(format!(
            "ntt_count {} above {}",
            ci.ntt_count,
            abi::ZKAP_MAX_NTT_CAPS
        ));
    }
    if n_ntt > 0
        && (t.ntt_domain_create.is_none() || t.ntt.is_none() || t.ntt_domain_destroy.is_none())
    {
        warn("NTT capabilities without ntt_domain_create, ntt and ntt_domain_destroy".into());
    } else {
        for c in &ci.ntt[..n_ntt] {
            let adicity = FieldId::from_u32(c.field).and_then(|f| {
                with_ntt_field!(f, |F| Some((f, <F as TwoAdicField>::TWO_ADICITY)), None)
            });
            match adicity {
                None => warn(format!("NTT over unknown or non-NTT field {}", c.field)),
                Some((f, _)) if caps.ntt_for(f).is_some() => warn(format!("NTT over {f} twice")),
                Some((f, a)) => {
                    if c.max_log_n > a {
                        warn(format!(
                            "NTT over {f} up to 2^{} clamped to the two-adicity 2^{a}",
                            c.max_log_n
                        ));
                    }
                    caps.ntt.push(NttCapability {
                        field: f,
                        max_log_n: c.max_log_n.min(a),
                    });
                    flags.push((f, c.flags));
                }
            }
        }
    }
    let n_hash = (ci.hash_count as usize).min(abi::ZKAP_MAX_HASH_CAPS);
    if n_hash > 0 && t.hash.is_none() {
        warn("hash capabilities without a hash function".into());
    } else {
        for &h in &ci.hash[..n_hash] {
            match HashId::from_u32(h) {
                None => warn(format!("unknown hash instance {h}")),
                Some(id) if caps.hash.contains(&id) => warn(format!("hash {id} twice")),
                Some(id) => caps.hash.push(id),
            }
        }
    }
    caps.resident_bases = !caps.msm.is_empty()
        && t.bases_create.is_some()
        && t.bases_msm.is_some()
        && t.bases_destroy.is_some();
    (caps, flags)
}

impl Backend for PluginBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        let id = bases.id();
        self.check_msm(id, bases.len())?;
        if bases.len() != scalars.len() {
            return Err(BackendError::BadInput(format!(
                "{} bases and {} scalars",
                bases.len(),
                scalars.len()
            )));
        }
        with_curve_group!(
            id,
            |C| {
                let points = packed_points::<C>(bases)?;
                let s = canonical_scalars::<<C as CurveGroup>::Scalar>(scalars)?;
                self.call_msm::<C>(&points, &s)
            },
            Err(BackendError::unsupported(OpId::Msm, id.to_string()))
        )
    }

    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        let id = bases.id();
        self.check_msm(id, bases.len())?;
        let t = &self.lib.table;
        let hooks = t.bases_create.zip(t.bases_msm).zip(t.bases_destroy);
        with_curve_group!(
            id,
            |C| {
                let points = packed_points::<C>(bases)?;
                let words: &[u64] = bytemuck::cast_slice(&points[..]);
                let storage = match hooks {
                    Some(((create, _), _)) if !points.is_empty() => {
                        let args = msm_args::<C>(words.as_ptr(), core::ptr::null(), points.len());
                        let mut handle: *mut c_void = core::ptr::null_mut();
                        self.lib.invoke(OpId::Msm, || {
                            // SAFETY: `args` points to the packed bases, live for the call
                            // (the plugin copies them); `handle` is writable.
                            unsafe { create(self.lib.ctx, self.device, &args, &mut handle) }
                        })?;
                        if handle.is_null() {
                            return Err(invalid(&self.lib.name, "a NULL bases handle"));
                        }
                        BasesStorage::Device(handle)
                    }
                    _ => BasesStorage::Host(words.to_vec()),
                };
                Ok(Arc::new(PluginBases {
                    backend: self.clone_handle(),
                    id,
                    len: points.len(),
                    storage,
                }) as Arc<dyn PreparedBases>)
            },
            Err(BackendError::unsupported(OpId::Msm, id.to_string()))
        )
    }

    fn hash(&self, id: HashId, op: HashOp, input: &[u8], output: &mut [u8]) -> BackendResult<()> {
        if !self.caps.supports_hash(id) {
            return Err(BackendError::unsupported(
                OpId::Hash,
                format!("{id} on {}", self.info.name),
            ));
        }
        let f = self.lib.table.hash.ok_or_else(|| {
            BackendError::unsupported(
                OpId::Hash,
                format!("plugin '{}' has no hash", self.lib.name),
            )
        })?;
        let elem = id.info().field.element_bytes();
        let (op_code, param) = match op {
            HashOp::Permute => (0u32, 0usize),
            HashOp::Hash { input_len } => (1, input_len),
            HashOp::Compress { arity } => (2, arity),
        };
        let param = u32::try_from(param)
            .map_err(|_| BackendError::BadInput(format!("hash parameter {param} too large")))?;
        // The plugin writes into a copy, so a failed call leaves the caller's output as it
        // was (Permute works in place).
        let mut scratch = output.to_vec();
        let args = abi::zkap_hash_args {
            struct_size: core::mem::size_of::<abi::zkap_hash_args>() as u32,
            instance: id.as_u32(),
            op: op_code,
            param,
            input: if input.is_empty() {
                core::ptr::null()
            } else {
                input.as_ptr().cast()
            },
            input_len: (input.len() / elem) as u64,
            output: scratch.as_mut_ptr().cast(),
            output_len: (scratch.len() / elem) as u64,
        };
        self.lib.invoke(OpId::Hash, || {
            // SAFETY: input and output buffers live for the call with the lengths given.
            unsafe { f(self.lib.ctx, self.device, &args) }
        })?;
        let field = id.info().field;
        let ok = with_ntt_field!(field, |F| reduced::<F>(&scratch), false);
        if !ok {
            return Err(invalid(&self.lib.name, "hash output not below the modulus"));
        }
        output.copy_from_slice(&scratch);
        Ok(())
    }

    fn ntt_domain(&self, spec: &NttDomainSpec) -> BackendResult<Arc<dyn BackendNttDomain>> {
        let unsupported = || {
            BackendError::unsupported(
                OpId::Ntt,
                format!("{} 2^{} on {}", spec.field, spec.log_n, self.info.name),
            )
        };
        if !self.caps.supports_ntt(spec.field, spec.log_n) {
            return Err(unsupported());
        }
        let create = self.lib.table.ntt_domain_create.ok_or_else(unsupported)?;
        let flags = self
            .ntt_flags
            .iter()
            .find(|(f, _)| *f == spec.field)
            .map_or(0, |(_, fl)| *fl);
        let args = abi::zkap_ntt_domain_args {
            struct_size: core::mem::size_of::<abi::zkap_ntt_domain_args>() as u32,
            field: spec.field.as_u32(),
            log_n: spec.log_n,
            reserved: 0,
            root: spec.root,
        };
        let mut handle: *mut c_void = core::ptr::null_mut();
        self.lib.invoke(OpId::Ntt, || {
            // SAFETY: `args` lives for the call; `handle` is writable.
            unsafe { create(self.lib.ctx, self.device, &args, &mut handle) }
        })?;
        if handle.is_null() {
            return Err(invalid(&self.lib.name, "a NULL NTT domain handle"));
        }
        Ok(Arc::new(PluginDomain {
            backend: self.clone_handle(),
            handle,
            spec: spec.clone(),
            flags,
        }))
    }
}

impl PluginBackend {
    /// A second handle on the same device (for bases and domains, which keep the library
    /// loaded).
    fn clone_handle(&self) -> Arc<PluginBackend> {
        Arc::new(PluginBackend {
            lib: self.lib.clone(),
            device: self.device,
            info: self.info.clone(),
            caps: self.caps.clone(),
            ntt_flags: self.ntt_flags.clone(),
        })
    }
}

/// True when every element of `bytes` (storage form of `F`) is reduced.
fn reduced<F: PrimeField>(bytes: &[u8]) -> bool {
    let size = core::mem::size_of::<F>();
    if !bytes.len().is_multiple_of(size) {
        return false;
    }
    bytes.chunks_exact(size).all(|c| {
        let x: F = bytemuck::pod_read_unaligned(c);
        F::from_montgomery(&x.to_montgomery()).is_some_and(|y| y == x)
    })
}

// ---------------------------------------------------------------------------------------------
// Prepared bases
// ---------------------------------------------------------------------------------------------

enum BasesStorage {
    /// A plugin handle (bases copied to the plugin or its device).
    Device(*mut c_void),
    /// The packed points, kept here (the plugin has no bases hooks).
    Host(Vec<u64>),
}

struct PluginBases {
    backend: Arc<PluginBackend>,
    id: CurveGroupId,
    len: usize,
    storage: BasesStorage,
}

// SAFETY: the handle is only passed back to the plugin, which accepts calls from any thread
// (or serialises them through the library's lock, ZKAP_PLUGIN_SERIALIZE).
unsafe impl Send for PluginBases {}
// SAFETY: as above.
unsafe impl Sync for PluginBases {}

impl Drop for PluginBases {
    fn drop(&mut self) {
        if let BasesStorage::Device(h) = self.storage {
            if let Some(destroy) = self.backend.lib.table.bases_destroy {
                let lib = &self.backend.lib;
                lib.invoke_void(|| {
                    // SAFETY: `h` came from this plugin's bases_create and is destroyed once.
                    unsafe { destroy(lib.ctx, h) }
                });
            }
        }
    }
}

impl PreparedBases for PluginBases {
    fn id(&self) -> CurveGroupId {
        self.id
    }
    fn len(&self) -> usize {
        self.len
    }
    fn resident_bytes(&self) -> u64 {
        match &self.storage {
            BasesStorage::Device(_) => {
                (self.len * 2 * zkaccel_backend::view::coordinate_bytes(self.id)) as u64
            }
            BasesStorage::Host(_) => 0,
        }
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        let n = scalars.len();
        if n > self.len {
            return Err(BackendError::BadInput(format!(
                "{n} scalars for {} prepared bases",
                self.len
            )));
        }
        let b = &self.backend;
        with_curve_group!(
            self.id,
            |C| {
                let s = canonical_scalars::<<C as CurveGroup>::Scalar>(scalars)?;
                match &self.storage {
                    BasesStorage::Host(words) => {
                        let points: &[Affine<C>] = bytemuck::cast_slice(words);
                        b.call_msm::<C>(&points[..n], &s)
                    }
                    BasesStorage::Device(h) => {
                        if n == 0 {
                            return Ok(RawPoint::from_projective(&Projective::<C>::IDENTITY));
                        }
                        let f = b.lib.table.bases_msm.ok_or_else(|| {
                            BackendError::Other("bases handle without bases_msm".into())
                        })?;
                        let args = msm_args::<C>(core::ptr::null(), s.as_ptr().cast(), n);
                        let mut out = empty_result();
                        b.lib.invoke(OpId::Msm, || {
                            // SAFETY: the handle is this plugin's; `args` points to `n`
                            // scalars live for the call; `out` is writable.
                            unsafe { f(b.lib.ctx, *h, &args, &mut out) }
                        })?;
                        validate_result::<C>(&b.lib.name, &out)
                    }
                }
            },
            Err(BackendError::unsupported(OpId::Msm, self.id.to_string()))
        )
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// NTT domains
// ---------------------------------------------------------------------------------------------

struct PluginDomain {
    backend: Arc<PluginBackend>,
    handle: *mut c_void,
    spec: NttDomainSpec,
    flags: u32,
}

// SAFETY: as for `PluginBases`: the handle only goes back to a plugin that accepts calls
// from any thread, or behind its lock.
unsafe impl Send for PluginDomain {}
// SAFETY: as above.
unsafe impl Sync for PluginDomain {}

impl Drop for PluginDomain {
    fn drop(&mut self) {
        if let Some(destroy) = self.backend.lib.table.ntt_domain_destroy {
            let lib = &self.backend.lib;
            let h = self.handle;
            lib.invoke_void(|| {
                // SAFETY: `h` came from this plugin's ntt_domain_create, destroyed once.
                unsafe { destroy(lib.ctx, h) }
            });
        }
    }
}

fn bitrev(i: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - log_n)
    }
}

impl PluginDomain {
    /// One plugin call on `data` (`batch` columns in `layout`).
    fn call<F: PrimeField>(
        &self,
        data: &mut [F],
        cfg: &NttConfig,
        layout: BatchLayout,
    ) -> BackendResult<()> {
        let f = self.backend.lib.table.ntt.ok_or_else(|| {
            BackendError::unsupported(OpId::Ntt, "the plugin has no ntt function")
        })?;
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(data);
        let args = abi::zkap_ntt_args {
            struct_size: core::mem::size_of::<abi::zkap_ntt_args>() as u32,
            direction: cfg.direction as u32,
            input_order: cfg.input_order as u32,
            output_order: cfg.output_order as u32,
            layout: layout as u32,
            has_coset: cfg.coset.is_some() as u32,
            batch: cfg.batch as u64,
            coset_shift: cfg.coset.unwrap_or([0; 4]),
            data: bytes.as_mut_ptr().cast(),
            data_bytes: bytes.len() as u64,
        };
        let lib = &self.backend.lib;
        lib.invoke(OpId::Ntt, || {
            // SAFETY: the domain handle is this plugin's; `data` is writable for
            // `data_bytes` bytes for the call.
            unsafe { f(lib.ctx, self.handle, &args) }
        })
    }

    /// The transform on a scratch copy: passed straight to the plugin when it declares
    /// every feature the call uses, else normalised around plain natural-order calls.
    fn run<F: TwoAdicField>(&self, data: &mut [F], cfg: &NttConfig) -> BackendResult<()> {
        let n = self.spec.size();
        let log_n = self.spec.log_n;
        if cfg.batch == 0 || Some(data.len()) != n.checked_mul(cfg.batch) {
            return Err(BackendError::BadInput(format!(
                "{} elements for {} columns of 2^{log_n}",
                data.len(),
                cfg.batch
            )));
        }
        let batch = cfg.batch;
        // An interleaved single column is a contiguous one.
        let layout = if batch == 1 {
            BatchLayout::Contiguous
        } else {
            cfg.layout
        };
        let mut need = 0;
        if cfg.input_order != NttOrder::Natural || cfg.output_order != NttOrder::Natural {
            need |= abi::ZKAP_NTT_ORDERS;
        }
        if cfg.coset.is_some() {
            need |= abi::ZKAP_NTT_COSET;
        }
        match layout {
            BatchLayout::Interleaved => need |= abi::ZKAP_NTT_INTERLEAVED,
            BatchLayout::Contiguous if batch > 1 => need |= abi::ZKAP_NTT_BATCH,
            BatchLayout::Contiguous => {}
        }
        if (self.flags & need) == need {
            let mut scratch = data.to_vec();
            self.call(&mut scratch, cfg, layout)?;
            self.check_and_copy(&scratch, data, |i| i)?;
            return Ok(());
        }
        // Normalised path: contiguous natural-order columns, coset scaling done here.
        let shift = match &cfg.coset {
            Some(g) => Some(
                decode_padded::<F>(g)
                    .filter(|g| !g.is_zero())
                    .ok_or_else(|| BackendError::BadInput("invalid coset shift".into()))?,
            ),
            None => None,
        };
        let src = |c: usize, i: usize| match layout {
            BatchLayout::Contiguous => c * n + i,
            BatchLayout::Interleaved => i * batch + c,
        };
        let logical = |order: NttOrder, i: usize| match order {
            NttOrder::Natural => i,
            NttOrder::BitReversed => bitrev(i, log_n),
        };
        let mut scratch = vec![F::ZERO; n * batch];
        for c in 0..batch {
            for i in 0..n {
                scratch[c * n + logical(cfg.input_order, i)] = data[src(c, i)];
            }
        }
        let powers = |g: F| {
            let mut v = Vec::with_capacity(n);
            let mut x = F::ONE;
            for _ in 0..n {
                v.push(x);
                x *= g;
            }
            v
        };
        if let (Some(g), NttDirection::Forward) = (shift, cfg.direction) {
            let pw = powers(g);
            for col in scratch.chunks_exact_mut(n) {
                for (x, p) in col.iter_mut().zip(&pw) {
                    *x *= *p;
                }
            }
        }
        let plain = NttConfig {
            direction: cfg.direction,
            input_order: NttOrder::Natural,
            output_order: NttOrder::Natural,
            coset: None,
            batch: 1,
            layout: BatchLayout::Contiguous,
        };
        if self.flags & abi::ZKAP_NTT_BATCH != 0 && batch > 1 {
            self.call(
                &mut scratch,
                &NttConfig { batch, ..plain },
                BatchLayout::Contiguous,
            )?;
        } else {
            for col in scratch.chunks_exact_mut(n) {
                self.call(col, &plain, BatchLayout::Contiguous)?;
            }
        }
        if let (Some(g), NttDirection::Inverse) = (shift, cfg.direction) {
            let gi = g
                .inverse()
                .ok_or_else(|| BackendError::BadInput("coset shift is zero".into()))?;
            let pw = powers(gi);
            for col in scratch.chunks_exact_mut(n) {
                for (x, p) in col.iter_mut().zip(&pw) {
                    *x *= *p;
                }
            }
        }
        // Output index i of column c takes logical element `logical(output_order, i)`.
        self.check_and_copy(&scratch, data, |k| {
            let (c, i) = match layout {
                BatchLayout::Contiguous => (k / n, k % n),
                BatchLayout::Interleaved => (k % batch, k / batch),
            };
            c * n + logical(cfg.output_order, i)
        })
    }

    /// Checks that the plugin's output is reduced, then writes `data[k] = scratch[map(k)]`.
    fn check_and_copy<F: PrimeField>(
        &self,
        scratch: &[F],
        data: &mut [F],
        map: impl Fn(usize) -> usize,
    ) -> BackendResult<()> {
        if !reduced::<F>(bytemuck::cast_slice(scratch)) {
            return Err(invalid(
                &self.backend.lib.name,
                format_args!("NTT output over {} not below the modulus", F::ID),
            ));
        }
        for (k, d) in data.iter_mut().enumerate() {
            *d = scratch[map(k)];
        }
        Ok(())
    }
}

impl BackendNttDomain for PluginDomain {
    fn spec(&self) -> &NttDomainSpec {
        &self.spec
    }

    fn ntt(&self, mut data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()> {
        let field = self.spec.field;
        with_ntt_field!(
            field,
            |F| self.run::<F>(data.typed::<F>()?, cfg),
            Err(BackendError::unsupported(OpId::Ntt, field.to_string()))
        )
    }
}
