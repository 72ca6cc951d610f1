import XCTest
import Foundation
import Runner
import RunnerCLI

/// Saved models (`model.safetensors` + `model.json`), per-class results, `runner eval` and
/// `runner predict`.
final class SavedModelTests: XCTestCase {
    let sampleDir = repoRoot + "/data/cifar10-sample"

    /// A finished sweep of two trials on the CIFAR-10 sample (fc [16] + batchnorm, float32 and
    /// float64 arms); returns the results folder and the trials' folders, float32 first.
    func trainSample(_ d: String, extra: String = "") throws -> (results: String, trials: [String], plan: ExperimentPlan) {
        let config = d + "/m.json"
        try """
        {"name": "m", "output": {"dir": "\(d)/results"}, "seed": 3,
         "data": {"dir": "\(sampleDir)", "num_train": 500, "num_val": 200, "num_test": 300},
         "model": {"hidden_dims": [16], "normalization": "batchnorm", "init": "kaiming"}, "optimizer": {"type": "adam"},
         "training": {"num_epochs": 2, "batch_size": 50, "eval_batch_size": 64},
         "sweep": {"arms": {"f32": {"dtype": "float32"}, "f64": {"dtype": "float64"}}}\(extra)}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = runnerInProcess(["run", config, "--quiet", "--jobs", "1"])
        XCTAssertEqual(r.code, 0, r.stderr)
        let plan = try Sweep.plan(try readConfigFile(config), defaultName: "m")
        return (d + "/results/m", plan.trials.map { d + "/results/m/trials/" + $0.folderName }, plan)
    }

    // MARK: the file format

    /// Encode → decode gives the same tensors and metadata; the layout is the reference's:
    /// little-endian header length, header padded with spaces to 8 bytes, little-endian data.
    func testSafeTensorsRoundTrip() throws {
        let a = SafeTensor(name: "W1", shape: [2, 3], values: [Float]([1, -2, 3.5, .pi, 0, -0.0]))
        let b = SafeTensor(name: "x.y", shape: [3], values: [Double]([1e-300, 2, .infinity]))
        let c = SafeTensor(name: "scalar", shape: [], values: [Float]([42]))
        let e = SafeTensor(name: "empty", shape: [0, 4], values: [Float]())
        let data = SafeTensors.encode([a, b, c, e], metadata: [("format", "runner"), ("note", "ü ✓")])
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + n) % 8, 0, "data starts 8-byte aligned")
        let header = String(decoding: data[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"format":"runner","note":"ü ✓"},"W1":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#), header)
        let json = header.trimmingCharacters(in: .init(charactersIn: " "))
        XCTAssertTrue(json.hasSuffix("}"), "only spaces pad the header")
        XCTAssertEqual(Array(data[(8 + n)..<(8 + n + 4)]), [0, 0, 0x80, 0x3F], "1.0 as little-endian F32")
        let (tensors, metadata) = try SafeTensors.decode(data, file: "f")
        XCTAssertEqual(tensors, [a, b, c, e])
        XCTAssertEqual(metadata, ["format": "runner", "note": "ü ✓"])
        XCTAssertEqual(a.values(as: Float.self).map(\.bitPattern), [Float]([1, -2, 3.5, .pi, 0, -0.0]).map(\.bitPattern))
        XCTAssertEqual(b.values(as: Double.self), [1e-300, 2, .infinity])
        XCTAssertEqual(c.values(as: Double.self), [42])
    }

    /// Every malformed file is an error naming the file and the problem, never a trap.
    func testMalformedSafeTensors() {
        func le(_ n: UInt64) -> [UInt8] { withUnsafeBytes(of: n.littleEndian, Array.init) }
        func file(_ header: String, data: Int = 0) -> Data { Data(le(UInt64(header.utf8.count)) + Array(header.utf8) + [UInt8](repeating: 7, count: data)) }
        func w(_ fields: String, name: String = "W") -> String { "{\"\(name)\":{\(fields)}}" }
        let f32 = #""dtype":"F32","shape":[2],"data_offsets":[0,8]"#
        let cases: [(String, Data, String)] = [
            ("empty file", Data(), "it has 0 bytes, fewer than the 8-byte header length"),
            ("header beyond the file", Data(le(100) + Array("{}".utf8)), "the header length is 100 bytes but only 2 bytes follow it (truncated?)"),
            ("header over the limit", Data(le(200_000_000) + [0x7B]), "the header length 200000000 is larger than the 100000000-byte limit"),
            ("not an object", file("[1]     "), "the header does not start with '{'"),
            ("not UTF-8", Data(le(3) + [0x7B, 0xFF, 0x7D]), "the header is not UTF-8 text"),
            ("not JSON", file(#"{"a": }"#), "the header is not JSON (unexpected character '}', expected a value at column 7)"),
            ("key twice", file(#"{"W":{},"W":{}}"#), "the header is not JSON (duplicate key \"W\" at column 13)"),
            ("metadata not an object", file(#"{"__metadata__": 1}"#), "__metadata__ is an integer, not an object of strings"),
            ("metadata value not a string", file(#"{"__metadata__": {"k": [1]}}"#), "__metadata__ \"k\" is a list, not a string"),
            ("entry not an object", file(#"{"W": [1]}"#), "tensor \"W\" is a list, not an object"),
            ("unknown field", file(w(f32 + #","x":1"#), data: 8), "tensor \"W\" has an unknown field \"x\" (expected dtype, shape, data_offsets)"),
            ("no dtype", file(w(#""shape":[2],"data_offsets":[0,8]"#), data: 8), "tensor \"W\" has no dtype string"),
            ("unsupported dtype", file(w(#""dtype":"F16","shape":[2],"data_offsets":[0,4]"#), data: 4), "tensor \"W\" has dtype \"F16\"; runner reads F32 and F64"),
            ("no shape", file(w(#""dtype":"F32","data_offsets":[0,8]"#), data: 8), "tensor \"W\" has no shape list"),
            ("negative size", file(w(#""dtype":"F32","shape":[-2],"data_offsets":[0,8]"#), data: 8), "tensor \"W\": shape holds -2, not a non-negative integer"),
            ("fractional offset", file(w(#""dtype":"F32","shape":[2],"data_offsets":[0.5,8]"#), data: 8), "tensor \"W\": data_offsets holds 0.5, not a non-negative integer"),
            ("three offsets", file(w(#""dtype":"F32","shape":[2],"data_offsets":[0,4,8]"#), data: 8), "tensor \"W\": data_offsets has 3 numbers, not [begin, end]"),
            ("end before begin", file(w(#""dtype":"F32","shape":[2],"data_offsets":[8,0]"#), data: 8), "tensor \"W\": data_offsets [8, 0] ends before it begins"),
            ("span and shape disagree", file(w(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), data: 8), "tensor \"W\": data_offsets [0, 8] span 8 bytes but shape [3] of F32 needs 12"),
            ("huge shape", file(w(#""dtype":"F64","shape":[1048576,1048576],"data_offsets":[0,8]"#), data: 8), "tensor \"W\": shape [1048576, 1048576] is too large"),
            ("overlap", file(#"{"A":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"B":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12),
             "tensor \"B\" overlaps tensor \"A\" (bytes 4..<8)"),
            ("gap", file(#"{"A":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"B":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: 12),
             "bytes 4..<8 of the data belong to no tensor"),
            ("truncated data", file(w(f32), data: 4), "the tensors need 8 bytes of data but only 4 follow the header (truncated?)"),
            ("bytes after the last tensor", file(w(f32), data: 12), "4 bytes after the last tensor belong to no tensor"),
        ]
        for (what, data, message) in cases {
            XCTAssertThrowsError(try SafeTensors.decode(data, file: "dir/model.safetensors"), what) { error in
                XCTAssertEqual("\(error)", "dir/model.safetensors is not a valid safetensors file: \(message)", what)
            }
        }
        // Every truncation of a valid file is refused, none traps.
        let valid = SafeTensors.encode([SafeTensor(name: "W", shape: [3], values: [Float]([1, 2, 3]))], metadata: [("a", "b")])
        for k in 0..<valid.count { XCTAssertThrowsError(try SafeTensors.decode(valid.prefix(k), file: "f"), "\(k) bytes") }
    }

    // MARK: trials save their model and per-class results

    func testFinishedTrialsSaveModelAndPerClassResults() throws {
        let d = tempDir("saved-model")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (results, trials, plan) = try trainSample(d)
        let folder = try ResultsFolder(results, create: false)
        let data = try plan.trials[0].config.loadData()
        for (t, dir) in zip(plan.trials, trials) {
            for f in ["model.safetensors", "model.json", "confusion_val.csv", "confusion_test.csv", "per_class.csv", "confusion.svg"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), "\(t.arm ?? ""): \(f)")
            }
            let record = try XCTUnwrap(folder.record(TrialFiles(folder: t.folderName)))
            let e = try XCTUnwrap(record.evaluation, "the record keeps the per-class results")
            XCTAssertEqual(e.classNames, CIFAR10.classNames)
            let val = try XCTUnwrap(e.val), test = try XCTUnwrap(e.test)
            // Rows sum to the class counts of the split; the accuracy is the recorded one.
            for (m, split) in [(val, data.val), (test, data.test)] {
                XCTAssertEqual(m.classRows, (0..<10).map { c in split.y.filter { $0 == c }.count })
                XCTAssertEqual(m.rows, split.count)
            }
            XCTAssertEqual(val.accuracy, record.bestValAccuracy)
            XCTAssertEqual(test.accuracy, record.testAccuracy)
            // The exports.
            let csvVal = try String(contentsOfFile: dir + "/confusion_val.csv", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(csvVal.first, "true\\predicted,airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck")
            XCTAssertEqual(csvVal[1], Substring((["airplane"] + val.counts[0].map(String.init)).joined(separator: ",")))
            XCTAssertEqual(csvVal.count, 11)
            let perClass = try String(contentsOfFile: dir + "/per_class.csv", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(perClass.first, "class,val_acc,test_acc")
            XCTAssertEqual(perClass[4], Substring("cat,\(val.classAccuracy(3)!),\(test.classAccuracy(3)!)"))
            let svg = try String(contentsOfFile: dir + "/confusion.svg", encoding: .utf8)
            XCTAssertTrue(svg.contains("<g class=\"confusion\" data-split=\"validation\" data-rows=\"200\" data-correct=\"\(val.correct)\">"), svg)
            XCTAssertTrue(svg.contains("<g class=\"confusion\" data-split=\"test\" data-rows=\"300\" data-correct=\"\(test.correct)\">"))
            XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 200, "10 × 10 cells per split")

            // The file: the tensors in the trial's dtype, the buffers and the input mean beside them.
            let (tensors, metadata) = try SafeTensors.read(dir + "/model.safetensors")
            XCTAssertEqual(tensors.map(\.name), ["W1", "b1", "gamma1", "beta1", "running_mean1", "running_var1", "W2", "b2", "preprocess.mean"])
            XCTAssertEqual(tensors.map(\.shape), [[3072, 16], [16], [16], [16], [16], [16], [16, 10], [10], [3, 32, 32]])
            let dtype: SafeTensorDType = t.arm == "f64" ? .F64 : .F32
            XCTAssertEqual(tensors.dropLast().map(\.dtype), Array(repeating: dtype, count: 8))
            XCTAssertEqual(tensors.last?.dtype, .F32)
            XCTAssertEqual(metadata, ["format": "runner", "dtype": t.arm == "f64" ? "float64" : "float32"])
            XCTAssertNotEqual(tensors[4].values(as: Double.self), Array(repeating: 0, count: 16), "running statistics were saved")
            let desc = try JSON.parse(String(contentsOfFile: dir + "/model.json", encoding: .utf8))
            XCTAssertEqual(desc["classes"], .array(CIFAR10.classNames.map { .string($0) }))
            XCTAssertEqual(desc["input_shape"], .array([3, 32, 32].map { .number($0) }))
            XCTAssertEqual(desc["config"], t.reproducingConfig, "the trial's config travels with the model")

            // runner eval recomputes the recorded accuracies from the saved model alone.
            let ev = runnerInProcess(["eval", dir])
            XCTAssertEqual(ev.code, 0, ev.stderr)
            XCTAssertEqual(ev.stdout.split(separator: "\n").first, Substring("accuracy \(record.bestValAccuracy!)"))
            let catRow = try XCTUnwrap(ev.stdout.split(separator: "\n").first { $0.hasPrefix("3 cat") }, ev.stdout)
            XCTAssertEqual(catRow.split(separator: " ").dropFirst(2).map { Int($0) }, val.counts[3].map { Int?($0) }, "the confusion matrix row of cat")
            let evTest = runnerInProcess(["eval", dir, "--split", "test", "--data", sampleDir])
            XCTAssertEqual(evTest.stdout.split(separator: "\n").first, Substring("accuracy \(record.testAccuracy!)"), evTest.stderr)
        }
        // A rerun skips the finished trials and leaves their models alone.
        let before = try Data(contentsOf: URL(fileURLWithPath: trials[0] + "/model.safetensors"))
        _ = try trainSample(d)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: trials[0] + "/model.safetensors")), before)
    }

    /// Saving then loading gives back the same network: the loaded model classifies exactly
    /// as the trained one (same predictions and probabilities), on a source without a mean image.
    func testRoundTripThroughTheFolder() throws {
        let d = tempDir("model-roundtrip")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plan = try Sweep.plan(JSON.parse("""
            {"name": "syn", "output": {"dir": "\(d)"}, "data": {"source": "synthetic", "num_train": 200, "num_val": 100, "num_test": 50},
             "model": {"type": "layers", "layers": [{"type": "conv", "filters": 4, "size": 3}, {"type": "spatial_batchnorm"}, {"type": "relu"},
                       {"type": "maxpool"}, {"type": "affine", "units": 10}]},
             "optimizer": {"type": "adam"}, "training": {"num_epochs": 2, "batch_size": 20}}
            """), defaultName: "syn")
        let t = plan.trials[0]
        let data = try t.config.loadData()
        let outcome = trainTrial(t, data: data)
        XCTAssertEqual(outcome.result.status, .finished)
        let model = try XCTUnwrap(outcome.model)
        XCTAssertEqual(try SafeTensors.decode(model.safetensors, file: "m").tensors, model.tensors)
        XCTAssertEqual(model.tensors.map(\.name), ["W1", "b1", "gamma1", "beta1", "running_mean1", "running_var1", "W2", "b2"],
                       "no preprocess.mean: synthetic rows are not raw values minus a mean")
        let folder = try ResultsFolder(plan.directory, create: true)
        _ = try writeTrial(t, outcome: outcome, folder: folder, files: TrialFiles(folder: t.folderName))
        let loaded = try LoadedModel(directory: plan.directory + "/trials/" + t.folderName)
        XCTAssertEqual(loaded.confusion(on: data.val), outcome.evaluation?.val)
        XCTAssertEqual(loaded.confusion(on: data.test), outcome.evaluation?.test)
        XCTAssertNil(loaded.inputMean)
        // eval reads the data through the trial's data source (synthetic: no folder at all).
        let ev = runnerInProcess(["eval", plan.directory + "/trials/" + t.folderName, "--split", "test"])
        XCTAssertEqual(ev.stdout.split(separator: "\n").first, Substring("accuracy \(outcome.result.testAccuracy!)"), ev.stderr)
        // predict needs CIFAR-shaped inputs.
        let p = runnerInProcess(["predict", plan.directory + "/trials/" + t.folderName, sampleDir + "/test_batch.bin"])
        XCTAssertEqual(p.code, 2)
        XCTAssertEqual(p.stderr, "error: predict reads CIFAR-layout files (3×32×32 images), but the model in \(plan.directory)/trials/\(t.folderName) takes inputs of shape [3, 8, 8]\n")
    }

    /// The model is written like every result (atomically, through the results folder: a link
    /// in its place is replaced, never written through), and only finished trials have one.
    func testOnlyFinishedTrialsSaveAModelAndLinksAreReplaced() throws {
        let d = tempDir("model-files")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plan = try tinySyntheticSweep("lr", in: d, grid: #"{"optimizer.learning_rate": [0.01, 1e12]}"#)
        let ok = plan.directory + "/trials/" + plan.trials[0].folderName, diverged = plan.directory + "/trials/" + plan.trials[1].folderName
        try FileManager.default.createDirectory(atPath: ok, withIntermediateDirectories: true)
        try "keep".write(toFile: d + "/outside.bin", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: ok + "/model.safetensors", withDestinationPath: d + "/outside.bin")
        _ = try runExperiment(plan, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
        XCTAssertEqual(try String(contentsOfFile: d + "/outside.bin", encoding: .utf8), "keep")
        XCTAssertFalse(pathKindIsLink(ok + "/model.safetensors"))
        XCTAssertEqual(try SafeTensors.read(ok + "/model.safetensors").tensors.map(\.name), ["W1", "b1", "W2", "b2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: ok + "/confusion_test.csv"), "no test split, no test matrix")
        XCTAssertEqual(try String(contentsOfFile: ok + "/per_class.csv", encoding: .utf8).split(separator: "\n")[1].split(separator: ",", omittingEmptySubsequences: false).count, 3)
        let record = try XCTUnwrap(try ResultsFolder(plan.directory, create: false).record(TrialFiles(folder: plan.trials[1].folderName)))
        XCTAssertEqual(record.status, .diverged)
        XCTAssertNil(record.evaluation)
        for f in ["model.safetensors", "model.json", "confusion_val.csv", "per_class.csv", "confusion.svg"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: diverged + "/" + f), f)
        }
    }

    // MARK: runner predict

    func testPredict() throws {
        let d = tempDir("predict")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (results, trials, plan) = try trainSample(d)
        let record = try XCTUnwrap(try ResultsFolder(results, create: false).record(TrialFiles(folder: plan.trials[0].folderName)))
        let file = sampleDir + "/test_batch.bin"
        let p = runnerInProcess(["predict", trials[0], file])
        XCTAssertEqual(p.code, 0, p.stderr)
        let lines = p.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "row,predicted,p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9")
        XCTAssertEqual(lines.count, 1001, "one line per record of the file")
        let labels = try CIFAR10.readRecords(path: file).labels
        var correct = 0
        for (i, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",")
            XCTAssertEqual(cells[0], Substring("\(i)"))
            let probs = cells.dropFirst(2).map { Double($0)! }
            XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(Int(cells[1]), probs.indices.max { probs[$0] < probs[$1] })
            if i < 300, Int32(cells[1]) == labels[i] { correct += 1 }
        }
        XCTAssertEqual(Double(correct) / 300, record.testAccuracy, "the test split is the file's first 300 rows")
        // --output writes the same text to a file.
        let out = d + "/preds.csv"
        let w = runnerInProcess(["predict", trials[0], file, "--output", out])
        XCTAssertEqual(w.code, 0, w.stderr)
        XCTAssertEqual(w.stdout, "wrote 1000 predictions to \(out)\n")
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), p.stdout)
    }

    /// TRIAL_DIR, FILE and --output are untrusted: the output never replaces the model, the
    /// trial's files, the input, a folder or a link, and every message names the path.
    func testEvalAndPredictRefuseBadPaths() throws {
        let d = tempDir("predict-paths")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (results, trials, _) = try trainSample(d)
        let t = trials[0], file = sampleDir + "/test_batch.bin"
        try FileManager.default.createDirectory(atPath: d + "/dir.csv", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: d + "/link.csv", withDestinationPath: d + "/elsewhere.csv")
        try FileManager.default.copyItem(atPath: file, toPath: d + "/in.csv")
        let cases: [([String], Int32, String)] = [
            (["predict", t, file, "--output", t + "/preds.csv"], 2,
             "error: --output \(t)/preds.csv is inside the trial folder \(t), beside its saved model and results; write it elsewhere"),
            (["predict", t, file, "--output", trials[1] + "/loss.csv"], 2,
             "error: --output \(trials[1])/loss.csv is in a results folder of the runner (\(trials[1]) holds record.json); write it elsewhere"),
            (["predict", t, file, "--output", results + "/summary.csv"], 2,
             "error: --output \(results)/summary.csv is in a results folder of the runner (\(results) holds experiment.json); write it elsewhere"),
            (["predict", t, file, "--output", t + "/model.safetensors"], 2, "error: --output must name a .csv file, got \(t)/model.safetensors"),
            (["predict", t, file, "-o", d + "/p.txt"], 2, "error: --output must name a .csv file, got \(d)/p.txt"),
            (["predict", t, file, "-o", d + "/no/p.csv"], 2, "error: --output \(d)/no/p.csv: the folder \(d)/no does not exist"),
            (["predict", t, file, "-o", d + "/link.csv"], 2, "error: --output \(d)/link.csv is a symbolic link; refusing to replace it"),
            (["predict", t, file, "-o", d + "/dir.csv"], 2, "error: --output \(d)/dir.csv exists and is not a file"),
            (["predict", t, d + "/in.csv", "-o", d + "/in.csv"], 2, "error: --output \(d)/in.csv is the input file \(d)/in.csv"),
            (["predict", t, file, "-o", d + "/p\n.csv"], 2, "error: --output \"\(d)/p\\n.csv\" contains a control character"),
            (["predict", t, d + "/missing.bin"], 1, "data error: data file \(d)/missing.bin is missing"),
            (["predict", t], 2, "error: usage: runner predict TRIAL_DIR FILE [--output OUT.csv]"),
            (["predict", d + "/nope", file], 2, "error: \(d)/nope is not a folder (expected a trial folder such as results/<name>/trials/<folder>)"),
            (["eval", d], 1, "model error: \(d)/model.json: no such file (a trial folder has a saved model once the trial has finished)"),
            (["eval", t, "--split", "train"], 2, "error: --split needs val or test, got \"train\""),
            (["eval", t, "--data", d + "/nodata"], 1, "data error: data folder \(d)/nodata does not exist (expected CIFAR-10 in the binary layout: data_batch_1.bin … data_batch_5.bin, test_batch.bin)"),
            (["eval"], 2, "error: usage: runner eval TRIAL_DIR [--split val|test] [--data DIR]"),
        ]
        for (args, code, message) in cases {
            let r = runnerInProcess(args)
            XCTAssertEqual(r.code, code, args.joined(separator: " "))
            XCTAssertEqual(r.stderr, message + "\n", args.joined(separator: " "))
        }
        XCTAssertEqual(pathKindIsLink(d + "/link.csv"), true, "the link is still a link")
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/elsewhere.csv"), "nothing written through it")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: d + "/in.csv")), try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// A saved model that does not fit its description is a model error naming the file.
    func testDamagedModelsAreErrorsNamingTheFile() throws {
        let d = tempDir("damaged-model")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (_, trials, _) = try trainSample(d)
        let good = trials[0]
        let weights = try SafeTensors.read(good + "/model.safetensors").tensors
        func damaged(_ tag: String, weights change: (inout [SafeTensor]) -> Void = { _ in }, description: ((String) -> String)? = nil,
                     raw: ((Data) -> Data)? = nil) throws -> String {
            let dir = d + "/" + tag
            try FileManager.default.copyItem(atPath: good, toPath: dir)
            var w = weights
            change(&w)
            var bytes = SafeTensors.encode(w)
            if let raw { bytes = raw(bytes) }
            try bytes.write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
            if let description {
                let text = try String(contentsOfFile: dir + "/model.json", encoding: .utf8)
                try description(text).write(toFile: dir + "/model.json", atomically: true, encoding: .utf8)
            }
            return dir
        }
        let cases: [(String, String)] = [
            (try damaged("missing", weights: { $0.remove(at: 0) }), "model.safetensors: has no tensor W1, which the network needs"),
            (try damaged("shape", weights: { $0[6].shape = [10, 16] }), "model.safetensors: tensor W2 has shape [10, 16] but the network's is [16, 10]"),
            (try damaged("dtype", weights: { $0[1] = SafeTensor(name: "b1", shape: [16], values: $0[1].values(as: Double.self)) }),
             "model.safetensors: tensor b1 is F64 but the model is float32 (F32)"),
            (try damaged("extra", weights: { $0.append(SafeTensor(name: "W9", shape: [1], values: [Float(1)])) }),
             "model.safetensors: has a tensor \"W9\" that the network does not have"),
            (try damaged("mean", weights: { $0[8].shape = [3072] }), "model.safetensors: preprocess.mean must be F32 of the input shape [3, 32, 32], got F32 [3072]"),
            (try damaged("truncated", raw: { $0.dropLast(4) }),
             "model.safetensors is not a valid safetensors file: the tensors need 209896 bytes of data but only 209892 follow the header (truncated?)"),
            (try damaged("notjson", description: { $0.replacingOccurrences(of: "\"format\"", with: "format") }),
             "model.json: not JSON (line 2, column 3: expected a quoted key)"),
            (try damaged("format", description: { $0.replacingOccurrences(of: "runner model 1", with: "runner model 9") }),
             "model.json: not a model description written by runner (expected \"format\": \"runner model 1\")"),
            (try damaged("classes", description: { $0.replacingOccurrences(of: "\"truck\"", with: "7") }),
             "model.json: classes holds 7, not a name"),
            (try damaged("config", description: { $0.replacingOccurrences(of: "\"hidden_dims\"", with: "\"hiden_dims\"") }),
             "model.json: its config is not valid: model: unknown key \"hiden_dims\" (did you mean \"hidden_dims\"?)"),
        ]
        for (dir, message) in cases {
            let r = runnerInProcess(["eval", dir])
            XCTAssertEqual(r.code, 1, dir)
            XCTAssertEqual(r.stderr, "model error: \(dir)/" + message + "\n", dir)
        }
    }

    // MARK: independent readers

    /// A reader written here in Python with numpy (parsing the header itself, no safetensors
    /// package) runs the saved fc + batchnorm network on the CIFAR file and gets the
    /// predictions of `runner predict` and the accuracy of `runner eval`.
    func testIndependentNumpyReaderAgrees() throws {
        guard pythonHas("numpy") else { throw XCTSkip("python3 with numpy is not available") }
        let d = tempDir("numpy-reader")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (_, trials, _) = try trainSample(d)
        let file = sampleDir + "/test_batch.bin"
        let script = d + "/reader.py"
        try numpyReader.write(toFile: script, atomically: true, encoding: .utf8)
        for (trial, tolerance) in zip(trials, [2e-5, 1e-9]) {   // float32, float64
            let py = try python([script, trial, file, "300"])
            let ours = runnerInProcess(["predict", trial, file])
            XCTAssertEqual(ours.code, 0, ours.stderr)
            let pyLines = py.split(separator: "\n"), ourLines = ours.stdout.split(separator: "\n")
            XCTAssertEqual(pyLines.count, ourLines.count + 1, "the predictions, then the accuracy")
            for (a, b) in zip(pyLines.dropFirst(), ourLines.dropFirst()) {
                let x = a.split(separator: ","), y = b.split(separator: ",")
                XCTAssertEqual(x[0...1], y[0...1], "row and predicted class")
                for (p, q) in zip(x.dropFirst(2), y.dropFirst(2)) { XCTAssertEqual(Double(p)!, Double(q)!, accuracy: tolerance) }
            }
            let ev = runnerInProcess(["eval", trial, "--split", "test"])
            XCTAssertEqual(pyLines.last.map(String.init), ev.stdout.split(separator: "\n").first.map(String.init))
        }
    }

    /// The real `safetensors` package (when installed: `pip install safetensors`) reads our
    /// files, and our reader reads its files.
    func testReferenceSafetensorsPackage() throws {
        guard pythonHas("safetensors.numpy") else { throw XCTSkip("the python safetensors package is not installed") }
        let d = tempDir("st-package")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (_, trials, _) = try trainSample(d)
        for trial in trials {
            let ours = try SafeTensors.read(trial + "/model.safetensors").tensors
            let out = try python(["-c", """
                import sys, numpy as np
                from safetensors.numpy import load_file, save_file
                t = load_file(sys.argv[1] + '/model.safetensors')
                save_file({k: v for k, v in t.items()}, sys.argv[2], metadata={'by': 'safetensors'})
                for k in sorted(t): print(k, t[k].dtype, list(t[k].shape), repr(float(t[k].astype(np.float64).sum())))
                """, trial, d + "/theirs.safetensors"])
            let expected = ours.sorted { $0.name < $1.name }.map { t in
                "\(t.name) \(t.dtype == .F32 ? "float32" : "float64") \(t.shape) \(t.values(as: Double.self).reduce(0, +))"
            }
            let got = out.split(separator: "\n").map(String.init)
            XCTAssertEqual(got.count, expected.count)
            for (g, e) in zip(got, expected) {   // names, dtypes, shapes exact; sums to rounding
                XCTAssertEqual(g.split(separator: " ").dropLast(), e.split(separator: " ").dropLast())
                XCTAssertEqual(Double(g.split(separator: " ").last!)!, Double(e.split(separator: " ").last!)!, accuracy: 1e-6 * max(1, abs(Double(e.split(separator: " ").last!)!)))
            }
            let (theirs, metadata) = try SafeTensors.read(d + "/theirs.safetensors")
            XCTAssertEqual(metadata, ["by": "safetensors"])
            XCTAssertEqual(theirs.sorted { $0.name < $1.name }, ours.sorted { $0.name < $1.name })
        }
    }
}

/// The numpy reader of `testIndependentNumpyReaderAgrees`: argv trial folder, CIFAR file,
/// rows of the test split. Prints `runner predict`'s CSV, then `accuracy <value>` over the rows.
let numpyReader = #"""
import json, struct, sys
import numpy as np

trial, cifar, test_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = open(trial + '/model.safetensors', 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n].decode('utf-8'))
tensors = {}
for name, e in header.items():
    if name == '__metadata__':
        continue
    begin, end = e['data_offsets']
    dtype = {'F32': '<f4', 'F64': '<f8'}[e['dtype']]
    tensors[name] = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=dtype).reshape(e['shape'])
