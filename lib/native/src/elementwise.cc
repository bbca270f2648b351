// Elementwise and reduction kernels for the shapes a CNN training step produces
// (same-shape operands, a per-channel vector or a scalar broadcast against a
// [rows, channels] tensor, sums over leading axes), parallel with OpenMP.
#include "common.h"

#include <omp.h>

#include <cmath>
#include <vector>

namespace mirna {
namespace {

void* typedData(napi_env env, napi_value v, const char* what, size_t* length, napi_typedarray_type* type) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  void* data;
  napi_value buffer;
  size_t offset;
  if (!is || napi_get_typedarray_info(env, v, type, length, &data, &buffer, &offset) != napi_ok)
    throw ArgError(std::string(what) + ": expected a typed array");
  return data;
}

/** How an operand maps to an output index i of a [outer, inner] result. */
enum Mode { kFull = 0, kScalar = 1, kRow = 2, kColumn = 3 };

inline int64_t operandIndex(int mode, int64_t i, int64_t inner) {
  switch (mode) {
    case kFull: return i;
    case kScalar: return 0;
    case kRow: return i % inner;
    default: return i / inner;
  }
}

int64_t operandLength(int mode, int64_t outer, int64_t inner) {
  switch (mode) {
    case kFull: return outer * inner;
    case kScalar: return 1;
    case kRow: return inner;
    case kColumn: return outer;
  }
  throw ArgError("unknown broadcast mode " + std::to_string(mode));
}

template <typename Out, typename Op>
void binaryLoop(const float* a, int ma, const float* b, int mb, Out* out, int64_t outer, int64_t inner, Op op) {
  const int64_t size = outer * inner;
  if (ma == kFull && mb == kFull) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) out[i] = op(a[i], b[i]);
  } else if (ma == kFull && mb == kRow) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t k = 0; k < inner; k++) out[o * inner + k] = op(a[o * inner + k], b[k]);
  } else if (ma == kRow && mb == kFull) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t k = 0; k < inner; k++) out[o * inner + k] = op(a[k], b[o * inner + k]);
  } else if (ma == kFull && mb == kScalar) {
    const float s = b[0];
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) out[i] = op(a[i], s);
  } else if (ma == kScalar && mb == kFull) {
    const float s = a[0];
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) out[i] = op(s, b[i]);
  } else {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) out[i] = op(a[operandIndex(ma, i, inner)], b[operandIndex(mb, i, inner)]);
  }
}

}  // namespace

/**
 * binary(op, a, b, out, p): out = a (op) b with p = [outer, inner, modeA, modeB]
 * (modes: 0 full [outer*inner], 1 scalar, 2 row [inner] repeated over outer,
 * 3 column [outer] repeated over inner).
 * op: 0 add, 1 sub, 2 mul, 3 div, 4 squared difference, 5 maximum, 6 minimum
 * (float32 out); 10 greater, 11 greater-equal, 12 less, 13 less-equal, 14 equal (uint8 out).
 */
napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[5];
    getArgs(env, info, argv, 5, 5);
    int op = static_cast<int>(getNumber(env, argv[0], "op"));
    F32 a = getF32(env, argv[1], "a"), b = getF32(env, argv[2], "b");
    I32 p = getI32(env, argv[4], "p");
    const int64_t outer = p[0], inner = p[1];
    const int ma = p[2], mb = p[3];
    if (outer < 0 || inner < 1) throw ArgError("invalid binary shape");
    if (static_cast<int64_t>(a.length) != operandLength(ma, outer, inner)) throw ArgError("a has the wrong length");
    if (static_cast<int64_t>(b.length) != operandLength(mb, outer, inner)) throw ArgError("b has the wrong length");
    size_t outLength;
    napi_typedarray_type outType;
    void* out = typedData(env, argv[3], "out", &outLength, &outType);
    if (static_cast<int64_t>(outLength) != outer * inner) throw ArgError("out has the wrong length");
    if (op < 10) {
      if (outType != napi_float32_array) throw ArgError("out must be a Float32Array");
      float* o = static_cast<float*>(out);
      switch (op) {
        case 0: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) { return x + y; }); break;
        case 1: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) { return x - y; }); break;
        case 2: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) { return x * y; }); break;
        case 3: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) { return x / y; }); break;
        case 4:
          binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) { return (x - y) * (x - y); });
          break;
        case 5:
          binaryLoop(a.data, ma, b.data, mb, o, outer, inner,
                     [](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : (x > y ? x : y); });
          break;
        case 6:
          binaryLoop(a.data, ma, b.data, mb, o, outer, inner,
                     [](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : (x < y ? x : y); });
          break;
        default: throw ArgError("unknown binary op " + std::to_string(op));
      }
    } else {
      if (outType != napi_uint8_array) throw ArgError("out must be a Uint8Array");
      uint8_t* o = static_cast<uint8_t*>(out);
      switch (op) {
        case 10: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) -> uint8_t { return x > y; }); break;
        case 11: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) -> uint8_t { return x >= y; }); break;
        case 12: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) -> uint8_t { return x < y; }); break;
        case 13: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) -> uint8_t { return x <= y; }); break;
        case 14: binaryLoop(a.data, ma, b.data, mb, o, outer, inner, [](float x, float y) -> uint8_t { return x == y; }); break;
        default: throw ArgError("unknown comparison op " + std::to_string(op));
      }
    }
    return undefinedValue(env);
  });
}

/**
 * unary(op, x, out, alpha): 0 leaky relu (slope alpha), 1 relu, 2 square, 3 sqrt,
 * 4 rsqrt, 5 neg, 6 sigmoid, 7 exp, 8 log, 9 abs.
 */
napi_value Unary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    int op = static_cast<int>(getNumber(env, argv[0], "op"));
    F32 x = getF32(env, argv[1], "x"), out = getF32(env, argv[2], "out");
    const float alpha = static_cast<float>(getNumber(env, argv[3], "alpha"));
    expectLength(out, x.length, "out");
    const int64_t n = static_cast<int64_t>(x.length);
    const float* a = x.data;
    float* o = out.data;
    switch (op) {
#define MIRNA_UNARY(CODE, EXPR)                                          \
  case CODE: {                                                           \
    _Pragma("omp parallel for schedule(static) if (n >= kParallelMin)") \
    for (int64_t i = 0; i < n; i++) {                                    \
      const float v = a[i];                                              \
      o[i] = (EXPR);                                                     \
    }                                                                    \
    break;                                                               \
  }
      MIRNA_UNARY(0, v < 0 ? alpha * v : v)
      MIRNA_UNARY(1, v < 0 ? 0.f : v)
      MIRNA_UNARY(2, v * v)
      MIRNA_UNARY(3, std::sqrt(v))
      MIRNA_UNARY(4, 1.f / std::sqrt(v))
      MIRNA_UNARY(5, -v)
      MIRNA_UNARY(6, 1.f / (1.f + std::exp(-v)))
      MIRNA_UNARY(7, std::exp(v))
      MIRNA_UNARY(8, std::log(v))
      MIRNA_UNARY(9, std::fabs(v))
#undef MIRNA_UNARY
      default: throw ArgError("unknown unary op " + std::to_string(op));
    }
    return undefinedValue(env);
  });
}

/**
 * reduceRows(op, x, out, p): x viewed as [outer, mid, inner]; out[o, k] = Σ_m x[o, m, k]
 * (op 0) or the mean (op 1), accumulated in double. p = [outer, mid, inner].
 */
