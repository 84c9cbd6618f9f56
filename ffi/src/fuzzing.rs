//! Hostile input for every exported `zka_*` function.
//!
//! [`run`] reads an arbitrary byte string as one call to one entry point ([`Entry`]): the
//! descriptors, ids, sizes, encodings and pointers a C caller could pass, chosen to be nasty
//! (unknown ids, `struct_size` too small, zero and overflowing counts, lengths that disagree
//! with each other, output buffers one limb too short, NULL where it is and is not allowed,
//! misaligned `void *` data, coordinates at or above the modulus, points off the curve or
//! outside the subgroup, non-canonical scalars), and checks what comes back:
//!
//! - the call returns `ZKA_OK` or one of the documented `ZKA_ERR_*` codes, never
//!   `ZKA_ERR_INTERNAL` (a caught panic: hostile input must be rejected by validation);
//! - a failed `*_create` leaves `*out` NULL; a failure on a runtime leaves a message in
//!   `zka_last_error`; strings are NUL-terminated inside their buffers; `written ≤ capacity`.
//!
//! A violated check panics, which is what a fuzzer reports as a crash. The harness stays
//! inside the C contract: every buffer it passes is allocated with exactly the size the
//! descriptor promises (so reading one byte past it is caught by AddressSanitizer or
//! valgrind), and a size that cannot be backed by memory is only passed when it overflows
//! (`count × element size > isize::MAX`), where the library must refuse it before reading.
//! Use after destroy is not exercised: handles are plain pointers and the API cannot detect it.
//!
//! Used by `ffi/fuzz` (cargo-fuzz targets, one per entry point) and by
//! `ffi/tests/fuzz_smoke.rs` (a seeded run inside `cargo test`). Not part of the C ABI.

use super::*;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ffi::c_char;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use zkaccel_backend::{Affine, Field, TwoAdicField};

/// Each exported entry point of libzkaccel.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    /// `zka_version`
    Version,
    /// `zka_check_abi`
    CheckAbi,
    /// `zka_status_str`
    StatusStr,
    /// `zka_runtime_create`
    RuntimeCreate,
    /// `zka_runtime_destroy`
    RuntimeDestroy,
    /// `zka_last_error`
    LastError,
    /// `zka_device_count`
    DeviceCount,
    /// `zka_device_get_info`
    DeviceGetInfo,
    /// `zka_device_supports_msm`
    DeviceSupportsMsm,
    /// `zka_device_supports_ntt`
    DeviceSupportsNtt,
    /// `zka_runtime_stats`
    RuntimeStats,
    /// `zka_msm`
    Msm,
    /// `zka_msm_bases_create`
    MsmBasesCreate,
    /// `zka_msm_bases_count`
    MsmBasesCount,
    /// `zka_msm_bases_msm`
    MsmBasesMsm,
    /// `zka_msm_bases_destroy`
    MsmBasesDestroy,
    /// `zka_ntt_domain_create`
    NttDomainCreate,
    /// `zka_ntt`
    Ntt,
    /// `zka_ntt_domain_destroy`
    NttDomainDestroy,
    /// `zka_to_montgomery`
    ToMontgomery,
    /// `zka_from_montgomery`
    FromMontgomery,
    /// `zka_hash_get_info`
    HashGetInfo,
    /// `zka_hash_find`
    HashFind,
    /// `zka_hash`
    Hash,
    /// `zka_merkle_tree`
    MerkleTree,
    /// `zka_merkle_verify`
    MerkleVerify,
    /// `zka_plugin_report_count`
    PluginReportCount,
    /// `zka_plugin_report_get`
    PluginReportGet,
}

impl Entry {
    /// Every entry point, in header order.
    pub fn all() -> &'static [Entry] {
        use Entry::*;
        &[
            Version,
            CheckAbi,
            StatusStr,
            RuntimeCreate,
            RuntimeDestroy,
            LastError,
            DeviceCount,
            DeviceGetInfo,
            DeviceSupportsMsm,
            DeviceSupportsNtt,
            RuntimeStats,
            Msm,
            MsmBasesCreate,
            MsmBasesCount,
            MsmBasesMsm,
            MsmBasesDestroy,
            NttDomainCreate,
            Ntt,
            NttDomainDestroy,
            ToMontgomery,
            FromMontgomery,
            HashGetInfo,
            HashFind,
            Hash,
            MerkleTree,
            MerkleVerify,
            PluginReportCount,
            PluginReportGet,
        ]
    }

    /// The exported symbol this entry drives.
    pub fn symbol(self) -> &'static str {
        use Entry::*;
        match self {
            Version => "zka_version",
            CheckAbi => "zka_check_abi",
            StatusStr => "zka_status_str",
            RuntimeCreate => "zka_runtime_create",
            RuntimeDestroy => "zka_runtime_destroy",
            LastError => "zka_last_error",
            DeviceCount => "zka_device_count",
            DeviceGetInfo => "zka_device_get_info",
            DeviceSupportsMsm => "zka_device_supports_msm",
            DeviceSupportsNtt => "zka_device_supports_ntt",
            RuntimeStats => "zka_runtime_stats",
            Msm => "zka_msm",
            MsmBasesCreate => "zka_msm_bases_create",
            MsmBasesCount => "zka_msm_bases_count",
            MsmBasesMsm => "zka_msm_bases_msm",
            MsmBasesDestroy => "zka_msm_bases_destroy",
            NttDomainCreate => "zka_ntt_domain_create",
            Ntt => "zka_ntt",
            NttDomainDestroy => "zka_ntt_domain_destroy",
            ToMontgomery => "zka_to_montgomery",
            FromMontgomery => "zka_from_montgomery",
            HashGetInfo => "zka_hash_get_info",
            HashFind => "zka_hash_find",
            Hash => "zka_hash",
            MerkleTree => "zka_merkle_tree",
            MerkleVerify => "zka_merkle_verify",
            PluginReportCount => "zka_plugin_report_count",
            PluginReportGet => "zka_plugin_report_get",
        }
    }

    /// The entry whose symbol (or symbol without the `zka_` prefix) is `name`.
    pub fn from_symbol(name: &str) -> Option<Entry> {
        Entry::all()
            .iter()
            .copied()
            .find(|e| e.symbol() == name || e.symbol().strip_prefix("zka_") == Some(name))
    }
}

/// Runs the call that `data` describes on `entry`, checks the result, and returns the status
/// of the call to `entry` itself.
///
/// # Panics
/// When the library misbehaves: an undocumented status, `ZKA_ERR_INTERNAL`, a failed create
/// that leaves a handle, a missing error message, a string not terminated in its buffer.
pub fn run(entry: Entry, data: &[u8]) -> i32 {
    let mut h = Harness {
        u: Input::new(data),
        bufs: Vec::new(),
        last_rt: null_mut(),
        hostile: false,
    };
    h.hostile = h.u.chance(3);
    let status = h.call(entry);
    check_status(entry, status, h.last_rt);
    status
}

/// Like [`run`], the first byte choosing the entry point.
pub fn run_any(data: &[u8]) -> (Entry, i32) {
    let all = Entry::all();
    let entry = all[usize::from(data.first().copied().unwrap_or(0)) % all.len()];
    (entry, run(entry, data.get(1..).unwrap_or(&[])))
}

/// Every status the header documents.
fn known_status(s: i32) -> bool {
    (ZKA_ERR_TIMEOUT..=ZKA_OK).contains(&s)
}

