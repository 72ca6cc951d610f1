// Every command and every option of `runner`, declared once. The parser, `runner --help`,
// `runner help COMMAND` and the README-style synopsis are all generated from these tables.

/// A command-line option: `--name`, an optional short alias, and a value placeholder when
/// it takes a value (`--jobs N`, `--jobs=N`).
public struct OptionSpec: Sendable, Equatable {
    public let name: String
    public let short: String?
    /// Non-nil when the option takes a value; shown in help (`--jobs N`).
    public let value: String?
    public let help: String

    public init(_ name: String, short: String? = nil, value: String? = nil, help: String) {
        self.name = name; self.short = short; self.value = value; self.help = help
    }

    public var takesValue: Bool { value != nil }
    /// `-j, --jobs N`
    public var label: String { (short.map { $0 + ", " } ?? "") + name + (value.map { " " + $0 } ?? "") }
}

/// A command: its name, the operands after it, a one-line summary for the command list,
/// the options it takes, and the text of `runner help NAME` (a description before the
/// options, notes after them).
public struct CommandSpec: Sendable {
    public let name: String
    public let operands: String
    public let summary: String
    public let options: [OptionSpec]
    public let description: String
    public let notes: String?

    public init(_ name: String, operands: String, summary: String, options: [OptionSpec] = [], description: String, notes: String? = nil) {
        self.name = name; self.operands = operands; self.summary = summary
        self.options = options; self.description = description; self.notes = notes
    }
}

extension OptionSpec {
    public static let jobs = OptionSpec("--jobs", short: "-j", value: "N", help: "trials in parallel (default: the cores, or SLURM_CPUS_PER_TASK; at most the cores)")
    public static let data = OptionSpec("--data", value: "DIR", help: "data folder of cifar10 or cifar100 (binary layout); overrides data.dir")
    public static let fresh = OptionSpec("--fresh", help: "rerun the selected trials, discarding their earlier results")
    public static let shard = OptionSpec("--shard", value: "I/N", help: "run only the trials with index % N == I (then: runner merge)")
    public static let trial = OptionSpec("--trial", value: "INDEX", help: "run exactly one trial")
    public static let quiet = OptionSpec("--quiet", short: "-q", help: "only the final summary and errors")
    public static let verbose = OptionSpec("--verbose", short: "-v", help: "per-epoch lines for every trial (iteration losses for one trial)")
    public static let partition = OptionSpec("--partition", value: "P", help: "Slurm partition of the jobs (#SBATCH --partition)")
    public static let time = OptionSpec("--time", value: "T", help: "time limit of each task (#SBATCH --time)")
    public static let cpusPerTask = OptionSpec("--cpus-per-task", value: "C", help: "cores per task, the --jobs of each (default 1)")
    public static let maxParallel = OptionSpec("--max-parallel", value: "K", help: "at most K array tasks at once (--array=0-(n-1)%K)")
    public static let submit = OptionSpec("--submit", help: "submit the array with sbatch and the merge as a dependent job (afterany)")
    public static let compareOutput = OptionSpec("--output", value: "DIR", help: "folder for compare.csv and compare.svg (default: compare_A_vs_B next to the first results folder)")
    public static let split = OptionSpec("--split", value: "val|test", help: "the split to evaluate on (default val)")
    public static let output = OptionSpec("--output", short: "-o", value: "OUT.csv", help: "write the predictions to OUT.csv (a new or replaced .csv file, not in the trial folder) instead of standard output")
    public static let help = OptionSpec("--help", short: "-h", help: "this help; runner help COMMAND for one command")
    public static let version = OptionSpec("--version", help: "print the version")

    /// Accepted by every command (both end the parse: they print and exit 0).
    public static let global = [help, version]
}

public let runnerVersion = "0.2.0"

