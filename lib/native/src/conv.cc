// 2-D convolution (forward with fused bias + activation, both gradients) through
// oneDNN, and MaxPool's gradient, on NHWC float32 arrays owned by TensorFlow.js.
//
// Layouts: x / dx [N, H, W, CI] (oneDNN tag nhwc), filter / dW [KH, KW, CI, CO]
// (tag hwio), y / dy [N, OH, OW, CO] (nhwc). No copies or reorders: oneDNN
// reads and writes the JS buffers directly. Primitives are created once per
// shape/parameter set and cached (creating one costs far more than running it).
//
// Integer parameter block `p` (Int32Array), shared by the three conv kernels:
//   [0] N  [1] H  [2] W  [3] CI  [4] KH  [5] KW  [6] CO  [7] OH  [8] OW
//   [9] strideH [10] strideW [11] dilationH [12] dilationW (tfjs: 1 = dense)
//   [13] padTop [14] padLeft
//   [15] activation (conv2d only): 0 linear, 1 relu, 2 leakyrelu, 3 relu6, 4 sigmoid, 5 elu
#include "common.h"

#include <dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <memory>
#include <vector>

namespace mirna {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}
dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

/** Channel count from which the filter layout is left to oneDNN (see CachedPrimitive): all. */
constexpr memory::dim kBlockedWeightsMinChannels = 1;

struct ConvShape {
  memory::dim n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl;
  int activation;
  ConvShape(const I32& p, bool withActivation) {
    n = p[0]; h = p[1]; w = p[2]; ci = p[3]; kh = p[4]; kw = p[5]; co = p[6]; oh = p[7]; ow = p[8];
    sh = p[9]; sw = p[10]; dh = p[11]; dw = p[12]; pt = p[13]; pl = p[14];
    activation = withActivation ? p[15] : 0;
    if (n < 1 || h < 1 || w < 1 || ci < 1 || kh < 1 || kw < 1 || co < 1 || oh < 1 || ow < 1 || sh < 1 ||
        sw < 1 || dh < 1 || dw < 1 || pt < 0 || pl < 0)
      throw ArgError("invalid convolution parameters");
  }
  memory::desc src() const { return {{n, ci, h, w}, dt::f32, tag::nhwc}; }
  memory::desc weights() const { return {{co, ci, kh, kw}, dt::f32, tag::hwio}; }
  /** Filter layout requested from oneDNN: hwio, or any (its choice) for enough channels. */
  memory::desc weightsRequest() const {
    return {{co, ci, kh, kw}, dt::f32, ci >= kBlockedWeightsMinChannels ? tag::any : tag::hwio};
  }
  memory::desc bias() const { return {{co}, dt::f32, tag::x}; }
  memory::desc dst() const { return {{n, co, oh, ow}, dt::f32, tag::nhwc}; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }  // oneDNN counts from 0
  memory::dims padL() const { return {pt, pl}; }
  /** Bottom/right padding that makes oneDNN's output size equal OH, OW. */
  /**
   * Bottom/right padding that makes oneDNN's output size equal OH, OW. When the
   * last input rows/columns are not reached by any window (valid padding with a
   * stride that does not divide), the padding is 0 and oneDNN's floor division
   * gives the same size.
   */
  memory::dims padR() const {
    memory::dim pb = std::max<memory::dim>(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - pt);
    memory::dim pr = std::max<memory::dim>(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w - pl);
    if ((h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1 != oh || (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1 != ow)
      throw ArgError("output size does not match the input size, filter, strides and padding");
    return {pb, pr};
  }
  size_t srcSize() const { return n * h * w * ci; }
  size_t weightsSize() const { return kh * kw * ci * co; }
  size_t dstSize() const { return n * oh * ow * co; }
  std::vector<int64_t> key(int kind, bool hasBias, float alpha) const {
    int32_t alphaBits;
    std::memcpy(&alphaBits, &alpha, sizeof alphaBits);
    return {kind, n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl, activation, hasBias, alphaBits};
  }
  dnnl::convolution_forward::desc forwardDesc(dnnl::prop_kind prop, bool hasBias) const {
    if (hasBias)
      return {prop, dnnl::algorithm::convolution_direct, src(), weightsRequest(), bias(), dst(), strides(), dilates(),
              padL(), padR()};
    return {prop, dnnl::algorithm::convolution_direct, src(), weightsRequest(), dst(), strides(), dilates(), padL(),
            padR()};
  }
};

/**
 * A cached primitive. oneDNN is always allowed to pick its own (blocked) filter
 * layout, which selects its direct-convolution kernels (brgconv / jit); with a
 * fixed hwio filter it takes an im2col + GEMM path, which was slower and, under
 * `node --cpu-prof`, aborted with glibc heap corruption inside oneDNN's GEMM
 * (oneDNN 2.6.3; normal runs never did). The filter (or filter gradient) is
 * reordered from/to hwio on every call through `weights` (at most KH*KW*CI*CO floats).
 */
struct CachedPrimitive {
  dnnl::primitive primitive;
  std::string impl;
  bool reorderWeights = false;
  memory weights;            // blocked filter buffer (when reorderWeights)
  dnnl::reorder weightsReorder;  // hwio -> blocked (forward, backward data) or blocked -> hwio (backward weights)
};


std::map<std::vector<int64_t>, CachedPrimitive>& cache() {
  static std::map<std::vector<int64_t>, CachedPrimitive> c;
  return c;
}

enum Kind { kForward = 1, kBackwardData = 2, kBackwardWeights = 3 };

dnnl::primitive_attr activationAttr(int activation, float alpha) {
  dnnl::primitive_attr attr;
  if (activation == 0) return attr;
  dnnl::post_ops ops;
  switch (activation) {
    case 1: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
    case 2: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, alpha, 0.f); break;
    case 3: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f); break;
    case 4: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
    case 5: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f); break;
    default: throw ArgError("unknown activation code " + std::to_string(activation));
  }
  attr.set_post_ops(ops);
  return attr;
}

