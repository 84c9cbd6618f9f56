//! The `#[repr(C)]` mirror of `ffi/include/zkaccel_backend.h` (plugin ABI 1).
//!
//! Every struct here has the same size, alignment and field offsets as its C counterpart; the
//! test `backends/plugin/tests/header.rs` compiles a C program that prints `sizeof` and
//! `offsetof` of each and compares them with these definitions. Field documentation is in
//! the header; the short notes here say only what the Rust side relies on.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

/// The plugin ABI version this runtime speaks (`ZKAP_ABI_VERSION`).
pub const ZKAP_ABI_VERSION: u32 = 1;
/// The oldest plugin ABI version this runtime accepts.
pub const ZKAP_ABI_VERSION_MIN: u32 = 1;
/// The symbol a plugin exports (`ZKAP_ENTRY_SYMBOL`).
pub const ZKAP_ENTRY_SYMBOL: &str = "zkaccel_plugin_entry";

/// Success.
pub const ZKAP_OK: i32 = 0;
/// Not supported.
pub const ZKAP_ERR_UNSUPPORTED: i32 = -1;
/// An inconsistent argument.
pub const ZKAP_ERR_INVALID_ARGUMENT: i32 = -2;
/// Out of device memory.
pub const ZKAP_ERR_OUT_OF_MEMORY: i32 = -3;
/// The device stopped answering.
pub const ZKAP_ERR_DEVICE_LOST: i32 = -4;
/// Timed out.
pub const ZKAP_ERR_TIMEOUT: i32 = -5;
/// Anything else.
pub const ZKAP_ERR_INTERNAL: i32 = -6;

/// `zkap_plugin.flags`: serialise every call with one lock.
pub const ZKAP_PLUGIN_SERIALIZE: u32 = 1;

/// `zkap_ntt_cap.flags`: bit-reversed orders handled by the plugin.
pub const ZKAP_NTT_ORDERS: u32 = 1;
/// Coset transforms handled by the plugin.
pub const ZKAP_NTT_COSET: u32 = 2;
/// Contiguous batches handled by the plugin.
pub const ZKAP_NTT_BATCH: u32 = 4;
/// The interleaved layout handled by the plugin.
pub const ZKAP_NTT_INTERLEAVED: u32 = 8;

/// Capacity of `zkap_capabilities.msm`.
pub const ZKAP_MAX_MSM_CAPS: usize = 16;
/// Capacity of `zkap_capabilities.ntt`.
pub const ZKAP_MAX_NTT_CAPS: usize = 16;
/// Capacity of `zkap_capabilities.hash`.
pub const ZKAP_MAX_HASH_CAPS: usize = 32;
/// Capacity of `zkap_msm_result.limbs`.
pub const ZKAP_MAX_RESULT_LIMBS: usize = 36;

/// What the runtime tells a plugin when it loads it.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_host {
    /// `sizeof(zkap_host)`.
    pub struct_size: u32,
    /// Newest plugin ABI the runtime speaks.
    pub abi_version: u32,
    /// Oldest plugin ABI the runtime accepts.
    pub abi_version_min: u32,
    /// Runtime version, `MAJOR·1 000 000 + MINOR·1 000 + PATCH`.
    pub runtime_version: u32,
}

/// Facts about one plugin device.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_device_info {
    /// Set by the runtime.
    pub struct_size: u32,
    /// Compute units.
    pub compute_units: u32,
    /// Peak clock in MHz, 0 when unknown.
    pub clock_mhz: u32,
    /// 1 when simulated.
    pub simulated: u32,
    /// 1 when the work runs on the host CPU.
    pub runs_on_host: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// Device memory in bytes.
    pub memory_bytes: u64,
    /// Name.
    pub name: [c_char; 128],
    /// Vendor.
    pub vendor: [c_char; 64],
    /// Driver version.
    pub driver: [c_char; 64],
}

/// MSM support for one (curve, group).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct zkap_msm_cap {
    /// `ZKA_CURVE_*`.
    pub curve: u32,
    /// `ZKA_G1`/`ZKA_G2`.
    pub group: u32,
    /// Largest number of points.
    pub max_len: u64,
}

/// NTT support for one field.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default)]
pub struct zkap_ntt_cap {
    /// `ZKA_FIELD_*`.
    pub field: u32,
    /// Largest `log2(n)`.
    pub max_log_n: u32,
    /// `ZKAP_NTT_*` bits.
    pub flags: u32,
    /// Reserved, 0.
    pub reserved: u32,
}

