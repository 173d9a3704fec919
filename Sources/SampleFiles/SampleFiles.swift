import Foundation
import SDEKit

/// Why a samples file could not be read: the part that is wrong and what is allowed.
public struct SampleFileError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// NumPy .npy files. Written as format 1.0, '<f8', C order, shape (N, d); read in formats 1.0,
/// 2.0 and 3.0, float64 or float32 of either byte order, C or Fortran order, shape (N, d) or
/// (N,) (one coordinate per sample).
public enum NPYFile {
  /// The bytes of a .npy file holding `batch`.
  public static func encode(_ batch: StateBatch) -> Data {
    header(count: batch.count, dimension: batch.dimension) + body(batch)
  }

  /// The header of a file of `count` rows of `dimension` values; the rows follow it.
  public static func header(count: Int, dimension: Int) -> Data {
    var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(count), \(dimension)), }"
    // Magic (6) + version (2) + length (2) + header + newline must be a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data(magic + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    return data
  }

  /// The rows of `batch` as little-endian float64.
  public static func body(_ batch: StateBatch) -> Data {
    var data = Data(count: batch.values.count * 8)
    data.withUnsafeMutableBytes { out in
      for (i, value) in batch.values.enumerated() {
        out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
      }
    }
    return data
  }

  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// What a .npy header says about the array after it.
  public struct Header: Equatable, Sendable {
    /// Rows (samples) and values per row.
    public var count: Int
    public var dimension: Int
    /// Bytes per value: 8 (float64) or 4 (float32).
    public var width: Int
    public var bigEndian: Bool
    public var fortranOrder: Bool
    /// Where the values start: the header's total length.
    public var dataOffset: Int
    /// count × dimension × width, checked for overflow.
    public var dataLength: Int
  }

  /// The header at the start of `data` (which may hold only the first bytes of a file).
  /// - Throws: `SampleFileError` naming the first thing that is wrong: the magic, the version,
  ///   the header's length or text, a missing, extra or ill-typed key, the dtype, the shape.
  public static func readHeader(_ data: Data) throws -> Header {
    func bad(_ message: String) -> SampleFileError { SampleFileError("not a usable .npy file: " + message) }
    let bytes = [UInt8](data.prefix(12))
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw bad("it does not start with \\x93NUMPY")
    }
    let (major, minor) = (bytes[6], bytes[7])
    guard (1...3).contains(major), minor == 0 else {
      throw bad("format version \(major).\(minor); readable versions are 1.0, 2.0 and 3.0")
    }
    let lengthStart = 8, lengthBytes = major == 1 ? 2 : 4
    guard bytes.count >= lengthStart + lengthBytes else { throw bad("truncated in the header length") }
    var length = 0
    for b in 0..<lengthBytes { length |= Int(bytes[lengthStart + b]) << (8 * b) }
    let textStart = lengthStart + lengthBytes
    guard data.count - textStart >= length else {
      throw bad("the header length \(length) runs past the end of the file (\(data.count) bytes)")
    }
    let textBytes = data[(data.startIndex + textStart)..<(data.startIndex + textStart + length)]
    // Versions 1 and 2 are Latin-1 text (ASCII in practice), version 3 is UTF-8.
    guard let text = major == 3 ? String(bytes: textBytes, encoding: .utf8) : String(bytes: textBytes, encoding: .isoLatin1)
    else { throw bad("the header is not valid \(major == 3 ? "UTF-8" : "text")") }
    guard text.hasSuffix("\n") else { throw bad("the header does not end with a newline") }
    let dictionary: [String: PythonLiteral]
    do {
      dictionary = try PythonLiteral.parseDictionary(text)
    } catch let error as SampleFileError {
      throw bad("the header \(error.description)")
    }
    let keys = ["descr", "fortran_order", "shape"]
    if let extra = dictionary.keys.sorted().first(where: { !keys.contains($0) }) {
      throw bad("the header has the unknown key '\(extra)'; a .npy header has exactly \(keys.joined(separator: ", "))")
    }
    guard case .string(let descr)? = dictionary["descr"] else {
      throw bad("the header needs 'descr', a dtype string such as '<f8'")
    }
    guard case .bool(let fortranOrder)? = dictionary["fortran_order"] else {
      throw bad("the header needs 'fortran_order', True or False")
    }
    guard case .tuple(let shape)? = dictionary["shape"] else {
      throw bad("the header needs 'shape', a tuple of integers")
    }
    let dtypes: [String: (width: Int, bigEndian: Bool)] = [
      "<f8": (8, false), "=f8": (8, false), ">f8": (8, true), "<f4": (4, false), "=f4": (4, false), ">f4": (4, true),
    ]
    guard let dtype = dtypes[descr] else {
      throw bad("dtype '\(descr)'; readable dtypes are float64 ('<f8', '>f8') and float32 ('<f4', '>f4')")
    }
    var dims: [Int] = []
    for item in shape {
      guard case .integer(let n) = item, n >= 0 else { throw bad("the shape \(describe(shape)) is not a tuple of non-negative integers") }
      dims.append(n)
    }
    guard dims.count == 1 || dims.count == 2 else {
      throw bad("shape \(describe(shape)); samples are an array of shape (N, d) or (N,)")
    }
    let count = dims[0], dimension = dims.count == 2 ? dims[1] : 1
    guard dimension >= 1 else { throw bad("shape \(describe(shape)): a sample needs at least one coordinate") }
    let (values, overflow1) = count.multipliedReportingOverflow(by: dimension)
    let (dataLength, overflow2) = values.multipliedReportingOverflow(by: dtype.width)
    guard !overflow1, !overflow2 else { throw bad("shape \(describe(shape)) is too large to address") }
    return Header(count: count, dimension: dimension, width: dtype.width, bigEndian: dtype.bigEndian,
                  fortranOrder: fortranOrder, dataOffset: textStart + length, dataLength: dataLength)
  }

  /// The samples in a .npy file, as float64 in row order.
  /// - Throws: `SampleFileError` for a bad header (see `readHeader`) or a data section whose
  ///   length differs from what the shape and dtype need.
  public static func decode(_ data: Data) throws -> StateBatch {
    let header = try readHeader(data)
    let available = data.count - header.dataOffset
    guard available == header.dataLength else {
      throw SampleFileError("not a usable .npy file: the data section holds \(available) bytes; shape (\(header.count), \(header.dimension)) of \(header.width == 8 ? "float64" : "float32") needs \(header.dataLength)")
    }
    let n = header.count, d = header.dimension
    var values = [Double](repeating: 0, count: n * d)
    data.withUnsafeBytes { raw in
      let body = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
      values.withUnsafeMutableBufferPointer { out in
        for k in 0..<(n * d) {
          let value: Double
          if header.width == 8 {
            let bits = body.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
            value = Double(bitPattern: header.bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits))
          } else {
            let bits = body.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)
            value = Double(Float(bitPattern: header.bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)))
          }
          // Fortran order stores column after column: value k is row k % n of column k / n.
          out[header.fortranOrder ? (k % n) * d + k / n : k] = value
        }
      }
    }
    return StateBatch(count: n, dimension: d, values: values)
  }

  private static func describe(_ shape: [PythonLiteral]) -> String {
    "(" + shape.map(\.text).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
  }
}

