//! MSM entry points: one-shot calls and the reusable bases handle.

use crate::error::{Error, Result};
use crate::registry::{Device, Route, Runtime};
use crate::split::MsmPart;
use crate::stats::CallReport;
use crate::validate;
use crate::verify::{self, CallOptions, Verification};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use zkaccel_backend::view::coordinate_bytes;
use zkaccel_backend::{
    with_curve_group, Affine, CurveGroup, CurveGroupId, Encoding, Infinity, OpId, PointsView,
    PreparedBases, Projective, RawPoint, RawPoints, RawScalars, ScalarsView,
};

/// How much checking MSM bases get before dispatch. Scalars are always checked to be below
/// the modulus, and coordinates always below the base-field modulus (cheap comparisons).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PointValidation {
    /// Coordinates below the modulus only (the default: an SRS is trusted data).
    #[default]
    Reduced,
    /// Also check the curve equation for every point.
    OnCurve,
    /// Also check prime-order subgroup membership (`[r]P = O`; costs about one scalar
    /// multiplication per point).
    Subgroup,
}

/// Per-call MSM options.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MsmOptions {
    /// Overrides the runtime's default point validation.
    pub validation: Option<PointValidation>,
    /// Overrides the runtime's default result verification (see [`crate::verify`]).
    pub verification: Option<Verification>,
    /// Overrides the runtime's default time limit (see [`CallOptions::timeout`]).
    pub timeout: Option<Duration>,
}

impl MsmOptions {
    /// The verification and time limit of these options.
    pub fn call(&self) -> CallOptions {
        CallOptions {
            verification: self.verification,
            timeout: self.timeout,
        }
    }
}

impl Runtime {
    /// `Σ scalars[i]·bases[i]` for bases in our layout and scalars as field elements.
    pub fn msm<C: CurveGroup>(
        &self,
        bases: &[Affine<C>],
        scalars: &[C::Scalar],
    ) -> Result<Projective<C>> {
        self.msm_view(
            PointsView::from_affine(bases),
            ScalarsView::from_elements(scalars),
            &MsmOptions::default(),
        )
        .map(|(p, _)| p)
    }

    /// `Σ scalars[i]·bases[i]` for borrowed views in any supported layout; also says where
    /// the call ran.
    pub fn msm_view<C: CurveGroup>(
        &self,
        bases: PointsView<'_, C>,
        scalars: ScalarsView<'_, C::Scalar>,
        opts: &MsmOptions,
    ) -> Result<(Projective<C>, CallReport)> {
        let (raw, report) = self.msm_raw(&bases.raw(), &scalars.raw(), opts)?;
        Ok((to_projective(&raw), report))
    }

    /// The erased MSM (the C ABI's entry point): validates, then dispatches.
    pub fn msm_raw(
        &self,
        bases: &RawPoints<'_>,
        scalars: &RawScalars<'_>,
        opts: &MsmOptions,
    ) -> Result<(RawPoint, CallReport)> {
        let id = bases.id();
        if bases.len() != scalars.len() {
            return Err(Error::LengthMismatch {
                bases: bases.len(),
                scalars: scalars.len(),
            });
        }
        let validation = opts.validation.unwrap_or(self.inner.validation);
        check_scalar_field(id, scalars)?;
        with_curve_group!(
            id,
            |C| {
                validate::points(&bases.typed::<C>().map_err(bad)?, validation)?;
                validate::scalars(&scalars.typed::<<C as CurveGroup>::Scalar>().map_err(bad)?)?;
            },
            return Err(Error::BadLayout(format!("unknown curve group {id}")))
        );
        let n = bases.len();
        let candidates = self.candidates(|d| d.capabilities.supports_msm(id, n), Route::msm(id, n));
        let parts = self.plan_msm(&candidates, &Route::msm(id, n), n);
        if parts.len() > 1 {
            let call = opts.call();
            return self.run_split_msm(id, &parts, &candidates, |p, order| {
                let b = bases.slice(p.start, p.len);
                let s = scalars.slice(p.start, p.len);
                self.attempts(
                    OpId::Msm,
                    || format!("{id}, points {}..{} of {n}", p.start, p.start + p.len),
                    order,
                    &call,
                    |d| d.backend.msm(&b, &s),
                    |d, r, level| self.check_msm(&d.info.name, &b, &s, r, level),
                )
            });
        }
        self.dispatch(
            OpId::Msm,
            || format!("{id}, {n} points"),
            candidates,
            &opts.call(),
            |d| d.backend.msm(bases, scalars),
            |d, r, level| self.check_msm(&d.info.name, bases, scalars, r, level),
        )
    }

