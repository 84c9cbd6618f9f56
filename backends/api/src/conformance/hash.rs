//! Hashing cases: every backend against the reference permutations and modes of
//! [`crate::hash`] (themselves checked against circomlib, `zkhash` and Plonky3 in the
//! `zkaccel-backend` and `zkaccel-cpu` tests), and against published known answers.
//!
//! Cases are grouped by (family, field): one test per (group, operation) runs every instance
//! of the group the backend declares ([`crate::Capabilities::hash`]) and skips the others
//! loudly. Outputs are pre-filled with random values, so a backend that leaves part of an
//! output unwritten is caught (an empty Poseidon2 message hashes to zeros).

use super::Ctx;
use crate::backend::{Backend, HashOp};
use crate::curves::Bn254Fr;
use crate::field::{BabyBear, Goldilocks, PrimeField};
use crate::hash::modes;
use crate::hash::{HashFamily, HashField, HashId, Instance};

/// States per permutation batch: empty, one, a partial block, one block of 16, and more than
/// one block group of 64 with a ragged end.
const PERMUTE_BATCHES: [usize; 5] = [0, 1, 7, 16, 131];
/// Messages per hashing batch (an empty batch is tried once per instance).
const HASH_BATCHES: [usize; 2] = [1, 70];
/// Nodes per compression batch.
const COMPRESS_BATCHES: [usize; 4] = [0, 1, 5, 70];

/// The instances of `family` over `F`, each with its own context (random inputs seeded from
/// the instance and the case), for those the backend declares; a loud skip for the others.
fn instances<'a, F: HashField>(
    b: &'a dyn Backend,
    family: HashFamily,
    case: &str,
) -> Vec<(Ctx<'a>, HashId)> {
    let caps = b.capabilities();
    let ids: Vec<HashId> = HashId::ALL
        .iter()
        .copied()
        .filter(|id| id.info().family == family && id.info().field == F::ID)
        .collect();
    if ids.is_empty() {
        Ctx::new(b, format_args!("hash {family:?} over {} {case}", F::ID))
            .fail("no instance of this family over this field (a bug in the suite's macro)");
    }
    ids.into_iter()
        .filter_map(|id| {
            let cx = Ctx::new(b, format_args!("hash {id} {case}"));
            if caps.supports_hash(id) {
                Some((cx, id))
            } else {
                cx.skip(format_args!("hashing with {id}"));
                None
            }
        })
        .collect()
}

fn reference<F: HashField>(cx: &Ctx<'_>, id: HashId) -> Instance<F> {
    F::instance(id).unwrap_or_else(|e| cx.fail(format_args!("no reference instance: {e}")))
}

fn random_vec<F: PrimeField>(cx: &mut Ctx<'_>, n: usize) -> Vec<F> {
    (0..n).map(|_| F::random_with(&mut || cx.u64())).collect()
}

/// Runs one batched operation on the backend, failing the case on an error or a panic. The
/// shapes are checked against the instance first (a wrong shape is a bug in the suite).
fn call<F: PrimeField>(
    cx: &Ctx<'_>,
    id: HashId,
    op: HashOp,
    input: &[F],
    output: &mut [F],
    case: &str,
) {
    if let Err(e) = modes::check_op(&id.info(), op, input.len(), output.len()) {
        cx.fail(format_args!(
            "{case}: the suite built a malformed request: {e}"
        ));
    }
    cx.guard(case, || {
        cx.b.hash(
            id,
            op,
            bytemuck::cast_slice(input),
            bytemuck::cast_slice_mut(output),
        )
    })
    .unwrap_or_else(|e| {
        cx.fail(format_args!(
            "{case}: the backend failed, though it declares {id}: {e}"
        ))
    });
}

/// Compares item by item (`per_item` elements each) and names the first item that differs.
fn check_items<F: PrimeField>(cx: &Ctx<'_>, case: &str, per_item: usize, got: &[F], want: &[F]) {
    if got.len() != want.len() {
        cx.fail(format_args!(
            "{case}: {} elements out, {} expected",
            got.len(),
            want.len()
        ));
    }
    let items = got.chunks(per_item).zip(want.chunks(per_item));
    for (i, (g, w)) in items.enumerate() {
        if g != w {
            cx.fail(format_args!(
                "{case}: item {i} of {} differs from the reference\n  got:  {g:?}\n  want: {w:?}",
                want.len() / per_item
            ));
        }
    }
}