/// The values of a Python literal that a .npy header may hold.
enum PythonLiteral: Equatable {
  case string(String)
  case integer(Int)
  case bool(Bool)
  case tuple([PythonLiteral])
  case none

  var text: String {
    switch self {
    case .string(let s): "'\(s)'"
    case .integer(let n): String(n)
    case .bool(let b): b ? "True" : "False"
    case .tuple(let items): "(" + items.map(\.text).joined(separator: ", ") + ")"
    case .none: "None"
    }
  }

  /// A dictionary literal with string keys, `{'a': 1, 'b': (2, 3), }`, and nothing but white
  /// space after it. Nesting is limited (a .npy header needs one level of tuples).
  static func parseDictionary(_ text: String) throws -> [String: PythonLiteral] {
    var parser = Parser(characters: Array(text.unicodeScalars))
    let result = try parser.dictionary()
    parser.skipSpace()
    guard parser.position == parser.characters.count else { throw parser.error("has text after the closing brace") }
    return result
  }

  struct Parser {
    let characters: [Unicode.Scalar]
    var position = 0
    var depth = 0

    func error(_ message: String) -> SampleFileError { SampleFileError(message) }

    var next: Unicode.Scalar? { position < characters.count ? characters[position] : nil }

    mutating func skipSpace() {
      while let c = next, c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar) throws {
      skipSpace()
      guard next == c else { throw error("is not a Python dictionary: expected '\(c)' at character \(position + 1)") }
      position += 1
    }

    mutating func dictionary() throws -> [String: PythonLiteral] {
      try expect("{")
      var result: [String: PythonLiteral] = [:]
      while true {
        skipSpace()
        if next == "}" { position += 1; return result }
        guard case .string(let key) = try value() else { throw error("has a key that is not a string") }
        guard result[key] == nil else { throw error("repeats the key '\(key)'") }
        try expect(":")
        result[key] = try value()
        skipSpace()
        if next == "," { position += 1 } else if next != "}" {
          throw error("is not a Python dictionary: expected ',' or '}' at character \(position + 1)")
        }
      }
    }

