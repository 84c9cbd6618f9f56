/* Poseidon and Poseidon2 kernels: see kernels/src/hash.rs. */