/** Prepares the filter reorder when oneDNN chose a layout other than hwio. */
void setUpWeights(CachedPrimitive& made, const ConvShape& s, const memory::desc& chosen, bool toChosen) {
  if (chosen == s.weights()) return;
  made.reorderWeights = true;
  made.weights = memory(chosen, cpuEngine());
  memory::desc plain = s.weights();
  made.weightsReorder = toChosen ? dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), plain, cpuEngine(), chosen))
                                 : dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), chosen, cpuEngine(), plain));
}

CachedPrimitive& getPrimitive(int kind, const ConvShape& s, bool hasBias, float alpha) {
  auto key = s.key(kind, hasBias, alpha);
  auto found = cache().find(key);
  if (found != cache().end()) return found->second;
  auto& eng = cpuEngine();
  CachedPrimitive made;
  if (kind == kForward) {
    dnnl::convolution_forward::primitive_desc pd(
        s.forwardDesc(dnnl::prop_kind::forward_inference, hasBias), activationAttr(s.activation, alpha), eng);
    made.primitive = dnnl::convolution_forward(pd);
    made.impl = pd.impl_info_str();
    setUpWeights(made, s, pd.weights_desc(), true);
  } else {
    dnnl::convolution_forward::primitive_desc hint(s.forwardDesc(dnnl::prop_kind::forward_training, false), eng);
    if (kind == kBackwardData) {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, s.src(), s.weightsRequest(),
                                              s.dst(), s.strides(), s.dilates(), s.padL(), s.padR());
      dnnl::convolution_backward_data::primitive_desc pd(d, eng, hint);
      made.primitive = dnnl::convolution_backward_data(pd);
      made.impl = pd.impl_info_str();
      setUpWeights(made, s, pd.weights_desc(), true);
    } else {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, s.src(), s.weightsRequest(),
                                                 s.dst(), s.strides(), s.dilates(), s.padL(), s.padR());
      dnnl::convolution_backward_weights::primitive_desc pd(d, eng, hint);
      made.primitive = dnnl::convolution_backward_weights(pd);
      made.impl = pd.impl_info_str();
      setUpWeights(made, s, pd.diff_weights_desc(), false);
    }
  }
  return cache().emplace(std::move(key), std::move(made)).first->second;
}

memory wrap(const memory::desc& md, float* data) { return memory(md, cpuEngine(), data); }

}  // namespace

