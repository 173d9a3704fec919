import Foundation
import Samplers

/// Why a configuration file could not be used: the field at fault (its JSON name, dotted for
/// nested objects) and the type it needs.
public struct ConfigurationFileError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Sampling configurations as JSON: a bare configuration object, or a report written by
/// `sdekit sample --report` (its "configuration" object), with snake_case keys.
public enum ConfigurationFile {
  /// A configuration read from JSON, and the SDEKit version that wrote it, if it says.
  public struct Contents {
    public var configuration: SamplingConfiguration
    public var version: String?
  }

  /// Reads `data`, refusing unknown fields (so a typo is not silently ignored) and naming the
  /// field and its expected type when one is missing or of the wrong type.
  /// - Throws: `ConfigurationFileError`.
  public static func decode(_ data: Data) throws -> Contents {
    guard let parsed = try? JSONSerialization.jsonObject(with: data), let root = parsed as? [String: Any] else {
      throw ConfigurationFileError("not a JSON object")
    }
    let object: [String: Any]
    if let inner = root["configuration"] {
      guard let inner = inner as? [String: Any] else {
        throw ConfigurationFileError("field 'configuration' is \(describeJSON(inner)); expected an object (a sampling configuration)")
      }
      object = inner
    } else {
      object = root
    }
    try checkFields(object, against: SamplingConfiguration(), path: [])
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
      let configuration = try decoder.decode(SamplingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
      return Contents(configuration: configuration, version: root["version"] as? String)
    } catch let error as DecodingError {
      throw ConfigurationFileError(explain(error, in: object))
    } catch {
      throw ConfigurationFileError("cannot be decoded: \(error)")
    }
  }

  /// Checks `object` field by field against the stored properties of `example`'s type (found by
  /// reflection, so a field added to the configuration is checked without a change here):
  /// throws naming the first unknown key, missing field or value of the wrong type, with the
  /// type it needs. Nested objects are checked the same way.
  static func checkFields(_ object: [String: Any], against example: Any, path: [String]) throws {
    let fields = Dictionary(Mirror(reflecting: example).children.compactMap { child in
      child.label.map { (snakeCase($0), child.value) }
    }, uniquingKeysWith: { a, _ in a })
    for key in object.keys.sorted() where fields[key] == nil {
      throw ConfigurationFileError("unknown field '\((path + [key]).joined(separator: "."))'; known fields\(path.isEmpty ? "" : " of '\(path.joined(separator: "."))'"): \(fields.keys.sorted().joined(separator: ", "))")
    }
    for key in fields.keys.sorted() {
      let field = fields[key]!, type = Swift.type(of: field), name = (path + [key]).joined(separator: ".")
      guard let value = object[key] else {
        if type is any OptionalField.Type { continue }
        throw ConfigurationFileError("missing field '\(name)'; expected \(describeType(type))")
      }
      guard accepts(type, value, example: field) else {
        throw ConfigurationFileError("field '\(name)' is \(describeJSON(value)); expected \(describeType(type))")
      }
      if let nested = value as? [String: Any], let example = structExample(field, type: type) {
        try checkFields(nested, against: example, path: path + [key])
      }
    }
  }

  /// A value of a struct field's type to check a nested object against: the field's own value,
  /// or for an optional struct that is nil by default (`fast_samplers`) its type decoded from
  /// `{}` (which every field being optional allows); nil for any other field.
  static func structExample(_ field: Any, type: Any.Type) -> Any? {
    let mirror = Mirror(reflecting: field)
    if mirror.displayStyle == .struct { return field }
    if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value {
      return structExample(wrapped, type: Swift.type(of: wrapped))
    }
    guard let optional = type as? any OptionalField.Type, let decodable = optional.wrappedType as? any Decodable.Type,
          let empty = try? JSONDecoder().decode(decodable, from: Data("{}".utf8)),
          Mirror(reflecting: empty).displayStyle == .struct else { return nil }
    return empty
  }

  /// Whether a JSON value can be decoded as a field like `example` of type `type`; true for
  /// types this check does not know (the decoder then has the last word).
  static func accepts(_ type: Any.Type, _ value: Any, example: Any? = nil) -> Bool {
    if let optional = type as? any OptionalField.Type { return value is NSNull || accepts(optional.wrappedType, value) }
    if let choices = type as? any CaseIterable.Type {
      return (value as? String).map { caseNames(choices).contains($0) } ?? false
    }
    if let example, Mirror(reflecting: example).displayStyle == .struct { return value is [String: Any] }
    let scalars: [Any.Type] = [Bool.self, String.self, Double.self, Float.self, Int.self, UInt64.self]
    guard scalars.contains(where: { $0 == type }) else { return true }
    guard !(value is String), let number = value as? NSNumber else { return type == String.self && value is String }
    // JSONSerialization gives booleans Objective-C type "c", integers "q" (or "Q" above
    // Int64.max), other numbers "d".
    let kind = String(cString: number.objCType)
    if kind == "c" { return type == Bool.self }
    if type == Double.self || type == Float.self { return true }
    if type == Bool.self || type == String.self { return false }
    if kind == "Q" { return type == UInt64.self }
    if kind == "d" || kind == "f" {
      // A whole number written with a fraction or exponent (3.0, 3e0) counts when in range.
      let x = number.doubleValue
      guard x.rounded() == x else { return false }
      return type == UInt64.self ? x >= 0 && x < 0x1p64 : x >= -0x1p63 && x < 0x1p63
    }
    return type == Int.self || number.int64Value >= 0
  }