/// Checks a status; `rt` (NULL or the runtime of the call) supplies the message.
fn check_status(entry: Entry, s: i32, rt: *const zka_runtime) {
    assert!(
        known_status(s),
        "{}: undocumented status {s}",
        entry.symbol()
    );
    if s == ZKA_ERR_INTERNAL {
        let mut buf = [0 as c_char; 1024];
        if !rt.is_null() {
            // SAFETY: a live runtime of the harness; a writable buffer of its length.
            unsafe { zka_last_error(rt, buf.as_mut_ptr(), buf.len(), null_mut()) };
        }
        // SAFETY: NUL-terminated (zeroed, or written by zka_last_error).
        let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
        panic!(
            "{}: hostile input reached a panic (ZKA_ERR_INTERNAL): {msg}",
            entry.symbol()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the fuzzer's bytes
// ---------------------------------------------------------------------------------------------

/// The fuzzer's bytes, read front to back, then a pseudo-random tail seeded by them.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
    /// xorshift state for the bytes after the end.
    tail: u64,
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        // The bytes after the end continue pseudo-randomly (seeded by the input), not as
        // zeros: a zero picks the first, often NULL, alternative of every choice, so short
        // inputs would all end in the same refusal.
        let tail = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) | 1;
        Input { data, pos: 0, tail }
    }
    fn u8(&mut self) -> u8 {
        let b = match self.data.get(self.pos) {
            Some(&b) => b,
            None => {
                self.tail ^= self.tail << 13;
                self.tail ^= self.tail >> 7;
                self.tail ^= self.tail << 17;
                (self.tail >> 32) as u8
            }
        };
        self.pos += 1;
        b
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    /// True with probability about `k/8`.
    fn chance(&mut self, k: u8) -> bool {
        self.u8() % 8 < k
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.u32() as usize) % n
        }
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// A `u32` id: mostly one of `known`, sometimes a neighbour or a wild value.
    fn id(&mut self, known: &[u32]) -> u32 {
        match self.u8() % 8 {
            0 => self.pick(&[0, u32::MAX, 0x8000_0000, 100, 255]),
            1 => self.pick(known).wrapping_add(1),
            2 => self.u32(),
            _ => self.pick(known),
        }
    }

    /// A `struct_size` for a descriptor of `real` bytes: usually right, sometimes too small
    /// (rejected), larger (a newer caller) or wild.
    fn struct_size(&mut self, real: usize) -> u32 {
        let real = real as u32;
        match self.u8() % 16 {
            0 => 0,
            1 => real - 1,
            2 => real + 8,
            3 => u32::MAX,
            4 => self.u32() % (real + 1),
            _ => real,
        }
    }

    /// An element count: zero, small, around a power of two, or huge.
    fn count(&mut self, small_max: usize) -> usize {
        match self.u8() % 16 {
            0 | 1 => 0,
            2 => 1,
            3 => {
                let k = self.below(13) as u32;
                (1usize << k).wrapping_add(self.pick(&[0usize, 1, usize::MAX]))
            }
            4 => self.pick(&[
                usize::MAX,
                usize::MAX / 2,
                isize::MAX as usize,
                isize::MAX as usize / 8 + 1,
                isize::MAX as usize / 32 + 1,
                1 << 40,
                1 << 62,
            ]),
            5 => self.u64() as usize,
            _ => self.below(small_max + 1),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Buffers: exactly as large as promised, at the end of their own allocation
// ---------------------------------------------------------------------------------------------

/// The largest buffer the harness allocates; larger promises are scaled down (or, when they
/// overflow `isize`, backed by a small buffer the library must not read).
const CAP: usize = 1 << 20;

/// One allocation of `off + len` bytes handed to the library at offset `off`.
struct Buf {
    base: *mut u8,
    layout: Layout,
    off: usize,
    len: usize,
}

impl Buf {
    fn ptr(&self) -> *mut u8 {
        // SAFETY: `off ≤ layout.size()`: the result is inside, or one past, the allocation.
        unsafe { self.base.add(self.off) }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        // SAFETY: allocated in `Harness::buf` with this layout.
        unsafe { dealloc(self.base, self.layout) }
    }
}

/// What stands for a pointer argument.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Ptr {
    /// NULL.
    Null,
    /// A buffer of exactly the promised size.
    Exact,
}

struct Harness<'a> {
    u: Input<'a>,
    bufs: Vec<Buf>,
    /// The runtime of the latest call (for its message).
    last_rt: *mut zka_runtime,
    /// Whether element and point values are hostile (else valid, so that calls get past
    /// validation and reach the computation).
    hostile: bool,
}

/// The runtimes the calls share (creating one per input would measure device discovery):
/// CPU only, with the default validation and with subgroup validation.
fn shared_runtimes() -> [*mut zka_runtime; 2] {
    /// The two runtimes, never destroyed.
    struct Shared([*mut zka_runtime; 2]);
    // SAFETY: a runtime may be used from many threads at once (the API's contract); the
    // pointers are only read.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}
    static RTS: OnceLock<Shared> = OnceLock::new();
    RTS.get_or_init(|| {
        let mk = |validation: u32| {
            let o = zka_runtime_options {
                struct_size: size_of::<zka_runtime_options>() as u32,
                policy: ZKA_POLICY_ONLY,
                device_kind: ZKA_DEVICE_CPU,
                cpu_threads: 1,
                point_validation: validation,
            };
            let mut rt = null_mut();
            // SAFETY: valid options and out pointer.
            let s = unsafe { zka_runtime_create(&o, &mut rt) };
            assert_eq!(s, ZKA_OK, "the shared fuzzing runtime");
            rt
        };
        Shared([mk(ZKA_VALIDATE_DEFAULT), mk(ZKA_VALIDATE_SUBGROUP)])
    })
    .0
}

const CURVES: &[u32] = &[ZKA_CURVE_BN254, ZKA_CURVE_BLS12_381, ZKA_CURVE_BLS12_377];
const GROUPS: &[u32] = &[ZKA_G1, ZKA_G2];
const ENCODINGS: &[u32] = &[ZKA_ENCODING_MONTGOMERY, ZKA_ENCODING_CANONICAL];
const FIELDS: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8];
const NTT_FIELDS: &[u32] = &[1, 2, 3, 4, 5];
const VALIDATIONS: &[u32] = &[0, 1, 2, 3];
const VERIFICATIONS: &[u32] = &[
    ZKA_VERIFY_DEFAULT,
    ZKA_VERIFY_OFF,
    ZKA_VERIFY_SAMPLED,
    ZKA_VERIFY_FULL,
];

