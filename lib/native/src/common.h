// Shared helpers of the mirna-dl native addon: N-API argument access and errors.
#pragma once
#include <node_api.h>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mirna {

/**
 * Element count from which the memory-bound loops (elementwise ops, reductions,
 * pooling, batch norm, Adam) use the OpenMP threads; below it they run on the
 * calling thread. Measured on the 2-core test machine under load from other
 * processes: a 1M-element multiply took median 0.32 ms / p90 0.8 ms on one
 * thread and median 0.55 ms / p90 4.5 ms on two (a woken worker that is not
 * scheduled at once stalls the call), so only very large arrays are split.
 * oneDNN's convolutions and GEMMs (compute-bound) always use all threads.
 */
constexpr int64_t kParallelMin = int64_t{1} << 22;

/** A float32 array handed over from JS (no copy): data pointer and element count. */
struct F32 {
  float* data = nullptr;
  size_t length = 0;
};

/** An int32 parameter block handed over from JS. */
struct I32 {
  const int32_t* data = nullptr;
  size_t length = 0;
  int32_t operator[](size_t i) const {
    if (i >= length) throw std::runtime_error("parameter block too short");
    return data[i];
  }
};

/** Thrown by argument helpers and kernels; converted to a JS Error at the N-API boundary. */
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

F32 getF32(napi_env env, napi_value v, const char* what, bool optional = false);
I32 getI32(napi_env env, napi_value v, const char* what);
double getNumber(napi_env env, napi_value v, const char* what);
uint8_t* getU8(napi_env env, napi_value v, const char* what, size_t* length);

/** Reads up to `max` arguments; throws ArgError if fewer than `min` were passed. */
size_t getArgs(napi_env env, napi_callback_info info, napi_value* argv, size_t min, size_t max);

/** Checks that `a` holds exactly `n` elements. */
void expectLength(const F32& a, size_t n, const char* what);

/** Wraps a kernel body: any C++ exception becomes a thrown JS Error. */
template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("mirna-dl native: ") + e.what()).c_str());
    return nullptr;
  }
}

napi_value undefinedValue(napi_env env);

}  // namespace mirna
