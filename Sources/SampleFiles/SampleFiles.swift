import Foundation
import SDEKit

/// NumPy .npy files, format 1.0: '<f8', C order, shape (N, d).
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
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    return data
  }

  /// The rows of `batch` as little-endian float64.
  public static func body(_ batch: StateBatch) -> Data {
    var data = Data(capacity: batch.values.count * 8)
    for value in batch.values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    return data
  }

  /// The batch in a .npy file this tool wrote ('<f8', C order, 2-D); nil for anything else.
  public static func decode(_ data: Data) -> StateBatch? {
    guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else { return nil }
    let length = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
    guard data.count >= 10 + length else { return nil }
    let header = String(decoding: data.dropFirst(10).prefix(length), as: UTF8.self)
    guard header.contains("'descr': '<f8'"), header.contains("'fortran_order': False"),
          let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
    else { return nil }
    let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard dims.count == 2, data.count == 10 + length + dims[0] * dims[1] * 8 else { return nil }
    let body = data.dropFirst(10 + length)
    var values = [Double](repeating: 0, count: dims[0] * dims[1])
    for i in values.indices {
      var bits: UInt64 = 0
      for b in 0..<8 { bits |= UInt64(body[body.startIndex + i * 8 + b]) << (8 * b) }
      values[i] = Double(bitPattern: UInt64(littleEndian: bits))
    }
    return StateBatch(count: dims[0], dimension: dims[1], values: values)
  }
}

/// Samples as CSV: a header row x1,…,xd, then one row per sample with 17 significant digits
/// (enough to read back the same doubles).
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

  public static func decode(_ data: Data) -> StateBatch? {
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
    guard let header = lines.first else { return nil }
    let d = header.split(separator: ",").count
    var values: [Double] = []
    for line in lines.dropFirst() {
      let fields = line.split(separator: ",").compactMap { Double($0) }
      guard fields.count == d else { return nil }
      values += fields
    }
    return StateBatch(count: lines.count - 1, dimension: d, values: values)
  }
}
