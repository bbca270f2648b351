// Binding-matrix encoder (the CEITEC encoding, github.com/ML-Bioinfo-CEITEC/mirna_binding; the
// JS twin and the contract are in lib/src/binding/encoding.ts). Not a TensorFlow.js kernel: it
// turns miRNA and site strings straight into the float32 input of arch_00b.
//
// Per miRNA, five row templates (one per site code A, C, G, T, N; 20 × channels floats
// of 0/1); each site nucleotide's row of the output is a copy of its template. The
// output (4,000 bytes per pair) is far larger than the caches, so the copies use
// non-temporal stores when the buffer is 16-byte aligned: the rows go to memory
// without first being read into the cache (about 1.5× the throughput of plain stores).
#include "common.h"

#if defined(__SSE2__)
#include <immintrin.h>
#define MIRNA_STREAM_STORES 1
#endif

#include <cstring>
#include <string>
#include <vector>

namespace mirna {

namespace {

constexpr int kMirnaLength = 20;
constexpr int kSiteLength = 50;

// Nucleotide codes: A 0, C 1, G 2, T/U 3, N 4, anything else 255 (as lib/src/sequences.ts).
struct CodeTable {
  uint8_t code[128];
  CodeTable() {
    std::memset(code, 255, sizeof code);
    const char* letters[] = {"Aa", "Cc", "Gg", "TtUu", "Nn"};
    for (int c = 0; c < 5; c++)
      for (const char* p = letters[c]; *p; p++) code[static_cast<unsigned char>(*p)] = static_cast<uint8_t>(c);
  }
};
const CodeTable kCodes;

const int8_t kWatsonCrickPartner[5] = {3, 2, 1, 0, -1};
const int8_t kWobblePartner[5] = {-1, -1, 3, 2, -1};

inline uint8_t codeOf(char16_t ch) { return ch < 128 ? kCodes.code[ch] : 255; }

/** Reads a JS string as UTF-16 into `buffer` (resized); returns its length. */
size_t getUtf16(napi_env env, napi_value v, const char* what, std::vector<char16_t>& buffer) {
  size_t length = 0;
  if (napi_get_value_string_utf16(env, v, nullptr, 0, &length) != napi_ok)
    throw ArgError(std::string(what) + ": expected a string");
  buffer.resize(length + 1);
  size_t copied = 0;
  napi_get_value_string_utf16(env, v, buffer.data(), buffer.size(), &copied);
  return copied;
}

}  // namespace

/**
 * encodeBindingMatrix(mirnas, sites, n, channels, out) → -1 when all pairs were encoded,
 * else the index of the first pair with a letter outside A, C, G, T, U, N (either case);
 * the caller then builds the message. `mirnas` and `sites` are the n miRNAs (20 nt) and n
 * sites (50 nt) joined without separators; out is a Float32Array of n·50·20·channels.
 */
napi_value EncodeBindingMatrix(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[5];
    getArgs(env, info, argv, 5, 5);
    std::vector<char16_t> mirnas, sites;
    const size_t mirnaChars = getUtf16(env, argv[0], "mirnas", mirnas);
    const size_t siteChars = getUtf16(env, argv[1], "sites", sites);
    const double nValue = getNumber(env, argv[2], "n");
    const double channelsValue = getNumber(env, argv[3], "channels");
    if (!(nValue >= 0) || nValue != static_cast<double>(static_cast<int64_t>(nValue)))
      throw ArgError("n must be a non-negative integer");
    if (channelsValue != 1 && channelsValue != 2) throw ArgError("channels must be 1 or 2");
    const int64_t n = static_cast<int64_t>(nValue);
    const int channels = static_cast<int>(channelsValue);
    if (mirnaChars != static_cast<size_t>(n) * kMirnaLength)
      throw ArgError("mirnas: expected " + std::to_string(n * kMirnaLength) + " characters");
    if (siteChars != static_cast<size_t>(n) * kSiteLength)
      throw ArgError("sites: expected " + std::to_string(n * kSiteLength) + " characters");
    F32 out = getF32(env, argv[4], "out");
    const int rowFloats = kMirnaLength * channels;
    const size_t pairFloats = static_cast<size_t>(kSiteLength) * rowFloats;
    expectLength(out, static_cast<size_t>(n) * pairFloats, "out");

    // Templates padded to 16-byte multiples (80 or 160 bytes per row already are).
    alignas(32) float templates[5][kMirnaLength * 2];
#ifdef MIRNA_STREAM_STORES
    const bool stream = (reinterpret_cast<uintptr_t>(out.data) % 16) == 0;
#else
    const bool stream = false;
#endif
    const char16_t* previous = nullptr;
    int64_t bad = -1;

    for (int64_t k = 0; k < n; k++) {
      const char16_t* mirna = mirnas.data() + k * kMirnaLength;
      const char16_t* site = sites.data() + k * kSiteLength;
      if (previous == nullptr || std::memcmp(previous, mirna, kMirnaLength * sizeof(char16_t)) != 0) {
        std::memset(templates, 0, sizeof templates);
        for (int j = 0; j < kMirnaLength; j++) {
          const uint8_t m = codeOf(mirna[j]);
          if (m > 4) {
            bad = k;
            break;
          }
          if (m < 4) {
            templates[kWatsonCrickPartner[m]][j * channels] = 1.0f;
            if (channels == 2 && kWobblePartner[m] >= 0) templates[kWobblePartner[m]][j * 2 + 1] = 1.0f;
          }
        }
        if (bad >= 0) break;
        previous = mirna;
      }
      float* row = out.data + k * pairFloats;
      for (int i = 0; i < kSiteLength; i++, row += rowFloats) {
        const uint8_t c = codeOf(site[i]);
        if (c > 4) {
          bad = k;
          break;
        }
        const float* t = templates[c];
#ifdef MIRNA_STREAM_STORES
        if (stream) {
          for (int q = 0; q < rowFloats; q += 4) _mm_stream_ps(row + q, _mm_load_ps(t + q));
          continue;
        }
#endif
        std::memcpy(row, t, rowFloats * sizeof(float));
      }
      if (bad >= 0) break;
    }
#ifdef MIRNA_STREAM_STORES
    if (stream) _mm_sfence();
#endif
    napi_value result;
    napi_create_int64(env, bad, &result);
    return result;
  });
}

}  // namespace mirna