impl Harness<'_> {
    /// A zeroed allocation of `len` bytes handed out at a misalignment of `off` bytes.
    fn buf(&mut self, len: usize, off: usize) -> &mut Buf {
        let layout = Layout::from_size_align((off + len).max(1), 16).expect("small layout");
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        assert!(!base.is_null(), "out of memory in the fuzzing harness");
        self.bufs.push(Buf {
            base,
            layout,
            off,
            len,
        });
        self.bufs.last_mut().expect("just pushed")
    }

    /// Which value `element_value` makes: any when hostile, else one below the modulus.
    fn value_kind(&mut self) -> u8 {
        if self.hostile {
            self.u.u8() % 16
        } else {
            self.u.pick(&[0, 3, 5, 6, 7])
        }
    }

    /// A misalignment for a `void *`: usually none.
    fn misalign(&mut self) -> usize {
        if self.u.chance(1) {
            self.u.below(16)
        } else {
            0
        }
    }

    /// NULL or exact: `null_rate` in eighths.
    fn ptr_kind(&mut self, null_rate: u8) -> Ptr {
        if self.u.chance(null_rate) {
            Ptr::Null
        } else {
            Ptr::Exact
        }
    }

    /// The runtime argument: one of the shared runtimes, or (rarely) NULL.
    fn runtime(&mut self) -> *mut zka_runtime {
        let rts = shared_runtimes();
        self.last_rt = match self.u.u8() % 16 {
            0 => null_mut(),
            1 => rts[1],
            _ => rts[0],
        };
        self.last_rt
    }

    /// Fills `b` with element data for `field`: random, small, the modulus, p − 1, p + 1, all
    /// ones, in a random mix, or the fuzzer's raw bytes.
    fn fill_elements(&mut self, b: &mut [u8], field: Option<FieldId>) {
        let size = field.map_or(8, elem_bytes);
        let raw = self.hostile && self.u.chance(2);
        for chunk in b.chunks_mut(size) {
            if raw {
                for x in chunk.iter_mut() {
                    *x = self.u.u8();
                }
                continue;
            }
            let kind = self.value_kind();
            let v = match field {
                Some(f) => element_value(f, kind, &mut self.u),
                None => vec![self.u.u8(); size],
            };
            let k = chunk.len().min(v.len());
            chunk[..k].copy_from_slice(&v[..k]);
        }
    }

    /// A buffer for `count` elements of `field` (`elem` bytes each), or NULL, or — when the
    /// byte size overflows — a small buffer the library must not read. Returns the pointer
    /// and the count actually promised (scaled down when it would not fit in memory).
    fn elements(
        &mut self,
        field: Option<FieldId>,
        elem: usize,
        count: usize,
        null_rate: u8,
        misalign: bool,
    ) -> (*mut c_void, usize) {
        let kind = self.ptr_kind(null_rate);
        let bytes = count
            .checked_mul(elem)
            .filter(|&v| v <= isize::MAX as usize);
        let off = if misalign { self.misalign() } else { 0 };
        if kind == Ptr::Null {
            return (null_mut(), count);
        }
        let (len, count) = match bytes {
            None => (64, count),
            Some(b) if b > CAP => (CAP / elem * elem, CAP / elem),
            Some(b) => (b, count),
        };
        let mut content = vec![0u8; len];
        self.fill_elements(&mut content, field);
        let b = self.buf(len, off);
        // SAFETY: `b` holds `len` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(content.as_ptr(), b.ptr(), len) };
        (b.ptr().cast(), count)
    }

    fn report(&mut self) -> *mut zka_call_report {
        if self.u.chance(4) {
            return null_mut();
        }
        let r = zka_call_report {
            struct_size: self.u.struct_size(size_of::<zka_call_report>()),
            device_index: 0,
            device_kind: 0,
            fallbacks: 0,
        };
        self.boxed(r)
    }

    /// A copy of `v` in its own exactly sized allocation.
    fn boxed<T: Copy>(&mut self, v: T) -> *mut T {
        let b = self.buf(size_of::<T>(), 0);
        let p = b.ptr().cast::<T>();
        // SAFETY: 16-aligned, `size_of::<T>()` bytes.
        unsafe { p.write(v) };
        p
    }

    /// After a failed call on `rt`, `zka_last_error` has a message for it.
    fn check_message(&mut self, rt: *const zka_runtime, status: i32, what: Entry) {
        if status == ZKA_OK || rt.is_null() {
            return;
        }
        let mut needed = 0usize;
        let mut buf = [1 as c_char; 256];
        // SAFETY: live runtime, writable buffer of its length.
        let s = unsafe { zka_last_error(rt, buf.as_mut_ptr(), buf.len(), &mut needed) };
        assert!(
            s == ZKA_OK || s == ZKA_ERR_BUFFER_TOO_SMALL,
            "zka_last_error: {s}"
        );
        assert!(
            needed > 1,
            "{} failed ({status}) without a message",
            what.symbol()
        );
        assert!(buf.contains(&0), "zka_last_error: no NUL in the buffer");
    }

    fn call(&mut self, entry: Entry) -> i32 {
        match entry {
            Entry::Version => self.version(),
            Entry::CheckAbi => zka_check_abi(self.u.id(&[ZKA_ABI_VERSION])),
            Entry::StatusStr => self.status_str(),
            Entry::RuntimeCreate => self.runtime_create(true),
            Entry::RuntimeDestroy => self.runtime_destroy(),
            Entry::LastError => self.last_error(),
            Entry::DeviceCount => self.device_count(),
            Entry::DeviceGetInfo => self.device_get_info(),
            Entry::DeviceSupportsMsm => self.device_supports(true),
            Entry::DeviceSupportsNtt => self.device_supports(false),
            Entry::RuntimeStats => self.runtime_stats(),
            Entry::Msm => self.msm(),
            Entry::MsmBasesCreate => self.bases(Entry::MsmBasesCreate),
            Entry::MsmBasesCount => self.bases(Entry::MsmBasesCount),
            Entry::MsmBasesMsm => self.bases(Entry::MsmBasesMsm),
            Entry::MsmBasesDestroy => self.bases(Entry::MsmBasesDestroy),
            Entry::NttDomainCreate => self.ntt(Entry::NttDomainCreate),
            Entry::Ntt => self.ntt(Entry::Ntt),
            Entry::NttDomainDestroy => self.ntt(Entry::NttDomainDestroy),
            Entry::ToMontgomery => self.montgomery(true),
            Entry::FromMontgomery => self.montgomery(false),
            Entry::HashGetInfo => self.hash_get_info(),
            Entry::HashFind => self.hash_find(),
            Entry::Hash => self.hash(),
            Entry::MerkleTree => self.merkle_tree(),
            Entry::MerkleVerify => self.merkle_verify(),
            Entry::PluginReportCount => self.plugin_report(false),
            Entry::PluginReportGet => self.plugin_report(true),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Versions, runtime, devices
    // -----------------------------------------------------------------------------------------

    fn version(&mut self) -> i32 {
        let mut v = [u32::MAX; 3];
        let p: [*mut u32; 3] = std::array::from_fn(|i| {
            if self.u.chance(3) {
                null_mut()
            } else {
                &mut v[i] as *mut u32
            }
        });
        // SAFETY: NULL or writable.
        let s = unsafe { zka_version(p[0], p[1], p[2]) };
        assert_eq!(s, ZKA_OK);
        for (i, want) in [ZKA_VERSION_MAJOR, ZKA_VERSION_MINOR, ZKA_VERSION_PATCH]
            .into_iter()
            .enumerate()
        {
            assert!(p[i].is_null() || v[i] == want, "zka_version wrote {v:?}");
        }
        s
    }

    fn status_str(&mut self) -> i32 {
        let code = match self.u.u8() % 4 {
            0 => self.u.u32() as i32,
            1 => i32::MIN,
            _ => -(i32::from(self.u.u8() % 20)),
        };
        let p = zka_status_str(code);
        assert!(!p.is_null(), "zka_status_str({code}) is NULL");
        // SAFETY: a static NUL-terminated string by the API contract.
        let s = unsafe { CStr::from_ptr(p) };
        assert!(!s.to_bytes().is_empty() && s.to_bytes().len() < 64);
        ZKA_OK
    }

    /// `zka_runtime_create` with wild options; destroys what it made. With `only_fast`
    /// false the caller accepts any device discovery the options ask for.
    fn runtime_create(&mut self, only_fast: bool) -> i32 {
        let opts = zka_runtime_options {
            struct_size: self.u.struct_size(size_of::<zka_runtime_options>()),
            policy: self
                .u
                .id(&[ZKA_POLICY_AUTO, ZKA_POLICY_PREFER, ZKA_POLICY_ONLY]),
            device_kind: self.u.id(&[
                ZKA_DEVICE_CPU,
                ZKA_DEVICE_CUDA,
                ZKA_DEVICE_OPENCL,
                ZKA_DEVICE_FPGA,
                ZKA_DEVICE_PLUGIN,
            ]),
            cpu_threads: match self.u.u8() % 8 {
                0 => 0,
                1 => self.u.u32(),
                2 => self.u.pick(&[u32::MAX, 1 << 16, 65_535, 100_000]),
                _ => 1 + u32::from(self.u.u8() % 4),
            },
            point_validation: self.u.id(VALIDATIONS),
        };
        let mut opts = opts;
        if only_fast && opts.policy != ZKA_POLICY_ONLY {
            // Discovery of every device kind per input would make the fuzzer measure PoCL's
            // start-up; `Only` opens one kind (CPU, or a kind absent here).
            opts.policy = ZKA_POLICY_ONLY;
        }
        if only_fast && opts.device_kind == ZKA_DEVICE_OPENCL {
            opts.device_kind = ZKA_DEVICE_CPU;
        }
        let options = if self.u.chance(1) {
            null()
        } else {
            self.boxed(opts).cast_const()
        };
        if options.is_null() && only_fast {
            return ZKA_OK;
        }
        let out_null = self.u.u8().is_multiple_of(16);
        let mut rt: *mut zka_runtime = std::ptr::dangling_mut();
        let out = if out_null { null_mut() } else { &mut rt };
        // SAFETY: options NULL or valid, out NULL or writable.
        let s = unsafe { zka_runtime_create(options, out) };
        if !out_null {
            if s == ZKA_OK {
                assert!(!rt.is_null());
                let mut n = 0usize;
                // SAFETY: live runtime.
                assert_eq!(unsafe { zka_device_count(rt, &mut n) }, ZKA_OK);
                assert!(n >= 1 || opts.policy == ZKA_POLICY_ONLY);
                // SAFETY: made above, used by no one else.
                assert_eq!(unsafe { zka_runtime_destroy(rt) }, ZKA_OK);
            } else {
                assert!(rt.is_null(), "failed zka_runtime_create left a handle");
            }
        }
        s
    }

    fn runtime_destroy(&mut self) -> i32 {
        if self.u.chance(2) {
            // SAFETY: NULL is accepted.
            return unsafe { zka_runtime_destroy(null_mut()) };
        }
        let mut rt = null_mut();
        let o = zka_runtime_options {
            struct_size: size_of::<zka_runtime_options>() as u32,
            policy: ZKA_POLICY_ONLY,
            device_kind: ZKA_DEVICE_CPU,
            cpu_threads: 1,
            point_validation: 0,
        };
        // SAFETY: valid arguments.
        assert_eq!(unsafe { zka_runtime_create(&o, &mut rt) }, ZKA_OK);
        // Handles keep their runtime alive: destroy the runtime first, then use them.
        let mut domain = null_mut();
        // SAFETY: live runtime, default root.
        let d =
            unsafe { zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 3, null(), 0, &mut domain) };
        assert_eq!(d, ZKA_OK);
        // SAFETY: made above, not in use.
        let s = unsafe { zka_runtime_destroy(rt) };
        let mut data = [1u64, 2, 3, 4, 5, 6, 7, 8];
        let cfg = default_ntt_config(ZKA_ENCODING_CANONICAL);
        // SAFETY: the domain outlives its runtime; 8 canonical elements.
        let n = unsafe { zka_ntt(domain, &cfg, data.as_mut_ptr().cast(), 8, null_mut()) };
        assert_eq!(n, ZKA_OK, "a domain works after its runtime is destroyed");
        // SAFETY: made above.
        assert_eq!(unsafe { zka_ntt_domain_destroy(domain) }, ZKA_OK);
        s
    }

    fn last_error(&mut self) -> i32 {
        let rt = self.runtime();
        if self.u.chance(4) && !rt.is_null() {
            // Leave a message that names a fuzzed id.
            let field = self.u.u32() | 0x100;
            // SAFETY: live runtime; the unknown field is refused before `data` is used.
            let s = unsafe { zka_to_montgomery(rt, field, null_mut(), 1) };
            assert_eq!(s, ZKA_ERR_UNKNOWN_ID);
        }
        let len = match self.u.u8() % 6 {
            0 => 0,
            1 => 1,
            2 => self.u.below(8),
            3 => usize::MAX,
            _ => self.u.below(600),
        };
        let buf_null = self.u.u8().is_multiple_of(8);
        let len_backed = len.min(4096);
        let buf: *mut c_char = if buf_null {
            null_mut()
        } else {
            let b = self.buf(len_backed, 0);
            // Poison with non-zero bytes: the NUL must be written.
            // SAFETY: `len_backed` writable bytes.
            unsafe { std::ptr::write_bytes(b.ptr(), b'#', len_backed) };
            b.ptr().cast()
        };
        let len = if buf_null { len } else { len_backed };
        let mut needed = usize::MAX;
        let needed_p = if self.u.chance(2) {
            null_mut()
        } else {
            &mut needed as *mut usize
        };
        // SAFETY: rt NULL or live; buf NULL or writable for len bytes.
        let s = unsafe { zka_last_error(rt, buf, len, needed_p) };
        if s == ZKA_OK || s == ZKA_ERR_BUFFER_TOO_SMALL {
            if !needed_p.is_null() {
                assert!(needed >= 1 && needed != usize::MAX);
            }
            if !buf.is_null() && len > 0 {
                // SAFETY: `len` bytes written by us or the library.
                let written = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) };
                assert!(written.contains(&0), "zka_last_error: no NUL within len");
            }
        }
        s
    }

    fn device_count(&mut self) -> i32 {
        let rt = self.runtime();
        let mut n = usize::MAX;
        let p = if self.u.chance(1) {
            null_mut()
        } else {
            &mut n as *mut usize
        };
        // SAFETY: rt NULL or live; p NULL or writable.
        let s = unsafe { zka_device_count(rt, p) };
        if s == ZKA_OK {
            assert!(n >= 1);
        }
        self.check_message(rt, s, Entry::DeviceCount);
        s
    }

    fn device_index(&mut self) -> usize {
        match self.u.u8() % 8 {
            0 => usize::MAX,
            1 => self.u.u64() as usize,
            2 => 1,
            _ => 0,
        }
    }

    fn device_get_info(&mut self) -> i32 {
        let rt = self.runtime();
        let index = self.device_index();
        // SAFETY: every bit pattern of this plain struct is valid.
        let mut info: zka_device_info = unsafe { std::mem::zeroed() };
        info.struct_size = self.u.struct_size(size_of::<zka_device_info>());
        info.name = [1; 128];
        let p = if self.u.chance(1) {
            null_mut()
        } else {
            self.boxed(info)
        };
        // SAFETY: rt NULL or live; p NULL or a writable zka_device_info.
        let s = unsafe { zka_device_get_info(rt, index, p) };
        if s == ZKA_OK {
            // SAFETY: written by the call.
            let info = unsafe { &*p };
            assert!(info.name.contains(&0) && info.vendor.contains(&0) && info.driver.contains(&0));
        }
        self.check_message(rt, s, Entry::DeviceGetInfo);
        s
    }

    fn device_supports(&mut self, msm: bool) -> i32 {
        let rt = self.runtime();
        let index = self.device_index();
        let mut v = u32::MAX;
        let p = if self.u.chance(1) {
            null_mut()
        } else {
            &mut v as *mut u32
        };
        let s = if msm {
            let curve = self.u.id(CURVES);
            let group = self.u.id(GROUPS);
            let count = self.u.count(1 << 20);
            // SAFETY: rt NULL or live; p NULL or writable.
            unsafe { zka_device_supports_msm(rt, index, curve, group, count, p) }
        } else {
            let field = self.u.id(FIELDS);
            let log_n = self.u.pick(&[0, 1, 10, 27, 28, 32, 33, 64, u32::MAX]);
            // SAFETY: as above.
            unsafe { zka_device_supports_ntt(rt, index, field, log_n, p) }
        };
        if s == ZKA_OK {
            assert!(v <= 1);
        }
        let e = if msm {
            Entry::DeviceSupportsMsm
        } else {
            Entry::DeviceSupportsNtt
        };
        self.check_message(rt, s, e);
        s
    }

    fn runtime_stats(&mut self) -> i32 {
        let rt = self.runtime();
        let st = zka_stats {
            struct_size: self.u.struct_size(size_of::<zka_stats>()),
            reserved: 7,
            msm_calls: 0,
            ntt_calls: 0,
            fallbacks: 0,
            failed_calls: 0,
            hash_calls: 0,
            verified: 0,
            verification_failures: 0,
            timeouts: 0,
            split_msm_calls: 0,
        };
        let p = if self.u.chance(1) {
            null_mut()
        } else {
            self.boxed(st)
        };
        // SAFETY: rt NULL or live; p NULL or writable.
        let s = unsafe { zka_runtime_stats(rt, p) };
        self.check_message(rt, s, Entry::RuntimeStats);
        s
    }

    // -----------------------------------------------------------------------------------------
    // MSM
    // -----------------------------------------------------------------------------------------

    /// A `zka_points` descriptor and the exact memory it promises.
    fn points(&mut self) -> zka_points {
        let curve = self.u.id(CURVES);
        let group = self.u.id(GROUPS);
        let encoding = self.u.id(ENCODINGS);
        let id = curve_group(curve, group).ok();
        let coords = id.map_or(64, |id| 2 * coordinate_bytes(id));
        let infinity = self.u.id(&[ZKA_INFINITY_ZERO, ZKA_INFINITY_FLAG]);
        let stride = match self.u.u8() % 8 {
            0 => coords + self.u.below(24),
            1 => self
                .u
                .pick(&[1usize, coords - 1, usize::MAX, usize::MAX / 2]),
            2 => self.u.u64() as usize,
            _ => 0,
        };
        let eff_stride = if stride == 0 { coords } else { stride };
        let flag_offset = match self.u.u8() % 4 {
            0 => self.u.u32(),
            1 => (coords as u32).wrapping_sub(1),
            _ => (coords as u32).saturating_add(self.u.below(8) as u32),
        };
        let count = self.u.count(24);
        let mut p = zka_points {
            struct_size: self.u.struct_size(size_of::<zka_points>()),
            curve,
            group,
            encoding,
            infinity,
            flag_offset,
            stride,
            count,
            data: null(),
        };
        if self.u.u8().is_multiple_of(16) {
            return p; // data NULL
        }
        // The size the descriptor promises (the library's own formula).
        let last = if infinity == ZKA_INFINITY_FLAG {
            (flag_offset as usize).max(coords - 1) + 1
        } else {
            coords
        };
        let need = |count: usize| {
            if count == 0 {
                Some(0)
            } else {
                (count - 1)
                    .checked_mul(eff_stride)
                    .and_then(|v| v.checked_add(last))
                    .filter(|&v| v <= isize::MAX as usize)
            }
        };
        let len = match need(count) {
            None => 64,
            Some(n) if n <= CAP => n,
            Some(_) => {
                // Scale the count down to what memory can back.
                let fit = CAP
                    .saturating_sub(last)
                    .checked_div(eff_stride)
                    .unwrap_or(0);
                p.count = fit.min(24);
                need(p.count).unwrap_or(0)
            }
        };
        let off = self.misalign();
        let mut bytes = vec![0u8; len];
        if let Some(id) = id {
            let enc = if encoding == ZKA_ENCODING_CANONICAL {
                Encoding::Canonical
            } else {
                Encoding::Montgomery
            };
            // Points are written only when the buffer backs the whole descriptor (not for an
            // overflowing one, which the library must refuse unread).
            let n = if need(p.count).is_some_and(|n| n <= len) {
                p.count
            } else {
                0
            };
            for i in 0..n {
                let at = i * eff_stride;
                let pt = self.point_bytes(id, enc);
                let k = pt.len().min(len.saturating_sub(at));
                bytes[at..at + k].copy_from_slice(&pt[..k]);
                if infinity == ZKA_INFINITY_FLAG {
                    let f = at + flag_offset as usize;
                    if f < len {
                        bytes[f] = if self.u.chance(1) { self.u.u8() | 1 } else { 0 };
                    }
                }
            }
        } else {
            self.fill_elements(&mut bytes, None);
        }
        let b = self.buf(len, off);
        // SAFETY: `len` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), b.ptr(), len) };
        p.data = b.ptr().cast_const().cast();
        p
    }

    /// One point's coordinates (`x` then `y`): a multiple of the generator, infinity, a point
    /// off the curve, one outside the subgroup, coordinates at or above the modulus, or noise.
    fn point_bytes(&mut self, id: CurveGroupId, enc: Encoding) -> Vec<u8> {
        let kind = if self.hostile {
            self.u.u8() % 16
        } else {
            self.u.pick(&[0, 5, 6, 7, 8, 9])
        };
        let k = self.u.u64();
        with_curve_group!(
            id,
            |C| point_bytes_typed::<C>(kind, k, enc, &mut self.u),
            vec![0u8; 2 * coordinate_bytes(id)]
        )
    }

    /// A `zka_scalars` descriptor of `field` for `points` (or a nearby count) scalars.
    fn scalars(&mut self, points: usize, field: FieldId) -> zka_scalars {
        let count = match self.u.u8() % 8 {
            0 => self.u.count(24),
            1 => points.wrapping_add(1),
            2 => points.saturating_sub(1),
            _ => points,
        };
        let encoding = self.u.id(ENCODINGS);
        let (data, count) = self.elements(None, 32, count, 1, false);
        // Re-fill as scalars: canonical or Montgomery integers, r, r − 1, 2^256 − 1, ...
        if !data.is_null() {
            let n = count.min(CAP / 32);
            let backed = self.bufs.last().map_or(0, |b| b.len / 32).min(n);
            for i in 0..backed {
                let kind = self.value_kind();
                let v = element_value(field, kind, &mut self.u);
                // SAFETY: scalar `i` lies inside the buffer just allocated.
                unsafe {
                    std::ptr::copy_nonoverlapping(v.as_ptr(), data.cast::<u8>().add(32 * i), 32)
                };
            }
        }
        // The scalar pointer must be 8-aligned for Rust, which the library checks; shift
        // it sometimes (inside a fresh allocation of the same size plus the shift).
        let data = if !data.is_null() && self.u.chance(1) {
            let len = self.bufs.last().map_or(0, |b| b.len);
            let shift = 1 + self.u.below(7);
            let src = data.cast::<u8>().cast_const();
            let b = self.buf(len, shift);
            // SAFETY: both hold `len` bytes.
            unsafe { std::ptr::copy_nonoverlapping(src, b.ptr(), len) };
            b.ptr().cast()
        } else {
            data
        };
        zka_scalars {
            struct_size: self.u.struct_size(size_of::<zka_scalars>()),
            encoding,
            count,
            data: data.cast_const().cast(),
        }
    }

    /// A result descriptor with capacity around what the group needs.
    fn point_out(&mut self, id: Option<CurveGroupId>) -> *mut zka_point_out {
        if self.u.u8().is_multiple_of(16) {
            return null_mut();
        }
        let coord_limbs = id.map_or(4, |id| coordinate_bytes(id) / 8);
        let form = self.u.id(&[ZKA_FORM_AFFINE, ZKA_FORM_JACOBIAN]);
        let need = if form == ZKA_FORM_JACOBIAN { 3 } else { 2 } * coord_limbs;
        let capacity = match self.u.u8() % 8 {
            0 => need - 1,
            1 => 0,
            2 => need + self.u.below(4),
            3 => self.u.below(40),
            _ => need,
        };
        let limbs = if self.u.u8().is_multiple_of(16) {
            null_mut()
        } else {
            self.buf(capacity * 8, 0).ptr().cast::<u64>()
        };
        let o = zka_point_out {
            struct_size: self.u.struct_size(size_of::<zka_point_out>()),
            form,
            encoding: self.u.id(ENCODINGS),
            is_infinity: 7,
            limbs,
            capacity,
            written: usize::MAX,
        };
        self.boxed(o)
    }

    fn msm_options(&mut self) -> *const zka_msm_options {
        if self.u.chance(4) {
            return null();
        }
        let o = zka_msm_options {
            struct_size: self.u.struct_size(size_of::<zka_msm_options>()),
            point_validation: self.u.id(VALIDATIONS),
            verification: self.u.id(VERIFICATIONS),
            timeout_ms: if self.u.chance(1) { 60_000 } else { 0 },
        };
        self.boxed(o).cast_const()
    }

    fn check_point_out(out: *mut zka_point_out, s: i32) {
        if s == ZKA_OK {
            // SAFETY: a live descriptor of ours.
            let o = unsafe { &*out };
            assert!(
                o.written <= o.capacity && o.written > 0,
                "written {}",
                o.written
            );
            assert!(o.is_infinity <= 1);
        }
    }

    fn msm(&mut self) -> i32 {
        let rt = self.runtime();
        let points = self.points();
        let id = curve_group(points.curve, points.group).ok();
        let scalars = self.scalars(points.count, scalar_field(id));
        let options = self.msm_options();
        let result = self.point_out(id);
        let report = self.report();
        let pp = if self.u.u8().is_multiple_of(32) {
            null()
        } else {
            &points as *const zka_points
        };
        let sp = if self.u.u8().is_multiple_of(32) {
            null()
        } else {
            &scalars as *const zka_scalars
        };
        // SAFETY: every pointer is NULL or describes memory of exactly the promised size.
        let s = unsafe { zka_msm(rt, pp, sp, options, result, report) };
        Self::check_point_out(result, s);
        self.check_message(rt, s, Entry::Msm);
        s
    }

    /// Creates a bases handle from fuzzed points, then drives `target` with it.
    fn bases(&mut self, target: Entry) -> i32 {
        let rt = self.runtime();
        let points = self.points();
        let options = self.msm_options();
        let out_null = target == Entry::MsmBasesCreate && self.u.u8().is_multiple_of(16);
        let mut handle: *mut zka_msm_bases = std::ptr::dangling_mut();
        let out = if out_null { null_mut() } else { &mut handle };
        // SAFETY: as in `msm`.
        let c = unsafe { zka_msm_bases_create(rt, &points, options, out) };
        if !out_null && c != ZKA_OK {
            assert!(
                handle.is_null(),
                "failed zka_msm_bases_create left a handle"
            );
        }
        self.check_message(rt, c, Entry::MsmBasesCreate);
        if target == Entry::MsmBasesCreate {
            if c == ZKA_OK && !out_null {
                // SAFETY: made above.
                assert_eq!(unsafe { zka_msm_bases_destroy(handle) }, ZKA_OK);
            }
            return c;
        }
        if c != ZKA_OK {
            handle = null_mut();
        }
        let s = match target {
            Entry::MsmBasesCount => {
                let mut n = usize::MAX;
                let p = if self.u.chance(1) {
                    null_mut()
                } else {
                    &mut n as *mut usize
                };
                // SAFETY: handle NULL or live; p NULL or writable.
                let s = unsafe { zka_msm_bases_count(handle, p) };
                if s == ZKA_OK {
                    assert_eq!(n, points.count);
                }
                s
            }
            Entry::MsmBasesMsm => {
                let mut s = ZKA_OK;
                // Several MSMs on one handle, as a prover does.
                for _ in 0..1 + self.u.below(3) {
                    let field = scalar_field(curve_group(points.curve, points.group).ok());
                    let scalars = self.scalars(points.count, field);
                    let result = self.point_out(curve_group(points.curve, points.group).ok());
                    let report = self.report();
                    // SAFETY: as in `msm`.
                    s = unsafe { zka_msm_bases_msm(handle, &scalars, result, report) };
                    check_status(target, s, self.last_rt);
                    Self::check_point_out(result, s);
                    if !handle.is_null() {
                        self.check_message(rt, s, target);
                    }
                }
                s
            }
            _ => {
                // SAFETY: NULL or made above, destroyed once.
                let s = unsafe { zka_msm_bases_destroy(handle) };
                handle = null_mut();
                s
            }
        };
        if !handle.is_null() {
            // SAFETY: made above.
            assert_eq!(unsafe { zka_msm_bases_destroy(handle) }, ZKA_OK);
        }
        s
    }

    // -----------------------------------------------------------------------------------------
    // NTT
    // -----------------------------------------------------------------------------------------

    fn ntt(&mut self, target: Entry) -> i32 {
        let rt = self.runtime();
        let field = self.u.id(NTT_FIELDS);
        let log_n = match self.u.u8() % 8 {
            0 => self.u.pick(&[27u32, 28, 31, 32, 33, 64, u32::MAX]),
            1 => self.u.u32(),
            _ => u32::from(self.u.u8() % 9),
        };
        let f = field_id(field).ok();
        let limbs = f.map_or(4, |f| elem_bytes(f).div_ceil(8));
        // The root: default (NULL), right or wrong length, a true root, 1, −1, noise.
        let (root, root_limbs) = if self.u.chance(5) {
            (null(), self.u.below(3))
        } else {
            let root_limbs = match self.u.u8() % 8 {
                0 => self.u.pick(&[0usize, 1, 2, 3, 5, usize::MAX]),
                _ => limbs,
            };
            let backed = root_limbs.min(8);
            let kind = self.u.u8() % 8;
            let v: Vec<u64> = match f {
                Some(f) if f.is_ntt_field() => root_value(f, log_n, kind, &mut self.u),
                _ => (0..backed).map(|_| self.u.u64()).collect(),
            };
            let b = self.buf(backed * 8, 0);
            let p = b.ptr().cast::<u64>();
            for (i, x) in v.iter().take(backed).enumerate() {
                // SAFETY: `backed` limbs.
                unsafe { p.add(i).write(*x) };
            }
            // A wrong length is refused before the root is read; only a right one is backed.
            (p.cast_const(), root_limbs)
        };
        let out_null = target == Entry::NttDomainCreate && self.u.u8().is_multiple_of(16);
        let mut domain: *mut zka_ntt_domain = std::ptr::dangling_mut();
        let out = if out_null { null_mut() } else { &mut domain };
        // SAFETY: rt NULL or live; root NULL or readable for root_limbs ≤ 8 limbs (a larger
        // promise is refused by the length check before any read).
        let c = unsafe { zka_ntt_domain_create(rt, field, log_n, root, root_limbs, out) };
        if !out_null && c != ZKA_OK {
            assert!(
                domain.is_null(),
                "failed zka_ntt_domain_create left a handle"
            );
        }
        self.check_message(rt, c, Entry::NttDomainCreate);
        if target == Entry::NttDomainCreate {
            if c == ZKA_OK && !out_null {
                // SAFETY: made above.
                assert_eq!(unsafe { zka_ntt_domain_destroy(domain) }, ZKA_OK);
            }
            return c;
        }
        if c != ZKA_OK {
            domain = null_mut();
        }
        if target == Entry::NttDomainDestroy {
            // SAFETY: NULL or made above.
            return unsafe { zka_ntt_domain_destroy(domain) };
        }
        let fid = f.filter(|f| f.is_ntt_field());
        let mut s = ZKA_OK;
        for _ in 0..1 + self.u.below(2) {
            let cfg = zka_ntt_config {
                struct_size: self.u.struct_size(size_of::<zka_ntt_config>()),
                direction: self.u.id(&[ZKA_NTT_FORWARD, ZKA_NTT_INVERSE]),
                input_order: self.u.id(&[ZKA_ORDER_NATURAL, ZKA_ORDER_BIT_REVERSED]),
                output_order: self.u.id(&[ZKA_ORDER_NATURAL, ZKA_ORDER_BIT_REVERSED]),
                encoding: self.u.id(ENCODINGS),
                layout: self.u.id(&[ZKA_LAYOUT_CONTIGUOUS, ZKA_LAYOUT_INTERLEAVED]),
                batch: match self.u.u8() % 8 {
                    0 => 0,
                    1 => self.u.u32(),
                    2 => 2 + u32::from(self.u.u8() % 3),
                    _ => 1,
                },
                has_coset: match self.u.u8() % 8 {
                    0 => 1,
                    1 => self.u.u32(),
                    _ => 0,
                },
                coset_shift: match self.u.u8() % 4 {
                    0 => [0; 4],
                    1 => [self.u.u64(), self.u.u64(), self.u.u64(), self.u.u64()],
                    2 => fid.map_or([7, 0, 0, 0], |f| padded(&element_value(f, 3, &mut self.u))),
                    _ => [7, 0, 0, 0],
                },
                verification: self.u.id(VERIFICATIONS),
                timeout_ms: if self.u.chance(1) { 60_000 } else { 0 },
            };
            let cfg_p = if self.u.u8().is_multiple_of(16) {
                null()
            } else {
                self.boxed(cfg).cast_const()
            };
            let n = if log_n < 20 { 1usize << log_n } else { 1 };
            let count = match self.u.u8() % 8 {
                0 => self.u.count(64),
                1 => n.wrapping_mul(cfg.batch as usize).wrapping_add(1),
                _ => n.wrapping_mul(cfg.batch as usize),
            };
            let elem = fid.map_or(8, elem_bytes);
            let (data, count) = self.elements(fid, elem, count, 1, true);
            let report = self.report();
            // SAFETY: domain NULL or live; data NULL or exactly `count` elements (or an
            // overflowing count the library refuses unread).
            s = unsafe { zka_ntt(domain, cfg_p, data, count, report) };
            check_status(Entry::Ntt, s, self.last_rt);
            if !domain.is_null() {
                self.check_message(rt, s, Entry::Ntt);
            }
        }
        if !domain.is_null() {
            // SAFETY: made above.
            assert_eq!(unsafe { zka_ntt_domain_destroy(domain) }, ZKA_OK);
        }
        s
    }

    // -----------------------------------------------------------------------------------------
    // Conversions
    // -----------------------------------------------------------------------------------------

    fn montgomery(&mut self, to: bool) -> i32 {
        let rt = self.runtime();
        let field = self.u.id(FIELDS);
        let f = field_id(field).ok();
        let elem = f.map_or(8, elem_bytes);
        let count = self.u.count(64);
        let (data, count) = self.elements(f, elem, count, 1, true);
        // SAFETY: rt NULL or live; data NULL or exactly `count` elements (or refused unread).
        let s = unsafe {
            if to {
                zka_to_montgomery(rt, field, data, count)
            } else {
                zka_from_montgomery(rt, field, data, count)
            }
        };
        let e = if to {
            Entry::ToMontgomery
        } else {
            Entry::FromMontgomery
        };
        self.check_message(rt, s, e);
        s
    }

    // -----------------------------------------------------------------------------------------
    // Plugin reports
    // -----------------------------------------------------------------------------------------

    /// `zka_plugin_report_count` (`get` false) or `zka_plugin_report_get` on a runtime with
    /// reports, one without, or NULL.
    fn plugin_report(&mut self, get: bool) -> i32 {
        let rt = if self.u.chance(5) {
            plugin_runtime()
        } else {
            self.runtime()
        };
        let s = if get {
            let index = match self.u.u8() % 4 {
                0 => self.device_index(),
                _ => self.u.below(3),
            };
            // SAFETY: every bit pattern of this plain struct is valid.
            let mut r: zka_plugin_report = unsafe { std::mem::zeroed() };
            r.struct_size = self.u.struct_size(size_of::<zka_plugin_report>());
            r.path = [1; 512];
            r.message = [1; 512];
            let p = if self.u.chance(1) {
                null_mut()
            } else {
                self.boxed(r)
            };
            // SAFETY: rt NULL or live; p NULL or a writable zka_plugin_report.
            let s = unsafe { zka_plugin_report_get(rt, index, p) };
            if s == ZKA_OK {
                // SAFETY: written by the call.
                let r = unsafe { &*p };
                assert!(r.path.contains(&0) && r.message.contains(&0));
                assert!(
                    r.status <= ZKA_PLUGIN_ERR_DEVICE,
                    "plugin status {}",
                    r.status
                );
                assert!(r.status == ZKA_PLUGIN_LOADED || r.devices == 0);
            }
            s
        } else {
            let mut n = usize::MAX;
            let p = if self.u.chance(1) {
                null_mut()
            } else {
                &mut n as *mut usize
            };
            // SAFETY: rt NULL or live; p NULL or writable.
            let s = unsafe { zka_plugin_report_count(rt, p) };
            if s == ZKA_OK {
                assert!(n != usize::MAX, "zka_plugin_report_count wrote nothing");
            }
            s
        };
        let e = if get {
            Entry::PluginReportGet
        } else {
            Entry::PluginReportCount
        };
        self.check_message(rt, s, e);
        s
    }

    // -----------------------------------------------------------------------------------------
    // Hashing
    // -----------------------------------------------------------------------------------------

    fn hash_instance(&mut self) -> u32 {
        let known: Vec<u32> = HashId::ALL.iter().map(|h| h.as_u32()).collect();
        self.u.id(&known)
    }

    fn hash_get_info(&mut self) -> i32 {
        let instance = self.hash_instance();
        // SAFETY: every bit pattern of this plain struct is valid.
        let mut info: zka_hash_info = unsafe { std::mem::zeroed() };
        info.struct_size = self.u.struct_size(size_of::<zka_hash_info>());
        info.name = [1; 48];
        let p = if self.u.chance(1) {
            null_mut()
        } else {
            self.boxed(info)
        };
        // SAFETY: p NULL or writable.
        let s = unsafe { zka_hash_get_info(instance, p) };
        if s == ZKA_OK {
            // SAFETY: written by the call.
            let i = unsafe { &*p };
            assert!(i.name.contains(&0));
            assert_eq!(i.instance, instance);
        }
        s
    }

    fn hash_find(&mut self) -> i32 {
        let mut name: Vec<u8> = match self.u.u8() % 4 {
            0 => {
                let id = self.u.pick(HashId::ALL);
                let mut n = id.name().as_bytes().to_vec();
                // Mutate one byte, or change case, or use `_` for `-`.
                if !n.is_empty() {
                    let i = self.u.below(n.len());
                    n[i] = self.u.u8().max(1);
                }
                n
            }
            1 => (0..self.u.below(80)).map(|_| self.u.u8().max(1)).collect(),
            _ => {
                let id = self.u.pick(HashId::ALL);
                let n = id.name();
                match self.u.u8() % 3 {
                    0 => n.to_ascii_uppercase().into_bytes(),
                    1 => n.replace('-', "_").into_bytes(),
                    _ => n.as_bytes().to_vec(),
                }
            }
        };
        name.push(0);
        let name_p: *const c_char = if self.u.u8().is_multiple_of(16) {
            null()
        } else {
            let off = self.misalign();
            let b = self.buf(name.len(), off);
            // SAFETY: `name.len()` bytes.
            unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), b.ptr(), name.len()) };
            b.ptr().cast_const().cast()
        };
        let mut inst = 0u32;
        let ip = if self.u.u8().is_multiple_of(16) {
            null_mut()
        } else {
            &mut inst as *mut u32
        };
        // SAFETY: name NULL or NUL-terminated in its buffer; ip NULL or writable.
        let s = unsafe { zka_hash_find(name_p, ip) };
        if s == ZKA_OK {
            assert!(HashId::from_u32(inst).is_some());
        }
        s
    }

    fn hash(&mut self) -> i32 {
        let rt = self.runtime();
        let instance = self.hash_instance();
        let info = HashId::from_u32(instance).map(|h| h.info());
        let field = info.map(|i| i.field);
        let (width, digest, rate) = info.map_or((3, 1, 2), |i| (i.width, i.digest, i.rate));
        let op = self
            .u
            .id(&[ZKA_HASH_PERMUTE, ZKA_HASH_MESSAGES, ZKA_HASH_COMPRESS]);
        let param: u32 = match self.u.u8() % 8 {
            0 => self.u.u32(),
            1 => 0,
            2 => self.u.pick(&[1u32, 2, 3, 4, 8, 16, u32::MAX]),
            _ => match op {
                ZKA_HASH_MESSAGES => rate as u32 * (1 + u32::from(self.u.u8() % 2)),
                _ => 2 + u32::from(self.u.u8() % 3),
            },
        };
        let n = 1 + self.u.below(4);
        let (in_count, out_count) = match op {
            ZKA_HASH_PERMUTE => (0, n * width),
            ZKA_HASH_MESSAGES => (n * param as usize, n * digest),
            _ => (n * param as usize * digest, n * digest),
        };
        let in_count = match self.u.u8() % 8 {
            0 => self.u.count(64),
            1 => in_count.wrapping_add(1),
            _ => in_count,
        };
        let out_count = match self.u.u8() % 8 {
            0 => self.u.count(64),
            1 => out_count.saturating_sub(1),
            _ => out_count,
        };
        let elem = field.map_or(8, elem_bytes);
        let (input, in_count) = self.elements(field, elem, in_count, 1, true);
        let (output, out_count) = self.elements(field, elem, out_count, 1, true);
        let encoding = self.u.id(ENCODINGS);
        let report = self.report();
        // SAFETY: rt NULL or live; input/output NULL or exactly their counts (or refused).
        let s = unsafe {
            zka_hash(
                rt,
                instance,
                op,
                param,
                encoding,
                input.cast_const(),
                in_count,
                output,
                out_count,
                report,
            )
        };
        self.check_message(rt, s, Entry::Hash);
        s
    }

    fn merkle_tree(&mut self) -> i32 {
        let rt = self.runtime();
        let instance = self.hash_instance();
        let info = HashId::from_u32(instance).map(|h| h.info());
        let field = info.map(|i| i.field);
        let digest = info.map_or(1, |i| i.digest);
        let arity = match self.u.u8() % 8 {
            0 => self.u.u32(),
            1 => self.u.pick(&[0u32, 1, 3, 5, 16, u32::MAX]),
            _ => self.u.pick(&[2u32, 4, 8]),
        };
        let levels = self.u.below(4) as u32;
        let leaves = (arity as usize)
            .checked_pow(levels)
            .filter(|&l| l <= 256)
            .unwrap_or(4);
        let above: usize = (0..levels)
            .map(|k| (arity as usize).saturating_pow(k))
            .fold(0usize, usize::saturating_add);
        let leaf_count = match self.u.u8() % 8 {
            0 => self.u.count(64),
            1 => leaves * digest + 1,
            _ => leaves * digest,
        };
        let out_count = match self.u.u8() % 8 {
            0 => self.u.count(64),
            1 => above.saturating_mul(digest),
            2 => digest + 1,
            _ => digest,
        };
        let elem = field.map_or(8, elem_bytes);
        let (lp, leaf_count) = self.elements(field, elem, leaf_count, 1, true);
        let (op, out_count) = self.elements(field, elem, out_count, 1, true);
        let encoding = self.u.id(ENCODINGS);
        // SAFETY: rt NULL or live; buffers NULL or exactly their counts (or refused).
        let s = unsafe {
            zka_merkle_tree(
                rt,
                instance,
                arity,
                encoding,
                lp.cast_const(),
                leaf_count,
                op,
                out_count,
            )
        };
        self.check_message(rt, s, Entry::MerkleTree);
        s
    }

    fn merkle_verify(&mut self) -> i32 {
        let rt = self.runtime();
        let instance = self.hash_instance();
        let info = HashId::from_u32(instance).map(|h| h.info());
        let field = info.map(|i| i.field);
        let digest = info.map_or(0, |i| i.digest);
        let arity = match self.u.u8() % 8 {
            0 => self.u.u32(),
            1 => self.u.pick(&[0u32, 1, 3, 16, u32::MAX]),
            _ => self.u.pick(&[2u32, 4]),
        };
        let elem = field.map_or(8, elem_bytes);
        // Leaf and root are one digest each (the contract); for an unknown instance any
        // pointer, which must not be read.
        let (leaf, _) = self.elements(field, elem, digest, 1, true);
        let (root, _) = self.elements(field, elem, digest, 1, true);
        let levels = self.u.below(5);
        let sib = match self.u.u8() % 8 {
            0 => self.u.count(64),
            1 => levels * (arity as usize).saturating_sub(1) * digest + 1,
            _ => levels * (arity as usize).saturating_sub(1) * digest,
        };
        let (siblings, sib) = self.elements(field, elem, sib, 1, true);
        let index = match self.u.u8() % 4 {
            0 => usize::MAX,
            1 => self.u.u64() as usize,
            _ => self.u.below(64),
        };
        let mut valid = 7u32;
        let vp = if self.u.u8().is_multiple_of(16) {
            null_mut()
        } else {
            &mut valid as *mut u32
        };
        let encoding = self.u.id(ENCODINGS);
        // SAFETY: rt NULL or live; leaf/root NULL or a digest each; siblings exactly `sib`.
        let s = unsafe {
            zka_merkle_verify(
                rt,
                instance,
                arity,
                encoding,
                leaf.cast_const(),
                index,
                siblings.cast_const(),
                sib,
                root.cast_const(),
                vp,
            )
        };
        if s == ZKA_OK {
            assert!(valid <= 1);
        }
        self.check_message(rt, s, Entry::MerkleVerify);
        s
    }
}

