import XCTest
import Foundation

/// The README's "Your first ten minutes" section, followed word for word on a fresh clone of
/// this repository (its committed files): every command of the section's `sh` blocks runs as
/// written, in order, in one shell, with two stand-ins:
///   - `git clone <this repository> runner && cd runner` clones this repository into a
///     temporary folder and continues there;
///   - `swift build -c release` links the clone's `.build` to this repository's, which the
///     test run has just built (building again would take minutes).
/// HOME is a temporary folder (the install goes to $HOME/.local/bin, the calibration cache
/// of `runner plan` to $HOME/.cache); `gnuplot` lines are skipped, with a note, when gnuplot
/// is not installed. Each command must exit 0; then the files the section promises exist.
final class FirstTenMinutesTests: XCTestCase {
    func testCommandsAsWritten() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") || FileManager.default.isExecutableFile(atPath: "/bin/git") else {
            throw XCTSkip("git is not installed")
        }
        let built = repoRoot + "/.build/release/runner"
        guard FileManager.default.isExecutableFile(atPath: built) else { throw XCTSkip("no release build at \(built) (run swift build -c release)") }
        let root = tempDir("first-ten")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clone = root + "/runner", home = root + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let head = try firstTenShell("git -C \(firstTenQuote(repoRoot)) rev-parse HEAD", cwd: root, home: home).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try firstTenShell("git clone --quiet \(firstTenQuote(repoRoot)) runner && git -C runner checkout --quiet \(head)", cwd: root, home: home)

        let commands = try firstTenCommands(readme: String(contentsOfFile: clone + "/README.md", encoding: .utf8))
        XCTAssertEqual(commands.first, "git clone <this repository> runner && cd runner")
        XCTAssertTrue(commands.contains("swift build -c release"), "\(commands)")
        XCTAssertTrue(commands.contains { $0.hasPrefix("runner ") }, "\(commands)")
        let hasGnuplot = (try? firstTenShell("command -v gnuplot", cwd: root, home: home)) != nil
        var script = "set -e\n"
        for c in commands.dropFirst() {
            script += "echo \(firstTenQuote(">>> " + c))\n"
            if c == "swift build -c release" {
                script += "ln -s \(firstTenQuote(repoRoot + "/.build")) .build\n"
            } else if c.hasPrefix("swift ") {
                XCTFail("\(c): the section should build once, with swift build -c release (not run here: it would build the package again)")
                script += "echo 'not run'\n"
            } else if c.hasPrefix("gnuplot "), !hasGnuplot {
                script += "echo 'gnuplot is not installed: skipped'\n"
            } else {
                script += c + "\n"
            }
        }
        let output = try firstTenShell(script, cwd: clone, home: home)
        for c in commands.dropFirst() { XCTAssertTrue(output.contains(">>> " + c), "\(c) did not run:\n\(output)") }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: home + "/.local/bin/runner"), "runner is not installed")
        for f in ["index.html", "sweep.svg", "training.svg", "summary.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: clone + "/results/batchnorm_sweep/" + f), f)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: clone + "/my_experiment.json"))
        XCTAssertTrue(output.contains("estimated time ≈"), output)
        if hasGnuplot { XCTAssertTrue(FileManager.default.fileExists(atPath: clone + "/results/batchnorm_sweep/training.png")) }
    }
}

/// The commands of the `sh` blocks of the README's "Your first ten minutes" section, without
/// their comments.
func firstTenCommands(readme: String) throws -> [String] {
    guard let start = readme.range(of: "## Your first ten minutes\n") else { throw XCTSkip("no first-ten-minutes section") }
    let rest = readme[start.upperBound...]
    let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
    var commands: [String] = [], inBlock = false
    for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("```") { inBlock = line == "```sh" ? true : false; continue }
        guard inBlock else { continue }
        var c = String(line)
        if let hash = c.range(of: "  #") { c = String(c[..<hash.lowerBound]) }   // comments are set off by spaces
        c = c.trimmingCharacters(in: .whitespaces)
        if !c.isEmpty { commands.append(c) }
    }
    return commands
}

func firstTenQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// Runs `script` with /bin/sh in `cwd` with HOME=`home`; returns stdout and stderr together,
/// throwing (with them) on a non-zero exit.
func firstTenShell(_ script: String, cwd: String, home: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script]
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var env = ProcessInfo.processInfo.environment
    env["HOME"] = home
    env["XDG_CACHE_HOME"] = nil
    p.environment = env
    let out = Pipe()
    p.standardOutput = out; p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "first-ten", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "exit \(p.terminationStatus):\n\(text)"])
    }
    return text
}
