import Runner

/// A mistake on the command line: printed as `error: MESSAGE`, exit code 2.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed command line. `command` is a declared command's name, or "help" (with the
/// topic, if any, as the first positional) or "version".
public struct Invocation: Equatable, Sendable {
    public var command = "run"
    public var positional: [String] = []
    /// Values of value options, by long name (`--jobs`); the last one given wins.
    public var values: [String: String] = [:]
    /// Flags given, by long name.
    public var flags: Set<String> = []

    public init(command: String = "run", positional: [String] = [], values: [String: String] = [:], flags: Set<String> = []) {
        self.command = command; self.positional = positional; self.values = values; self.flags = flags
    }
    public func has(_ flag: OptionSpec) -> Bool { flags.contains(flag.name) }
    public func value(_ option: OptionSpec) -> String? { values[option.name] }
}

extension CommandSpec {
    public static func named(_ name: String) -> CommandSpec? { all.first { $0.name == name } }

    /// Short aliases of every declared option, whichever command declares them: `-q` means
    /// `--quiet` everywhere (and is an unknown option where `--quiet` is).
    static let aliases: [String: String] = {
        var a: [String: String] = [:]
        for o in all.flatMap(\.options) + OptionSpec.global { if let s = o.short { a[s] = o.name } }
        return a
    }()

    /// The options a misspelling is compared with, in the order ties are resolved: value
    /// options, then flags, then the global ones.
    var suggestionCandidates: [String] {
        options.filter(\.takesValue).map(\.name) + options.filter { !$0.takesValue }.map(\.name) + OptionSpec.global.map(\.name)
    }
}

/// Parses the arguments after the program name. `--name value`, `--name=value` and short
/// aliases; the first argument picks the command unless it is not a command's name (then
/// the command is `run`); `--help` and `--version` end the parse.
public func parseCommandLine(_ args: [String]) throws(UsageError) -> Invocation {
    var o = Invocation()
    var rest = args[...]
    if let first = rest.first, CommandSpec.named(first) != nil { o.command = first; rest = rest.dropFirst() }
    let cmd = CommandSpec.named(o.command)!
    while let raw = rest.popFirst() {
        var a = CommandSpec.aliases[raw] ?? raw
        var inline: String? = nil
        if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") { inline = String(a[a.index(after: eq)...]); a = String(a[..<eq]) }
        if a == OptionSpec.help.name {
            // `runner CONFIG.json --help` is the overview, `runner run --help` the run command's help.
            o.positional = o.command == "run" && args.first != "run" ? [] : [o.command]
            o.command = "help"
            return o
        }
        if a == OptionSpec.version.name { o.command = "version"; return o }
        if let opt = cmd.options.first(where: { $0.name == a }) {
            if opt.takesValue {
                guard let v = inline ?? rest.popFirst() else { throw UsageError("\(a) needs a value (see runner help \(o.command))") }
                o.values[a] = v
            } else {
                o.flags.insert(a)
            }
        } else if a.hasPrefix("-") && a.count > 1 {
            let hint = nearest(a, in: cmd.suggestionCandidates).map { " (did you mean \($0)?)" } ?? ""
            throw UsageError("unknown option \(raw)\(hint)")
        } else {
            o.positional.append(raw)
        }
    }
    return o
}