    /// Verifies an MSM result from the device named `source` (see [`crate::verify`]): on the
    /// curve and in the subgroup always; recomputed on the CPU under `Full` and for a random
    /// sample of calls under `Sampled`.
    pub(crate) fn check_msm(
        &self,
        source: &str,
        bases: &RawPoints<'_>,
        scalars: &RawScalars<'_>,
        result: &RawPoint,
        level: Verification,
    ) -> std::result::Result<(), String> {
        let id = bases.id();
        with_curve_group!(
            id,
            |C| {
                let p = result.to_projective::<C>().map_err(|e| e.to_string())?;
                let a = p.to_affine();
                if !a.is_on_curve() {
                    return Err("the result is not on the curve".into());
                }
                if !a.is_in_subgroup() {
                    return Err("the result is not in the prime-order subgroup".into());
                }
                if level == Verification::Full || verify::msm_cross_check_sampled() {
                    let reference = self
                        .oracle()
                        .msm(bases, scalars)
                        .map_err(|e| format!("the CPU cross-check failed: {e}"))?;
                    let q = reference
                        .to_projective::<C>()
                        .map_err(|e| e.to_string())?
                        .to_affine();
                    if q != a {
                        return Err(format!(
                            "the result differs from the CPU's ({} points on {})",
                            bases.len(),
                            source
                        ));
                    }
                }
                Ok(())
            },
            Err(format!("unknown curve group {id}"))
        )
    }

    /// Takes in MSM bases (an SRS) once for many MSMs. The points are validated now, kept
    /// on the host in our layout, and uploaded (and precomputed) lazily on each device
    /// that keeps bases resident, the first time a call is routed there.
    pub fn msm_bases<C: CurveGroup>(
        &self,
        bases: PointsView<'_, C>,
        opts: &MsmOptions,
    ) -> Result<MsmBases<C>> {
        Ok(MsmBases {
            raw: self.msm_bases_raw(&bases.raw(), opts)?,
            _c: PhantomData,
        })
    }

    /// The erased form of [`Runtime::msm_bases`].
    pub fn msm_bases_raw(&self, bases: &RawPoints<'_>, opts: &MsmOptions) -> Result<RawMsmBases> {
        let id = bases.id();
        let validation = opts.validation.unwrap_or(self.inner.validation);
        let host: Vec<u64> = with_curve_group!(
            id,
            |C| {
                let view = bases.typed::<C>().map_err(bad)?;
                validate::points(&view, validation)?;
                let words = core::mem::size_of::<Affine<C>>() / 8;
                let mut host = vec![0u64; view.len() * words];
                let points: &mut [Affine<C>] = bytemuck::cast_slice_mut(&mut host);
                for (i, p) in points.iter_mut().enumerate() {
                    *p = view.get(i);
                }
                host
            },
            return Err(Error::BadLayout(format!("unknown curve group {id}")))
        );
        Ok(RawMsmBases {
            rt: self.clone(),
            id,
            len: bases.len(),
            host,
            prepared: self
                .devices()
                .iter()
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
            plan: OnceLock::new(),
        })
    }
}

fn bad(e: zkaccel_backend::BackendError) -> Error {
    Error::BadLayout(e.to_string())
}

fn check_scalar_field(id: CurveGroupId, scalars: &RawScalars<'_>) -> Result<()> {
    let expected = id.curve.scalar_field();
    if scalars.field() != expected {
        return Err(Error::ScalarFieldMismatch {
            expected,
            got: scalars.field(),
        });
    }
    Ok(())
}

fn to_projective<C: CurveGroup>(raw: &RawPoint) -> Projective<C> {
    // The runtime asked for C, and every backend answers in the group it was given.
    raw.to_projective::<C>()
        .expect("backend returned a point of the requested group")
}

/// MSM bases kept for many calls (erased form; see [`MsmBases`]).
pub struct RawMsmBases {
    rt: Runtime,
    id: CurveGroupId,
    len: usize,
    /// The points in our layout (`Affine<C>` as limbs).
    host: Vec<u64>,
    /// Per device: the resident copies made, each of a range of the points (the whole
    /// set, or the device's part of a split).
    prepared: Vec<Mutex<Vec<Piece>>>,
    /// How a split call cuts the whole set, fixed at the first split call so that every
    /// device keeps the same range resident.
    plan: OnceLock<Vec<MsmPart>>,
}

/// A device's resident copy of the points `[start, start + len)`.
struct Piece {
    start: usize,
    len: usize,
    bases: Arc<dyn PreparedBases>,
}

/// Resident ranges kept per device (the whole set and a part, at most).
const MAX_PIECES: usize = 2;

impl RawMsmBases {
    /// The (curve, group).
    pub fn id(&self) -> CurveGroupId {
        self.id
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `Σ scalars[i]·bases[start + i]` on device `d`, from its resident copy of
    /// `[start, start + piece)` (made now if missing) when it keeps bases resident.
    fn run_range(
        &self,
        d: &Device,
        start: usize,
        piece: usize,
        scalars: &RawScalars<'_>,
    ) -> std::result::Result<RawPoint, zkaccel_backend::BackendError> {
        if !d.capabilities.resident_bases {
            return d
                .backend
                .msm(&self.host_range(start, scalars.len()), scalars);
        }
        let mut slot = self.prepared[d.index]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let prepared = match slot
            .iter()
            .find(|p| p.start == start && p.len >= scalars.len())
        {
            Some(p) => p.bases.clone(),
            None => {
                let bases = d.backend.prepare_bases(&self.host_range(start, piece))?;
                if slot.len() >= MAX_PIECES {
                    slot.remove(0);
                }
                slot.push(Piece {
                    start,
                    len: piece,
                    bases: bases.clone(),
                });
                bases
            }
        };
        drop(slot);
        prepared.msm(scalars)
    }

    fn host_range(&self, start: usize, len: usize) -> RawPoints<'_> {
        self.host_view(self.len).slice(start, len)
    }

