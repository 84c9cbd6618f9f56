//! # zkaccel-plugin
//!
//! Third-party backends loaded at run time: a plugin is a shared library, written in any
//! language that can export a C function, implementing the plugin ABI of
//! `ffi/include/zkaccel_backend.h`. This crate opens plugins ([`load`], [`load_paths`]),
//! reports every failure to load as a typed [`PluginLoadError`] inside a
//! [`PluginLoadReport`], and wraps each plugin device in a [`PluginBackend`] that implements
//! [`zkaccel_backend::Backend`], so the runtime routes, falls back, calibrates, benchmarks
//! and conformance-tests plugin devices like built-in ones.
//!
//! ## Contract
//!
//! - **Loading never crashes the process**: a missing file, a file that is not a shared
//!   library, a missing entry point, an ABI version too new or too old, a table too small, a
//!   NULL table, a NULL required function, a failing `create()` or device query — each is a
//!   [`PluginLoadError`], logged with `tracing::warn!` and kept in the report. (What cannot
//!   be caught is a plugin that crashes inside its own code: a plugin is trusted native
//!   code running in the process, like any shared library.)
//! - **The adapter converts, the plugin computes**: whatever layout the caller's data has
//!   (strides, flag bytes, canonical or Montgomery), the plugin receives one encoding per
//!   array, fixed by the header (packed Montgomery affine bases with `(0, 0)` for infinity,
//!   canonical scalars, NTT data in storage form). NTT features a plugin does not declare
//!   (bit-reversed orders, cosets, batches, the interleaved layout) are done around its
//!   call by the adapter, so a plugin may implement only the plain transform.
//! - **Results are validated before they are returned**: an MSM result must name the
//!   requested (curve, group), have exactly `3 × coordinate limbs` limbs, reduced
//!   coordinates, and lie on the curve; NTT output must be reduced (the plugin works on a
//!   copy, so a failed call leaves the caller's data untouched for the fallback device).
//!   A result that fails is a [`BackendError`](zkaccel_backend::BackendError): the runtime
//!   falls back to the next device. Validation does not prove a result right (a plugin can
//!   return another point on the curve); the runtime's result verification does that.
//! - **Errors, not panics, cross the boundary**: plugin status codes map to
//!   `BackendError` variants with the plugin's own message; no Rust code is ever called by
//!   a plugin, so no panic can unwind through it.
//! - **Threads**: plugins are called from many threads at once unless their table sets
//!   `ZKAP_PLUGIN_SERIALIZE`; then every call into that plugin holds one lock.

pub mod abi;
mod backend;
pub mod compile;
mod loader;

pub use backend::PluginBackend;
pub use loader::{
    env_paths, expand_path, load, load_paths, LoadedPlugin, PluginLoadError, PluginLoadReport,
    PluginSource, PLUGIN_PATH_ENV,
};
