# N-API addon with this project's native TensorFlow.js kernels (lib/src/native/).
# Built by environment/setup.sh (node-gyp, offline: the machine's npm config
# points nodedir at Node's installed headers) into native/build/; needs g++ and
# Debian's libdnnl-dev (oneDNN 2.x, OpenMP runtime) and libopenblas-dev. Without them the build
# fails, setup.sh prints one notice and the wasm backend is used.
{
  "targets": [
    {
      "target_name": "mirna_native",
      "sources": ["src/addon.cc", "src/conv.cc", "src/elementwise.cc", "src/dense.cc", "src/encode.cc", "src/dropout.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp", "-march=native"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lopenblas"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
