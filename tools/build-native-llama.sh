#!/usr/bin/env bash
# Builds llama.cpp's libllama and ggml for THIS machine's CPU (GGML_NATIVE), from the exact llama.cpp commit the
# LLamaSharp package SIOS uses was built from, so the library is ABI-identical to the one it replaces and only faster.
# Usage: tools/build-native-llama.sh GIT_DIR OUT_DIR [COMMIT]     (about 15 minutes on 2 cores; prints the folder)
# GIT_DIR is a git directory holding llama.cpp's history (a clone, or the bare repository a fetch of
# unslothai/llama.cpp gives). Then serve with SIOS_LLAMA_NATIVE=OUT_DIR/build/bin (see the README).
set -euo pipefail
git_dir=${1:?git directory of llama.cpp}; out=${2:?output folder}
# LLamaSharp 0.30.0's natives report this ggml commit (strings libggml-base.so).
commit=${3:-815a2a591}
src=$out/src; mkdir -p "$src"
git --git-dir="$git_dir" ls-tree -r "$commit" | grep -E $'\t(CMakeLists.txt|app/|cmake/|common/|ggml/|include/|src/|tools/|vendor/|scripts/|licenses/|LICENSE)' |
while IFS=$'\t' read -r meta path; do
  mkdir -p "$src/$(dirname "$path")"
  git --git-dir="$git_dir" cat-file blob "${meta##* }" >"$src/$path" 2>/dev/null || { echo "skipped (absent): $path" >&2; rm -f "$src/$path"; }
done
cmake -S "$src" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_COMMON=OFF \
  -DGGML_NATIVE=ON >"$out/cmake.log"
cmake --build "$out/build" --target llama -j"$(nproc)" >"$out/build.log"
echo "$out/build/bin"
