import XCTest
import Runner

/// Broken configs and the exact message each must produce (table-driven, pinned).
final class ConfigErrorTests: XCTestCase {
    static let base = """
    {"name": "t", "data": {"source": "synthetic", "num_train": 100, "num_val": 50, "num_test": 0},
     "model": {"type": "fc", "hidden_dims": [10]}, "optimizer": {"type": "adam"},
     "training": {"num_epochs": 1, "batch_size": 10}
    """

    func message(_ text: String) -> String? {
        do {
            let json: JSON
            do { json = try JSON.parse(text) } catch { throw ConfigError.syntax(file: "c.json", line: error.line, column: error.column, message: error.message) }
            let plan = try Sweep.plan(json, defaultName: "c")
            try plan.checkShapes()
            return nil
        } catch let e as ConfigError {
            return e.description
        } catch {
            return "unexpected error \(error)"
        }
    }

    func testValidBaseConfig() {
        XCTAssertNil(message(Self.base + "}"))
    }

    func testPinnedMessages() {
        let cases: [(String, String)] = [
            // 1. misspelled key → nearest valid key
            (#"{"model": {"hiden_dims": [10]}}"#, #"model: unknown key "hiden_dims" (did you mean "hidden_dims"?)"#),
            // 2. misspelled top-level section
            (#"{"optimiser": {"type": "adam"}}"#, #"top level: unknown key "optimiser" (did you mean "optimizer"?)"#),
            // 3. wrong type
            (#"{"model": {"weight_scale": "big"}}"#, #"model.weight_scale: expected a number, found a string ("big")"#),
            // 4. negative learning rate
            (#"{"optimizer": {"learning_rate": -0.001}}"#, "optimizer.learning_rate: must be positive, got -0.001"),
            // 5. dropout outside [0, 1)
            (#"{"model": {"dropout": 1}}"#, "model.dropout: must be in [0, 1), got 1"),
            // 6. unknown choice with suggestion
            (#"{"optimizer": {"type": "adan"}}"#, #"optimizer.type: "adan" is not one of "sgd", "sgd_momentum", "nesterov", "rmsprop", "adam", "adagrad", "adamw" (did you mean "adam"?)"#),
            // 7. non-integer epochs
            (#"{"training": {"num_epochs": 2.5}}"#, "training.num_epochs: expected a positive integer, found a number (2.5)"),
            // 8. zero batch size
            (#"{"training": {"batch_size": 0}}"#, "training.batch_size: must be positive integer, got 0"),
            // 9. hidden dims with a bad entry
            (#"{"model": {"hidden_dims": [10, -3]}}"#, "model.hidden_dims[1]: expected a positive integer, found an integer (-3)"),
            // 10. empty sweep list
            (#"{"sweep": {"grid": {"model.weight_scale": []}}}"#, "sweep.grid.model.weight_scale: the list of values is empty"),
            // 11. misspelled sweep path
            (#"{"sweep": {"grid": {"model.weight_scal": [1e-3]}}}"#, #"sweep.grid: unknown key "model.weight_scal" (did you mean "model.weight_scale"?)"#),
            // 12. zipped lists of different lengths
            (#"{"sweep": {"zip": {"optimizer.type": ["sgd", "adam"], "optimizer.learning_rate": [0.1]}}}"#,
             "sweep.zip.optimizer.learning_rate: has 1 values but optimizer.type has 2; zipped lists move together and need the same length"),
            // 13. a swept value that is invalid is reported with its trial
            (#"{"sweep": {"grid": {"optimizer.learning_rate": [0.1, -1]}}}"#, "sweep trial 1: optimizer.learning_rate: must be positive, got -1"),
            // 14. key for another model type
            (#"{"model": {"num_filters": 8}}"#, #"model.num_filters: applies to model type "three_layer_convnet", not "fc""#),
            // 15. layer shapes that do not fit
            (#"{"model": {"type": "layers", "layers": [{"type": "affine", "units": 20}, {"type": "batchnorm"}, {"type": "spatial_batchnorm"}, {"type": "affine", "units": 10}]}}"#,
             "sweep trial 0: model.layers: layer shapes do not fit: layer 3 (spatial_batchnorm): spatial_batchnorm needs a (C, H, W) input, got [20]; the data (synthetic) has samples of 3×8×8"),
            // 16. last layer must be flat scores
            (#"{"model": {"type": "layers", "layers": [{"type": "relu"}]}}"#,
             "sweep trial 0: model.layers: layer shapes do not fit: the last layer must produce class scores (a flat vector), got [3, 8, 8]; the data (synthetic) has samples of 3×8×8"),
            // 17. unknown layer type
            (#"{"model": {"type": "layers", "layers": [{"type": "dense", "units": 10}]}}"#, #"model.layers[0].type: unknown layer type "dense""#),
            // 18. missing required layer parameter
            (#"{"model": {"type": "layers", "layers": [{"type": "affine"}]}}"#, #"model.layers[0].units: affine needs "units" (outputs)"#),
            // 19. arms must be objects
            (#"{"sweep": {"arms": {"a": 3}}}"#, #"sweep.arms.a: expected an object of "path": value, found an integer"#),
            // 20. logspace with a bad count
            (#"{"sweep": {"grid": {"model.weight_scale": {"logspace": [-4, 0]}}}}"#,
             "sweep.grid.model.weight_scale.logspace: expected [start, stop, count] with a positive integer count, found a list"),
            // 21. unknown sweep key
            (#"{"sweep": {"arm": {}}}"#, #"sweep: unknown key "arm" (did you mean "arms"?)"#),
            // 22. odd filter size required by the convnet preset
            (#"{"model": {"type": "three_layer_convnet", "filter_size": 4}}"#, "model.filter_size: must be odd so that \"same\" padding keeps the image size, got 4"),
            // 24. integers beyond any sensible size (and beyond Int) are rejected, not trapped on
            (#"{"training": {"num_epochs": 1e300}}"#, "training.num_epochs: 1e+300 is too large (at most 1000000000)"),
            (#"{"seed": 1e19}"#, "seed: 1e+19 is too large (at most 1000000000)"),
            (#"{"model": {"hidden_dims": [10, 1e12]}}"#, "model.hidden_dims[1]: 1000000000000 is too large (at most 1000000000)"),
            // 25. sweeps that would expand to millions of trials
            (#"{"sweep": {"grid": {"model.reg": {"linspace": [0, 1, 1e7]}}}}"#, "sweep.grid.model.reg.linspace: count 10000000 is too large (at most 100000)"),
            (#"{"sweep": {"grid": {"model.reg": {"linspace": [0, 1, 1000]}, "model.weight_scale": {"linspace": [0.1, 1, 1000]}}}}"#,
             "sweep: expands to 1000000 trials; at most 100000 per experiment (split it into several configs)"),
            // 26. layers or batches too large to allocate are config errors, not crashes
            (#"{"model": {"hidden_dims": [1000000000]}}"#, "sweep trial 0: model: layer shapes do not fit: layer 1 (affine): affine weight 192×1000000000 is too large (at most 1073741824 elements); the data (synthetic) has samples of 3×8×8"),
            (#"{"training": {"batch_size": 100000000}}"#, "sweep trial 0: training.batch_size: layer shapes do not fit: a batch of activations 100000000×192 is too large (at most 1073741824 elements)"),
            // 27. schedules: misspelled type, misspelled key, a key of another schedule, missing or bad settings
            (#"{"optimizer": {"schedule": {"type": "cosin"}}}"#, #"optimizer.schedule.type: "cosin" is not one of "exponential", "step", "multistep", "cosine" (did you mean "cosine"?)"#),
            (#"{"optimizer": {"schedule": {"type": "cosine", "min_rl": 0}}}"#, #"optimizer.schedule: unknown key "min_rl" (did you mean "min_lr"?)"#),
            (#"{"optimizer": {"schedule": {"type": "cosine", "gamma": 0.5}}}"#, #"optimizer.schedule.gamma: applies to schedule type "step" or "multistep", not "cosine""#),
            (#"{"optimizer": {"schedule": {"type": "step"}}}"#, "optimizer.schedule.step_epochs: the step schedule needs step_epochs (epochs between two multiplications by gamma)"),
            (#"{"optimizer": {"schedule": {"type": "multistep", "milestones": [5, 3]}}}"#, "optimizer.schedule.milestones: must be increasing, got [5, 3]"),
            (#"{"optimizer": {"schedule": {"type": "multistep"}}}"#, "optimizer.schedule.milestones: the multistep schedule needs milestones, e.g. [30, 60]"),
            (#"{"optimizer": {"lr_decay": 0.9, "schedule": {"type": "cosine"}}}"#, "optimizer.lr_decay: is the exponential schedule's factor; the cosine schedule does not use it (leave it at 1)"),
            (#"{"optimizer": {"learning_rate": 0.001, "schedule": {"type": "cosine", "min_lr": 0.01}}}"#, "optimizer.schedule.min_lr: 0.01 is above the learning rate 0.001; the cosine goes from the learning rate down to min_lr"),
            (#"{"optimizer": {"schedule": {"warmup_epochs": 1}}}"#, "optimizer.schedule.warmup_epochs: 1 leaves no epoch for the schedule: training.num_epochs is 1"),
            (#"{"optimizer": {"schedule": {"gamma": 2}}}"#, #"optimizer.schedule.gamma: applies to schedule type "step" or "multistep", not "exponential""#),
            (#"{"optimizer": {"schedule": {"type": "step", "step_epochs": 2, "gamma": 2}}}"#, "optimizer.schedule.gamma: must be in (0, 1], got 2"),
            (#"{"sweep": {"grid": {"optimizer.schedule.min_rl": [0]}}}"#, #"sweep.grid: unknown key "optimizer.schedule.min_rl" (did you mean "optimizer.schedule.min_lr"?)"#),
            (#"{"sweep": {"grid": {"optimizer.schedule": [0]}}}"#, #"sweep.grid: "optimizer.schedule" is a section; sweep one of its fields, e.g. "optimizer.schedule.type""#),
            // 28. weight decay: only for the rules that apply it, never negative
            (#"{"optimizer": {"weight_decay": 0.01}}"#, #"optimizer.weight_decay: adam does not apply weight_decay (sgd, sgd_momentum, nesterov, adamw do); for Adam with decoupled weight decay use "type": "adamw""#),
            (#"{"optimizer": {"type": "rmsprop", "weight_decay": 0.01}}"#, "optimizer.weight_decay: rmsprop does not apply weight_decay (sgd, sgd_momentum, nesterov, adamw do); the L2 penalty model.reg works with every rule"),
            (#"{"optimizer": {"type": "adamw", "weight_decay": -1}}"#, "optimizer.weight_decay: must be non-negative, got -1"),
            // 29. early stopping and augmentation
            (#"{"training": {"early_stopping": {"patience": 0}}}"#, "training.early_stopping.patience: must be positive, got 0"),
            (#"{"training": {"early_stopping": {"metric": "val-acc", "patience": 2}}}"#, #"training.early_stopping.metric: "val-acc" is not one of "val_acc", "train_acc" (did you mean "val_acc"?)"#),
            (#"{"training": {"early_stop": {"patience": 2}}}"#, #"training: unknown key "early_stop" (did you mean "early_stopping"?)"#),
            (#"{"data": {"augment": {"crop_pad": 2}}}"#, #"data.augment: unknown key "crop_pad" (did you mean "crop_padding"?)"#),
            (#"{"data": {"augment": {"flip": "yes"}}}"#, #"data.augment.flip: expected true or false, found a string ("yes")"#),
            (#"{"data": {"augment": {"crop_padding": 8}}}"#, "data.augment.crop_padding: must be less than the image size 8×8, got 8"),
            // 23. duplicate trials
            (#"{"sweep": {"grid": {"model.reg": [0.1, 0.1]}}}"#, "sweep: trials 0 and 1 resolve to the same config; remove the duplicate values or add \"repeats\""),
        ]
        for (i, (override, expected)) in cases.enumerated() {
            let merged = merge(override)
            XCTAssertEqual(message(merged), expected, "case \(i + 1): \(override)")
        }
    }

    func testSyntaxErrorsNameLineAndColumn() {
        XCTAssertEqual(message("{\n  \"seed\": 1,\n  \"name\" \"x\"\n}"), "c.json:3:10: invalid JSON: expected ':' after key \"name\"")
        XCTAssertEqual(message("{\"seed\": 1,, }"), "c.json:1:12: invalid JSON: expected a quoted key")
        XCTAssertEqual(message("[1, 2"), "c.json:1:6: invalid JSON: unexpected end of file in a list, expected ']'")
        XCTAssertEqual(message(""), "c.json:1:1: invalid JSON: unexpected end of file, expected a value")
        XCTAssertEqual(message(String(repeating: "[", count: 100_000)), "c.json:1:201: invalid JSON: nested more than 200 levels deep")
    }

    func testCommentsAndNotesAreAccepted() {
        let text = """
        // a note
        {"//": "free text", "data": {"source": "synthetic", "num_train": 100, "num_val": 50, "num_test": 0, "//": "x"},
         /* block */ "model": {"hidden_dims": [10]}, "training": {"num_epochs": 1}}
        """
        XCTAssertNil(message(text))
    }

    /// Random garbage never crashes the parser or the validator.
    func testFuzzedConfigsNeverCrash() {
        var rng = SeededGenerator(seed: 99)
        let pieces = ["{", "}", "[", "]", ",", ":", "\"model\"", "\"sweep\"", "\"grid\"", "\"type\"", "\"layers\"", "\"fc\"", "1e400", "-1", "0",
                      "3.5", "null", "true", "\"conv\"", "\"units\"", "\"data\"", "\"num_train\"", "//x\n", "\"arms\"", "\"logspace\""]
        for _ in 0..<3000 {
            let n = rng.int(below: 30)
            let text = (0..<n).map { _ in pieces[rng.int(below: pieces.count)] }.joined()
            _ = message(text)
        }
    }

    /// Puts `override`'s sections on top of the base config.
    func merge(_ override: String) -> String {
        var json = try! JSON.parse(Self.base + "}")
        let o = try! JSON.parse(override)
        if case .object(let pairs) = o {
            for (k, v) in pairs {
                if case .object(let inner) = v, k != "sweep", !(k == "model" && v["type"] != nil) {
                    for (ik, iv) in inner { json = json.setting(path: [k, ik], to: iv) }
                } else {
                    json = json.setting(path: [k], to: v)
                }
            }
        }
        return json.serialized()
    }
}
