// swift-tools-version:6.0
import PackageDescription

// Swift's SIMD types become real vector/FMA instructions only when the compiler
// targets the CPU. `-target-cpu native` tunes the build for the machine that
// compiles it (AVX-512/AVX2 + FMA here). The binary may then not run on an
// older CPU than the one that built it: build where you run.
// `runner-bench` and `runner doctor` report whether the flag took effect.
let cpuFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"]),
    .define("RUNNER_TARGET_CPU_NATIVE"),
]
// C kernels: vectorised for this CPU, every operation rounded as written (no FMA contraction).
let cFlags: [CSetting] = [.unsafeFlags(["-march=native", "-O3", "-fno-math-errno", "-ffp-contract=off"])]

let package = Package(
    name: "runner",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Runner", targets: ["Runner"]),
        .executable(name: "runner", targets: ["runner"]),
        .executable(name: "runner-bench", targets: ["runner-bench"]),
    ],
    targets: [
        // tensors and kernels → layers → networks → optimizers → training → experiments → CLI
        .target(name: "CKernels", cSettings: cFlags),
        .target(name: "RunnerKernels", dependencies: ["CKernels"], swiftSettings: cpuFlags),
        .target(name: "RunnerLayers", dependencies: ["RunnerKernels"], swiftSettings: cpuFlags),
        .target(name: "RunnerNetworks", dependencies: ["RunnerLayers"], swiftSettings: cpuFlags),
        .target(name: "RunnerOptim", dependencies: ["RunnerNetworks"], swiftSettings: cpuFlags),
        .target(name: "RunnerData", dependencies: ["RunnerKernels"], swiftSettings: cpuFlags),
        .target(name: "RunnerTraining", dependencies: ["RunnerOptim", "RunnerData"], swiftSettings: cpuFlags),
        .target(name: "RunnerExperiment", dependencies: ["RunnerTraining"], swiftSettings: cpuFlags),
        .target(name: "Runner", dependencies: ["RunnerExperiment"], swiftSettings: cpuFlags),
        .target(name: "RunnerCLI", dependencies: ["Runner"], swiftSettings: cpuFlags),
        .executableTarget(name: "runner", dependencies: ["RunnerCLI"], swiftSettings: cpuFlags),
        // Benchmarks: their own library (used by runner-bench and the benchmark tests), not part of Runner.
        .target(name: "RunnerBench", dependencies: ["Runner"], swiftSettings: cpuFlags),
        .executableTarget(name: "runner-bench", dependencies: ["RunnerBench"], swiftSettings: cpuFlags),
        .testTarget(name: "RunnerKernelsTests", dependencies: ["RunnerKernels", "RunnerBench"], swiftSettings: cpuFlags),
        .testTarget(name: "RunnerLayersTests", dependencies: ["RunnerNetworks", "RunnerOptim", "RunnerBench"], exclude: ["Fixtures"], swiftSettings: cpuFlags),
        .testTarget(name: "RunnerTrainingTests", dependencies: ["RunnerTraining"], swiftSettings: cpuFlags),
        .testTarget(name: "RunnerExperimentTests", dependencies: ["Runner", "RunnerCLI"], swiftSettings: cpuFlags),
    ]
)
