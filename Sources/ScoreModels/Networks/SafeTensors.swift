import Foundation

/// Reading and writing MLP weights in the safetensors format (what PyTorch and Hugging Face
/// users hold): an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range in the data section, then the data. Tensors are `layers.{l}.weight`
/// (outputs × inputs) and `layers.{l}.bias`; `__metadata__` holds the architecture as JSON under
/// "sdekit_architecture".
public enum SafeTensors {
  static let architectureKey = "sdekit_architecture"
  /// Headers beyond this are refused before they are parsed (a hostile length field).
  static let largestHeader = 100 << 20

  /// One tensor's entry in the header, as read and checked.
  struct Entry {
    let name: String
    let dtype: String
    let shape: [Int]
    let begin: Int
    let end: Int
  }

  /// The bytes of a safetensors file holding `mlp`. (`sdekit train` writes them through its
  /// atomic temporary-and-rename writer, the one every output of the tool goes through.)
  public static func encode(_ mlp: MLP<Float>) throws -> Data {
    let architecture = String(decoding: try JSONEncoder.sorted.encode(mlp.architecture), as: UTF8.self)
    var header: [String: Any] = ["__metadata__": [architectureKey: architecture, "format": "pt"]]
    var body = Data()
    for (l, layer) in mlp.architecture.layers.enumerated() {
      for (name, values, shape) in [("layers.\(l).weight", mlp.parameters.weights[l], [layer.outputs, layer.inputs]),
                                    ("layers.\(l).bias", mlp.parameters.biases[l], [layer.outputs])] {
        let begin = body.count
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [begin, body.count]]
      }
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad the header with spaces so the data section starts 8-byte aligned.
    while json.count % 8 != 0 { json.append(0x20) }
    var data = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
    return data + json + body
  }

  /// The MLP in the file at `path`, memory-mapped and validated before use.
  public static func read(_ path: String) throws -> MLP<Float> {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
      throw NetworkError.invalidFile("\(path): cannot read the file (\(error.localizedDescription))")
    }
    do {
      return try decode(data)
    } catch let error as NetworkError {
      throw NetworkError.invalidFile("\(path): \(error.description)")
    }
  }

  /// The MLP in safetensors bytes. Every length, offset, dtype and shape is checked against the
  /// file and the architecture before a value is read; each problem has its own message.
  public static func decode(_ data: Data) throws -> MLP<Float> {
    func bad(_ message: String) -> NetworkError { .invalidFile(message) }
    guard data.count >= 8 else {
      throw bad("truncated: \(data.count) bytes, but a safetensors file starts with an 8-byte header length")
    }
    var length: UInt64 = 0
    for b in 0..<8 { length |= UInt64(data[data.startIndex + b]) << (8 * b) }
    guard length <= UInt64(data.count - 8) else {
      throw bad("the header length \(length) runs past the end of the file (\(data.count) bytes)")
    }
    guard length <= UInt64(largestHeader) else { throw bad("the header length \(length) exceeds \(largestHeader) bytes") }
    let headerEnd = 8 + Int(length)
    let headerBytes = data[(data.startIndex + 8)..<(data.startIndex + headerEnd)]
    guard let object = try? JSONSerialization.jsonObject(with: Data(headerBytes)), let header = object as? [String: Any] else {
      throw bad("the header is not a valid JSON object")
    }
    let dataSize = data.count - headerEnd
    var entries: [String: Entry] = [:]
    for (name, value) in header where name != "__metadata__" {
      guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
            let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2 else {
        throw bad("tensor '\(name)' needs a dtype, a shape and two data_offsets")
      }
      guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else { throw bad("tensor '\(name)' has an invalid shape \(shape)") }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, begin <= end, end <= dataSize else {
        throw bad("tensor '\(name)' has data_offsets [\(begin), \(end)] outside the data section of \(dataSize) bytes")
      }
      let width = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1][dtype]
      guard let width else { throw bad("tensor '\(name)' has an unknown dtype '\(dtype)'") }
      let count = shape.reduce(1, *)
      guard end - begin == count * width else {
        throw bad("tensor '\(name)' holds \(end - begin) bytes; shape \(shape) of \(dtype) needs \(count * width)")
      }
      entries[name] = Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
    let ordered = entries.values.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
    for (a, b) in zip(ordered, ordered.dropFirst()) where b.begin < a.end {
      throw bad("tensors '\(a.name)' and '\(b.name)' overlap in the data section")
    }
    guard let metadata = header["__metadata__"] as? [String: Any], let text = metadata[architectureKey] as? String,
          let architecture = try? JSONDecoder().decode(MLPArchitecture.self, from: Data(text.utf8)) else {
      throw bad("__metadata__ has no valid '\(architectureKey)' (an SDEKit MLP architecture as JSON)")
    }
    do { try architecture.validate() } catch let error as NetworkError { throw bad(error.description) }
    var parameters = MLPParameters<Float>(zerosFor: architecture)
    for (l, layer) in architecture.layers.enumerated() {
      for (name, shape, isWeight) in [("layers.\(l).weight", [layer.outputs, layer.inputs], true),
                                      ("layers.\(l).bias", [layer.outputs], false)] {
        guard let entry = entries[name] else { throw bad("tensor '\(name)' is missing") }
        guard entry.dtype == "F32" else { throw bad("tensor '\(name)' has dtype \(entry.dtype); the network needs F32") }
        guard entry.shape == shape else { throw bad("tensor '\(name)' has shape \(entry.shape); the architecture needs \(shape)") }
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        let start = data.startIndex + headerEnd + entry.begin
        for i in values.indices {
          var bits: UInt32 = 0
          for b in 0..<4 { bits |= UInt32(data[start + 4 * i + b]) << (8 * b) }
          values[i] = Float(bitPattern: bits)
        }
        if isWeight { parameters.weights[l] = values } else { parameters.biases[l] = values }
      }
    }
    do {
      return try MLP(architecture: architecture, parameters: parameters)
    } catch let error as NetworkError {
      throw bad(error.description)
    }
  }
}

extension JSONEncoder {
  /// Sorted keys: the same architecture always gives the same bytes.
  static var sorted: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
  }
}
