//! Gives libzkaccel.so a SONAME carrying the ABI major version and exports only `zka_*`.

/// The ABI major version; `ZKA_ABI_VERSION` in src/lib.rs must equal it (a test checks).
const ABI: u32 = 1;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzkaccel.so.{ABI}");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/zkaccel.map");
    }
    println!("cargo:rustc-env=ZKA_BUILD_ABI={ABI}");
    println!("cargo:rerun-if-changed=zkaccel.map");
    println!("cargo:rerun-if-changed=build.rs");
}
