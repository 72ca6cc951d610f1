import XCTest
import Foundation
import Runner

/// The schema is the one source of truth: the README's field table, `runner init` and the
/// library's settings defaults all agree with it.
final class SchemaDocTests: XCTestCase {
    func testReadmeTableMatchesSchema() throws {
        let readme = try String(contentsOfFile: repoRoot + "/README.md", encoding: .utf8)
        guard let a = readme.range(of: "<!-- schema:begin -->\n"), let b = readme.range(of: "<!-- schema:end -->") else {
            return XCTFail("README.md lacks the <!-- schema:begin --> / <!-- schema:end --> markers")
        }
        let inReadme = String(readme[a.upperBound..<b.lowerBound])
        let generated = schemaMarkdownTable()
        if inReadme != generated {
            let out = NSTemporaryDirectory() + "runner-schema-table.md"
            try? generated.write(toFile: out, atomically: true, encoding: .utf8)
            XCTFail("README.md's config table differs from the schema; the generated table is in \(out): paste it between the markers")
        }
    }

    /// `runner init` writes every default, except values it marks as suggested (with the default beside them).
    func testStarterWritesDefaultsOrSaysSo() throws {
        let text = starterConfig(name: "x")
        let json = try JSON.parse(text)
        let resolved = try Sweep.plan(json, defaultName: "x").trials[0].config.resolved
        var suggested = 0
        for f in Schema.top {
            guard case .section(let fs) = f.type else { continue }
            guard let start = text.range(of: "\"\(f.name)\": {"), let end = text[start.upperBound...].range(of: "\n  }") else {
                XCTFail("section \(f.name) missing from runner init's config"); continue
            }
            let chunk = text[start.upperBound..<end.lowerBound].split(separator: "\n")
            for g in fs where (g.models == nil || g.models!.contains("fc")) && (g.sources == nil || g.sources!.contains(CIFAR10Source.name)) {
                let line = chunk.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"\(g.name)\":") }
                guard let line else { XCTFail("\(f.name).\(g.name) missing from runner init's config"); continue }
                let written = json[f.name]?[g.name]
                if written != g.defaultValue {
                    XCTAssertTrue(line.contains("// suggested; default \(g.defaultValue.compact)"), "\(f.name).\(g.name): \(line)")
                    suggested += 1
                }
            }
        }
        XCTAssertEqual(suggested, 3)
        XCTAssertEqual(resolved["optimizer"]?["type"], .string("adam"))
    }

    /// Defaults live in the library's settings types; the schema reads them from there.
    func testSettingsDefaultsAreTheSchemaDefaults() throws {
        let c = try Sweep.plan(JSON.parse("{}"), defaultName: "x").trials[0].config
        XCTAssertEqual(c.optimizer, OptimizerSettings.defaults)
        XCTAssertEqual(c.training, TrainingSettings.defaults)
        XCTAssertEqual(Schema.optimizerTypes, ["sgd", "sgd_momentum", "nesterov", "rmsprop", "adam", "adagrad", "adamw"])
    }
}