    mutating func value() throws -> PythonLiteral {
      skipSpace()
      guard let c = next else { throw error("ends inside the dictionary") }
      switch c {
      case "'", "\"":
        position += 1
        var s = ""
        while let d = next, d != c {
          guard d != "\\", d != "\n" else { throw error("has an escaped or multi-line string, which no dtype needs") }
          s.unicodeScalars.append(d)
          position += 1
        }
        guard next == c else { throw error("ends inside a string") }
        position += 1
        return .string(s)
      case "(":
        depth += 1
        guard depth <= 4 else { throw error("nests tuples too deeply") }
        defer { depth -= 1 }
        position += 1
        var items: [PythonLiteral] = []
        while true {
          skipSpace()
          if next == ")" { position += 1; return .tuple(items) }
          items.append(try value())
          skipSpace()
          if next == "," { position += 1 } else if next != ")" {
            throw error("has a tuple without ',' or ')' at character \(position + 1)")
          }
        }
      case "0"..."9", "-", "+":
        var digits = String(c)
        position += 1
        while let d = next, ("0"..."9").contains(d) {
          digits.unicodeScalars.append(d)
          position += 1
        }
        if next == "L" { position += 1 }  // Python 2 long integers, as old numpy wrote shapes
        guard let n = Int(digits) else { throw error("has the number \(digits), which is not an integer in range") }
        return .integer(n)
      default:
        for (word, literal) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
        where characters[position...].starts(with: word.unicodeScalars) {
          position += word.unicodeScalars.count
          return literal
        }
        throw error("has an unexpected character '\(c)' at character \(position + 1)")
      }
    }
  }
}

/// Samples as CSV: a header row x1,…,xd, then one row per sample with each value written in
/// the shortest form that reads back as the same double. Read with or without a header row.
public enum CSVFile {
  public static func encode(_ batch: StateBatch) -> Data {
    header(dimension: batch.dimension) + body(batch)
  }

  public static func header(dimension: Int) -> Data {
    Data(((1...dimension).map { "x\($0)" }.joined(separator: ",") + "\n").utf8)
  }

  public static func body(_ batch: StateBatch) -> Data {
    var text = ""
    for r in 0..<batch.count {
      text += (0..<batch.dimension).map { "\(batch[r, $0])" }.joined(separator: ",") + "\n"
    }
    return Data(text.utf8)
  }

  /// The samples in CSV text: comma-separated numbers, one sample per line (\n or \r\n), the
  /// same count on every line; a first line that is not all numbers is a header naming the
  /// columns. Blank lines are skipped.
  /// - Throws: `SampleFileError` naming the line (counted from 1) and the field that is wrong.
  public static func decode(_ data: Data) throws -> StateBatch {
    guard let text = String(data: data, encoding: .utf8) else {
      throw SampleFileError("not a usable .csv file: it is not UTF-8 text")
    }
    var dimension: Int?
    var values: [Double] = []
    var rows = 0
    // "\r\n" is one Character in Swift, so it is a separator of its own.
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    for (index, line) in lines.enumerated() {
      if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
      let numbers = fields.map { Double($0) }
      if dimension == nil {
        dimension = fields.count
        if numbers.contains(where: { $0 == nil }) { continue }  // the header
      }
      guard fields.count == dimension else {
        throw SampleFileError("not a usable .csv file: line \(index + 1) has \(fields.count) fields; the first line has \(dimension!)")
      }
      if let bad = numbers.firstIndex(where: { $0 == nil }) {
        let shown = fields[bad].count > 40 ? String(fields[bad].prefix(40)) + "…" : fields[bad]
        throw SampleFileError("not a usable .csv file: line \(index + 1), field \(bad + 1): '\(shown)' is not a number")
      }
      values += numbers.map { $0! }
      rows += 1
    }
    guard let dimension else { throw SampleFileError("not a usable .csv file: it has no lines") }
    return StateBatch(count: rows, dimension: dimension, values: values)
  }
}

/// The formats of a samples file.
public enum SampleFileFormat: String, CaseIterable, Sendable {
  case npy, csv

  /// The format a file's name gives by its extension, in any case (.NPY is .npy); nil for others.
  public init?(path: String) {
    let name = path.lowercased()
    guard let match = SampleFileFormat.allCases.first(where: { name.hasSuffix("." + $0.rawValue) }) else { return nil }
    self = match
  }
}

/// The samples in a .npy or .csv file, chosen by the name's extension (.npy when it has
/// neither); `SampleFileError` names what is wrong.
public func readSamples(_ data: Data, path: String) throws -> StateBatch {
  SampleFileFormat(path: path) == .csv ? try CSVFile.decode(data) : try NPYFile.decode(data)
}
