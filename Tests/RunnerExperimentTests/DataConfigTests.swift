import XCTest
import Foundation
import Runner
import RunnerCLI

/// The config interface of the data registry: source-specific fields, the forms of
/// `data.train`/`test`/`val`, shapes and classes from the data checked against the model,
/// plan's rows from the data, the shipped configs, classes.csv, data errors (exit 1).
final class DataConfigTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = tempDir("dataconfig")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func message(_ text: String) -> String? {
        do { try Sweep.plan(try JSON.parse(text), defaultName: "t").checkShapes(); return nil } catch { return "\(error)" }
    }

    func testPinnedConfigMessages() throws {
        let csv = dir + "/t.csv"
        try "a,b,label\n1,2,x\n3,4,y\n5,6,z\n7,8,x\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let cases: [(String, String?)] = [
            (#"{"data": {"label_column": "y"}}"#, #"data.label_column: applies to data.source "csv", not "cifar10""#),
            (#"{"data": {"source": "idx", "train": {"images": "a"}, "num_test": 0}}"#, #"data.train: needs "labels": an object {"images": PATH, "labels": PATH}"#),
            (#"{"data": {"source": "idx", "train": {"image": "a", "labels": "b"}, "num_test": 0}}"#, #"data.train: unknown key "image" (did you mean "images"?)"#),
            (#"{"data": {"source": "idx", "train": "a.idx", "num_test": 0}}"#, #"data.train: expected an object {"images": PATH, "labels": PATH}, found a string"#),
            (#"{"data": {"source": "csv", "num_test": 0}}"#, #"data.train: csv needs data.train: a path such as "train.csv""#),
            (#"{"data": {"source": "csv", "train": "t.csv"}}"#, #"data.test: csv needs data.test (or num_test: 0 to run without a test split): a path such as "test.csv""#),
            (#"{"data": {"source": "npy", "train": {"X": "x.npy"}, "num_test": 0}}"#, #"data.train: needs "y": a path such as "train.npz" or an object {"X": PATH, "y": PATH}"#),
            (#"{"data": {"preprocess": "normalize"}}"#, #"data.preprocess: "normalize" is not one of "subtract_mean", "standardize", "scale", "none""#),
            (#"{"data": {"source": "cifar100", "label": "fines"}}"#, #"data.label: "fines" is not one of "fine", "coarse" (did you mean "fine"?)"#),
            // Classes and sample shape come from the data: presets follow them, explicit layers are checked.
            (#"{"data": {"source": "csv", "train": "\#(csv)", "num_val": 1, "num_test": 0}, "model": {"hidden_dims": [4]}}"#, nil),
            (#"{"data": {"source": "csv", "train": "\#(csv)", "num_val": 1, "num_test": 0}, "model": {"type": "layers", "layers": [{"type": "affine", "units": 10}]}}"#,
             "sweep trial 0: model.layers: layer shapes do not fit: the last layer gives 10 scores but the data (csv \(csv)) has 3 classes"),
            (#"{"data": {"source": "csv", "train": "\#(csv)", "num_val": 1, "num_test": 0}, "model": {"type": "three_layer_convnet"}}"#,
             "sweep trial 0: model: layer shapes do not fit: layer 1 (conv): conv needs a (C, H, W) input, got [2]; the data (csv \(csv)) has samples of 2"),
        ]
        for (text, expected) in cases { XCTAssertEqual(message(text), expected, text) }
    }

    /// The shipped digits configs: shapes, classes and plan's rows from the files.
    func testShippedDigitsConfigsPlanFromTheData() throws {
        for name in ["digits_fc", "digits_convnet"] {
            let path = repoRoot + "/configs/\(name).json"
            var json = try readConfigFile(path)
            // The config's relative paths are for the repository root; resolve them here.
            for split in ["train", "test"] { for part in ["images", "labels"] {
                if case .string(let p)? = json["data"]?[split]?[part] { json = json.setting(path: ["data", split, part], to: .string(repoRoot + "/" + p)) }
            } }
            let plan = try Sweep.plan(json, defaultName: name)
            try plan.checkShapes()
            let c = plan.trials[0].config
            let shape = try c.dataShape()
            XCTAssertEqual(shape.sampleShape, [1, 8, 8]); XCTAssertEqual(shape.numClasses, 10)
            XCTAssertTrue(c.dataRows == (1200, 237, 360), "\(c.dataRows)")
            let cost = try estimateCost(plan.trials[0])
            XCTAssertGreaterThan(cost.flops, 0)
            XCTAssertLessThan(cost.memory.data, 1e6, "1,797 byte images of 64 pixels")
        }
    }

    /// A CSV run writes classes.csv (the name of each class index), and a missing data
    /// file is a data error naming the full path tried, exit 1.
    func testCSVRunWritesClassMappingAndMissingFileIsADataError() throws {
        let csv = dir + "/t.csv"
        let rows = (0..<40).map { "\($0 % 4),\(["b", "a", "c", "a"][$0 % 4])" }.joined(separator: "\n")
        try ("f,species\n" + rows + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let plan = try Sweep.plan(JSON.parse(#"""
            {"name": "tab", "output": {"dir": "\#(dir)"}, "data": {"source": "csv", "train": "\#(csv)", "test": "\#(csv)",
             "label_column": "species", "num_val": 8, "num_test": null}, "model": {"hidden_dims": [8]}, "training": {"num_epochs": 2, "batch_size": 8}}
            """#), defaultName: "tab")
        let report = try runExperiment(plan, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        XCTAssertEqual(report.failed.count, 0)
        XCTAssertEqual(try String(contentsOfFile: dir + "/tab/classes.csv", encoding: .utf8), "class,name\n0,a\n1,b\n2,c\n")
        XCTAssertEqual(plan.trials[0].config.dataRows.test, 40, "num_test null: every test row")

        let cfg = dir + "/missing.json"
        try #"{"data": {"source": "csv", "train": "no/such.csv", "num_test": 0}}"#.write(toFile: cfg, atomically: true, encoding: .utf8)
        let r = runnerInProcess(["validate", cfg])
        XCTAssertEqual(r.code, 1)
        XCTAssertEqual(r.stderr, "data error: data file \(FileManager.default.currentDirectoryPath)/no/such.csv is missing\n")
    }

    /// The identity of a trial ignores a preprocessing spelled as the source's default.
    func testDefaultPreprocessKeepsTrialIDs() throws {
        let a = try Sweep.plan(JSON.parse(#"{"data": {"source": "synthetic"}}"#), defaultName: "t").trials[0].id
        let b = try Sweep.plan(JSON.parse(#"{"data": {"source": "synthetic", "preprocess": "none"}}"#), defaultName: "t").trials[0].id
        let c = try Sweep.plan(JSON.parse(#"{"data": {"source": "synthetic", "preprocess": "standardize"}}"#), defaultName: "t").trials[0].id
        XCTAssertEqual(a, b); XCTAssertNotEqual(a, c)
    }
}
