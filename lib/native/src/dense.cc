// Matrix products (OpenBLAS cblas_sgemm; oneDNN's dnnl_sgemm aborted with heap
// corruption under `node --cpu-prof`) with optional bias + activation, and batch
// normalisation with per-channel vectors (inference; training with batch moments,
// and its gradient), on float32 arrays owned by TensorFlow.js.
#include "common.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
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

namespace {

/**
 * Per-channel sums over the rows of [rows, C] arrays in double precision:
 * `body(r, acc)` adds row r's contributions to acc (`width` doubles). Rows are split
 * into one contiguous block per thread when rows·c ≥ kParallelMin; the blocks'
 * partial sums are added in thread order, so the result does not depend on timing.
 */
template <typename Body>
std::vector<double> channelSums(int64_t rows, int64_t width, Body body) {
  const int threads = (rows * width >= kParallelMin) ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    double* acc = partial.data() + static_cast<size_t>(t) * width;
    const int64_t begin = rows * t / nt, end = rows * (t + 1) / nt;
    for (int64_t r = begin; r < end; r++) body(r, acc);
  }
  std::vector<double> total(partial.begin(), partial.begin() + width);
  for (int t = 1; t < threads; t++)
    for (int64_t k = 0; k < width; k++) total[k] += partial[static_cast<size_t>(t) * width + k];
  return total;
}

}  // namespace

/**
 * batchNormTrain(x, scale | null, offset | null, y, mean, variance, channels, epsilon):
 * batch normalisation in training mode over x [rows, C] (C = channels, the last axis):
 * mean [C] and variance [C] (biased, ÷ rows, as Keras/tfjs in training) of the
 * batch, and y = (x − mean) · scale / sqrt(variance + epsilon) + offset.
 * Two passes: moments, then y.
 */
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[8];
    getArgs(env, info, argv, 8, 8);
    F32 x = getF32(env, argv[0], "x");
    F32 scale = getF32(env, argv[1], "scale", true), offset = getF32(env, argv[2], "offset", true);
    F32 y = getF32(env, argv[3], "y"), mean = getF32(env, argv[4], "mean"), variance = getF32(env, argv[5], "variance");
    const int64_t c = static_cast<int64_t>(getNumber(env, argv[6], "channels"));
    const float epsilon = static_cast<float>(getNumber(env, argv[7], "epsilon"));
    if (c < 1 || x.length == 0 || x.length % c != 0) throw ArgError("x is not a whole number of channel rows");
    if (scale.data) expectLength(scale, c, "scale");
    if (offset.data) expectLength(offset, c, "offset");
    expectLength(y, x.length, "y");
    expectLength(mean, c, "mean");
    expectLength(variance, c, "variance");
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const float* xs = x.data;
    // Sums of (x − x[0]) and its square in double: one pass, and the shift by the
    // first row keeps E[d²] − E[d]² free of cancellation when |mean| ≫ std.
    std::vector<float> shift(xs, xs + c);
    const float* sh = shift.data();
    std::vector<double> sums = channelSums(rows, 2 * c, [&](int64_t r, double* acc) {
      const float* row = xs + r * c;
      for (int64_t k = 0; k < c; k++) {
        const double d = static_cast<double>(row[k]) - sh[k];
        acc[k] += d;
        acc[c + k] += d * d;
      }
    });
    std::vector<float> mul(c), add(c);
    for (int64_t k = 0; k < c; k++) {
      const double md = sums[k] / rows;
      const double var = std::max(0.0, sums[c + k] / rows - md * md);
      mean.data[k] = static_cast<float>(sh[k] + md);
      variance.data[k] = static_cast<float>(var);
      // Same order of operations as tfjs' FusedBatchNorm: (x − mean) · scale / √(var + ε) + offset.
      mul[k] = (scale.data ? scale.data[k] : 1.f) / std::sqrt(variance.data[k] + epsilon);
      add[k] = offset.data ? offset.data[k] : 0.f;
    }
    const float* ms = mean.data;
    float* o = y.data;
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < c; k++) o[r * c + k] = (xs[r * c + k] - ms[k]) * mul[k] + add[k];
    return undefinedValue(env);
  });
}

/**
 * batchNormTrainGrad(dy, x, mean, variance, scale | null, dx, dscale, doffset, channels,
 * epsilon): gradients of batchNormTrain's y with respect to x, scale and offset, with
 * mean and variance the batch moments of x (so dx includes the paths through them).
 * With M = rows, σ⁻¹ = 1/sqrt(variance + ε), x̂ = (x − mean)·σ⁻¹:
 *   doffset = Σ dy,  dscale = Σ dy·x̂,
 *   dx = scale·σ⁻¹ · (dy − doffset/M − x̂·dscale/M).
 * dy, x, dx [rows, C]; the rest [C]. Two passes: the sums, then dx.
 */
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[10];
    getArgs(env, info, argv, 10, 10);
    F32 dy = getF32(env, argv[0], "dy"), x = getF32(env, argv[1], "x");
    F32 mean = getF32(env, argv[2], "mean"), variance = getF32(env, argv[3], "variance");
    F32 scale = getF32(env, argv[4], "scale", true);
    F32 dx = getF32(env, argv[5], "dx"), dscale = getF32(env, argv[6], "dscale"), doffset = getF32(env, argv[7], "doffset");
    const int64_t c = static_cast<int64_t>(getNumber(env, argv[8], "channels"));
    const float epsilon = static_cast<float>(getNumber(env, argv[9], "epsilon"));
    if (c < 1 || x.length == 0 || x.length % c != 0) throw ArgError("x is not a whole number of channel rows");
    expectLength(dy, x.length, "dy");
    expectLength(dx, x.length, "dx");
    for (const F32* v : {&mean, &variance, &dscale, &doffset}) expectLength(*v, c, "mean/variance/dscale/doffset");
    if (scale.data) expectLength(scale, c, "scale");
    const int64_t rows = static_cast<int64_t>(x.length) / c;
    const float* dys = dy.data;
    const float* xs = x.data;
    const float* ms = mean.data;
    // Σ dy and Σ dy·(x − mean) per channel.
    std::vector<double> sums = channelSums(rows, 2 * c, [&](int64_t r, double* acc) {
      const float* g = dys + r * c;
      const float* row = xs + r * c;
      for (int64_t k = 0; k < c; k++) {
        acc[k] += g[k];
        acc[c + k] += static_cast<double>(g[k]) * (row[k] - ms[k]);
      }
    });
    // dx = a·dy + b·(x − mean) + d per channel.
    std::vector<float> a(c), b(c), d(c);
    for (int64_t k = 0; k < c; k++) {
      const double invStd = 1.0 / std::sqrt(static_cast<double>(variance.data[k] + epsilon));
      const double g = scale.data ? scale.data[k] : 1.0;
      const double sumDy = sums[k], sumDyXhat = sums[c + k] * invStd;
      doffset.data[k] = static_cast<float>(sumDy);
      dscale.data[k] = static_cast<float>(sumDyXhat);
      a[k] = static_cast<float>(g * invStd);
      b[k] = static_cast<float>(-g * invStd * invStd * sumDyXhat / rows);
      d[k] = static_cast<float>(-g * invStd * sumDy / rows);
    }
    float* o = dx.data;
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < c; k++) {
        const int64_t i = r * c + k;
        o[i] = a[k] * dys[i] + b[k] * (xs[i] - ms[k]) + d[k];
      }
    return undefinedValue(env);
  });
}

}  // namespace mirna