/// A CPU runtime that tried to load two plugins that cannot load (a missing file and a file
/// that is not a library), so that it has plugin reports to read; never destroyed.
fn plugin_runtime() -> *mut zka_runtime {
    /// The runtime, never destroyed.
    struct PluginRt(*mut zka_runtime);
    // SAFETY: as in `shared_runtimes`.
    unsafe impl Send for PluginRt {}
    // SAFETY: as above.
    unsafe impl Sync for PluginRt {}
    static RT: OnceLock<PluginRt> = OnceLock::new();
    RT.get_or_init(|| {
        // Not `Only(Cpu)`: a runtime limited to one kind does not look for plugins.
        let rt = Runtime::builder()
            .policy(Policy::Prefer(DeviceKind::Cpu))
            .without_opencl()
            .without_cuda()
            .cpu_threads(1)
            .plugin_path("/nonexistent/zkaccel-fuzz-plugin.so")
            .plugin_path(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .build()
            .expect("a CPU runtime");
        PluginRt(Box::into_raw(Box::new(zka_runtime {
            shared: Arc::new(Shared {
                rt,
                last_error: Mutex::new(String::new()),
            }),
        })))
    })
    .0
}

fn default_ntt_config(encoding: u32) -> zka_ntt_config {
    zka_ntt_config {
        struct_size: size_of::<zka_ntt_config>() as u32,
        direction: ZKA_NTT_FORWARD,
        input_order: ZKA_ORDER_NATURAL,
        output_order: ZKA_ORDER_NATURAL,
        encoding,
        layout: ZKA_LAYOUT_CONTIGUOUS,
        batch: 1,
        has_coset: 0,
        coset_shift: [0; 4],
        verification: ZKA_VERIFY_DEFAULT,
        timeout_ms: 0,
    }
}

/// The scalar field of a (curve, group), BN254's for an unknown one.
fn scalar_field(id: Option<CurveGroupId>) -> FieldId {
    id.map_or(FieldId::Bn254Fr, |id| id.curve.scalar_field())
}

fn padded(v: &[u8]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, c) in v.chunks(8).take(4).enumerate() {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        out[i] = u64::from_le_bytes(w);
    }
    out
}