desc = json.load(open(trial + '/model.json'))
wide = np.float64 if desc['dtype'] == 'float64' else np.float32
records = np.frombuffer(open(cifar, 'rb').read(), dtype=np.uint8).reshape(-1, 3073)
labels = records[:, 0].astype(np.int64)
x = records[:, 1:].astype(np.float32) - tensors[desc['input_mean']].reshape(-1)
x = x.astype(np.float64)
for layer in desc['layers']:
    kind, names = layer['type'], layer['tensors']
    if kind == 'affine':
        x = x.reshape(len(x), -1) @ tensors[names[0]].astype(np.float64) + tensors[names[1]]
    elif kind == 'relu':
        x = np.maximum(x, 0)
    elif kind == 'batchnorm':
        g, b, m, v = (tensors[k].astype(np.float64) for k in names)
        x = (x - m) / np.sqrt(v + 1e-5) * g + b
    else:
        sys.exit('layer type %s is not supported by this reader' % kind)
p = np.exp(x - x.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
predicted = x.argmax(axis=1)
print('row,predicted,' + ','.join('p_%d' % c for c in range(p.shape[1])))
for r in range(len(x)):
    print('%d,%d,' % (r, predicted[r]) + ','.join(repr(float(v)) for v in p[r].astype(wide)))
print('accuracy ' + repr(float(np.mean(predicted[:test_rows] == labels[:test_rows]))))
"""#

/// Whether `python3` can import `module`.
func pythonHas(_ module: String) -> Bool { (try? python(["-c", "import \(module)"])) != nil }

/// Runs python3 with `args`; its standard output, or an error with its standard error.
func python(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3"] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw NSError(domain: "python", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: String(decoding: e, as: UTF8.self)]) }
    return String(decoding: o, as: UTF8.self)
}

func pathKindIsLink(_ path: String) -> Bool {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
}

/// A sweep named `name` over `grid` (a JSON object of path: values) of one-epoch fc [8] trials
/// on 100 synthetic rows (50 validation, no test), results in `dir`: seconds to run.
func tinySyntheticSweep(_ name: String, in dir: String, grid: String) throws -> ExperimentPlan {
    try Sweep.plan(JSON.parse("""
        {"name": "\(name)", "output": {"dir": "\(dir)"}, "data": {"source": "synthetic", "num_train": 100, "num_val": 50, "num_test": 0},
         "model": {"hidden_dims": [8]}, "training": {"num_epochs": 1, "batch_size": 20}, "sweep": {"grid": \(grid)}}
        """), defaultName: name)
}