extension CommandSpec {
    /// The commands in the order `runner --help` lists them. `run` is the default command:
    /// `runner CONFIG.json …` means `runner run CONFIG.json …`.
    public static let all: [CommandSpec] = [
        CommandSpec("run", operands: "CONFIG.json", summary: "train the experiment a config describes (the default command)",
                    options: [.jobs, .data, .fresh, .shard, .trial, .quiet, .verbose],
                    description: """
                    Expands the config's sweep into trials and trains them in parallel, one thread per
                    trial. Finished trials are written atomically to results/<name>/trials/<folder>/ and
                    skipped when the same command runs again, so an interrupted sweep resumes where it
                    stopped. Ctrl-C stops promptly; a second Ctrl-C exits at once.
                    """,
                    notes: """
                    Without --shard/--trial the selection comes from the environment when present:
                    SLURM_ARRAY_TASK_ID (+ SLURM_ARRAY_TASK_COUNT or _MIN/_MAX), JOB_COMPLETION_INDEX
                    (Kubernetes Indexed Job), PARALLEL_SEQ (GNU parallel, 1-based).
                    """),
        CommandSpec("validate", operands: "CONFIG.json", summary: "check a config without running it", options: [.data],
                    description: """
                    Checks the config without training: unknown keys (with the nearest valid key), wrong
                    types, impossible values, sweep syntax, and that every layer shape fits. Prints the
                    number of trials. Exit code 0 when valid, 2 otherwise.
                    """),
        CommandSpec("plan", operands: "CONFIG.json", summary: "list the trials a config expands to, with their size and cost", options: [.data],
                    description: """
                    Prints the expanded trial list in run order: index, id, arm, swept values, parameter
                    count, an estimate of the floating-point work, memory and time, with the totals and the
                    sweep's estimated wall time; then how to run the trials on a cluster (Slurm, a
                    Kubernetes Indexed Job, GNU parallel). Times are estimates from a short calibration of
                    this machine, cached in $XDG_CACHE_HOME/runner/calibration.json (~/.cache/runner/).
                    """),
        CommandSpec("merge", operands: "RESULTS_DIR", summary: "rebuild summary and tables of a results folder; list missing trials",
                    description: """
                    Rebuilds summary.csv, the wide tables, the plots and index.html from whatever trials are complete
                    in RESULTS_DIR (e.g. after shards ran on several machines), and lists the missing or
                    failed trials with the exact command that runs each again. Exit code 0 when every
                    trial is complete, 1 otherwise.
                    """),
        CommandSpec("slurm", operands: "CONFIG.json", summary: "write (and optionally submit) a Slurm job array for a sweep",
                    options: [.partition, .time, .cpusPerTask, .maxParallel, .data, .submit],
                    description: """
                    Writes results/<name>/slurm/array.sbatch (a job array, one task per trial:
                    --array=0-(n-1)%K, logs %A_%a.out) and merge.sbatch (runner merge). With --submit,
                    submits the array with sbatch and the merge as a dependent job (afterany).
                    """),
        CommandSpec("plot", operands: "RESULTS_DIR", summary: "redraw the figures and the results page of a results folder",
                    description: """
                    Writes training.svg (loss per iteration, train and validation accuracy per epoch, a
                    column of panels per arm, coloured by the swept value), sweep.svg (best accuracies and
                    final loss against the swept parameter, one line per arm), plots.gp (the same figures
                    with gnuplot: `gnuplot RESULTS_DIR/plots.gp`) and index.html (the results page: open it
                    in a browser) from the trial records in RESULTS_DIR. `runner run` does this at the end
                    of every run.
                    """),
        CommandSpec("status", operands: "[RESULTS]", summary: "list the experiments in a results folder and where each stands",
                    description: """
                    Lists every experiment in RESULTS (default: results; or one results folder): trials
                    finished, diverged, failed and remaining (not run yet or interrupted), and the
                    finished trial with the best validation accuracy. Reads only; writes nothing.
                    """),
        CommandSpec("compare", operands: "RESULTS_A RESULTS_B …", summary: "experiments side by side: best val/test accuracy per matched trial, one figure",
                    options: [.compareOutput],
                    description: """
                    Matches the trials of the results folders by their arm and the values of the paths
                    they all sweep (two runs of one sweep line up trial by trial), prints best validation
                    and test accuracy side by side with each trial's status, and writes compare.csv and
                    compare.svg into the output folder (default: compare_A_vs_B next to RESULTS_A). Where
                    an experiment has several trials at one key, the best is shown and counted. Reads the
                    results folders only.
                    """),
        CommandSpec("eval", operands: "TRIAL_DIR", summary: "accuracy, per-class accuracy and confusion matrix of a saved model",
                    options: [.split, .data],
                    description: """
                    Loads the model a finished trial saved (TRIAL_DIR/model.safetensors and model.json,
                    e.g. results/<name>/trials/<folder>), reads the trial's data as its config describes (or
                    from --data) and classifies the split: prints `accuracy <value>`, the accuracy of
                    each class and the confusion matrix (rows: true class, columns: predicted).
                    Exit code 0; 2 for a wrong command line; 1 when the model or the data cannot be read.
                    """),
        CommandSpec("predict", operands: "TRIAL_DIR FILE", summary: "class predictions and probabilities of a saved model for a CIFAR-layout file",
                    options: [.output],
                    description: """
                    Classifies every record of FILE (CIFAR-10 binary layout: 1 label byte + 3,072 pixel
                    bytes per image; the label is not used) with the model saved in TRIAL_DIR, after the
                    preprocessing the model was trained with (its training mean image is subtracted), and
                    writes CSV: row, predicted, p_0 … p_9 (softmax probabilities) to standard output or
                    to --output. Exit code 0; 2 for a wrong command line or output file; 1 when the model
                    or FILE cannot be read.
                    """),
        CommandSpec("init", operands: "NAME", summary: "write a commented starting config",
                    description: """
                    Writes NAME.json (in the current folder) with every field, its default and a comment;
                    edit it and run `runner NAME.json`.
                    """),
        CommandSpec("help", operands: "[COMMAND | config]", summary: "show help for a command (or `runner help config`)",
                    description: """
                    Shows the overview, the help of one command, or every config field with its default.
                    """),
    ]
}

/// The main help's fixed sections around the generated command and option lists.
enum MainHelpText {
    static let examples = """
    EXAMPLES
      swift run -c release runner configs/batchnorm_sweep.json
      runner configs/fc_deep_adam.json --data ../cifar-10-batches-bin
      runner plan configs/optimizer_comparison.json
      runner validate my_experiment.json
      runner init my_experiment
    """
    static let output = """
    OUTPUT (results/<name>/)
      summary.csv                 one row per trial: id, arm, swept values, accuracies, status, seconds
      val_acc.csv, train_acc.csv  epoch × trial accuracy tables (gnuplot/spreadsheet ready)
      loss.csv                    iteration × trial loss table
      trials/<folder>/            config.json (resolved), loss.csv, accuracy.csv, summary.csv;
                                  finished trials: model.safetensors + model.json (runner eval/predict),
                                  confusion_val.csv, confusion_test.csv, per_class.csv, confusion.svg
    """
    static let exitCodes = """
    EXIT CODES
      0 ok (diverged trials are results, not errors)   1 a trial failed or the run could not finish
      2 usage or config error                           130 interrupted (Ctrl-C); rerun to resume
    """
}