    fn host_view(&self, len: usize) -> RawPoints<'_> {
        let stride = 2 * coordinate_bytes(self.id);
        RawPoints::new(
            self.id,
            bytemuck::cast_slice(&self.host),
            self.len,
            stride,
            Infinity::ZeroCoordinates,
            Encoding::Montgomery,
        )
        .expect("host copy has our own layout")
        .slice(0, len)
    }

    /// `Σ scalars[i]·bases[i]` over the first `scalars.len()` bases.
    pub fn msm_raw(&self, scalars: &RawScalars<'_>) -> Result<(RawPoint, CallReport)> {
        self.msm_raw_with(scalars, &CallOptions::default())
    }

    /// The same with per-call verification and time limit.
    pub fn msm_raw_with(
        &self,
        scalars: &RawScalars<'_>,
        call: &CallOptions,
    ) -> Result<(RawPoint, CallReport)> {
        let n = scalars.len();
        if n > self.len {
            return Err(Error::TooManyScalars {
                bases: self.len,
                scalars: n,
            });
        }
        check_scalar_field(self.id, scalars)?;
        with_curve_group!(
            self.id,
            |C| validate::scalars(&scalars.typed::<<C as CurveGroup>::Scalar>().map_err(bad)?)?,
            return Err(Error::BadLayout(format!("unknown curve group {}", self.id)))
        );
        let id = self.id;
        let rt = &self.rt;
        let candidates = rt.candidates(
            |d| d.capabilities.supports_msm(id, self.len),
            Route::msm(id, n),
        );
        if rt.plan_msm(&candidates, &Route::msm(id, n), n).len() > 1 {
            // The cut of the whole set, clipped to the call's points.
            let plan = self
                .plan
                .get_or_init(|| rt.plan_msm(&candidates, &Route::msm(id, self.len), self.len));
            let parts: Vec<MsmPart> = plan
                .iter()
                .filter(|p| p.start < n)
                .map(|p| MsmPart {
                    len: p.len.min(n - p.start),
                    ..*p
                })
                .collect();
            if parts.len() > 1 {
                return rt.run_split_msm(id, &parts, &candidates, |p, order| {
                    let piece = plan
                        .iter()
                        .find(|q| q.start == p.start)
                        .map_or(p.len, |q| q.len);
                    let s = scalars.slice(p.start, p.len);
                    rt.attempts(
                        OpId::Msm,
                        || {
                            format!(
                                "{id}, points {}..{} of {n} from a bases handle",
                                p.start,
                                p.start + p.len
                            )
                        },
                        order,
                        call,
                        |d| self.run_range(d, p.start, piece, &s),
                        |d, r, level| {
                            rt.check_msm(
                                &d.info.name,
                                &self.host_range(p.start, p.len),
                                &s,
                                r,
                                level,
                            )
                        },
                    )
                });
            }
        }
        rt.dispatch(
            OpId::Msm,
            || format!("{id}, {n} points from a bases handle"),
            candidates,
            call,
            |d| self.run_range(d, 0, self.len, scalars),
            |d, r, level| rt.check_msm(&d.info.name, &self.host_view(n), scalars, r, level),
        )
    }
}

/// MSM bases of `C` kept for many calls: the SRS of a prover. Validated once when made;
/// later calls send only scalars (and devices that keep bases resident upload them once).
pub struct MsmBases<C: CurveGroup> {
    raw: RawMsmBases,
    _c: PhantomData<C>,
}

impl<C: CurveGroup> MsmBases<C> {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.raw.len
    }
    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }
    /// `Σ scalars[i]·bases[i]` over the first `scalars.len()` bases.
    pub fn msm(&self, scalars: &[C::Scalar]) -> Result<Projective<C>> {
        self.msm_view(ScalarsView::from_elements(scalars))
            .map(|(p, _)| p)
    }
    /// The same for a scalar view (e.g. canonical integers); also says where it ran.
    pub fn msm_view(
        &self,
        scalars: ScalarsView<'_, C::Scalar>,
    ) -> Result<(Projective<C>, CallReport)> {
        self.msm_view_with(scalars, &CallOptions::default())
    }
    /// The same with per-call verification and time limit.
    pub fn msm_view_with(
        &self,
        scalars: ScalarsView<'_, C::Scalar>,
        call: &CallOptions,
    ) -> Result<(Projective<C>, CallReport)> {
        let (raw, report) = self.raw.msm_raw_with(&scalars.raw(), call)?;
        Ok((to_projective(&raw), report))
    }
    /// The erased handle.
    pub fn raw(&self) -> &RawMsmBases {
        &self.raw
    }
}
