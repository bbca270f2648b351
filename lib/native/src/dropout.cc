// Dropout with the masks of tf.dropout(x, rate, undefined, seed): the uniform numbers
// come from a C++ port of seedrandom's Alea generator (what tfjs' randomUniform uses),
// so a seed gives bit-for-bit the mask tfjs would draw, without making ~10⁵ numbers
// per call in JavaScript.
#include "common.h"

#include <cmath>
#include <string>
#include <vector>

namespace mirna {
namespace {

/** JavaScript's ToUint32 for the finite, non-negative doubles Mash produces. */
inline double toUint32(double v) { return std::fmod(std::floor(v), 4294967296.0); }

/** seedrandom's Mash (lib/alea.js): a hash of UTF-16 code units, state kept between calls. */
struct Mash {
  double n = 4022871197.0;  // 0xefc8249d
  double operator()(const std::u16string& data) {
    for (char16_t code : data) {
      n += code;
      double h = 0.02519603282416938 * n;
      n = toUint32(h);
      h -= n;
      h *= n;
      n = toUint32(h);
      h -= n;
      n += h * 4294967296.0;  // 2^32
    }
    return toUint32(n) * 2.3283064365386963e-10;  // 2^-32
  }
};

/** seedrandom.alea(seed): next() in [0, 1), the same doubles as the JavaScript version. */
struct Alea {
  double s0, s1, s2, c = 1;
  explicit Alea(const std::u16string& seed) {
    Mash mash;
    const std::u16string space = u" ";
    s0 = mash(space);
    s1 = mash(space);
    s2 = mash(space);
    s0 -= mash(seed);
    if (s0 < 0) s0 += 1;
    s1 -= mash(seed);
    if (s1 < 0) s1 += 1;
    s2 -= mash(seed);
    if (s2 < 0) s2 += 1;
  }
  double next() {
    const double t = 2091639 * s0 + c * 2.3283064365386963e-10;  // 2^-32
    s0 = s1;
    s1 = s2;
    c = static_cast<double>(static_cast<int32_t>(t));  // t | 0; 0 ≤ t < 2^21, so truncation
    return s2 = t - c;
  }
};

}  // namespace

/**
 * dropout(x, y, mask, seed, rate): the float32 ops of tf.dropout with
 * randomUniform(shape, 0, 1, 'float32', seed):
 *   u = float32(alea(seed)()),  mask = floor(u + keep) / keep,  y = x · mask,
 * keep = float32(1 − rate). x, y, mask: same length; seed a string. Serial: the
 * generator is a recurrence.
 */
napi_value Dropout(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[5];
    getArgs(env, info, argv, 5, 5);
    F32 x = getF32(env, argv[0], "x"), y = getF32(env, argv[1], "y"), mask = getF32(env, argv[2], "mask");
    size_t length = 0;
    if (napi_get_value_string_utf16(env, argv[3], nullptr, 0, &length) != napi_ok)
      throw ArgError("seed: expected a string");
    std::vector<char16_t> buffer(length + 1);
    size_t copied = 0;
    napi_get_value_string_utf16(env, argv[3], buffer.data(), buffer.size(), &copied);
    const std::u16string seed(buffer.data(), copied);
    const double rate = getNumber(env, argv[4], "rate");
    if (!(rate >= 0 && rate < 1)) throw ArgError("rate must be in [0, 1)");
    expectLength(y, x.length, "y");
    expectLength(mask, x.length, "mask");
    const float keep = static_cast<float>(1 - rate);
    Alea random(seed);
    for (size_t i = 0; i < x.length; i++) {
      const float u = static_cast<float>(random.next());
      const float m = std::floor(u + keep) / keep;
      mask.data[i] = m;
      y.data[i] = x.data[i] * m;
    }
    return undefinedValue(env);
  });
}

}  // namespace mirna
