// Matrix products (OpenBLAS cblas_sgemm; oneDNN's dnnl_sgemm aborted with heap
// corruption under `node --cpu-prof`) with optional bias + activation, and batch
// normalisation with per-channel vectors, on float32 arrays owned by TensorFlow.js.
#include "common.h"

#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

namespace mirna {

/**
 * matMul(a, b, bias | null, out, p, alpha): for each of `batch` matrices,
 * out[m, n] = act(Σ_k A[m, k] B[k, n] + bias[n]), with A = a or aᵀ and B = b or bᵀ
 * (row-major). p = [batch, M, N, K, transposeA, transposeB, batchA, batchB,
 * activation] where batchA/batchB are 0 when that operand is shared by all batches;
 * activation: 0 linear, 1 relu, 2 leakyrelu (alpha), 3 relu6, 4 sigmoid, 5 elu.
 */
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[6];
    getArgs(env, info, argv, 6, 6);
    F32 a = getF32(env, argv[0], "a"), b = getF32(env, argv[1], "b");
    F32 bias = getF32(env, argv[2], "bias", true), out = getF32(env, argv[3], "out");
    I32 p = getI32(env, argv[4], "p");
    const float alpha = static_cast<float>(getNumber(env, argv[5], "alpha"));
    const int64_t batch = p[0], m = p[1], n = p[2], k = p[3];
    const bool ta = p[4] != 0, tb = p[5] != 0, batchA = p[6] != 0, batchB = p[7] != 0;
    const int activation = p[8];
    if (batch < 1 || m < 1 || n < 1 || k < 1) throw ArgError("invalid matMul shape");
    expectLength(a, (batchA ? batch : 1) * m * k, "a");
    expectLength(b, (batchB ? batch : 1) * k * n, "b");
    expectLength(out, batch * m * n, "out");
    if (bias.data != nullptr) expectLength(bias, n, "bias");
    for (int64_t i = 0; i < batch; i++) {
      const float* ai = a.data + (batchA ? i * m * k : 0);
      const float* bi = b.data + (batchB ? i * k * n : 0);
      float* oi = out.data + i * m * n;
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, ai,
                  ta ? m : k, bi, tb ? k : n, 0.f, oi, n);
    }
    if (bias.data != nullptr || activation != 0) {
      const int64_t rows = batch * m;
      const float* bs = bias.data;
      float* o = out.data;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
      for (int64_t r = 0; r < rows; r++) {
        float* row = o + r * n;
        for (int64_t j = 0; j < n; j++) {
          float v = row[j] + (bs ? bs[j] : 0.f);
          switch (activation) {
            case 1: v = v < 0 ? 0.f : v; break;
            case 2: v = v < 0 ? alpha * v : v; break;
            case 3: v = v < 0 ? 0.f : (v > 6.f ? 6.f : v); break;
            case 4: v = 1.f / (1.f + std::exp(-v)); break;
            case 5: v = v < 0 ? std::expm1(v) : v; break;
            default: break;
          }
          row[j] = v;
        }
      }
    }
    return undefinedValue(env);
  });
}

/**
 * batchNorm(x, mean, variance, offset | null, scale | null, out, channels, epsilon):
 * out = offset + (x − mean) · scale / sqrt(variance + epsilon), the vectors of
 * length `channels` (the last axis of x), as tfjs' FusedBatchNorm.
 */
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[8];
    getArgs(env, info, argv, 8, 8);
    F32 x = getF32(env, argv[0], "x"), mean = getF32(env, argv[1], "mean"), variance = getF32(env, argv[2], "variance");
    F32 offset = getF32(env, argv[3], "offset", true), scale = getF32(env, argv[4], "scale", true);
    F32 out = getF32(env, argv[5], "out");
    const int64_t c = static_cast<int64_t>(getNumber(env, argv[6], "channels"));
    const float epsilon = static_cast<float>(getNumber(env, argv[7], "epsilon"));
    if (c < 1 || x.length % c != 0) throw ArgError("x is not a whole number of channel rows");
    expectLength(mean, c, "mean");
    expectLength(variance, c, "variance");
    if (offset.data) expectLength(offset, c, "offset");
    if (scale.data) expectLength(scale, c, "scale");
    expectLength(out, x.length, "out");
    std::vector<float> mul(c), add(c);
    for (int64_t j = 0; j < c; j++) {
      // Same order of operations as tfjs: (x - mean) * scale / sqrt(var + eps) + offset.
      mul[j] = (scale.data ? scale.data[j] : 1.f) / std::sqrt(variance.data[j] + epsilon);
      add[j] = offset.data ? offset.data[j] : 0.f;
    }
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const float* xs = x.data;
    const float* ms = mean.data;
    float* o = out.data;
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < c; j++) o[r * c + j] = (xs[r * c + j] - ms[j]) * mul[j] + add[j];
    return undefinedValue(env);
  });
}

}  // namespace mirna