/// The bytes of one element of `field` (its C size) of a kind: 0..=3 the modulus and its
/// neighbours (p − 1, p, p + 1), 4 all ones, 5 zero, 6 one, else a random reduced value; in
/// canonical or Montgomery integer form alike (both must be below p).
fn element_value(field: FieldId, kind: u8, u: &mut Input<'_>) -> Vec<u8> {
    let size = elem_bytes(field);
    with_prime_field!(field, |F| {
        let p = F::modulus();
        let mut limbs: <F as PrimeField>::Limbs = p;
        let add = |l: &mut <F as PrimeField>::Limbs, d: i64| {
            let l: &mut [u64] = l.as_mut();
            if d >= 0 {
                let mut carry = d as u64;
                for x in l.iter_mut() {
                    let (v, c) = x.overflowing_add(carry);
                    *x = v;
                    carry = c as u64;
                }
            } else {
                let mut borrow = d.unsigned_abs();
                for x in l.iter_mut() {
                    let (v, b) = x.overflowing_sub(borrow);
                    *x = v;
                    borrow = b as u64;
                }
            }
        };
        match kind {
            0 => add(&mut limbs, -1),
            1 => {}
            2 => add(&mut limbs, 1),
            3 => {
                let x = F::from_u64(u.u64());
                limbs = x.to_canonical();
            }
            4 => limbs.as_mut().iter_mut().for_each(|x| *x = u64::MAX),
            5 => limbs.as_mut().iter_mut().for_each(|x| *x = 0),
            6 => {
                limbs.as_mut().iter_mut().for_each(|x| *x = 0);
                limbs.as_mut()[0] = 1;
            }
            _ => {
                let mut next = || u.u64();
                limbs = F::random_with(&mut next).to_canonical();
            }
        }
        bytemuck::bytes_of(&limbs)[..size].to_vec()
    })
}