napi_value ReduceRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    int op = static_cast<int>(getNumber(env, argv[0], "op"));
    if (op != 0 && op != 1) throw ArgError("reduce op must be 0 (sum) or 1 (mean)");
    F32 x = getF32(env, argv[1], "x"), out = getF32(env, argv[2], "out");
    I32 p = getI32(env, argv[3], "p");
    const int64_t outer = p[0], mid = p[1], inner = p[2];
    if (outer < 1 || mid < 1 || inner < 1) throw ArgError("invalid reduce shape");
    expectLength(x, outer * mid * inner, "x");
    expectLength(out, outer * inner, "out");
    const double scale = op == 1 ? 1.0 / static_cast<double>(mid) : 1.0;
    const float* xs = x.data;
    float* os = out.data;
    if (inner == 1) {
      // Sum of contiguous rows: one row per iteration.
#pragma omp parallel for schedule(static) if (outer * mid >= kParallelMin)
      for (int64_t o = 0; o < outer; o++) {
        const float* r = xs + o * mid;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t m = 0;
        for (; m + 4 <= mid; m += 4) {
          s0 += r[m];
          s1 += r[m + 1];
          s2 += r[m + 2];
          s3 += r[m + 3];
        }
        for (; m < mid; m++) s0 += r[m];
        os[o] = static_cast<float>((s0 + s1 + s2 + s3) * scale);
      }
      return undefinedValue(env);
    }
    const int threads = (outer * mid * inner >= kParallelMin) ? omp_get_max_threads() : 1;
    for (int64_t o = 0; o < outer; o++) {
      std::vector<double> partial(static_cast<size_t>(threads) * inner, 0.0);
      const float* base = xs + o * mid * inner;
#pragma omp parallel num_threads(threads)
      {
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        double* acc = partial.data() + static_cast<size_t>(t) * inner;
        const int64_t begin = mid * t / nt, end = mid * (t + 1) / nt;
        for (int64_t m = begin; m < end; m++) {
          const float* r = base + m * inner;
          for (int64_t k = 0; k < inner; k++) acc[k] += r[k];
        }
      }
      for (int64_t k = 0; k < inner; k++) {
        double s = 0;
        for (int t = 0; t < threads; t++) s += partial[static_cast<size_t>(t) * inner + k];
        os[o * inner + k] = static_cast<float>(s * scale);
      }
    }
    return undefinedValue(env);
  });
}

/** select(condition uint8, a, b, out): out[i] = condition[i] ? a[i] : b[i] (same sizes). */
napi_value Select(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    size_t n;
    const uint8_t* c = getU8(env, argv[0], "condition", &n);
    F32 a = getF32(env, argv[1], "a"), b = getF32(env, argv[2], "b"), out = getF32(env, argv[3], "out");
    expectLength(a, n, "a");
    expectLength(b, n, "b");
    expectLength(out, n, "out");
    const int64_t size = static_cast<int64_t>(n);
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) out.data[i] = c[i] ? a.data[i] : b.data[i];
    return undefinedValue(env);
  });
}

/**
 * adam(value, m, v, gradient, newValue, newM, newV, c): one Adam step for one
 * variable, every operation in float32 in the order of tfjs' AdamOptimizer:
 *   newM = m·β1 + g·(1−β1);  newV = v·β2 + g²·(1−β2)
 *   newValue = (newM/(1−β1ᵗ)) / (sqrt(newV/(1−β2ᵗ)) + ε) · (−lr) + value
 * c (Float32Array) = [β1, 1−β1, β2, 1−β2, 1−β1ᵗ, 1−β2ᵗ, ε, −lr].
 */
napi_value Adam(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[8];
    getArgs(env, info, argv, 8, 8);
    F32 value = getF32(env, argv[0], "value"), m = getF32(env, argv[1], "m"), v = getF32(env, argv[2], "v");
    F32 g = getF32(env, argv[3], "gradient"), nValue = getF32(env, argv[4], "newValue");
    F32 nm = getF32(env, argv[5], "newM"), nv = getF32(env, argv[6], "newV"), c = getF32(env, argv[7], "c");
    const size_t n = value.length;
    for (const F32* a : {&m, &v, &g, &nValue, &nm, &nv}) expectLength(*a, n, "Adam operand");
    expectLength(c, 8, "c");
    const float b1 = c.data[0], omb1 = c.data[1], b2 = c.data[2], omb2 = c.data[3], omab1 = c.data[4],
                omab2 = c.data[5], eps = c.data[6], negLr = c.data[7];
    const int64_t size = static_cast<int64_t>(n);
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) {
      const float gi = g.data[i];
      const float mi = m.data[i] * b1 + gi * omb1;
      const float vi = v.data[i] * b2 + (gi * gi) * omb2;
      nm.data[i] = mi;
      nv.data[i] = vi;
      const float corrected = (mi / omab1) / (std::sqrt(vi / omab2) + eps);
      nValue.data[i] = corrected * negLr + value.data[i];
    }
    return undefinedValue(env);
  });
}

}  // namespace mirna
