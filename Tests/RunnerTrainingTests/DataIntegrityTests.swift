import XCTest
import Foundation
import RunnerTraining

/// The data trust boundary (SPEC §1): every malformed CIFAR-10 folder gets a `DataError`
/// naming the file, never a silently smaller data set and never a trap. Fake folders are
/// sparse files (zero bytes: label 0, black pixels), so a fake full set costs no time.
final class DataIntegrityTests: XCTestCase {
    var dir = ""
    let full = CIFAR10.fullFileBytes          // 30,730,000 bytes = 10,000 records
    let rec = CIFAR10.recordSize

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "runner-integrity-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dir) {
            for n in names { chmod(dir + "/" + n, 0o755) }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    /// A zero-filled (sparse) file of `bytes` bytes; `labels` sets the label byte of some records.
    @discardableResult
    func file(_ name: String, bytes: Int, labels: [Int: UInt8] = [:]) throws -> String {
        let p = path(name)
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: nil))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
        try h.truncate(atOffset: UInt64(bytes))
        for (record, label) in labels {
            try h.seek(toOffset: UInt64(record * rec))
            try h.write(contentsOf: [label])
        }
        try h.close()
        return p
    }

    /// A fake full set: the training files `batches` (default all five) and test_batch.bin,
    /// each 30,730,000 bytes unless `sizes` says otherwise.
    func fakeFullSet(batches: [Int] = [1, 2, 3, 4, 5], sizes: [String: Int] = [:]) throws {
        for b in batches { try file("data_batch_\(b).bin", bytes: sizes["data_batch_\(b).bin"] ?? full) }
        try file("test_batch.bin", bytes: sizes["test_batch.bin"] ?? full)
    }

    func loadError(numTrain: Int? = nil, numVal: Int = 1000, numTest: Int = 1000,
                   file: StaticString = #filePath, line: UInt = #line) -> DataError? {
        do {
            _ = try CIFAR10.load(directory: dir, numTrain: numTrain, numVal: numVal, numTest: numTest)
            XCTFail("loaded a folder that should have been rejected", file: file, line: line)
            return nil
        } catch let e as DataError {
            XCTAssertTrue(e.description.contains(dir), "message does not name the folder: \(e)", file: file, line: line)
            return e
        } catch {
            XCTFail("not a DataError: \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: which training files

    func testFakeFullSetLoads() throws {
        try fakeFullSet()
        let d = try CIFAR10.load(directory: dir, numTrain: 10, numVal: 1000, numTest: 10)
        XCTAssertEqual(d.train.count, 10); XCTAssertEqual(d.val.count, 1000); XCTAssertEqual(d.test.count, 10)
        // The test file is not read (nor checked) when no test rows are asked for.
        try file("test_batch.bin", bytes: 3 * rec)
        XCTAssertEqual(try CIFAR10.load(directory: dir, numTrain: 10, numVal: 1000, numTest: 0).test.count, 0)
    }

    func testMissingMiddleFile() throws {
        try fakeFullSet(batches: [1, 2, 4, 5])
        let e = loadError()
        XCTAssertEqual(e, .incompleteTrainingSet(missing: path("data_batch_3.bin"),
                                                 present: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_4.bin", "data_batch_5.bin"]))
        XCTAssertEqual(e?.description,
                       "data file \(dir)/data_batch_3.bin is missing: the training files must be all five of data_batch_1.bin … data_batch_5.bin "
                       + "(the full CIFAR-10 set) or data_batch_1.bin alone (a sample), but \(dir) holds only "
                       + "data_batch_1.bin, data_batch_2.bin, data_batch_4.bin, data_batch_5.bin; was the download or unpacking interrupted?")
    }

    func testTwoOfFiveFiles() throws {
        try fakeFullSet(batches: [1, 2])
        XCTAssertEqual(loadError(), .incompleteTrainingSet(missing: path("data_batch_3.bin"), present: ["data_batch_1.bin", "data_batch_2.bin"]))
        // The same with sample-sized files: still not a sample (a sample is data_batch_1.bin alone).
        try file("data_batch_1.bin", bytes: 5 * rec); try file("data_batch_2.bin", bytes: 5 * rec)
        XCTAssertEqual(loadError(numVal: 2), .incompleteTrainingSet(missing: path("data_batch_3.bin"), present: ["data_batch_1.bin", "data_batch_2.bin"]))
    }

    func testFirstFileMissing() throws {
        try fakeFullSet(batches: [2, 3, 4, 5])
        let e = loadError()
        XCTAssertEqual(e, .missingFile(path("data_batch_1.bin")))
        XCTAssertEqual(e?.description,
                       "data file \(dir)/data_batch_1.bin is missing (the training files must be all five of data_batch_1.bin … data_batch_5.bin "
                       + "(the full CIFAR-10 set) or data_batch_1.bin alone (a sample), plus test_batch.bin)")
    }

    func testMissingTestFile() throws {
        try file("data_batch_1.bin", bytes: 5 * rec)
        let e = loadError(numVal: 2, numTest: 1)
        XCTAssertEqual(e, .missingFile(path("test_batch.bin")))
        XCTAssertEqual(e?.description, "data file \(dir)/test_batch.bin is missing (it holds the test split; set data.num_test to 0 to run without it)")
        XCTAssertEqual(try CIFAR10.load(directory: dir, numTrain: nil, numVal: 2, numTest: 0).train.count, 3)
    }

    // MARK: sizes

    func testTruncatedFullSetFile() throws {
        // 9,000 whole records: a valid sample size, but not a file of the full set.
        try fakeFullSet(sizes: ["data_batch_4.bin": 9_000 * rec])
        let e = loadError()
        XCTAssertEqual(e, .wrongSize(file: path("data_batch_4.bin"), bytes: 27_657_000, expected: 30_730_000))
        XCTAssertEqual(e?.description,
                       "data file \(dir)/data_batch_4.bin has 27657000 bytes but every file of the full CIFAR-10 set has exactly 30730000 "
                       + "(10,000 records of 3073 bytes); the download or unpacking was probably truncated: fetch and unpack cifar-10-binary.tar.gz again")
        // Cut mid-record.
        try file("data_batch_4.bin", bytes: full - 100)
        XCTAssertEqual(loadError(), .wrongSize(file: path("data_batch_4.bin"), bytes: full - 100, expected: full))
        // Too long is wrong as well.
        try file("data_batch_4.bin", bytes: full + rec)
        XCTAssertEqual(loadError(), .wrongSize(file: path("data_batch_4.bin"), bytes: full + rec, expected: full))
    }

    func testWrongSizeTestFile() throws {
        try fakeFullSet(sizes: ["test_batch.bin": 1_000 * rec])
        XCTAssertEqual(loadError(numTrain: 10), .wrongSize(file: path("test_batch.bin"), bytes: 1_000 * rec, expected: full))
    }

    func testEmptyFile() throws {
        try file("data_batch_1.bin", bytes: 0)
        let e = loadError(numVal: 1)
        XCTAssertEqual(e, .badSize(file: path("data_batch_1.bin"), bytes: 0))
        XCTAssertEqual(e?.description, "data file \(dir)/data_batch_1.bin is empty (0 bytes); expected whole 3073-byte CIFAR-10 records (1 label byte + 3072 pixels)")
        // In a full set too (empty is reported as such, before the size of the full set).
        try fakeFullSet(sizes: ["data_batch_2.bin": 0])
        XCTAssertEqual(loadError(), .badSize(file: path("data_batch_2.bin"), bytes: 0))
        // And an empty test file of a sample.
        try FileManager.default.removeItem(atPath: dir); try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try file("data_batch_1.bin", bytes: 5 * rec); try file("test_batch.bin", bytes: 0)
        XCTAssertEqual(loadError(numVal: 2, numTest: 1), .badSize(file: path("test_batch.bin"), bytes: 0))
    }

    func testSizeNotAMultipleOfTheRecord() throws {
        try file("data_batch_1.bin", bytes: 2 * rec + 5)
        let e = loadError(numVal: 1)
        XCTAssertEqual(e, .badSize(file: path("data_batch_1.bin"), bytes: 6151))
        XCTAssertEqual(e?.description, "data file \(dir)/data_batch_1.bin has 6151 bytes, not a multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixels); is it the binary version?")
    }

    // MARK: folders, permissions, contents

    func testDataDirIsAFile() throws {
        let f = try file("not-a-folder", bytes: 10)
        do {
            _ = try CIFAR10.load(directory: f, numTrain: nil)
            XCTFail("loaded a file as a folder")
        } catch let e as DataError {
            XCTAssertEqual(e, .notADirectory(f))
            XCTAssertEqual(e.description, "data folder \(f) is a file, not a folder (data.dir or --data must name the folder that holds data_batch_1.bin … data_batch_5.bin and test_batch.bin)")
        }
    }

    func testMissingDir() throws {
        let d = path("nowhere")
        XCTAssertThrowsError(try CIFAR10.load(directory: d, numTrain: nil)) { e in
            XCTAssertEqual(e as? DataError, .missingDirectory(d))
            XCTAssertEqual("\(e)", "data folder \(d) does not exist (expected CIFAR-10 in the binary layout: data_batch_1.bin … data_batch_5.bin, test_batch.bin)")
        }
    }

    func testLabelOutOfRange() throws {
        try file("data_batch_1.bin", bytes: 5 * rec, labels: [0: 9, 3: 10])
        try file("test_batch.bin", bytes: 2 * rec)
        let e = loadError(numVal: 2, numTest: 1)
        XCTAssertEqual(e, .labelOutOfRange(file: path("data_batch_1.bin"), record: 3, label: 10))
        XCTAssertEqual(e?.description, "data file \(dir)/data_batch_1.bin: record 3 has label 10, expected 0…9")
        // In the test file, and in a file of the full set.
        try file("data_batch_1.bin", bytes: 5 * rec)
        try file("test_batch.bin", bytes: 2 * rec, labels: [0: 255])
        XCTAssertEqual(loadError(numVal: 2, numTest: 1), .labelOutOfRange(file: path("test_batch.bin"), record: 0, label: 255))
        try fakeFullSet()
        try file("data_batch_5.bin", bytes: full, labels: [9_999: 11])
        XCTAssertEqual(loadError(numTrain: 10, numTest: 0), .labelOutOfRange(file: path("data_batch_5.bin"), record: 9_999, label: 11))
    }

    func testFolderWhereAFileShouldBe() throws {
        try FileManager.default.createDirectory(atPath: path("data_batch_1.bin"), withIntermediateDirectories: false)
        let e = loadError(numVal: 1)
        XCTAssertEqual(e, .unreadable(path("data_batch_1.bin"), "it is a folder, not a file"))
        XCTAssertEqual(e?.description, "cannot read data file \(dir)/data_batch_1.bin: it is a folder, not a file")
        // In the full set, and as the test file.
        try FileManager.default.removeItem(atPath: path("data_batch_1.bin"))
        try fakeFullSet(batches: [1, 2, 4, 5])
        try FileManager.default.createDirectory(atPath: path("data_batch_3.bin"), withIntermediateDirectories: false)
        XCTAssertEqual(loadError(), .unreadable(path("data_batch_3.bin"), "it is a folder, not a file"))
        try FileManager.default.removeItem(atPath: path("data_batch_3.bin")); try file("data_batch_3.bin", bytes: full)
        try FileManager.default.removeItem(atPath: path("test_batch.bin"))
        try FileManager.default.createDirectory(atPath: path("test_batch.bin"), withIntermediateDirectories: false)
        XCTAssertEqual(loadError(numTrain: 10), .unreadable(path("test_batch.bin"), "it is a folder, not a file"))
    }

    func testBrokenSymlink() throws {
        try FileManager.default.createSymbolicLink(atPath: path("data_batch_1.bin"), withDestinationPath: path("gone.bin"))
        XCTAssertEqual(loadError(numVal: 1), .unreadable(path("data_batch_1.bin"), "it is a symbolic link to a file that does not exist"))
    }

    func testUnreadableFile() throws {
        if geteuid() == 0 { throw XCTSkip("running as root: chmod 000 does not stop reads") }
        let p = try file("data_batch_1.bin", bytes: 5 * rec)
        XCTAssertEqual(chmod(p, 0), 0)
        let e = loadError(numVal: 2)
        XCTAssertEqual(e, .unreadable(p, String(cString: strerror(EACCES))))
        XCTAssertTrue(e?.description.hasPrefix("cannot read data file \(p): ") ?? false)
    }

    // MARK: valid folders

    func testBundledSampleStillLoads() throws {
        let d = try CIFAR10.load(directory: sampleDir, numTrain: nil, numVal: 1000)
        XCTAssertEqual(d.train.count, 4000); XCTAssertEqual(d.val.count, 1000); XCTAssertEqual(d.test.count, 1000)
        // Bit-identical to the loader before the integrity checks (FNV-1a of the float bits and labels).
        XCTAssertEqual(Self.fingerprint(d), "fdaf0e52be467550 d757986a770f8faf 7f54b2bfdf61d3b0")
    }

    static func fingerprint(_ d: Dataset) -> String {
        func h(_ s: Split) -> String {
            var x: UInt64 = 0xcbf2_9ce4_8422_2325
            for v in s.x { x = (x ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
            for v in s.y { x = (x ^ UInt64(UInt32(bitPattern: v))) &* 0x100_0000_01b3 }
            return String(x, radix: 16)
        }
        return [d.train, d.val, d.test].map(h).joined(separator: " ")
    }
}
