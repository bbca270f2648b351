// Entry point of the mirna-dl native addon: argument helpers, threads, version,
// and the export table (kernels live in conv.cc, elementwise.cc, dense.cc and dropout.cc; the binding-matrix encoder in encode.cc).
#include "common.h"

#include <omp.h>
#include <dnnl.hpp>

#include <cmath>
#include <string>

extern "C" void openblas_set_num_threads(int threads);  // OpenBLAS (cblas.h declares it too)

namespace mirna {

F32 getF32(napi_env env, napi_value v, const char* what, bool optional) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (optional && (t == napi_undefined || t == napi_null)) return F32{};
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError(std::string(what) + ": expected a Float32Array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_float32_array)
    throw ArgError(std::string(what) + ": expected a Float32Array");
  return F32{static_cast<float*>(data), length};
}

I32 getI32(napi_env env, napi_value v, const char* what) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (!is || napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_int32_array)
    throw ArgError(std::string(what) + ": expected an Int32Array");
  return I32{static_cast<const int32_t*>(data), length};
}

uint8_t* getU8(napi_env env, napi_value v, const char* what, size_t* length) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  void* data;
  napi_value buffer;
  size_t offset;
  if (!is || napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset) != napi_ok ||
      (type != napi_uint8_array && type != napi_int8_array))
    throw ArgError(std::string(what) + ": expected a Uint8Array");
  return static_cast<uint8_t*>(data);
}

double getNumber(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw ArgError(std::string(what) + ": expected a number");
  return d;
}

size_t getArgs(napi_env env, napi_callback_info info, napi_value* argv, size_t min, size_t max) {
  size_t argc = max;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < min) throw ArgError("expected " + std::to_string(min) + " arguments, got " + std::to_string(argc));
  for (size_t i = argc; i < max; i++) napi_get_undefined(env, &argv[i]);
  return argc;
}

void expectLength(const F32& a, size_t n, const char* what) {
  if (a.length != n)
    throw ArgError(std::string(what) + ": expected " + std::to_string(n) + " elements, got " +
                   std::to_string(a.length));
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Defined in conv.cc / elementwise.cc.
napi_value Conv2D(napi_env env, napi_callback_info info);
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info);
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info);
napi_value ConvImplInfo(napi_env env, napi_callback_info info);
napi_value MaxPoolGrad(napi_env env, napi_callback_info info);
napi_value MaxPool(napi_env env, napi_callback_info info);
napi_value Adam(napi_env env, napi_callback_info info);
napi_value Binary(napi_env env, napi_callback_info info);
napi_value Unary(napi_env env, napi_callback_info info);
napi_value ReduceRows(napi_env env, napi_callback_info info);
napi_value Select(napi_env env, napi_callback_info info);
napi_value MatMul(napi_env env, napi_callback_info info);
napi_value BatchNorm(napi_env env, napi_callback_info info);
napi_value BatchNormTrain(napi_env env, napi_callback_info info);
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info);
napi_value EncodeBindingMatrix(napi_env env, napi_callback_info info);  // encode.cc
napi_value Dropout(napi_env env, napi_callback_info info);              // dropout.cc

/** version(): "oneDNN 2.6.3 (OpenMP)". */
static napi_value Version(napi_env env, napi_callback_info) {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch);
  napi_value out;
  napi_create_string_utf8(env, s.c_str(), s.size(), &out);
  return out;
}

/** setThreads(n): OpenMP threads for oneDNN and the elementwise loops, and OpenBLAS' threads. */
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[1];
    getArgs(env, info, argv, 1, 1);
    double n = getNumber(env, argv[0], "threads");
    if (!(n >= 1) || n != std::floor(n)) throw ArgError("threads must be a positive integer");
    omp_set_num_threads(static_cast<int>(n));
    openblas_set_num_threads(static_cast<int>(n));
    return undefinedValue(env);
  });
}

/** getThreads(): the OpenMP thread count parallel regions will use. */
static napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, omp_get_max_threads(), &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"version", nullptr, Version, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2d", nullptr, Conv2D, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2DBackpropInput, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2DBackpropFilter, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"convImplInfo", nullptr, ConvImplInfo, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduceRows", nullptr, ReduceRows, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"select", nullptr, Select, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"encodeBindingMatrix", nullptr, EncodeBindingMatrix, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dropout", nullptr, Dropout, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace mirna

NAPI_MODULE(NODE_GYP_MODULE_NAME, mirna::Init)