/// What one plugin device can do.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_capabilities {
    /// Set by the runtime.
    pub struct_size: u32,
    /// Entries used in `msm`.
    pub msm_count: u32,
    /// Entries used in `ntt`.
    pub ntt_count: u32,
    /// Entries used in `hash`.
    pub hash_count: u32,
    /// MSM support.
    pub msm: [zkap_msm_cap; ZKAP_MAX_MSM_CAPS],
    /// NTT support.
    pub ntt: [zkap_ntt_cap; ZKAP_MAX_NTT_CAPS],
    /// Hash instance ids.
    pub hash: [u32; ZKAP_MAX_HASH_CAPS],
}

/// One MSM's inputs.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_msm_args {
    /// Set by the runtime.
    pub struct_size: u32,
    /// `ZKA_CURVE_*`.
    pub curve: u32,
    /// `ZKA_G1`/`ZKA_G2`.
    pub group: u32,
    /// Limbs per coordinate.
    pub coord_limbs: u32,
    /// Number of points and scalars.
    pub count: u64,
    /// Packed affine Montgomery points, `(0, 0)` for infinity (or NULL).
    pub points: *const u64,
    /// Canonical scalars, four limbs each (or NULL).
    pub scalars: *const u64,
}

/// Where an MSM result goes.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_msm_result {
    /// Set by the runtime.
    pub struct_size: u32,
    /// Written: curve of the result.
    pub curve: u32,
    /// Written: group of the result.
    pub group: u32,
    /// Written: limbs used.
    pub limbs_written: u32,
    /// Written: Jacobian `X, Y, Z`, Montgomery; infinity has `Z = 0`.
    pub limbs: [u64; ZKAP_MAX_RESULT_LIMBS],
}

/// What defines an NTT domain.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_ntt_domain_args {
    /// Set by the runtime.
    pub struct_size: u32,
    /// `ZKA_FIELD_*`.
    pub field: u32,
    /// `log2(n)`.
    pub log_n: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// The root of unity, canonical, zero-padded.
    pub root: [u64; 4],
}

/// One transform.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_ntt_args {
    /// Set by the runtime.
    pub struct_size: u32,
    /// `ZKA_NTT_FORWARD`/`ZKA_NTT_INVERSE`.
    pub direction: u32,
    /// `ZKA_ORDER_*` of the input.
    pub input_order: u32,
    /// `ZKA_ORDER_*` of the output.
    pub output_order: u32,
    /// `ZKA_LAYOUT_*`.
    pub layout: u32,
    /// 1 with a coset shift.
    pub has_coset: u32,
    /// Number of columns.
    pub batch: u64,
    /// The coset shift, canonical.
    pub coset_shift: [u64; 4],
    /// The elements, storage form.
    pub data: *mut c_void,
    /// Bytes of `data`.
    pub data_bytes: u64,
}

/// One hashing operation.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_hash_args {
    /// Set by the runtime.
    pub struct_size: u32,
    /// Instance id.
    pub instance: u32,
    /// `ZKA_HASH_*` operation.
    pub op: u32,
    /// Message length or arity.
    pub param: u32,
    /// Input elements.
    pub input: *const c_void,
    /// Number of input elements.
    pub input_len: u64,
    /// Output elements.
    pub output: *mut c_void,
    /// Number of output elements.
    pub output_len: u64,
}

/// `create`.
pub type CreateFn = unsafe extern "C" fn(*const zkap_host, *mut *mut c_void) -> i32;
/// `destroy`.
pub type DestroyFn = unsafe extern "C" fn(*mut c_void);
/// `error_message`.
pub type ErrorMessageFn = unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> i32;
/// `device_count`.
pub type DeviceCountFn = unsafe extern "C" fn(*mut c_void) -> u32;
/// `device_info`.
pub type DeviceInfoFn = unsafe extern "C" fn(*mut c_void, u32, *mut zkap_device_info) -> i32;
/// `capabilities`.
pub type CapabilitiesFn = unsafe extern "C" fn(*mut c_void, u32, *mut zkap_capabilities) -> i32;
/// `msm`.
pub type MsmFn =
    unsafe extern "C" fn(*mut c_void, u32, *const zkap_msm_args, *mut zkap_msm_result) -> i32;
/// `bases_create`.
pub type BasesCreateFn =
    unsafe extern "C" fn(*mut c_void, u32, *const zkap_msm_args, *mut *mut c_void) -> i32;
/// `bases_msm`.
pub type BasesMsmFn = unsafe extern "C" fn(
    *mut c_void,
    *mut c_void,
    *const zkap_msm_args,
    *mut zkap_msm_result,
) -> i32;
/// `bases_destroy` and `ntt_domain_destroy`.
pub type HandleDestroyFn = unsafe extern "C" fn(*mut c_void, *mut c_void);
/// `ntt_domain_create`.
pub type NttDomainCreateFn =
    unsafe extern "C" fn(*mut c_void, u32, *const zkap_ntt_domain_args, *mut *mut c_void) -> i32;
