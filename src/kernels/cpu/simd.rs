//! Run-time choice of the vector instruction set (`SimdPath`) and `simd_fn!`, which
//! compiles one loop body for each path and calls the one this CPU runs.

/// The vector instruction set the fused kernels are compiled for on this CPU, chosen at
/// run time; every path is the same source compiled with other target features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdPath {
    /// AVX-512 (F, BW, DQ, VL) with FMA: 16 f32 lanes (Intel Xeon since Skylake-SP,
    /// AMD Zen 4 and 5).
    Avx512,
    /// AVX2 with FMA: 8 f32 lanes (x86-64 CPUs since 2013–2015).
    Avx2Fma,
    /// NEON: 4 f32 lanes, always there on 64-bit ARM (Apple silicon, ARM servers).
    Neon,
    /// Whatever the build targets (SSE2 on x86-64).
    Baseline,
}

impl SimdPath {
    /// The widest path this CPU runs (detected once).
    pub fn detect() -> Self {
        static PATH: std::sync::OnceLock<SimdPath> = std::sync::OnceLock::new();
        *PATH.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                use std::is_x86_feature_detected as has;
                if has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
                    return SimdPath::Avx512;
                }
                if has!("avx2") && has!("fma") {
                    return SimdPath::Avx2Fma;
                }
            }
            if cfg!(target_arch = "aarch64") {
                SimdPath::Neon
            } else {
                SimdPath::Baseline
            }
        })
    }

    /// Its name as the benchmarks and `dialect devices` print it.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "AVX-512",
            SimdPath::Avx2Fma => "AVX2+FMA",
            SimdPath::Neon => "NEON",
            SimdPath::Baseline => "baseline SIMD",
        }
    }
}

/// `$vis unsafe fn $name(args) -> ret { body }` whose body is compiled for the path
/// [`SimdPath::detect`] picks: the body becomes an `#[inline(always)]` function called
/// from each path's `#[target_feature]` function, so it is always compiled inside the
/// path's function, with whatever it calls that is `#[inline(always)]`. (A closure
/// handed to a `#[target_feature]` function may be kept out of line and compiled for
/// the baseline only: every hot loop is written this way instead.) Calling it is as
/// safe as its body: the wrapper only adds features the CPU has.
macro_rules! simd_fn {
    ($(#[$doc:meta])* $vis:vis unsafe fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            unsafe fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                match $crate::kernels::SimdPath::detect() {
                    // SAFETY: `detect` found the path's features on this CPU.
                    $crate::kernels::SimdPath::Avx512 => return avx512($($arg),*),
                    $crate::kernels::SimdPath::Avx2Fma => return avx2($($arg),*),
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use simd_fn;