/// Batches of random states (the first two of a batch, when it has several, all zeros and
/// all `−1`) permuted in place, against [`Instance::permute`] state by state.
pub fn hash_permute<F: HashField>(b: &dyn Backend, family: HashFamily) {
    for (mut cx, id) in instances::<F>(b, family, "permute") {
        let t = id.info().width;
        let inst = reference::<F>(&cx, id);
        for n in PERMUTE_BATCHES {
            let case = format!("permute × {n}");
            let mut states = random_vec::<F>(&mut cx, n * t);
            if n >= 7 {
                states[..t].fill(F::ZERO);
                states[t..2 * t].fill(-F::ONE);
            }
            let mut want = states.clone();
            for s in want.chunks_mut(t) {
                inst.permute(s);
            }
            call(&cx, id, HashOp::Permute, &[], &mut states, &case);
            check_items(&cx, &case, t, &states, &want);
        }
    }
}

/// Random messages against [`modes::hash`]: for circomlib instances of their one length
/// `t − 1`; for Poseidon2 of lengths 0, 1, rate − 1, rate, rate + 1 and 3·rate + 2; each as
/// one message, a batch of 70 and an empty batch.
pub fn hash_hash<F: HashField>(b: &dyn Backend, family: HashFamily) {
    for (mut cx, id) in instances::<F>(b, family, "hash") {
        let info = id.info();
        let d = info.digest;
        let lengths: Vec<usize> = match modes::fixed_input_len(&info) {
            Some(n) => vec![n],
            None => {
                let r = info.rate;
                let mut v = vec![0, 1, r - 1, r, r + 1, 3 * r + 2];
                v.dedup();
                v
            }
        };
        let empty = format!("hash: empty batch, {}-element messages", lengths[0]);
        call::<F>(
            &cx,
            id,
            HashOp::Hash {
                input_len: lengths[0],
            },
            &[],
            &mut [],
            &empty,
        );
        for &len in &lengths {
            for n in HASH_BATCHES {
                let case = format!("hash: {n} messages of {len} elements");
                let input = random_vec::<F>(&mut cx, n * len);
                let mut want = vec![F::ZERO; n * d];
                for (i, o) in want.chunks_mut(d).enumerate() {
                    modes::hash(id, &input[i * len..(i + 1) * len], o)
                        .unwrap_or_else(|e| cx.fail(format_args!("{case}: reference: {e}")));
                }
                let mut got = random_vec::<F>(&mut cx, n * d);
                call(
                    &cx,
                    id,
                    HashOp::Hash { input_len: len },
                    &input,
                    &mut got,
                    &case,
                );
                check_items(&cx, &case, d, &got, &want);
            }
        }
    }
}

/// Batches of random children against [`modes::compress`], for every arity the instance
/// supports (instances without a Merkle arity are passed over).
pub fn hash_compress<F: HashField>(b: &dyn Backend, family: HashFamily) {
    for (mut cx, id) in instances::<F>(b, family, "compress") {
        let info = id.info();
        let d = info.digest;
        for &arity in info.merkle_arities() {
            for n in COMPRESS_BATCHES {
                let case = format!("compress: {n} nodes of arity {arity}");
                let children = random_vec::<F>(&mut cx, n * arity * d);
                let mut want = vec![F::ZERO; n * d];
                for (c, o) in children.chunks(arity * d).zip(want.chunks_mut(d)) {
                    modes::compress(id, arity, c, o)
                        .unwrap_or_else(|e| cx.fail(format_args!("{case}: reference: {e}")));
                }
                let mut got = random_vec::<F>(&mut cx, n * d);
                call(
                    &cx,
                    id,
                    HashOp::Compress { arity },
                    &children,
                    &mut got,
                    &case,
                );
                check_items(&cx, &case, d, &got, &want);
            }
        }
    }
}

