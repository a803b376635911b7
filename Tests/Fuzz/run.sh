#!/bin/sh
# make fuzz: builds the fuzz targets with libFuzzer and AddressSanitizer into .build-fuzz (under the
# shared build lock), replays every regression input, then fuzzes each target for FUZZ_SECONDS
# (default 60) starting from its seed corpus. A crash stops the run: the input is in
# .build-fuzz/artifacts/<target>-crash-…; copy it to Tests/Fuzz/regressions/<target>/ with a name that
# says what it found, fix the code, and the Swift test suites replay it from then on.
set -eu
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-http json csv domain}"
# Builds share two cores with other builds: serialized by this lock (PICKUPBOX_BUILD_LOCK= turns it off).
LOCK="${PICKUPBOX_BUILD_LOCK-/tmp/pickupbox-build.lock}"

# A fresh scratch path needs the dependencies; reuse the main build's checkouts instead of the network.
if [ ! -d .build-fuzz/checkouts ] && [ -d .build/checkouts ]; then
    mkdir -p .build-fuzz
    cp -r .build/checkouts .build/repositories .build/workspace-state.json .build-fuzz/ 2>/dev/null || true
fi
# lld: the default gold linker fails on the instrumented objects (PLATFORM-NOTES).
PICKUPBOX_FUZZ=1 ${LOCK:+flock "$LOCK"} swift build -c debug --scratch-path .build-fuzz --product pickupbox-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

FUZZER=.build-fuzz/debug/pickupbox-fuzz
mkdir -p .build-fuzz/artifacts .build-fuzz/corpus
# Swift's runtime leaks small caches by design; ASan's leak check would report them as crashes.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
export SWIFT_BACKTRACE=enable=no
for target in $TARGETS; do
    # The seeds stay as committed; what libFuzzer adds goes to a working corpus outside the repository.
    work=.build-fuzz/corpus/$target
    mkdir -p "$work" "Tests/Fuzz/regressions/$target"
    if [ -n "$(ls -A "Tests/Fuzz/regressions/$target")" ]; then
        FUZZ_TARGET=$target "$FUZZER" Tests/Fuzz/regressions/$target/* > ".build-fuzz/$target-regressions.log" 2>&1 \
            || { cat ".build-fuzz/$target-regressions.log"; echo "fuzz $target: a regression input fails again"; exit 1; }
    fi
    FUZZ_TARGET=$target "$FUZZER" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/artifacts/$target-" "$work" "Tests/Fuzz/corpus/$target" > ".build-fuzz/$target.log" 2>&1 \
        || { tail -40 ".build-fuzz/$target.log"; echo "fuzz $target: crash, input in .build-fuzz/artifacts/"; exit 1; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' ".build-fuzz/$target.log")
    echo "fuzz $target: clean, $runs runs in ${SECONDS_PER_TARGET} s ($((runs / SECONDS_PER_TARGET)) exec/s)"
done
