// AdamW over all of a model's f32 parameters in one launch, and their gradients' sum
// of squares in another, for train::optim (compiled to PTX by build.rs with nvcc).
// candle composes AdamW from many small kernels per parameter; on a GPU each launch
// costs more than its arithmetic.

typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// ---- Optimiser: all parameters in one launch ----
// A slot table of 6 words per parameter: param, grad, m, v (device pointers), element
// count (0 skips the parameter), weight decay (f32 bits). The chunk table maps
// each block to (slot, first element); a chunk is CHUNK elements.

#define CHUNK 4096

struct Slot {
  float *p;
  const float *g;
  float *m;
  float *v;
  long n;
  float weight_decay;
};

__device__ __forceinline__ Slot slot_at(const u64 *table, u32 s) {
  const u64 *t = table + 6 * (u64)s;
  Slot slot;
  slot.p = (float *)t[0];
  slot.g = (const float *)t[1];
  slot.m = (float *)t[2];
  slot.v = (float *)t[3];
  slot.n = (long)t[4];
  slot.weight_decay = __uint_as_float((u32)t[5]);
  return slot;
}

// acc += Σ g² over every parameter's gradient (one atomic per block).
__device__ void multi_sum_of_squares(const u64 *table, const u32 *chunks, float *acc) {
  __shared__ float partial[32];
  const Slot s = slot_at(table, chunks[2 * blockIdx.x]);
  const long start = chunks[2 * blockIdx.x + 1];
  const long end = min(start + CHUNK, s.n);
  float sum = 0.f;
  for (long i = start + threadIdx.x; i < end; i += blockDim.x) sum += s.g[i] * s.g[i];
  sum = warp_sum(sum);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x / 32] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    sum = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.f;
    sum = warp_sum(sum);
    if (threadIdx.x == 0 && sum != 0.f) atomicAdd(acc, sum);
  }
}

// One AdamW step of every f32 parameter with f32 moments, clipping the gradients by
// the global norm read on the device (torch's clip_grad_norm_). A non-finite norm
// skips the update, so a diverged step leaves the weights as they were.
__device__ void multi_adamw(const u64 *table, const u32 *chunks, const float *norm,
                            float lr, float max_norm, float b1, float b2, float step_size,
                            float bc2_sqrt, float eps) {
  const float total = *norm;
  if (!isfinite(total)) return;
  const float clip = fminf(1.f, max_norm / (total + 1e-6f));
  const Slot s = slot_at(table, chunks[2 * blockIdx.x]);
  const long start = chunks[2 * blockIdx.x + 1];
  const long end = min(start + CHUNK, s.n);
  const float decay = 1.f - lr * s.weight_decay;
  for (long i = start + threadIdx.x; i < end; i += blockDim.x) {
    const float gi = s.g[i] * clip;
    const float mi = s.m[i] * b1 + gi * (1.f - b1);
    const float vi = s.v[i] * b2 + gi * gi * (1.f - b2);
    s.m[i] = mi;
    s.v[i] = vi;
    s.p[i] = s.p[i] * decay - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
  }
}

// ---- Entry points ----

extern "C" __global__ void multi_sum_of_squares_f32(const u64 *table, const u32 *chunks,
                                                    float *acc) {
  multi_sum_of_squares(table, chunks, acc);
}

extern "C" __global__ void multi_adamw_f32(const u64 *table, const u32 *chunks,
                                           const float *norm, float lr, float max_norm,
                                           float b1, float b2, float step_size,
                                           float bc2_sqrt, float eps) {
  multi_adamw(table, chunks, norm, lr, max_norm, b1, b2, step_size, bc2_sqrt, eps);
}
