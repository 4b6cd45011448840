// Dialect's fused training kernels for CUDA (compiled to PTX by build.rs with nvcc).
// candle composes layer norm, softmax, dropout and GELU from many small kernels; on a
// GPU each launch costs more than its arithmetic, so these do each in one pass. The
// optimiser's kernel is beside the optimiser (src/train/optim/adamw.cu).
// bf16 values travel as raw 16-bit words (no cuda_bf16.h needed); all arithmetic is f32.

typedef unsigned short bf16;
typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ float load(const float *p, long i) { return p[i]; }
__device__ __forceinline__ float load(const bf16 *p, long i) {
  return __uint_as_float(((u32)p[i]) << 16);
}
__device__ __forceinline__ void store(float *p, long i, float v) { p[i] = v; }
__device__ __forceinline__ void store(bf16 *p, long i, float v) {
  u32 u = __float_as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN stays NaN
    p[i] = 0x7fc0;
    return;
  }
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  p[i] = (bf16)(u >> 16);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// ---- Layer norm: one warp per row; statistics in f32; weight and bias are f32. ----

// The row's mean and 1 / sqrt(var + eps), computed by its warp (every lane gets them).
template <typename T>
__device__ void row_stats(const T *x, long base, int cols, int lane, float eps, float &mean,
                          float &rstd) {
  float s = 0.f;
  for (int c = lane; c < cols; c += 32) s += load(x, base + c);
  mean = warp_sum(s) / cols;
  float q = 0.f;
  for (int c = lane; c < cols; c += 32) {
    float d = load(x, base + c) - mean;
    q += d * d;
  }
  rstd = 1.f / sqrtf(warp_sum(q) / cols + eps);
}

// y (f32) = (x − mean) / sqrt(var + eps) · w + b.
template <typename T>
__device__ void layer_norm_fwd(const T *x, const float *w, const float *b, float *y,
                               int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const long base = (long)row * cols;
  float mean, rstd;
  row_stats(x, base, cols, lane, eps, mean, rstd);
  for (int c = lane; c < cols; c += 32)
    y[base + c] = (load(x, base + c) - mean) * rstd * w[c] + b[c];
}

// dx (T) from dy (f32): rstd · (dy·w − mean(dy·w) − x̂ · mean(dy·w·x̂)).
template <typename T>
__device__ void layer_norm_bwd_input(const T *x, const float *w, const float *dy, T *dx,
                                     int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const long base = (long)row * cols;
  float mean, rstd;
  row_stats(x, base, cols, lane, eps, mean, rstd);
  float s1 = 0.f, s2 = 0.f;
  for (int c = lane; c < cols; c += 32) {
    float g = dy[base + c] * w[c];
    s1 += g;
    s2 += g * (load(x, base + c) - mean) * rstd;
  }
  s1 = warp_sum(s1) / cols;
  s2 = warp_sum(s2) / cols;
  for (int c = lane; c < cols; c += 32) {
    float xhat = (load(x, base + c) - mean) * rstd;
    store(dx, base + c, rstd * (dy[base + c] * w[c] - s1 - xhat * s2));
  }
}

// x̂ (f32) = (x − mean) / sqrt(var + eps), for the weight and bias gradients.
template <typename T>
__device__ void layer_norm_normalise(const T *x, float *xhat, int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const long base = (long)row * cols;
  float mean, rstd;
  row_stats(x, base, cols, lane, eps, mean, rstd);
  for (int c = lane; c < cols; c += 32) xhat[base + c] = (load(x, base + c) - mean) * rstd;
}

// ---- Attention softmax: softmax(scores · scale + bias[batch]) over the last dim. ----
// scores: (batch · heads · queries, keys); bias: (batch, keys) f32, 0 or −1e9 (padding).

template <typename T>
__device__ void masked_softmax_fwd(const T *x, const float *bias, T *y, int rows, int cols,
                                   int rows_per_batch, float scale) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const long base = (long)row * cols;
  const float *brow = bias + (long)(row / rows_per_batch) * cols;
  float m = -INFINITY;
  for (int c = lane; c < cols; c += 32) m = fmaxf(m, load(x, base + c) * scale + brow[c]);
  m = warp_max(m);
  float s = 0.f;
  for (int c = lane; c < cols; c += 32) s += __expf(load(x, base + c) * scale + brow[c] - m);
  const float inv = 1.f / warp_sum(s);
  for (int c = lane; c < cols; c += 32)
    store(y, base + c, __expf(load(x, base + c) * scale + brow[c] - m) * inv);
}

