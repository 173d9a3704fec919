import Dispatch
import Foundation

/// The rows 0 ..< `rows` cut into at most `threads` consecutive chunks of near-equal size
/// (chunk c is rows·c/k ..< rows·(c+1)/k), none empty.
public func rowChunks(_ rows: Int, threads: Int) -> [Range<Int>] {
  let count = max(1, min(threads, rows))
  return (0..<count).map { c in (rows * c / count)..<(rows * (c + 1) / count) }.filter { !$0.isEmpty }
}

/// Runs `body` once per chunk of `rowChunks(rows, threads:)`, the chunks in parallel: SDEKit's
/// one way of spreading rows over cores (the fixed-grid driver, per-sample adaptive solves and
/// the metrics all use it). Each call gets its chunk's index and rows and must touch only
/// those rows; results that are functions of the row alone do not depend on `threads`.
public func forEachRowChunk(_ rows: Int, threads: Int, _ body: @Sendable (_ chunk: Int, _ rows: Range<Int>) -> Void) {
  let chunks = rowChunks(rows, threads: threads)
  if chunks.count == 1 {
    body(0, chunks[0])
    return
  }
  DispatchQueue.concurrentPerform(iterations: chunks.count) { c in body(c, chunks[c]) }
}

/// The thread count to use: `requested`, or every active core.
/// - Throws: `SolveError.invalidConfiguration` when `requested` is below 1.
public func resolvedThreadCount(_ requested: Int?) throws -> Int {
  let count = requested ?? ProcessInfo.processInfo.activeProcessorCount
  guard count >= 1 else { throw SolveError.invalidConfiguration("threads must be at least 1, got \(count)") }
  return count
}

/// One value per chunk, written by disjoint chunks under a lock.
final class PerChunk<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: [Value]

  init(_ count: Int, initial: Value) { storage = Array(repeating: initial, count: count) }

  subscript(chunk: Int) -> Value {
    get { lock.lock(); defer { lock.unlock() }; return storage[chunk] }
    set { lock.lock(); defer { lock.unlock() }; storage[chunk] = newValue }
  }

  var values: [Value] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// Raw pointers handed to concurrent chunks; each chunk touches only its own rows.
struct SharedPointer<Element>: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<Element>
}
