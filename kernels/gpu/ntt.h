/* NTT kernels: see kernels/src/ntt.rs. */