/// A root candidate for `field` at `log_n`: the true primitive root, one of wrong order,
/// 1, −1, 0, the modulus, noise.
fn root_value(field: FieldId, log_n: u32, kind: u8, u: &mut Input<'_>) -> Vec<u64> {
    zkaccel_backend::with_ntt_field!(
        field,
        |F| {
            let limbs = |x: F| -> Vec<u64> {
                let c = x.to_canonical();
                let n = elem_bytes(field).div_ceil(8);
                c.as_ref()[..n].to_vec()
            };
            match kind {
                0 | 1 => F::two_adic_root(log_n)
                    .map(limbs)
                    .unwrap_or_else(|| vec![0]),
                2 => F::two_adic_root(log_n.wrapping_add(1))
                    .map(limbs)
                    .unwrap_or_else(|| vec![1]),
                3 => limbs(F::ONE),
                4 => limbs(-F::ONE),
                5 => limbs(F::ZERO),
                6 => {
                    let p = F::modulus();
                    p.as_ref()[..elem_bytes(field).div_ceil(8)].to_vec()
                }
                _ => {
                    let mut next = || u.u64();
                    limbs(F::random_with(&mut next))
                }
            }
        },
        vec![u.u64()]
    )
}

/// Coordinates of one point of `C` in `enc` (see [`Harness::point_bytes`]).
fn point_bytes_typed<C: CurveGroup>(kind: u8, k: u64, enc: Encoding, u: &mut Input<'_>) -> Vec<u8> {
    let a: Affine<C> = match kind {
        0 => Affine::<C>::IDENTITY,
        1 => {
            // Off the curve: (x, y + 1) of a valid point.
            let mut a = Projective::<C>::generator()
                .mul(&C::Scalar::from_u64(k | 1))
                .to_affine();
            a.y += <C::Base as Field>::ONE;
            a
        }
        2 => outside_subgroup::<C>(k).unwrap_or(Affine::<C>::IDENTITY),
        3 => {
            // Coordinates at or above the modulus (raw limbs, whatever the encoding).
            let mut bytes = vec![0u8; 2 * size_of::<C::Base>()];
            let each = size_of::<C::BasePrime>();
            for (i, c) in bytes.chunks_mut(each).enumerate() {
                let v = element_value(
                    <C::BasePrime as PrimeField>::ID,
                    (i as u8).wrapping_add(u.u8()) % 5,
                    u,
                );
                c.copy_from_slice(&v[..each]);
            }
            return bytes;
        }
        4 => {
            // Noise.
            return (0..2 * size_of::<C::Base>()).map(|_| u.u8()).collect();
        }
        _ => Projective::<C>::generator()
            .mul(&C::Scalar::from_u64(k))
            .to_affine(),
    };
    let primes: &[C::BasePrime] = bytemuck::cast_slice(std::slice::from_ref(&a));
    let mut out = Vec::with_capacity(2 * size_of::<C::Base>());
    for x in primes {
        let l = match enc {
            Encoding::Montgomery => x.to_montgomery(),
            Encoding::Canonical => x.to_canonical(),
        };
        out.extend_from_slice(&bytemuck::bytes_of(&l)[..size_of::<C::BasePrime>()]);
    }
    out
}