/** conv2d(x, filter, bias | null, y, p, alpha): y = act(conv(x, filter) + bias). */
napi_value Conv2D(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[6];
    getArgs(env, info, argv, 6, 6);
    F32 x = getF32(env, argv[0], "x"), filter = getF32(env, argv[1], "filter");
    F32 bias = getF32(env, argv[2], "bias", true), y = getF32(env, argv[3], "y");
    ConvShape s(getI32(env, argv[4], "p"), true);
    float alpha = static_cast<float>(getNumber(env, argv[5], "alpha"));
    expectLength(x, s.srcSize(), "x");
    expectLength(filter, s.weightsSize(), "filter");
    expectLength(y, s.dstSize(), "y");
    bool hasBias = bias.data != nullptr;
    if (hasBias) expectLength(bias, s.co, "bias");
    auto& prim = getPrimitive(kForward, s, hasBias, alpha);
    memory weights = wrap(s.weights(), filter.data);
    if (prim.reorderWeights) {
      prim.weightsReorder.execute(cpuStream(), weights, prim.weights);
      weights = prim.weights;
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(s.src(), x.data)},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DST, wrap(s.dst(), y.data)}};
    if (hasBias) args.emplace(DNNL_ARG_BIAS, wrap(s.bias(), bias.data));
    prim.primitive.execute(cpuStream(), args);
    cpuStream().wait();
    return undefinedValue(env);
  });
}

/** conv2dBackpropInput(dy, filter, dx, p): dx = gradient of conv w.r.t. its input. */
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    F32 dy = getF32(env, argv[0], "dy"), filter = getF32(env, argv[1], "filter"), dx = getF32(env, argv[2], "dx");
    ConvShape s(getI32(env, argv[3], "p"), false);
    expectLength(dy, s.dstSize(), "dy");
    expectLength(filter, s.weightsSize(), "filter");
    expectLength(dx, s.srcSize(), "dx");
    auto& prim = getPrimitive(kBackwardData, s, false, 0.f);
    memory weights = wrap(s.weights(), filter.data);
    if (prim.reorderWeights) {
      prim.weightsReorder.execute(cpuStream(), weights, prim.weights);
      weights = prim.weights;
    }
    prim.primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, wrap(s.dst(), dy.data)},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DIFF_SRC, wrap(s.src(), dx.data)}});
    cpuStream().wait();
    return undefinedValue(env);
  });
}

/** conv2dBackpropFilter(x, dy, dw, p): dw = gradient of conv w.r.t. its filter. */
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    F32 x = getF32(env, argv[0], "x"), dy = getF32(env, argv[1], "dy"), dw = getF32(env, argv[2], "dw");
    ConvShape s(getI32(env, argv[3], "p"), false);
    expectLength(x, s.srcSize(), "x");
    expectLength(dy, s.dstSize(), "dy");
    expectLength(dw, s.weightsSize(), "dw");
    auto& prim = getPrimitive(kBackwardWeights, s, false, 0.f);
    memory plain = wrap(s.weights(), dw.data);
    prim.primitive.execute(cpuStream(), {{DNNL_ARG_SRC, wrap(s.src(), x.data)},
                                         {DNNL_ARG_DIFF_DST, wrap(s.dst(), dy.data)},
                                         {DNNL_ARG_DIFF_WEIGHTS, prim.reorderWeights ? prim.weights : plain}});
    if (prim.reorderWeights) prim.weightsReorder.execute(cpuStream(), prim.weights, plain);
    cpuStream().wait();
    return undefinedValue(env);
  });
}

/** convImplInfo(kind 1|2|3, p, hasBias, alpha): the oneDNN implementation chosen, e.g. "brgconv:avx512_core". */
napi_value ConvImplInfo(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 2, 4);
    int kind = static_cast<int>(getNumber(env, argv[0], "kind"));
    if (kind < 1 || kind > 3) throw ArgError("kind must be 1 (forward), 2 (backward data) or 3 (backward weights)");
    ConvShape s(getI32(env, argv[1], "p"), kind == kForward);
    bool hasBias = false;
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t == napi_boolean) napi_get_value_bool(env, argv[2], &hasBias);
    napi_typeof(env, argv[3], &t);
    float alpha = t == napi_number ? static_cast<float>(getNumber(env, argv[3], "alpha")) : 0.f;
    auto& prim = getPrimitive(kind, s, hasBias, alpha);
    napi_value out;
    napi_create_string_utf8(env, prim.impl.c_str(), prim.impl.size(), &out);
    return out;
  });
}