// d scores = scale · y ⊙ (dy − Σ dy ⊙ y).
template <typename T>
__device__ void masked_softmax_bwd(const T *y, const T *dy, T *dx, int rows, int cols,
                                   float scale) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const long base = (long)row * cols;
  float dot = 0.f;
  for (int c = lane; c < cols; c += 32) dot += load(y, base + c) * load(dy, base + c);
  dot = warp_sum(dot);
  for (int c = lane; c < cols; c += 32)
    store(dx, base + c, scale * load(y, base + c) * (load(dy, base + c) - dot));
}

// ---- Dropout: a counter-based hash decides each element, so the backward pass
// regenerates the forward mask from the same seed instead of storing it. ----

__device__ __forceinline__ u32 hash_u32(u64 seed, u64 i) {
  u64 z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (u32)(z >> 32);
}

// y = x · scale where hash ≥ threshold (kept with probability 1 − p), else 0.
template <typename T>
__device__ void dropout(const T *x, T *y, long n, u64 seed, u32 threshold, float scale) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n;
       i += (long)gridDim.x * blockDim.x)
    store(y, i, hash_u32(seed, (u64)i) >= threshold ? load(x, i) * scale : 0.f);
}

// ---- GELU (erf form, transformers' "gelu") ----

template <typename T>
__device__ void gelu_fwd(const T *x, T *y, long n) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n;
       i += (long)gridDim.x * blockDim.x) {
    const float v = load(x, i);
    store(y, i, 0.5f * v * (1.f + erff(v * 0.70710678118654752f)));
  }
}

// dx = dy · (Φ(x) + x · φ(x)).
template <typename T>
__device__ void gelu_bwd(const T *x, const T *dy, T *dx, long n) {
  for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n;
       i += (long)gridDim.x * blockDim.x) {
    const float v = load(x, i);
    const float cdf = 0.5f * (1.f + erff(v * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * __expf(-0.5f * v * v);
    store(dx, i, load(dy, i) * (cdf + v * pdf));
  }
}

// ---- Entry points, one per dtype ----

#define FOR_TYPES(M) M(f32, float) M(bf16, bf16)

#define ENTRY(suffix, T)                                                                   \
  extern "C" __global__ void layer_norm_fwd_##suffix(const T *x, const float *w,          \
                                                     const float *b, float *y, int rows,  \
                                                     int cols, float eps) {               \
    layer_norm_fwd(x, w, b, y, rows, cols, eps);                                           \
  }                                                                                        \
  extern "C" __global__ void layer_norm_bwd_input_##suffix(                               \
      const T *x, const float *w, const float *dy, T *dx, int rows, int cols, float eps) { \
    layer_norm_bwd_input(x, w, dy, dx, rows, cols, eps);                                   \
  }                                                                                        \
  extern "C" __global__ void layer_norm_normalise_##suffix(const T *x, float *xhat,       \
                                                           int rows, int cols, float eps) { \
    layer_norm_normalise(x, xhat, rows, cols, eps);                                        \
  }                                                                                        \
  extern "C" __global__ void masked_softmax_fwd_##suffix(                                 \
      const T *x, const float *bias, T *y, int rows, int cols, int rows_per_batch,         \
      float scale) {                                                                       \
    masked_softmax_fwd(x, bias, y, rows, cols, rows_per_batch, scale);                     \
  }                                                                                        \
  extern "C" __global__ void masked_softmax_bwd_##suffix(const T *y, const T *dy, T *dx,  \
                                                         int rows, int cols, float scale) { \
    masked_softmax_bwd(y, dy, dx, rows, cols, scale);                                      \
  }                                                                                        \
  extern "C" __global__ void dropout_##suffix(const T *x, T *y, long n, u64 seed,         \
                                              u32 threshold, float scale) {               \
    dropout(x, y, n, seed, threshold, scale);                                              \
  }                                                                                        \
  extern "C" __global__ void gelu_fwd_##suffix(const T *x, T *y, long n) {                \
    gelu_fwd(x, y, n);                                                                     \
  }                                                                                        \
  extern "C" __global__ void gelu_bwd_##suffix(const T *x, const T *dy, T *dx, long n) {  \
    gelu_bwd(x, dy, dx, n);                                                                \
  }

FOR_TYPES(ENTRY)
