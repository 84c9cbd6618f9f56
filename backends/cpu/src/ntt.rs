//! CPU NTT (placeholder interface; the implementation lands in this file).

use zkaccel_backend::{
    BackendNttDomain, BackendResult, NttConfig, NttData, NttDomainSpec, TwoAdicField,
};

/// An NTT domain on the CPU: the spec and its precomputed twiddles.
pub struct CpuNttDomain<F: TwoAdicField> {
    spec: NttDomainSpec,
    _f: core::marker::PhantomData<F>,
}

impl<F: TwoAdicField> CpuNttDomain<F> {
    /// Builds the domain (precomputes twiddles).
    pub fn new(
        spec: &NttDomainSpec,
        pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    ) -> BackendResult<Self> {
        let _ = pool;
        Ok(Self {
            spec: spec.clone(),
            _f: core::marker::PhantomData,
        })
    }

    /// Transforms `cfg.batch` columns in place.
    pub fn run(&self, data: &mut [F], cfg: &NttConfig) -> BackendResult<()> {
        let _ = (data, cfg);
        Err(zkaccel_backend::BackendError::unsupported(
            zkaccel_backend::OpId::Ntt,
            "not yet",
        ))
    }
}

impl<F: TwoAdicField> BackendNttDomain for CpuNttDomain<F> {
    fn spec(&self) -> &NttDomainSpec {
        &self.spec
    }
    fn ntt(&self, mut data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()> {
        self.run(data.typed::<F>()?, cfg)
    }
}