  /// One sentence for a decoding error: the field's dotted JSON name, the value found and
  /// the type the field needs.
  static func explain(_ error: DecodingError, in object: [String: Any]) -> String {
    func name(_ path: [CodingKey]) -> String {
      path.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
    }
    func expected(_ path: [CodingKey], fallback: Any.Type) -> String {
      describeType(fieldType(path.map(\.stringValue)) ?? fallback)
    }
    switch error {
    case .keyNotFound(let key, let context):
      let path = context.codingPath + [key]
      return "missing field '\(name(path))'; expected \(expected(path, fallback: Any.self))"
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
      let path = context.codingPath
      return "field '\(name(path))' is \(describeJSON(value(at: path, in: object))); expected \(expected(path, fallback: type))"
    case .dataCorrupted(let context):
      let path = context.codingPath
      guard !path.isEmpty else { return "cannot be decoded: \(context.debugDescription)" }
      return "field '\(name(path))' is \(describeJSON(value(at: path, in: object))); expected \(expected(path, fallback: Any.self))"
    @unknown default:
      return "cannot be decoded: \(error)"
    }
  }

  /// The declared type of the field at a path of Swift property names, found by reflecting on
  /// a default configuration; nil when the path leads nowhere.
  static func fieldType(_ path: [String]) -> Any.Type? {
    var value: Any = SamplingConfiguration()
    for name in path {
      guard let child = Mirror(reflecting: value).children.first(where: { $0.label == name }) else { return nil }
      value = child.value
    }
    return type(of: value)
  }

  /// The JSON value at a coding path, nil when absent.
  static func value(at path: [CodingKey], in object: [String: Any]) -> Any? {
    var current: Any = object
    for key in path {
      if let index = key.intValue, let array = current as? [Any], array.indices.contains(index) {
        current = array[index]
      } else if let dictionary = current as? [String: Any], let next = dictionary[snakeCase(key.stringValue)] {
        current = next
      } else {
        return nil
      }
    }
    return current
  }
}

/// What a field of this Swift type takes, in JSON terms: "an integer", "one of vp, ve", …
func describeType(_ type: Any.Type) -> String {
  if let optional = type as? any OptionalField.Type { return describeType(optional.wrappedType) + " or null" }
  if let choices = type as? any CaseIterable.Type { return "one of " + caseNames(choices).joined(separator: ", ") }
  switch type {
  case is Bool.Type: return "true or false"
  case is String.Type: return "a string"
  case is Double.Type, is Float.Type: return "a number"
  case is UInt64.Type, is UInt.Type, is UInt32.Type: return "a non-negative integer"
  case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
  default: return Mirror(reflecting: type).displayStyle == nil ? "an object (\(type))" : "a value of type \(type)"
  }
}

private func caseNames<C: CaseIterable>(_ type: C.Type) -> [String] {
  type.allCases.map { value in ((value as? any RawRepresentable)?.rawValue as? String) ?? "\(value)" }
}

/// Optional fields name their wrapped type.
protocol OptionalField { static var wrappedType: Any.Type { get } }
extension Optional: OptionalField { static var wrappedType: Any.Type { Wrapped.self } }

/// A JSON value as a user would name it: "the string 'ten'", "null", "missing".
func describeJSON(_ value: Any?) -> String {
  guard let value else { return "missing" }
  switch value {
  case is NSNull: return "null"
  case let string as String: return "the string '\(string.count > 40 ? String(string.prefix(40)) + "…" : string)'"
  case let number as NSNumber:
    // JSONSerialization reads true and false as NSNumber too, of Objective-C type "c" (char).
    if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
    return "the number \(number)"
  case is [Any]: return "an array"
  case is [String: Any]: return "an object"
  default: return "\(value)"
  }
}

/// camelCase → snake_case, as the JSON encoder writes keys: asked of the encoder itself, whose
/// rules for runs of capitals and digits (diffusersDDIMStride → diffusers_ddim_stride,
/// kDiffusion3M → k_diffusion3_m) a rule of thumb here would only approximate.
public func snakeCase(_ name: String) -> String {
  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }
  struct OneKey: Encodable {
    let name: String
    func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: Key.self)
      try container.encodeNil(forKey: Key(stringValue: name))
    }
  }
  let encoder = JSONEncoder()
  encoder.keyEncodingStrategy = .convertToSnakeCase
  guard let data = try? encoder.encode(OneKey(name: name)),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let key = object.keys.first
  else { return name }
  return key
}