/// `ntt`.
pub type NttFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *const zkap_ntt_args) -> i32;
/// `hash`.
pub type HashFn = unsafe extern "C" fn(*mut c_void, u32, *const zkap_hash_args) -> i32;
/// `zkaccel_plugin_entry`.
pub type EntryFn = unsafe extern "C" fn(*const zkap_host) -> *const zkap_plugin;

/// The table a plugin returns. Function pointers are `Option`s: NULL is `None`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zkap_plugin {
    /// The plugin's `sizeof(zkap_plugin)`.
    pub struct_size: u32,
    /// The plugin's ABI version.
    pub abi_version: u32,
    /// `ZKAP_PLUGIN_*` bits.
    pub flags: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// Plugin name (static C string).
    pub name: *const c_char,
    /// Plugin version (static C string).
    pub version: *const c_char,
    /// Required.
    pub create: Option<CreateFn>,
    /// Required.
    pub destroy: Option<DestroyFn>,
    /// Optional.
    pub error_message: Option<ErrorMessageFn>,
    /// Required.
    pub device_count: Option<DeviceCountFn>,
    /// Required.
    pub device_info: Option<DeviceInfoFn>,
    /// Required.
    pub capabilities: Option<CapabilitiesFn>,
    /// Optional.
    pub msm: Option<MsmFn>,
    /// Optional (with `bases_msm` and `bases_destroy`).
    pub bases_create: Option<BasesCreateFn>,
    /// Optional.
    pub bases_msm: Option<BasesMsmFn>,
    /// Optional.
    pub bases_destroy: Option<HandleDestroyFn>,
    /// Optional (with `ntt` and `ntt_domain_destroy`).
    pub ntt_domain_create: Option<NttDomainCreateFn>,
    /// Optional.
    pub ntt: Option<NttFn>,
    /// Optional.
    pub ntt_domain_destroy: Option<HandleDestroyFn>,
    /// Optional.
    pub hash: Option<HashFn>,
}

/// The size of an ABI-1 table (`ZKAP_PLUGIN_SIZE_V1`): smaller tables are rejected.
pub const ZKAP_PLUGIN_SIZE_V1: usize =
    core::mem::offset_of!(zkap_plugin, hash) + core::mem::size_of::<Option<HashFn>>();

/// The layout of one struct of the ABI, as Rust lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructLayout {
    /// The C name.
    pub name: &'static str,
    /// `sizeof`.
    pub size: usize,
    /// Alignment.
    pub align: usize,
    /// `(field, offsetof)` for every field.
    pub fields: Vec<(&'static str, usize)>,
}

/// The layout of every struct of the ABI (compared with C's by the header test).
pub fn layout_table() -> Vec<StructLayout> {
    use core::mem::{align_of, offset_of, size_of};
    macro_rules! s {
        ($t:ident { $($f:ident),* $(,)? }) => {
            StructLayout {
                name: stringify!($t),
                size: size_of::<$t>(),
                align: align_of::<$t>(),
                fields: vec![$((stringify!($f), offset_of!($t, $f))),*],
            }
        };
    }
    vec![
        s!(zkap_host {
            struct_size,
            abi_version,
            abi_version_min,
            runtime_version
        }),
        s!(zkap_device_info {
            struct_size,
            compute_units,
            clock_mhz,
            simulated,
            runs_on_host,
            reserved,
            memory_bytes,
            name,
            vendor,
            driver
        }),
        s!(zkap_msm_cap {
            curve,
            group,
            max_len
        }),
        s!(zkap_ntt_cap {
            field,
            max_log_n,
            flags,
            reserved
        }),
        s!(zkap_capabilities {
            struct_size,
            msm_count,
            ntt_count,
            hash_count,
            msm,
            ntt,
            hash
        }),
        s!(zkap_msm_args {
            struct_size,
            curve,
            group,
            coord_limbs,
            count,
            points,
            scalars
        }),
        s!(zkap_msm_result {
            struct_size,
            curve,
            group,
            limbs_written,
            limbs
        }),
        s!(zkap_ntt_domain_args {
            struct_size,
            field,
            log_n,
            reserved,
            root
        }),
        s!(zkap_ntt_args {
            struct_size,
            direction,
            input_order,
            output_order,
            layout,
            has_coset,
            batch,
            coset_shift,
            data,
            data_bytes
        }),
        s!(zkap_hash_args {
            struct_size,
            instance,
            op,
            param,
            input,
            input_len,
            output,
            output_len
        }),
        s!(zkap_plugin {
            struct_size,
            abi_version,
            flags,
            reserved,
            name,
            version,
            create,
            destroy,
            error_message,
            device_count,
            device_info,
            capabilities,
            msm,
            bases_create,
            bases_msm,
            bases_destroy,
            ntt_domain_create,
            ntt,
            ntt_domain_destroy,
            hash
        }),
    ]
}
