#!/usr/bin/env bash
# Installs libzkaccel (shared and static), include/zkaccel.h and a pkg-config file under a
# prefix:
#   PREFIX/lib/libzkaccel.so.<ABI>  (SONAME) and the libzkaccel.so development link
#   PREFIX/lib/libzkaccel.a
#   PREFIX/include/zkaccel.h
#   PREFIX/lib/pkgconfig/zkaccel.pc
#
# usage: ffi/install.sh [--prefix DIR] [--from DIR]
#   --prefix DIR   where to install (default /usr/local)
#   --from DIR     take an already built libzkaccel.so/.a from DIR instead of running
#                  `cargo build --release -p zkaccel-ffi`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
prefix=/usr/local
from=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --from) from="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$from" ]; then
    (cd "$root" && cargo build --release -p zkaccel-ffi)
    from="$root/target/release"
fi
abi="$(sed -n 's/^pub const ZKA_ABI_VERSION: u32 = \([0-9]*\);/\1/p' "$here/src/lib.rs")"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
[ -n "$abi" ] && [ -n "$version" ] || { echo "install.sh: cannot read versions" >&2; exit 1; }

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 "$from/libzkaccel.so" "$prefix/lib/libzkaccel.so.$abi"
ln -sf "libzkaccel.so.$abi" "$prefix/lib/libzkaccel.so"
install -m 0644 "$from/libzkaccel.a" "$prefix/lib/libzkaccel.a"
install -m 0644 "$here/include/zkaccel.h" "$prefix/include/zkaccel.h"
cat > "$prefix/lib/pkgconfig/zkaccel.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: zkaccel
Description: Proving-acceleration runtime: MSM, NTT and hashing on CPU, GPU and FPGA
Version: $version
Libs: -L\${libdir} -lzkaccel
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
echo "installed libzkaccel $version (ABI $abi) under $prefix"
