import XCTest
import Foundation
import RunnerTraining

/// Learning-rate schedules: every iteration's rate against the closed form of the issue's
/// interface, and the Solver using (and recording) exactly those rates.
final class ScheduleTests: XCTestCase {
    func settings(_ kind: ScheduleKind, lr: Double = 0.1, warmup: Int = 0, _ edit: (inout ScheduleSettings) -> Void = { _ in }) -> OptimizerSettings {
        var s = OptimizerSettings(kind: .sgd, learningRate: lr)
        s.schedule.kind = kind
        s.schedule.warmupEpochs = warmup
        edit(&s.schedule)
        return s
    }

    func rates(_ s: OptimizerSettings, perEpoch: Int, epochs: Int) -> [Double] {
        (0..<perEpoch * epochs).map { s.learningRate(at: $0, iterationsPerEpoch: perEpoch, numEpochs: epochs) }
    }

    /// exponential: lr·d^(e−1) in epoch e, multiplied once per epoch exactly like `lr ← lr·d`.
    func testExponentialIsTheCourseDecay() {
        var s = settings(.exponential, lr: 3e-3)
        s.lrDecay = 0.95
        let got = rates(s, perEpoch: 7, epochs: 30)
        var lr = 3e-3
        for e in 0..<30 {
            for i in 0..<7 { XCTAssertEqual(got[e * 7 + i].bitPattern, lr.bitPattern, "epoch \(e + 1)") }
            lr *= 0.95
        }
        XCTAssertEqual(rates(settings(.exponential), perEpoch: 3, epochs: 4), [Double](repeating: 0.1, count: 12))
    }

    /// step k=3, γ=0.5: epochs 1…3 use lr, 4…6 lr/2, 7…8 lr/4.
    func testStep() {
        let got = rates(settings(.step) { $0.stepEpochs = 3; $0.gamma = 0.5 }, perEpoch: 4, epochs: 8)
        let perEpoch: [Double] = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
        XCTAssertEqual(got, perEpoch.flatMap { [Double](repeating: $0, count: 4) })
    }

    /// multistep [2, 5], γ=0.1: multiplied after epoch 2 and again after epoch 5.
    func testMultistep() {
        let got = rates(settings(.multistep) { $0.milestones = [2, 5]; $0.gamma = 0.1 }, perEpoch: 2, epochs: 7)
        let perEpoch: [Double] = [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.1 * 0.1 * 0.1]
        XCTAssertEqual(got, perEpoch.flatMap { [$0, $0] })
    }

    /// cosine, per iteration: min + (lr − min)·(1 + cos(π·t/T))/2 over all T iterations.
    func testCosine() {
        let got = rates(settings(.cosine) { $0.minLR = 1e-3 }, perEpoch: 5, epochs: 4)
        for t in 0..<20 {
            XCTAssertEqual(got[t], 1e-3 + (0.1 - 1e-3) * (1 + cos(Double.pi * Double(t) / 20)) / 2, accuracy: 1e-15, "iteration \(t)")
        }
        XCTAssertEqual(got[0], 0.1)
        XCTAssertEqual(zip(got, got.dropFirst()).allSatisfy { $0 > $1 }, true, "strictly decreasing")
    }

    /// Warm-up w epochs: lr·(t+1)/(w·P) per iteration, then the schedule counted from its end.
    func testWarmupInFrontOfEachSchedule() {
        let P = 4, E = 6, w = 2, W = w * P
        let warm = (0..<W).map { 0.2 * Double($0 + 1) / Double(W) }
        // cosine over the S = (E − w)·P iterations after the warm-up
        let cos = rates(settings(.cosine, lr: 0.2, warmup: w) { $0.minLR = 0 }, perEpoch: P, epochs: E)
        XCTAssertEqual(Array(cos[..<W]), warm)
        for u in 0..<(E - w) * P {
            XCTAssertEqual(cos[W + u], 0.2 * (1 + Foundation.cos(Double.pi * Double(u) / Double((E - w) * P))) / 2, accuracy: 1e-15)
        }
        // step: epochs w+1 … w+k use lr
        let step = rates(settings(.step, lr: 0.2, warmup: w) { $0.stepEpochs = 2; $0.gamma = 0.5 }, perEpoch: P, epochs: E)
        XCTAssertEqual(Array(step[..<W]), warm)
        XCTAssertEqual(Array(step[W...]), [0.2, 0.2, 0.1, 0.1].flatMap { [Double](repeating: $0, count: P) })
        // multistep milestones count from the end of the warm-up
        let multi = rates(settings(.multistep, lr: 0.2, warmup: w) { $0.milestones = [3]; $0.gamma = 0.5 }, perEpoch: P, epochs: E)
        XCTAssertEqual(Array(multi[W...]), [0.2, 0.2, 0.2, 0.1].flatMap { [Double](repeating: $0, count: P) })
        // exponential
        var exp = settings(.exponential, lr: 0.2, warmup: w)
        exp.lrDecay = 0.5
        XCTAssertEqual(Array(rates(exp, perEpoch: P, epochs: E)[W...]), [0.2, 0.1, 0.05, 0.025].flatMap { [Double](repeating: $0, count: P) })
        XCTAssertEqual(rates(exp, perEpoch: P, epochs: E)[W - 1], 0.2, "the warm-up ends at the base rate")
    }

    /// The Solver uses the schedule's rate at every iteration: the history records it per
    /// iteration, and each accuracy check the rate of its epoch's last iteration.
    func testSolverRecordsTheRateOfEveryIteration() throws {
        let data = SyntheticData.blobs(seed: 3, numTrain: 60, numVal: 20, numTest: 0)
        var opt = settings(.cosine, lr: 0.05, warmup: 1) { $0.minLR = 1e-3 }
        opt.kind = .sgd_momentum
        let net = try Network<Float>(inputShape: data.sampleShape, specs: fullyConnectedSpecs(hiddenDims: [10], numClasses: 10, normalization: "none", dropout: 0), seed: 1)
        let solver = Solver(network: net, optimizer: Optimizer(settings: opt, parameters: net.parameters), data: data,
                            settings: TrainingSettings(numEpochs: 4, batchSize: 20), seed: 1)
        let r = solver.train()
        XCTAssertEqual(r.learningRates, rates(opt, perEpoch: 3, epochs: 4))
        XCTAssertEqual(r.epochs.map(\.learningRate), r.epochs.map { r.learningRates[$0.iteration - 1] })
        XCTAssertEqual(solver.optimizer.learningRate, r.learningRates.last)
    }
}
