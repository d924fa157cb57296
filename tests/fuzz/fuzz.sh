# The fuzz suite of make check: build every fuzz target, run each briefly.
cd "$(dirname "$0")/../.."
make --no-print-directory -j2 fuzz >build/fuzz-build.log 2>&1 || { echo "not ok 1 - fuzz targets build (build/fuzz-build.log)"; tail -5 build/fuzz-build.log | sed 's/^/# /'; echo 1..1; exit 1; }
# 10 s a target keeps the suite within a few minutes as targets grow.
exec fuzz/run.sh build/fuzz "${FUZZ_SECONDS:-10}"