/// Merkle trees built layer by layer with the backend's `Compress` against
/// [`modes::merkle_root_naive`], for every supported arity `k` and `k^0`, `k^1` and about
/// `2^10` leaves (`2^10`, `4^5`, `8^3`); plus the path of a random leaf, taken from the
/// backend's layers, checked with [`modes::verify_path`].
pub fn hash_merkle<F: HashField>(b: &dyn Backend, family: HashFamily) {
    for (mut cx, id) in instances::<F>(b, family, "merkle") {
        let info = id.info();
        let d = info.digest;
        for &arity in info.merkle_arities() {
            let big = 10 / arity.trailing_zeros();
            for height in [0, 1, big] {
                let leaves_n = arity.pow(height);
                let case = format!("Merkle tree of {leaves_n} leaves, arity {arity}");
                let leaves = random_vec::<F>(&mut cx, leaves_n * d);
                let mut layers = vec![leaves.clone()];
                while layers.last().map_or(0, Vec::len) > d {
                    let prev = layers.last().expect("a layer");
                    let mut next = random_vec::<F>(&mut cx, prev.len() / arity);
                    let step = format!("{case}, layer {}", layers.len());
                    call(&cx, id, HashOp::Compress { arity }, prev, &mut next, &step);
                    layers.push(next);
                }
                let want = modes::merkle_root_naive(id, arity, &leaves)
                    .unwrap_or_else(|e| cx.fail(format_args!("{case}: reference: {e}")));
                let root = layers.last().expect("a layer");
                if *root != want {
                    cx.fail(format_args!(
                        "{case}: root differs from the reference\n  got:  {root:?}\n  want: {want:?}"
                    ));
                }
                let index = cx.below(leaves_n);
                let path = modes::path_from_layers(&layers, arity, d, index)
                    .unwrap_or_else(|e| cx.fail(format_args!("{case}: path: {e}")));
                let leaf = &leaves[index * d..(index + 1) * d];
                let ok = modes::verify_path(id, arity, leaf, &path, &want)
                    .unwrap_or_else(|e| cx.fail(format_args!("{case}: verifying a path: {e}")));
                if !ok {
                    cx.fail(format_args!(
                        "{case}: the path of leaf {index} taken from the backend's layers does \
                         not lead to the reference root"
                    ));
                }
            }
        }
    }
}

/// One published answer: an operation on one input with one expected output.
struct Known<F> {
    id: HashId,
    op: HashOp,
    source: &'static str,
    input: Vec<F>,
    want: Vec<F>,
}

fn run_known<F: HashField>(b: &dyn Backend, k: &Known<F>) {
    let cx = Ctx::new(b, format_args!("hash {} known answer ({})", k.id, k.source));
    if !b.capabilities().supports_hash(k.id) {
        cx.skip(format_args!("hashing with {}", k.id));
        return;
    }
    let case = format!("{:?} of {:?}", k.op, k.input);
    let mut got: Vec<F>;
    match k.op {
        HashOp::Permute => {
            got = k.input.clone();
            call(&cx, k.id, k.op, &[], &mut got, &case);
        }
        _ => {
            got = vec![F::ONE; k.want.len()];
            call(&cx, k.id, k.op, &k.input, &mut got, &case);
        }
    }
    if got != k.want {
        cx.fail(format_args!(
            "{case}: got {got:?}, the published answer is {:?}",
            k.want
        ));
    }
    // The same answer from the middle of a batch (the item index must not leak in).
    let copies = 5;
    let mut batch_got: Vec<F>;
    let batch_in: Vec<F> = k.input.repeat(copies);
    let case = format!("{case} × {copies}");
    match k.op {
        HashOp::Permute => {
            batch_got = batch_in;
            call(&cx, k.id, k.op, &[], &mut batch_got, &case);
        }
        _ => {
            batch_got = vec![F::ONE; k.want.len() * copies];
            call(&cx, k.id, k.op, &batch_in, &mut batch_got, &case);
        }
    }
    check_items(&cx, &case, k.want.len(), &batch_got, &k.want.repeat(copies));
}

