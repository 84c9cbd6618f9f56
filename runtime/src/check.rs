//! Checking results computed elsewhere — in another process or on another machine, such as
//! a cluster worker — against their inputs, with the same checks the runtime applies to its
//! own devices (see [`crate::verify`]):
//!
//! - MSM: the result is on the curve and in the prime-order subgroup; under `Full` (and for a
//!   random one call in [`crate::verify::MSM_CROSS_CHECK_ONE_IN`] under `Sampled`) it is
//!   recomputed on this runtime's CPU backend.
//! - NTT: the randomized O(n) check on one random column (`Sampled`) or every column
//!   (`Full`), each to a miss probability below `2^-40`.
//! - Hashing: a random sample of the items (`Sampled`) or all of them (`Full`) recomputed
//!   on the CPU.
//!
//! The inputs are validated first (lengths, reduced elements), so a malformed result is a
//! typed error, never a panic. [`Verification::Off`] checks only the shapes.

use crate::error::{Error, Result};
use crate::registry::Runtime;
use crate::validate;
use crate::verify::{self, Verification};
use zkaccel_backend::hash::modes::check_op;
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{
    with_ntt_field, Field, HashOp, NttConfig, NttDomainSpec, OpId, RawPoint, RawPoints, RawScalars,
};

fn rejected(op: OpId, source: &str, detail: impl Into<String>) -> Error {
    Error::ResultRejected {
        op,
        origin: source.to_owned(),
        detail: detail.into(),
    }
}

impl Runtime {
    /// Checks an MSM result that `source` (a name for messages, e.g. a worker) computed for
    /// `bases` and `scalars`. Returns [`Error::ResultRejected`] when it is wrong.
    pub fn check_msm_result_raw(
        &self,
        bases: &RawPoints<'_>,
        scalars: &RawScalars<'_>,
        result: &RawPoint,
        level: Verification,
        source: &str,
    ) -> Result<()> {
        if bases.len() != scalars.len() {
            return Err(Error::LengthMismatch {
                bases: bases.len(),
                scalars: scalars.len(),
            });
        }
        if result.id != bases.id() {
            return Err(rejected(
                OpId::Msm,
                source,
                format!(
                    "the result is on {}, the bases on {}",
                    result.id,
                    bases.id()
                ),
            ));
        }
        if level == Verification::Off {
            return Ok(());
        }
        self.check_msm(source, bases, scalars, result, level)
            .map_err(|d| rejected(OpId::Msm, source, d))
    }

    /// Checks that `output` is the transform `cfg` of `input` over the domain `spec` (both in
    /// storage form, `2^log_n · batch` elements). Returns [`Error::ResultRejected`] when it is
    /// not.
    pub fn check_ntt_result_raw(
        &self,
        spec: &NttDomainSpec,
        cfg: &NttConfig,
        input: &[u8],
        output: &[u8],
        level: Verification,
        source: &str,
    ) -> Result<()> {
        let field = spec.field;
        if !field.is_ntt_field() {
            return Err(Error::BadLayout(format!("{field} has no NTT")));
        }
        crate::ntt::check_call(spec, cfg, input.len())?;
        crate::ntt::check_call(spec, cfg, output.len())?;
        let elem = field.element_bytes();
        with_ntt_field!(
            field,
            |F| {
                if spec.root_as::<F>().is_err() {
                    return Err(Error::InvalidRoot {
                        log_n: spec.log_n,
                        field,
                    });
                }
                // Copies: the bytes may come unaligned from a file or a socket.
                let typed = |bytes: &[u8]| {
                    let mut v = vec![F::ZERO; bytes.len() / elem];
                    bytemuck::cast_slice_mut::<F, u8>(&mut v).copy_from_slice(bytes);
                    v
                };
                let (input, output) = (typed(input), typed(output));
                validate::elements(&input)?;
                if let Err(Error::ElementNotReduced { index, .. }) = validate::elements(&output) {
                    return Err(rejected(
                        OpId::Ntt,
                        source,
                        format!("output element {index} is not reduced"),
                    ));
                }
                let columns = verify::ntt_columns(level, cfg.batch);
                verify::ntt_check(&input, &output, spec, cfg, &columns).map_err(|c| {
                    rejected(
                        OpId::Ntt,
                        source,
                        format!("column {c} is not the transform of its input"),
                    )
                })
            },
            Err(Error::BadLayout(format!("{field} has no NTT")))
        )
    }

