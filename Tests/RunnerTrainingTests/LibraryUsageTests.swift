import XCTest
import RunnerTraining

/// The README's "Using the library" example, verbatim in spirit: it must compile and learn.
final class LibraryUsageTests: XCTestCase {
    func testReadmeExample() throws {
        // A 2-layer net on 3×8×8 inputs, its weights by name, a few Adam steps by hand.
        let net = try Network<Double>(inputShape: [3, 8, 8], specs: [.affine(outputs: 50), .relu, .affine(outputs: 10)],
                                      loss: .softmax, reg: 0.0, initialization: .kaiming, seed: 1)
        XCTAssertEqual(net.namedParameters.map(\.name), ["W1", "b1", "W2", "b2"])
        try net.setValues([Double](repeating: 0, count: 10), of: "b2")
        let data = SyntheticData.blobs(seed: 7, numTrain: 500, numVal: 100, numTest: 0)
        let x = Tensor<Double>(shape: [500, 3, 8, 8], values: data.train.x.map(Double.init))
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam, learningRate: 1e-2), parameters: net.parameters)
        var losses: [Double] = []
        for _ in 0..<50 {
            losses.append(net.lossAndGradients(x, labels: data.train.y))
            adam.update()
        }
        XCTAssertLessThan(losses.last!, losses.first! / 2)
        XCTAssertEqual(adam.step, 50)
        XCTAssertEqual(adam.stateNames, ["m", "v"])
        XCTAssertEqual(adam.state[0][0].count, net.values(of: "W1")!.count)
        let scores = net.scores(Array(data.val.x.prefix(10 * 192)).map(Double.init), rows: 10)
        XCTAssertEqual(scores.count, 10 * 10)
        net.reg = 0.5   // the objective can change between steps
        XCTAssertGreaterThan(net.lossAndGradients(x, labels: data.train.y), losses.last!)
        XCTAssertThrowsError(try net.setValues([1], of: "W9")) { XCTAssertEqual("\($0)", "no parameter W9 (the network has W1, b1, W2, b2)") }
    }
}