/// Published known answers through the backend: circomlib's `poseidon([1])`,
/// `poseidon([1, 2])`, `poseidon([1, 2, 3, 4])` (circomlib's tests, also light-poseidon's;
/// the last two also as Merkle nodes of arity 2 and 4);
/// the HorizenLabs Poseidon2 permutations of `[0, 1, …]` for BN254 t=3, Goldilocks t=12 and
/// BabyBear t=24 (`zkhash` KATs); Plonky3 0.8's default BabyBear t=16/24 and Goldilocks
/// t=8/12 permutations (`p3-baby-bear`/`p3-goldilocks` `test_default_*`). Each alone and as
/// five copies in one batch.
pub fn hash_known_answers(b: &dyn Backend) {
    let f = Bn254Fr::from_u64;
    let fr = Bn254Fr::from_str_const;
    let hash = |n: usize| HashOp::Hash { input_len: n };
    let bn: [Known<Bn254Fr>; 6] = [
        Known {
            id: HashId::PoseidonCircomT3,
            op: hash(2),
            source: "circomlib poseidon([1, 2])",
            input: vec![f(1), f(2)],
            want: vec![fr(
                "7853200120776062878684798364095072458815029376092732009249414926327459813530",
            )],
        },
        Known {
            id: HashId::PoseidonCircomT2,
            op: hash(1),
            source: "circomlib poseidon([1])",
            input: vec![f(1)],
            want: vec![fr(
                "18586133768512220936620570745912940619677854269274689475585506675881198879027",
            )],
        },
        Known {
            id: HashId::PoseidonCircomT5,
            op: hash(4),
            source: "circomlib poseidon([1, 2, 3, 4])",
            input: vec![f(1), f(2), f(3), f(4)],
            want: vec![fr(
                "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465",
            )],
        },
        Known {
            id: HashId::PoseidonCircomT3,
            op: HashOp::Compress { arity: 2 },
            source: "circomlib poseidon([1, 2]) as a Merkle node",
            input: vec![f(1), f(2)],
            want: vec![fr(
                "7853200120776062878684798364095072458815029376092732009249414926327459813530",
            )],
        },
        Known {
            id: HashId::PoseidonCircomT5,
            op: HashOp::Compress { arity: 4 },
            source: "circomlib poseidon([1, 2, 3, 4]) as a Merkle node",
            input: vec![f(1), f(2), f(3), f(4)],
            want: vec![fr(
                "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465",
            )],
        },
        Known {
            id: HashId::Poseidon2HorizenBn254T3,
            op: HashOp::Permute,
            source: "zkhash Poseidon2 KAT, BN254 t=3",
            input: vec![f(0), f(1), f(2)],
            want: vec![
                fr("0x0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033"),
                fr("0x303b6f7c86d043bfcbcc80214f26a30277a15d3f74ca654992defe7ff8d03570"),
                fr("0x1ed25194542b12eef8617361c3ba7c52e660b145994427cc86296242cf766ec8"),
            ],
        },
    ];
    for k in &bn {
        run_known(b, k);
    }

    let gl = |v: &[u64]| v.iter().map(|&x| Goldilocks::new(x)).collect::<Vec<_>>();
    let gl_known: [Known<Goldilocks>; 3] = [
        Known {
            id: HashId::Poseidon2HorizenGoldilocksT12,
            op: HashOp::Permute,
            source: "zkhash Poseidon2 KAT, Goldilocks t=12",
            input: gl(&(0..12).collect::<Vec<_>>()),
            want: gl(&[
                0x01eaef96bdf1c0c1,
                0x1f0d2cc525b2540c,
                0x6282c1dfe1e0358d,
                0xe780d721f698e1e6,
                0x280c0b6f753d833b,
                0x1b942dd5023156ab,
                0x43f0df3fcccb8398,
                0xe8e8190585489025,
                0x56bdbf72f77ada22,
                0x7911c32bf9dcd705,
                0xec467926508fbe67,
                0x6a50450ddf85a6ed,
            ]),
        },
        Known {
            id: HashId::Poseidon2Plonky3GoldilocksT8,
            op: HashOp::Permute,
            source: "Plonky3 0.8 p3-goldilocks default width 8 test vector",
            input: gl(&(0..8).collect::<Vec<_>>()),
            want: gl(&[
                0x020cf04a1b214d14,
                0x84e14aaaeacaed25,
                0x1ae0f640e81c7457,
                0xa4d204cbaeb0d8a5,
                0x0cf637b627b3a7ff,
                0x788d304d948b486b,
                0x7327133ea1949af4,
                0xf415abb924da395b,
            ]),
        },
        Known {
            id: HashId::Poseidon2Plonky3GoldilocksT12,
            op: HashOp::Permute,
            source: "Plonky3 0.8 p3-goldilocks default width 12 test vector",
            input: gl(&(0..12).collect::<Vec<_>>()),
            want: gl(&[
                0xf292ab67c0f14b03,
                0x0a32f1b37656544c,
                0x053c61ab895498de,
                0x02ff92e55b196ffb,
                0x58176e8f6f58cab2,
                0xb0aa1206e7aec0f8,
                0xe90c13f3dce83ca4,
                0xf4da15333edf39c2,
                0x23b701c053c2ca6c,
                0xd233d593dcdfbf58,
                0x4effa5f9516fb52e,
                0x0aaf4489f1f40166,
            ]),
        },
    ];
    for k in &gl_known {
        run_known(b, k);
    }

    let bb = |v: &[u32]| v.iter().map(|&x| BabyBear::new(x)).collect::<Vec<_>>();
    let bb_known: [Known<BabyBear>; 3] = [
        Known {
            id: HashId::Poseidon2HorizenBabyBearT24,
            op: HashOp::Permute,
            source: "zkhash Poseidon2 KAT, BabyBear t=24",
            input: bb(&(0..24).collect::<Vec<_>>()),
            want: bb(&[
                0x2ed3e23d, 0x12921fb0, 0x0e659e79, 0x61d81dc9, 0x32bae33b, 0x62486ae3, 0x1e681b60,
                0x24b91325, 0x2a2ef5b9, 0x50e8593e, 0x5bc818ec, 0x10691997, 0x35a14520, 0x2ba6a3c5,
                0x279d47ec, 0x55014e81, 0x5953a67f, 0x2f403111, 0x6b8828ff, 0x1801301f, 0x2749207a,
                0x3dc9cf21, 0x3c985ba2, 0x57a99864,
            ]),
        },
        Known {
            id: HashId::Poseidon2Plonky3BabyBearT16,
            op: HashOp::Permute,
            source: "Plonky3 0.8 p3-baby-bear default width 16 test vector",
            input: bb(&[
                894848333, 1437655012, 1200606629, 1690012884, 71131202, 1749206695, 1717947831,
                120589055, 19776022, 42382981, 1831865506, 724844064, 171220207, 1299207443,
                227047920, 1783754913,
            ]),
            want: bb(&[
                516096821, 90309867, 1101817252, 1660784290, 360715097, 1789519026, 1788910906,
                563338433, 319524748, 1741414159, 1650859320, 894311162, 1121347488, 1692793758,
                1052633829, 1344246938,
            ]),
        },
        Known {
            id: HashId::Poseidon2Plonky3BabyBearT24,
            op: HashOp::Permute,
            source: "Plonky3 0.8 p3-baby-bear default width 24 test vector",
            input: bb(&[
                886409618, 1327899896, 1902407911, 591953491, 648428576, 1844789031, 1198336108,
                355597330, 1799586834, 59617783, 790334801, 1968791836, 559272107, 31054313,
                1042221543, 474748436, 135686258, 263665994, 1962340735, 1741539604, 2026927696,
                449439011, 1131357108, 50869465,
            ]),
            want: bb(&[
                882297297, 1264077610, 512812497, 782602970, 867738552, 1251075457, 309180082,
                340784773, 524041877, 351272188, 404451680, 15001466, 322926653, 1773004150,
                1718440818, 674682955, 1154713225, 1719133502, 324232301, 1005243141, 443371079,
                268735940, 770060019, 718377682,
            ]),
        },
    ];
    for k in &bb_known {
        run_known(b, k);
    }
}