    /// Checks a hashing result (`output`) that `source` computed from `input` with `op` of
    /// instance `id` (for a permutation, `input` holds the original states). Returns
    /// [`Error::ResultRejected`] when a checked item differs from the CPU's.
    pub fn check_hash_result_raw(
        &self,
        id: HashId,
        op: HashOp,
        input: &[u8],
        output: &[u8],
        level: Verification,
        source: &str,
    ) -> Result<()> {
        let info = id.info();
        let elem = info.field.element_bytes();
        let whole = input.len().is_multiple_of(elem) && output.len().is_multiple_of(elem);
        // A permutation's input is the original states, one per output state.
        let permute = op == HashOp::Permute;
        if !whole || (permute && input.len() != output.len()) {
            return Err(Error::BadLayout(format!(
                "hash {id} {op:?}: {} input bytes and {} output bytes do not make whole items",
                input.len(),
                output.len()
            )));
        }
        let in_elems = if permute { 0 } else { input.len() / elem };
        check_op(&info, op, in_elems, output.len() / elem)?;
        if level == Verification::Off {
            return Ok(());
        }
        self.check_hash(id, op, input, output, level)
            .map_err(|d| rejected(OpId::Hash, source, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceKind, Policy};
    use zkaccel_backend::curves::{Bn254Fr, Bn254G1};
    use zkaccel_backend::{
        Affine, BabyBear, BatchLayout, Goldilocks, NttDirection, NttOrder, PointsView, PrimeField,
        Projective, ScalarsView,
    };

    fn cpu() -> Runtime {
        Runtime::builder()
            .policy(Policy::Only(DeviceKind::Cpu))
            .without_opencl()
            .without_cuda()
            .without_profile()
            .build()
            .unwrap()
    }

    fn rejected(r: Result<()>) -> bool {
        matches!(r, Err(Error::ResultRejected { .. }))
    }

    #[test]
    fn remote_ntt_results_are_checked() {
        let rt = cpu();
        let log_n = 10;
        let dom = rt.ntt_domain::<Goldilocks>(log_n).unwrap();
        let cfg = NttConfig {
            direction: NttDirection::Inverse,
            input_order: NttOrder::BitReversed,
            output_order: NttOrder::Natural,
            coset: Some([7, 0, 0, 0]),
            batch: 3,
            layout: BatchLayout::Interleaved,
        };
        let input: Vec<Goldilocks> = (0..3u64 << log_n)
            .map(|i| Goldilocks::from_u64(i * i + 1))
            .collect();
        let mut output = input.clone();
        dom.run(&mut output, &cfg).unwrap();
        let (i, o) = (
            bytemuck::cast_slice::<_, u8>(&input),
            bytemuck::cast_slice::<_, u8>(&output),
        );
        let spec = dom.raw().spec().clone();
        for level in [Verification::Sampled, Verification::Full] {
            rt.check_ntt_result_raw(&spec, &cfg, i, o, level, "w1")
                .unwrap();
        }
        // One element of one column off: Full checks every column.
        let mut wrong = output.clone();
        wrong[5 * 3 + 2] += Goldilocks::from_u64(1);
        let w = bytemuck::cast_slice::<_, u8>(&wrong);
        assert!(rejected(rt.check_ntt_result_raw(
            &spec,
            &cfg,
            i,
            w,
            Verification::Full,
            "w1"
        )));
        // Not reduced, and the wrong length.
        let mut bytes = o.to_vec();
        bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(rejected(rt.check_ntt_result_raw(
            &spec,
            &cfg,
            i,
            &bytes,
            Verification::Full,
            "w1"
        )));
        assert!(matches!(
            rt.check_ntt_result_raw(&spec, &cfg, i, &o[8..], Verification::Full, "w1"),
            Err(Error::BatchShape { .. })
        ));
    }

    #[test]
    fn remote_hash_results_are_checked() {
        let rt = cpu();
        let id = HashId::Poseidon2Plonky3BabyBearT16;
        let input: Vec<BabyBear> = (0..16 * 40).map(BabyBear::new).collect();
        let mut states = input.clone();
        rt.permute(id, &mut states).unwrap();
        let (i, o) = (
            bytemuck::cast_slice::<_, u8>(&input),
            bytemuck::cast_slice::<_, u8>(&states),
        );
        rt.check_hash_result_raw(id, HashOp::Permute, i, o, Verification::Full, "w")
            .unwrap();
        let mut wrong = states.clone();
        wrong[16 * 39 + 3] = BabyBear::new(1);
        let w = bytemuck::cast_slice::<_, u8>(&wrong);
        assert!(rejected(rt.check_hash_result_raw(
            id,
            HashOp::Permute,
            i,
            w,
            Verification::Full,
            "w"
        )));
        assert!(matches!(
            rt.check_hash_result_raw(id, HashOp::Permute, i, &o[4..], Verification::Full, "w"),
            Err(Error::BadLayout(_))
        ));
    }

    #[test]
    fn remote_msm_results_are_checked() {
        let rt = cpu();
        let g = Projective::<Bn254G1>::generator();
        let bases: Vec<Affine<Bn254G1>> = (1..=50u64)
            .map(|k| g.mul(&Bn254Fr::from_u64(k * 3)).to_affine())
            .collect();
        let scalars: Vec<Bn254Fr> = (1..=50u64).map(|k| Bn254Fr::from_u64(k * k)).collect();
        let (b, s) = (
            PointsView::from_affine(&bases).raw(),
            ScalarsView::from_elements(&scalars).raw(),
        );
        let right = RawPoint::from_projective(&rt.msm(&bases, &scalars).unwrap());
        rt.check_msm_result_raw(&b, &s, &right, Verification::Full, "w")
            .unwrap();
        let doubled = RawPoint::from_projective(&rt.msm(&bases, &scalars).unwrap().double());
        assert!(rejected(rt.check_msm_result_raw(
            &b,
            &s,
            &doubled,
            Verification::Full,
            "w"
        )));
        let mut off_curve = right;
        off_curve.limbs[0] ^= 1;
        // Sampled always checks the curve equation.
        assert!(rejected(rt.check_msm_result_raw(
            &b,
            &s,
            &off_curve,
            Verification::Sampled,
            "w"
        )));
    }
}