/// A point on the curve of a G1 group outside its prime-order subgroup, when the base field
/// has `p ≡ 3 (mod 4)` (square roots by one exponentiation) and the cofactor is not 1.
fn outside_subgroup<C: CurveGroup>(seed: u64) -> Option<Affine<C>> {
    // BN254 G1 has cofactor 1: every point on the curve is in the subgroup.
    if C::EXTENSION_DEGREE != 1 || C::CURVE == CurveId::Bn254 {
        return None;
    }
    let p = <C::BasePrime as PrimeField>::modulus();
    let p = p.as_ref();
    if p[0] & 3 != 3 {
        return None;
    }
    // (p + 1) / 4
    let mut e: Vec<u64> = p.to_vec();
    let mut carry = 1u64;
    for x in e.iter_mut() {
        let (v, c) = x.overflowing_add(carry);
        *x = v;
        carry = c as u64;
    }
    for i in 0..e.len() {
        let hi = e.get(i + 1).copied().unwrap_or(carry);
        e[i] = (e[i] >> 2) | (hi << 62);
    }
    for t in 0..64u64 {
        let xp = <C::BasePrime as PrimeField>::from_u64(seed.wrapping_add(t) % 1_000_003 + 2);
        let x: C::Base = bytemuck::cast(xp);
        let rhs = x.square() * x + C::B;
        let y = rhs.pow(&e);
        if y.square() == rhs {
            let a = Affine::<C>::new(x, y);
            if a.is_on_curve() && !a.is_in_subgroup() {
                return Some(a);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    //! The unsafe casting and buffer code of the C ABI on misaligned, short and empty
    //! buffers (run under valgrind by `ffi/tests/memory.rs` in CI, and under Miri where a
    //! nightly toolchain has it; see docs/reliability.md).

    use super::*;

    #[test]
    fn every_entry_has_a_distinct_symbol() {
        let mut names: Vec<&str> = Entry::all().iter().map(|e| e.symbol()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Entry::all().len());
        assert_eq!(Entry::from_symbol("msm"), Some(Entry::Msm));
        assert_eq!(Entry::from_symbol("zka_ntt"), Some(Entry::Ntt));
    }

    fn points(data: *const c_void, count: usize, stride: usize) -> zka_points {
        zka_points {
            struct_size: size_of::<zka_points>() as u32,
            curve: ZKA_CURVE_BN254,
            group: ZKA_G1,
            encoding: ZKA_ENCODING_CANONICAL,
            infinity: ZKA_INFINITY_ZERO,
            flag_offset: 0,
            stride,
            count,
            data,
        }
    }

    #[test]
    fn points_view_on_empty_short_and_unaligned_memory() {
        // count 0: no memory needed, NULL allowed.
        // SAFETY: nothing is read for zero points.
        let v = unsafe { points_view(&points(null(), 0, 0)) }
            .map_err(|f| f.msg)
            .unwrap();
        assert!(v.is_empty());
        // One point at an odd address inside a byte buffer: read unaligned.
        let mut bytes = [0u8; 65];
        bytes[1] = 1; // x = 1
        bytes[33] = 2; // y = 2
        let p = points(bytes[1..].as_ptr().cast(), 1, 0);
        // SAFETY: 64 readable bytes at `data`.
        let v = unsafe { points_view(&p) }.map_err(|f| f.msg).unwrap();
        let typed = v.typed::<zkaccel_backend::curves::Bn254G1>().unwrap();
        assert_eq!(typed.check_encoding(), Ok(()));
        assert_eq!(
            typed.get(0),
            <zkaccel_backend::curves::Bn254G1 as CurveGroup>::GENERATOR
        );
        // A stride below the coordinate size is refused. The buffer still holds what the
        // descriptor promises, (2 − 1)·63 + 64 bytes: the view is made before the stride is
        // checked (Miri flagged this test with a 65-byte buffer).
        let wide = [0u8; 127];
        // SAFETY: 127 readable bytes, as promised.
        let e = unsafe { points_view(&points(wide.as_ptr().cast(), 2, 63)) }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // count × stride overflowing is refused without reading.
        // SAFETY: refused before any read.
        let e = unsafe { points_view(&points(bytes.as_ptr().cast(), usize::MAX, 64)) }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // A flag byte past the stride is refused.
        let mut f = points(bytes.as_ptr().cast(), 1, 64);
        f.infinity = ZKA_INFINITY_FLAG;
        f.flag_offset = 64;
        // SAFETY: the descriptor promises 65 bytes, which `bytes` has.
        let e = unsafe { points_view(&f) }.err().unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // Flag inside a wider stride: the last point ends at its flag byte.
        f.stride = 72;
        f.flag_offset = 64;
        // SAFETY: 65 bytes promised and present.
        let v = unsafe { points_view(&f) }.map_err(|f| f.msg).unwrap();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn scalars_view_alignment_and_overflow() {
        let limbs = [[1u64, 0, 0, 0]; 3];
        let s = |data: *const u64, count: usize| zka_scalars {
            struct_size: size_of::<zka_scalars>() as u32,
            encoding: ZKA_ENCODING_CANONICAL,
            count,
            data,
        };
        // SAFETY: 3 aligned scalars.
        let v = unsafe { scalars_view(&s(limbs.as_ptr().cast::<u64>(), 3), FieldId::Bn254Fr) }
            .map_err(|f| f.msg)
            .unwrap();
        assert_eq!(v.len(), 3);
        // Misaligned: refused before a `[u64; 4]` slice is made.
        let bytes = [0u8; 8 * 4 * 2 + 1];
        let odd = bytes[1..].as_ptr().cast::<u64>();
        // SAFETY: refused before any read.
        let e = unsafe { scalars_view(&s(odd, 1), FieldId::Bn254Fr) }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // Too many to address.
        // SAFETY: refused before any read.
        let e = unsafe {
            scalars_view(
                &s(limbs.as_ptr().cast::<u64>(), usize::MAX / 16),
                FieldId::Bn254Fr,
            )
        }
        .err()
        .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // Empty with NULL and with a dangling pointer.
        for p in [
            null(),
            std::ptr::NonNull::<u64>::dangling().as_ptr().cast_const(),
        ] {
            // SAFETY: nothing is read for zero scalars.
            let v = unsafe { scalars_view(&s(p, 0), FieldId::Bn254Fr) }
                .map_err(|f| f.msg)
                .unwrap();
            assert!(v.is_empty());
        }
    }

    #[test]
    fn recode_refuses_misaligned_and_ragged_bytes() {
        // Goldilocks words at an odd address: the cast fails, nothing is written.
        let mut bytes = [0u8; 8 * 3 + 1];
        bytes[1] = 5;
        let e = recode(
            FieldId::Goldilocks,
            &mut bytes[1..],
            Form::Canonical,
            Form::Montgomery,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        assert_eq!(bytes[1], 5);
        // A length that is not a whole number of elements.
        let mut words = [0u64; 2];
        let b: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        let e = recode(
            FieldId::Bn254Fr,
            &mut b[..15],
            Form::Canonical,
            Form::Montgomery,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // Empty: nothing to do.
        recode(FieldId::Bn254Fr, &mut [], Form::Canonical, Form::Montgomery)
            .map_err(|f| f.msg)
            .unwrap();
        // BLS12-381 base field (48-byte elements) round trip, and p refused.
        let mut x = [0u64; 6];
        x[0] = 9;
        let b: &mut [u8] = bytemuck::cast_slice_mut(&mut x);
        recode(FieldId::Bls12_381Fq, b, Form::Canonical, Form::Montgomery)
            .map_err(|f| f.msg)
            .unwrap();
        recode(FieldId::Bls12_381Fq, b, Form::Montgomery, Form::Canonical)
            .map_err(|f| f.msg)
            .unwrap();
        assert_eq!(x[0], 9);
        let mut p = zkaccel_backend::curves::Bls12_381Fq::modulus();
        let e = recode(
            FieldId::Bls12_381Fq,
            bytemuck::cast_slice_mut(&mut p),
            Form::Canonical,
            Form::Montgomery,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ZKA_ERR_NOT_REDUCED);
    }

    #[test]
    fn elems_checks_null_alignment_and_overflow() {
        let words = [1u64, 2, 3];
        let p = words.as_ptr().cast::<c_void>();
        // SAFETY: 3 Goldilocks elements.
        let b = unsafe { elems(p, 3, FieldId::Goldilocks, "x") }
            .map_err(|f| f.msg)
            .unwrap();
        assert_eq!(b.len(), 24);
        // SAFETY: nothing is read for zero elements.
        assert!(unsafe { elems(null(), 0, FieldId::Goldilocks, "x") }.is_ok());
        // SAFETY: refused before any read.
        let e = unsafe { elems(null(), 1, FieldId::Goldilocks, "x") }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_NULL_POINTER);
        // SAFETY: refused before any read.
        let odd = unsafe { p.cast::<u8>().add(1) }.cast::<c_void>();
        // SAFETY: refused before any read.
        let e = unsafe { elems(odd, 1, FieldId::Goldilocks, "x") }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        // BabyBear words only need 4-byte alignment.
        // SAFETY: 4 bytes into the 24-byte array.
        let q = unsafe { p.cast::<u8>().add(4) }.cast::<c_void>();
        // SAFETY: 2 BabyBear words inside `words`.
        let b = unsafe { elems(q, 2, FieldId::BabyBear, "x") }
            .map_err(|f| f.msg)
            .unwrap();
        assert_eq!(b.len(), 8);
        // SAFETY: refused before any read.
        let e = unsafe { elems(p, usize::MAX / 4, FieldId::Bn254Fr, "x") }
            .err()
            .unwrap();
        assert_eq!(e.code, ZKA_ERR_INVALID_ARGUMENT);
        let mut w = words;
        // SAFETY: 3 writable elements (a copy).
        let m = unsafe { elems_mut(w.as_mut_ptr().cast(), 3, FieldId::Goldilocks, "x") }
            .map_err(|f| f.msg)
            .unwrap();
        m[0] = 9;
        assert_eq!(w[0], 9);
    }

    #[test]
    fn write_point_respects_capacity() {
        let raw = {
            let g = Projective::<zkaccel_backend::curves::Bn254G1>::generator();
            RawPoint::from_projective(&g)
        };
        let mut limbs = [u64::MAX; 8];
        let mut out = zka_point_out {
            struct_size: size_of::<zka_point_out>() as u32,
            form: ZKA_FORM_AFFINE,
            encoding: ZKA_ENCODING_CANONICAL,
            is_infinity: 9,
            limbs: limbs.as_mut_ptr(),
            capacity: 7,
            written: 0,
        };
        let e = write_point(&raw, &mut out).err().unwrap();
        assert_eq!(e.code, ZKA_ERR_BUFFER_TOO_SMALL);
        assert_eq!(limbs, [u64::MAX; 8], "nothing written on failure");
        out.capacity = 8;
        write_point(&raw, &mut out).map_err(|f| f.msg).unwrap();
        assert_eq!((out.written, out.is_infinity), (8, 0));
        assert_eq!(limbs[0], 1);
        assert_eq!(limbs[4], 2);
    }

    #[test]
    fn raw_get_and_set_widen_babybear() {
        let mut x = zkaccel_backend::BabyBear::from_u64(5);
        let l = raw_get(&x);
        assert_eq!(l.as_ref().len(), 1);
        raw_set(&mut x, &l);
        assert_eq!(x, zkaccel_backend::BabyBear::from_u64(5));
    }

    #[test]
    fn fuzz_inputs_of_every_length_prefix() {
        // Short and empty inputs (a pseudo-random tail): every entry must cope with them.
        let seed: Vec<u8> = (0u8..48).map(|i| i.wrapping_mul(37)).collect();
        for e in Entry::all() {
            for n in [0, 1, 7, 48] {
                run(*e, &seed[..n]);
            }
        }
    }
}