/// The suite checked against itself: a backend made of the reference modes passes, and one
/// with an injected fault fails the case that should catch it.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Capabilities, DeviceInfo, DeviceKind};
    use crate::error::BackendResult;
    use crate::ids::FieldId;

    #[derive(Copy, Clone, PartialEq, Eq, Debug)]
    enum Fault {
        None,
        /// The last element of a batch of more than 100 states is left unpermuted.
        PermuteRaggedEnd,
        /// Empty messages leave their output unwritten.
        EmptyMessageUnwritten,
        /// A message of more than `rate` elements is truncated to its first chunk.
        SpongeOneChunk,
        /// The two halves of an arity-2 node are swapped for the second node onwards.
        CompressSwapped,
    }

    struct RefBackend {
        info: DeviceInfo,
        fault: Fault,
        only: Option<Vec<HashId>>,
    }

    impl RefBackend {
        fn new(fault: Fault) -> Self {
            Self {
                info: DeviceInfo {
                    name: format!("reference modes, fault {fault:?}"),
                    kind: DeviceKind::Plugin,
                    vendor: String::new(),
                    driver: String::new(),
                    memory_bytes: 0,
                    compute_units: 1,
                    simulated: false,
                    runs_on_host: false,
                    clock_mhz: None,
                },
                fault,
                only: None,
            }
        }

        fn typed<F: HashField>(
            &self,
            id: HashId,
            op: HashOp,
            input: &[u8],
            output: &mut [u8],
        ) -> BackendResult<()> {
            let input: &[F] = bytemuck::cast_slice(input);
            let output: &mut [F] = bytemuck::cast_slice_mut(output);
            let info = id.info();
            let d = info.digest;
            match op {
                HashOp::Permute => {
                    let inst = F::instance(id)?;
                    let n = output.len() / info.width;
                    for s in output.chunks_mut(info.width) {
                        inst.permute(s);
                    }
                    if self.fault == Fault::PermuteRaggedEnd && n > 100 {
                        let last = output.len() - 1;
                        output[last] = F::ONE;
                    }
                }
                HashOp::Hash { input_len } => {
                    for (i, o) in output.chunks_mut(d).enumerate() {
                        let mut m = &input[i * input_len..(i + 1) * input_len];
                        if input_len == 0 && self.fault == Fault::EmptyMessageUnwritten {
                            continue;
                        }
                        if self.fault == Fault::SpongeOneChunk
                            && modes::fixed_input_len(&info).is_none()
                        {
                            m = &m[..m.len().min(info.rate)];
                        }
                        modes::hash(id, m, o)?;
                    }
                }
                HashOp::Compress { arity } => {
                    let mut c = vec![F::ZERO; arity * d];
                    for (i, o) in output.chunks_mut(d).enumerate() {
                        c.copy_from_slice(&input[i * arity * d..(i + 1) * arity * d]);
                        if self.fault == Fault::CompressSwapped && arity == 2 && i > 0 {
                            c.rotate_left(d);
                        }
                        modes::compress(id, arity, &c, o)?;
                    }
                }
            }
            Ok(())
        }
    }

    impl Backend for RefBackend {
        fn info(&self) -> &DeviceInfo {
            &self.info
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                hash: self.only.clone().unwrap_or_else(|| HashId::ALL.to_vec()),
                ..Capabilities::default()
            }
        }
        fn hash(
            &self,
            id: HashId,
            op: HashOp,
            input: &[u8],
            output: &mut [u8],
        ) -> BackendResult<()> {
            match id.info().field {
                FieldId::Bn254Fr => self.typed::<Bn254Fr>(id, op, input, output),
                FieldId::Goldilocks => self.typed::<Goldilocks>(id, op, input, output),
                FieldId::BabyBear => self.typed::<BabyBear>(id, op, input, output),
                f => unreachable!("no hash instance over {f}"),
            }
        }
    }

    fn fails(f: impl FnOnce()) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
    }

    #[test]
    fn reference_backend_passes() {
        let b = RefBackend::new(Fault::None);
        hash_known_answers(&b);
        hash_permute::<Bn254Fr>(&b, HashFamily::Poseidon2Horizen);
        hash_permute::<BabyBear>(&b, HashFamily::Poseidon2Plonky3);
        hash_hash::<Goldilocks>(&b, HashFamily::Poseidon2Plonky3);
        hash_hash::<Bn254Fr>(&b, HashFamily::PoseidonCircom);
        hash_compress::<BabyBear>(&b, HashFamily::Poseidon2Horizen);
        hash_merkle::<Goldilocks>(&b, HashFamily::Poseidon2Horizen);
    }

    #[test]
    fn faults_are_caught() {
        let b = RefBackend::new(Fault::PermuteRaggedEnd);
        assert!(fails(|| hash_permute::<BabyBear>(
            &b,
            HashFamily::Poseidon2Plonky3
        )));
        let b = RefBackend::new(Fault::EmptyMessageUnwritten);
        assert!(fails(|| hash_hash::<BabyBear>(
            &b,
            HashFamily::Poseidon2Plonky3
        )));
        let b = RefBackend::new(Fault::SpongeOneChunk);
        assert!(fails(|| hash_hash::<Goldilocks>(
            &b,
            HashFamily::Poseidon2Horizen
        )));
        let b = RefBackend::new(Fault::CompressSwapped);
        assert!(fails(|| hash_compress::<BabyBear>(
            &b,
            HashFamily::Poseidon2Plonky3
        )));
        assert!(fails(|| hash_merkle::<Goldilocks>(
            &b,
            HashFamily::Poseidon2Plonky3
        )));
    }

    #[test]
    fn undeclared_instances_are_skipped() {
        // A broken backend that declares nothing is never called.
        let mut b = RefBackend::new(Fault::PermuteRaggedEnd);
        b.only = Some(vec![]);
        if std::env::var(super::super::REQUIRE_CAPS_ENV).is_err() {
            hash_permute::<BabyBear>(&b, HashFamily::Poseidon2Plonky3);
        }
    }
}