/**
 * maxPoolGrad(dy, x, dx, p): dx[argmax of each window] += dy[window]; the argmax is the
 * first maximum in row-major window order (as tfjs' cpu backend), padding never wins.
 * p = [N, H, W, C, OH, OW, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft].
 */
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, argv, 4, 4);
    F32 dy = getF32(env, argv[0], "dy"), x = getF32(env, argv[1], "x"), dx = getF32(env, argv[2], "dx");
    I32 p = getI32(env, argv[3], "p");
    const int64_t n = p[0], h = p[1], w = p[2], c = p[3], oh = p[4], ow = p[5], kh = p[6], kw = p[7], sh = p[8],
                  sw = p[9], dh = p[10], dw = p[11], pt = p[12], pl = p[13];
    expectLength(dy, n * oh * ow * c, "dy");
    expectLength(x, n * h * w * c, "x");
    expectLength(dx, n * h * w * c, "dx");
    const float* xs = x.data;
    const float* dys = dy.data;
    float* dxs = dx.data;
#pragma omp parallel for schedule(static) if (n * h * w * c >= kParallelMin)
    for (int64_t b = 0; b < n; b++) {
      std::fill(dxs + b * h * w * c, dxs + (b + 1) * h * w * c, 0.f);
      std::vector<int64_t> best(c);
      std::vector<float> bestValue(c);
      for (int64_t r = 0; r < oh; r++) {
        for (int64_t q = 0; q < ow; q++) {
          std::fill(best.begin(), best.end(), -1);
          std::fill(bestValue.begin(), bestValue.end(), -std::numeric_limits<float>::infinity());
          for (int64_t i = 0; i < kh; i++) {
            int64_t hr = r * sh - pt + i * dh;
            if (hr < 0 || hr >= h) continue;
            for (int64_t j = 0; j < kw; j++) {
              int64_t wc = q * sw - pl + j * dw;
              if (wc < 0 || wc >= w) continue;
              int64_t base = ((b * h + hr) * w + wc) * c;
              const float* px = xs + base;
              for (int64_t k = 0; k < c; k++) {
                if (px[k] > bestValue[k]) {
                  bestValue[k] = px[k];
                  best[k] = base + k;
                }
              }
            }
          }
          const float* g = dys + ((b * oh + r) * ow + q) * c;
          for (int64_t k = 0; k < c; k++)
            if (best[k] >= 0) dxs[best[k]] += g[k];
        }
      }
    }
    return undefinedValue(env);
  });
}

/**
 * maxPool(x, y, p): y = the maximum of each window (as tfjs' cpu backend: values
 * must beat -Infinity, padding never wins, an all-NaN window gives -Infinity).
 * p as maxPoolGrad.
 */
napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[3];
    getArgs(env, info, argv, 3, 3);
    F32 x = getF32(env, argv[0], "x"), y = getF32(env, argv[1], "y");
    I32 p = getI32(env, argv[2], "p");
    const int64_t n = p[0], h = p[1], w = p[2], c = p[3], oh = p[4], ow = p[5], kh = p[6], kw = p[7], sh = p[8],
                  sw = p[9], dh = p[10], dw = p[11], pt = p[12], pl = p[13];
    expectLength(x, n * h * w * c, "x");
    expectLength(y, n * oh * ow * c, "y");
    const float* xs = x.data;
    float* ys = y.data;
    const float lowest = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) if (n * h * w * c >= kParallelMin)
    for (int64_t row = 0; row < n * oh; row++) {
      const int64_t b = row / oh, r = row % oh;
      for (int64_t q = 0; q < ow; q++) {
        float* out = ys + (row * ow + q) * c;
        std::fill(out, out + c, lowest);
        for (int64_t i = 0; i < kh; i++) {
          const int64_t hr = r * sh - pt + i * dh;
          if (hr < 0 || hr >= h) continue;
          for (int64_t j = 0; j < kw; j++) {
            const int64_t wc = q * sw - pl + j * dw;
            if (wc < 0 || wc >= w) continue;
            const float* px = xs + ((b * h + hr) * w + wc) * c;
            for (int64_t k = 0; k < c; k++) out[k] = px[k] > out[k] ? px[k] : out[k];
          }
        }
      }
    }
    return undefinedValue(env);
  });
}

}  // namespace mirna
