//! Internal-layer diagonals of the HorizenLabs Poseidon2 instances over the small fields,
//! transcribed as data (constants are facts, not code).
//!
//! Source: HorizenLabs' reference implementation `poseidon2` (published on crates.io as
//! `zkhash` 0.2.0), files `src/poseidon2/poseidon2_instance_babybear.rs` and
//! `src/poseidon2/poseidon2_instance_goldilocks.rs`, constants `MAT_DIAG{t}_M_1` (the
//! diagonal of `M_I − J`). Canonical integers. The BN254 width-3 instance uses
//! `[1, 1, 2]` (`MAT_DIAG3_M_1` of `poseidon2_instance_bn256.rs`).

/// HorizenLabs BabyBear width 16: `MAT_DIAG16_M_1` of `poseidon2_instance_babybear.rs`.
pub const HORIZEN_BABYBEAR_16: [u64; 16] = [
    0x0a632d94, 0x6db657b7, 0x56fbdc9e, 0x052b3d8a, 0x33745201, 0x5c03108c, 0x0beba37b, 0x258c2e8b,
    0x12029f39, 0x694909ce, 0x6d231724, 0x21c3b222, 0x3c0904a5, 0x01d6acda, 0x27705c83, 0x5231c802,
];

/// HorizenLabs BabyBear width 24: `MAT_DIAG24_M_1` of `poseidon2_instance_babybear.rs`.
pub const HORIZEN_BABYBEAR_24: [u64; 24] = [
    0x409133f0, 0x1667a8a1, 0x06a6c7b6, 0x6f53160e, 0x273b11d1, 0x03176c5d, 0x72f9bbf9, 0x73ceba91,
    0x5cdef81d, 0x01393285, 0x46daee06, 0x065d7ba6, 0x52d72d6f, 0x05dd05e0, 0x3bab4b63, 0x6ada3842,
    0x2fc5fbec, 0x770d61b0, 0x5715aae9, 0x03ef0e90, 0x75b6c770, 0x242adf5f, 0x00d0ca4c, 0x36c0e388,
];

/// HorizenLabs Goldilocks width 8: `MAT_DIAG8_M_1` of `poseidon2_instance_goldilocks.rs`.
pub const HORIZEN_GOLDILOCKS_8: [u64; 8] = [
    0xa98811a1fed4e3a5,
    0x1cc48b54f377e2a0,
    0xe40cd4f6c5609a26,
    0x11de79ebca97a4a3,
    0x9177c73d8b7e929c,
    0x2a6fe8085797e791,
    0x3de6e93329f8d5ad,
    0x3f7af9125da962fe,
];

/// HorizenLabs Goldilocks width 12: `MAT_DIAG12_M_1` of `poseidon2_instance_goldilocks.rs`.
pub const HORIZEN_GOLDILOCKS_12: [u64; 12] = [
    0xc3b6c08e23ba9300,
    0xd84b5de94a324fb6,
    0x0d0c371c5b35b84f,
    0x7964f570e7188037,
    0x5daf18bbd996604b,
    0x6743bc47b9595257,
    0x5528b9362c59bb70,
    0xac45e25b7127b68b,
    0xa2077d7dfbb606b5,
    0xf3faac6faee378ae,
    0x0c6388b51545e883,
    0xd27dbb6944917b60,
];

/// HorizenLabs Goldilocks width 16: `MAT_DIAG16_M_1` of `poseidon2_instance_goldilocks.rs`.
pub const HORIZEN_GOLDILOCKS_16: [u64; 16] = [
    0xde9b91a467d6afc0,
    0xc5f16b9c76a9be17,
    0x0ab0fef2d540ac55,
    0x3001d27009d05773,
    0xed23b1f906d3d9eb,
    0x5ce73743cba97054,
    0x1c3bab944af4ba24,
    0x2faa105854dbafae,
    0x53ffb3ae6d421a10,
    0xbcda9df8884ba396,
    0xfc1273e4a31807bb,
    0xc77952573d5142c0,
    0x56683339a819b85e,
    0x328fcbd8f0ddc8eb,
    0xb5101e303fce9cb7,
    0x774487b8c40089bb,
];

/// HorizenLabs Goldilocks width 20: `MAT_DIAG20_M_1` of `poseidon2_instance_goldilocks.rs`.
pub const HORIZEN_GOLDILOCKS_20: [u64; 20] = [
    0x95c381fda3b1fa57,
    0xf36fe9eb1288f42c,
    0x89f5dcdfef277944,
    0x106f22eadeb3e2d2,
    0x684e31a2530e5111,
    0x27435c5d89fd148e,
    0x3ebed31c414dbf17,
    0xfd45b0b2d294e3cc,
    0x48c904473a7f6dbf,
    0xe0d1b67809295b4d,
    0xddd1941e9d199dcb,
    0x8cfe534eeb742219,
    0xa6e5261d9e3b8524,
    0x6897ee5ed0f82c1b,
    0x0e7dcd0739ee5f78,
    0x493253f3d0d32363,
    0xbb2737f5845f05c0,
    0xa187e810b06ad903,
    0xb635b995936c4918,
    0x0b3694a940bd2394,
];
